"""Persona-NLI training pairs from hand-written, hand-labelled role-play replies (data/training/roleplay/).

Each record is a persona, a user message, the character's reply as role-play is really written (narration in
asterisks, greetings, self-introductions, small talk) and the statements the reply decides, each with the sentence
that decides it. Every statement a record does not list is neutral for every sentence of its reply: that is what
teaches the model that a self-introduction says nothing about the character's dog. Expanded into pairs the way the
scorer reads replies: premise = statement, hypothesis = one sentence (`split_sentences`), plus the whole reply.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field, ValidationError, model_validator

from personae.scoring._sentences import split_sentences
from personae.scoring._training.train import TrainingDataError

if TYPE_CHECKING:
    from personae.scoring._apc import Calibration
    from personae.scoring._relevance import RelevanceModel

MAX_FILE_BYTES = 20_000_000
"""Refuse larger files: the data is hand-written, a bigger file is a mistake."""


class DecidedStatement(BaseModel):
    """A statement the reply supports or contradicts, and the sentence that does it."""

    statement: int = Field(ge=0)
    """Index into the persona's statements."""
    label: Literal["entailment", "contradiction"]
    """What the evidence does to the statement."""
    evidence: str = Field(min_length=2)
    """The deciding sentence or narration block, copied from the reply."""


class RoleplayPersona(BaseModel):
    """The character a record's reply is written for."""

    name: str = Field(min_length=1)
    """The character's name."""
    statements: list[str] = Field(min_length=1)
    """Third-person facts, one each."""


class RoleplayRecord(BaseModel):
    """One reply with the statements it decides; every other statement is neutral for all of its sentences."""

    persona: RoleplayPersona
    """The character."""
    query: str
    """The user's message."""
    reply: str = Field(min_length=1)
    """The character's reply."""
    labels: list[DecidedStatement] = Field(default_factory=list)
    """The statements the reply decides."""

    @model_validator(mode="after")
    def _consistent(self) -> RoleplayRecord:
        flat = _plain(self.reply)
        seen: set[int] = set()
        for i, decided in enumerate(self.labels):
            if decided.statement >= len(self.persona.statements):
                raise ValueError(f"labels.{i}.statement: {decided.statement} is past the persona's statements")
            if decided.statement in seen:
                raise ValueError(f"labels.{i}.statement: statement {decided.statement} is labelled twice")
            seen.add(decided.statement)
            if _plain(decided.evidence) not in flat:
                raise ValueError(f"labels.{i}.evidence: not found in the reply")
        return self


def _plain(text: str) -> str:
    """Text without asterisks and with single spaces, for matching evidence against sentences."""
    return " ".join(text.replace("*", " ").split())


def read_roleplay(path: Path) -> list[RoleplayRecord]:
    """Read one JSONL file (or every *.jsonl of a folder); a bad line is an error naming the file, line and field."""
    if path.is_dir():
        return [r for file in sorted(path.glob("*.jsonl")) for r in read_roleplay(file)]
    if path.stat().st_size > MAX_FILE_BYTES:
        raise TrainingDataError(f"{path}: larger than {MAX_FILE_BYTES} bytes")
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(RoleplayRecord.model_validate(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise TrainingDataError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"]) or "record"
            raise TrainingDataError(f"{path}:{number}: {where}: {error['msg']}") from None
    return records


def _decides(sentence: str, evidence: str) -> bool:
    a, b = _plain(sentence), _plain(evidence)
    return a == b or (len(b) > 8 and b in a) or (len(a) > 8 and a in b)


def sentence_labels(record: RoleplayRecord) -> list[tuple[int, str, str]]:
    """(statement index, reply sentence, label) of every statement–sentence pair whose label the record fixes.

    A sentence other than the evidence of a decided statement is left out for that statement (it may or may
    not decide it too); every sentence is neutral for the statements the record does not list.
    """
    decided = {d.statement: d for d in record.labels}
    out = []
    for sentence in split_sentences(record.reply):
        for index in range(len(record.persona.statements)):
            label = decided.get(index)
            if label is None:
                out.append((index, sentence, "neutral"))
            elif _decides(sentence, label.evidence):
                out.append((index, sentence, label.label))
    return out


def expand_record(record: RoleplayRecord) -> list[dict[str, str]]:
    """Pairs of one record: each statement against each sentence (`sentence_labels`) and against the whole reply."""
    decided = {d.statement: d for d in record.labels}
    sentences = split_sentences(record.reply)
    whole = _plain(record.reply)
    by_statement: dict[int, list[tuple[str, str]]] = {}
    for index, sentence, label_name in sentence_labels(record):
        by_statement.setdefault(index, []).append((sentence, label_name))
    pairs = []
    for index, statement in enumerate(record.persona.statements):
        label = decided.get(index)
        for sentence, label_name in by_statement.get(index, []):
            pairs.append({"premise": statement, "hypothesis": sentence, "label": label_name})
        if len(sentences) > 1:
            pairs.append({"premise": statement, "hypothesis": whole, "label": label.label if label else "neutral"})
    return pairs


def split_by_persona(
    records: Sequence[RoleplayRecord], dev_share: float, seed: int
) -> tuple[list[RoleplayRecord], list[RoleplayRecord]]:
    """Train and dev records with no character in both (the dev set measures transfer to unseen characters)."""
    names = sorted({r.persona.name for r in records})
    random.Random(seed).shuffle(names)
    dev_names = set(names[: round(len(names) * dev_share)])
    return [r for r in records if r.persona.name not in dev_names], [r for r in records if r.persona.name in dev_names]


def roleplay_pairs(records: Iterable[RoleplayRecord], decided_weight: int = 1) -> list[dict[str, str]]:
    """All pairs of `records`; entailment and contradiction pairs repeated `decided_weight` times (they are rare)."""
    out = []
    for record in records:
        for pair in expand_record(record):
            out.extend([pair] * (decided_weight if pair["label"] != "neutral" else 1))
    return out


class _AskedPairs:
    """An NLI stand-in that records the pairs the scorer asks about and answers neutral (no model is run)."""

    name = "asked-pairs"

    def __init__(self) -> None:
        self.asked: set[tuple[str, str]] = set()

    def predict(self, pairs: Sequence[tuple[str, str]]) -> npt.NDArray[np.float32]:
        self.asked.update(pairs)
        out = np.zeros((len(pairs), 3), dtype=np.float32)
        out[:, 1] = 1.0
        return out


def pairs_past_the_gate(
    records: Sequence[RoleplayRecord], relevance: RelevanceModel, calibration: Calibration
) -> set[tuple[str, str]]:
    """The (statement, sentence) pairs of `records` that the scorer's topic gate sends to the NLI model.

    The gate keeps about nine pairs in ten from the NLI model, so a neutral pair it closes teaches the model nothing it
    will be asked; the neutral pairs it opens are the hard ones (same topic, another value: "I keep chickens" beside
    "keeps bees"). Found with the scorer's own mechanism (`APCScorer.grids`), with a stand-in for the NLI model.
    """
    from personae.scoring._apc import APCScorer

    asked = _AskedPairs()
    by_persona: dict[tuple[str, tuple[str, ...]], list[RoleplayRecord]] = {}
    for record in records:
        by_persona.setdefault((record.persona.name, tuple(record.persona.statements)), []).append(record)
    for (name, statements), group in by_persona.items():
        scorer = APCScorer(list(statements), asked, relevance, names=(name,), calibration=calibration)
        queries = [r.query for r in group]
        query_topics = relevance.similarity(scorer.statements, queries, scorer.names)
        scorer.grids([split_sentences(r.reply) for r in group], query_topics, queries)
    return asked.asked
