"""Canonical JSON and content hashes.

Contract: changing `canonical_json` changes every cache key and every persona content hash.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    """Serialise `value` as JSON with sorted keys and compact separators (stable across runs)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(value: Any) -> str:
    """A tagged sha256 of the canonical JSON of `value`, e.g. ``sha256:ab12...``."""
    digest = hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()
    return f"sha256:{digest}"
