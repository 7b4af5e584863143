"""bundle package (later issues)."""
