"""Renderers: terminal progress and summaries, and the report formats."""
