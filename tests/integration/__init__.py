"""Integration tests: real Docker engine, real processes, loopback HTTP."""
