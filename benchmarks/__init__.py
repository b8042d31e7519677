"""benchmarks package (see README)."""
