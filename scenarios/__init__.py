"""scenarios package (see README)."""
