"""Small utilities shared across the package: atomic file writes and content hashing."""
