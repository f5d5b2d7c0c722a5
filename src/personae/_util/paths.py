"""Where personae keeps its files: one place to change, overridable by environment variables."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir

APP_NAME = "personae"


def home_dir() -> Path:
    """Data home (databases, logs): `PERSONAE_HOME`, else the platform's user data dir."""
    env = os.environ.get("PERSONAE_HOME")
    path = Path(env) if env else Path(user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Request cache location: `PERSONAE_CACHE_DIR`, else `$PERSONAE_HOME/cache`, else the user cache dir."""
    env = os.environ.get("PERSONAE_CACHE_DIR")
    if env:
        path = Path(env)
    elif os.environ.get("PERSONAE_HOME"):
        path = home_dir() / "cache"
    else:
        path = Path(user_cache_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    """Assembled model weights: `PERSONAE_MODELS_DIR`, else `<user cache dir>/models`.

    Deliberately independent of `PERSONAE_HOME`, so that isolated test homes share one 1 GB model file.
    """
    env = os.environ.get("PERSONAE_MODELS_DIR")
    path = Path(env) if env else Path(user_cache_dir(APP_NAME, appauthor=False)) / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path
