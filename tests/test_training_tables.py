"""The persona-NLI training-data tables: what the generators make from them, pinned byte for byte.

The digests were computed from the generators while the tables were still Python tuples (commit ce773a5), so
they prove that moving the tables into data files changes no generated record. A deliberate change to the data
or the generators changes them: recompute them then, and say why in the commit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import pytest

from personae.scoring._training import ooc_data, relevance_data
from personae.scoring._training.persona_nli_data import FAMILIES, generate_persona_dev, generate_persona_nli

Records = list[dict[str, str]] | list[list[dict[str, str]]]


def _digest(records: Records) -> str:
    return hashlib.sha256(json.dumps(records, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


GENERATED: dict[str, tuple[Callable[[], Records], str]] = {
    "persona_nli_train": (
        lambda: generate_persona_nli(400, seed=0),
        "7d7eeac85d0b65ad5567df30deb5d7471fa6681e578c749d2bf7a5b5831d26de",
    ),
    "persona_nli_dev": (
        lambda: generate_persona_dev(200, seed=0),
        "77f9dd7e7ef9ada0b8b48d5f5491724dd62b62ceb70ca0c14bf361f47fc6bbb2",
    ),
    "persona_nli_all": (
        lambda: generate_persona_nli(200, seed=1, split="all"),
        "b01710bd4bc947653c28559eaea13c012d6c823055e963b4a019927c84446f20",
    ),
    "relevance": (
        lambda: relevance_data.generate_relevance_pairs(200, 0, "train"),
        "df118ce16309d4eb8b63cc9a71150faa0476a8c9808737583e7fc021e4d06ee4",
    ),
    "ooc": (
        lambda: ooc_data.generate_ooc(200, 0, "dev"),
        "b9403140c1d8f9a5f3e4a303287cc823a237914d2455867781a98de3eea78428",
    ),
    # 30 records with each family as the main one: every table is drawn from.
    "every_family": (
        lambda: [generate_persona_nli(30, seed=3, families=[name]) for name, _, _ in FAMILIES],
        "1762f14cd31115c226225256d93336ae08c5eec9ab9a6cf2f3677c4b63e2bef5",
    ),
}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_records_are_unchanged(name: str) -> None:
    make, digest = GENERATED[name]
    assert _digest(make()) == digest

