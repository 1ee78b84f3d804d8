"""Statistics: intervals, exact tests, sequential rules, sample sizes."""
