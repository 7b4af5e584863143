"""airgap package (later issues)."""
