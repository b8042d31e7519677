"""agency package (see README)."""
