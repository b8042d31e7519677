"""housing-match: the matching core (pure: an Instance in, a Result out)."""
