"""Shared test code: builders, fake and stand-in servers, fixture plugins. No tests here."""
