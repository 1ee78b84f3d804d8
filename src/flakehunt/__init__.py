"""flakehunt: hunt intermittent failures in builds and tests."""

__version__ = "0.1.0"
