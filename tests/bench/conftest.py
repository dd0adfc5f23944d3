"""Fixtures of the benchmarks' tests: each benchmark runs at a tiny size, in a fresh process."""
