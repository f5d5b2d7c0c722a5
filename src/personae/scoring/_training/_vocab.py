"""Vocabulary shared by the attribute families: names, places, reply openers, fillers and small talk.

The words live in ``data/vocab.yaml``; this module declares their shape and loads them once, on first use.
First names avoid ordinary English words, colours, foods and place names, so that a name never looks like
an attribute value.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from ._tables import NonEmpty, Tables, TaggedLine, Unique, data_path, load_tables


class Place(NamedTuple):
    """A city with its country and main language."""

    city: NonEmpty
    country: NonEmpty
    language: NonEmpty


class VocabTables(Tables):
    """The tables of ``vocab.yaml``."""

    female_names: Unique
    male_names: Unique
    last_names: Unique
    pet_names: Unique
    places: tuple[Place, ...]
    # People a reply may mention without touching any attribute (no siblings, partners or children).
    relatives: tuple[NonEmpty, ...]
    # Openers that form their own sentence, and openers that run into the reply (they end in ", ").
    openers_sentence: tuple[NonEmpty, ...]
    openers_comma: tuple[NonEmpty, ...]
    # Words that may be lower-cased after a comma opener.
    lowerable: frozenset[NonEmpty]
    actions: tuple[NonEmpty, ...]
    # Timeless sentences that commit to no attribute: padding around the part of the reply that matters.
    fillers: tuple[NonEmpty, ...]
    # Complete replies that say nothing about any attribute.
    small_talk: tuple[TaggedLine, ...]
    # Replies about a topic that neither confirm nor deny anything ({Topic} is a bare noun like "music").
    topic_neutral: tuple[TaggedLine, ...]


@cache
def vocab() -> VocabTables:
    """The shared vocabulary, read and validated on the first call."""
    return load_tables(VocabTables, data_path("vocab"))


def __getattr__(name: str) -> object:
    """The former module constants (``FEMALE_NAMES``, ``FILLERS``, ...), served from the data file."""
    if name.isupper() and name.lower() in VocabTables.model_fields:
        return getattr(vocab(), name.lower())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
