"""Failure triage: exit-status decoding, signatures, clustering."""
