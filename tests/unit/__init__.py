"""Unit tests, one folder per package of benchaction; no Docker engine."""
