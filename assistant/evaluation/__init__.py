"""Eval harness: metrics and the runners behind `litreview eval ...`."""
