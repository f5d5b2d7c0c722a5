"""personae: persona-driven role-playing agents that stay in character, measurably."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("personae")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
