"""Labels as versioned content: one canonical JSON document per file."""
