"""Micro-benchmarks of the hot paths (pytest-benchmark); not part of ``make test``."""
