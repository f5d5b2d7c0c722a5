"""Helpers shared by the built-in tasks."""

from __future__ import annotations

import hashlib
import re


def slug(text: str) -> str:
    """`Expected Action` → `expected_action`."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def item_seed(seed: int, item_id: str) -> int:
    """A per-item seed derived from the run's seed, stable across runs and processes."""
    return (seed * 1_000_003 + int(hashlib.sha256(item_id.encode()).hexdigest()[:8], 16)) % 2**31
