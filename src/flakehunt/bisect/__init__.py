"""Bayesian search for the commit that made a test flaky (or fixed it)."""
