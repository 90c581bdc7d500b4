"""Plugins that break the edgeq hook contract, for the tests that they fail loudly."""
