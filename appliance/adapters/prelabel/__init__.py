"""Models that pre-label images: Ultralytics weights from the registry."""
