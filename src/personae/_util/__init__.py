"""Internal helpers shared by several capabilities (paths, hashing, located input errors)."""
