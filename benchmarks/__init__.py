"""Benchmark harnesses for Muster (run by hand or with ``make bench``; never part of tests)."""
