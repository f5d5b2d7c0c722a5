"""Measuring the discriminators: NLI accuracy per label, relevance accuracy (used by training and bench/)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from personae.scoring._nli import NLIModel
from personae.scoring._relevance import RelevanceModel
from personae.scoring._sentences import split_sentences
from personae.scoring._types import LABELS, canonical_label


def nli_accuracy(nli: NLIModel, rows: Sequence[dict[str, str]]) -> dict[str, Any]:
    """3-way accuracy of `nli` on {premise, hypothesis, label} rows, with a confusion matrix (gold → predicted)."""
    probs = nli.predict([(r["premise"], r["hypothesis"]) for r in rows])
    gold = [LABELS.index(canonical_label(r["label"])) for r in rows]
    pred = probs.argmax(axis=1)
    confusion = {g: {p: 0 for p in LABELS} for g in LABELS}
    for g, p in zip(gold, pred, strict=True):
        confusion[LABELS[g]][LABELS[int(p)]] += 1
    correct = sum(int(g == p) for g, p in zip(gold, pred, strict=True))
    return {"accuracy": correct / max(1, len(rows)), "n": len(rows), "confusion": confusion}


def sentence_max_accuracy(nli: NLIModel, rows: Sequence[dict[str, str]]) -> dict[str, Any]:
    """Accuracy when the hypothesis is judged sentence by sentence, as the scorer does.

    Entailment and contradiction are maxima over its sentences; neutral is the minimum neutral; argmax wins.
    """
    flat: list[tuple[str, str]] = []
    spans: list[tuple[int, int]] = []
    for r in rows:
        sents = split_sentences(r["hypothesis"]) or [r["hypothesis"]]
        spans.append((len(flat), len(flat) + len(sents)))
        flat.extend((r["premise"], s) for s in sents)
    probs = nli.predict(flat)
    correct = 0
    for r, (a, b) in zip(rows, spans, strict=True):
        block = probs[a:b]
        ent, con, neu = float(block[:, 0].max()), float(block[:, 2].max()), float(block[:, 1].min())
        pred = int(np.argmax([ent, neu, con]))
        correct += int(LABELS[pred] == canonical_label(r["label"]))
    return {"accuracy": correct / max(1, len(rows)), "n": len(rows)}


def relevance_accuracy(
    model: RelevanceModel,
    rows: Sequence[dict[str, str]],
    threshold: float = 0.5,
    names: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """Accuracy of P(relevant) > threshold on {statement, query, relevant: yes/no[, character]} rows.

    `names` maps a row's `character` to the names masked for it (default: the `character` value itself).
    """
    correct = 0
    for r in rows:
        character = r.get("character", "")
        masked = (names or {}).get(character, [character] if character else [])
        p = float(model.probability([r["statement"]], [r["query"]], masked)[0, 0])
        correct += int((p > threshold) == (r["relevant"] in ("yes", True, 1, "1")))
    return {"accuracy": correct / max(1, len(rows)), "n": len(rows)}


def load_alice_nli(path: Path) -> list[dict[str, str]]:
    """APC's Alice NLI pairs as {premise: statement, hypothesis: response, label}."""
    data = json.loads(path.read_text())
    return [{"premise": d["statement"], "hypothesis": d["response"], "label": d["label"]} for d in data]
