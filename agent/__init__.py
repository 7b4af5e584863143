"""agent package (later issues)."""
