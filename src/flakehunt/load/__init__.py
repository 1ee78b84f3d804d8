"""Load injection: stressor processes that push the machine to where rare failures live."""
