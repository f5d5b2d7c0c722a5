"""Plugins as third-party packages would ship them, loaded in tests through fake entry points."""
