"""Train the topic gate: which statement–sentence pairs are worth the NLI model's time (numpy, a minute on a CPU).

Positives are the sentences the role-play data says decide a statement (entail or contradict it), negatives every
sentence of a reply against the statements it leaves neutral. The gate is a logistic regression over
`topic_features` of the shipped MiniLM embeddings (names masked), so it runs wherever the scorer runs, without torch.
Characters are split between training and dev; the dev figures compare it with the cosine gate it replaces at the
same share of pairs skipped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from personae.scoring._onnx import FloatArray
from personae.scoring._relevance import OnnxEmbedder, mask_names
from personae.scoring._topic import topic_features
from personae.scoring._training.ooc_train import fit_softmax
from personae.scoring._training.roleplay_data import RoleplayRecord, sentence_labels, split_by_persona

POSITIVE_WEIGHT = 5.0
"""Loss weight of a deciding pair: about one pair in fifteen decides its statement."""
SKIPPED = (0.85, 0.9, 0.95)
"""Shares of pairs skipped at which the dev figures compare the learned gate with the cosine."""


def gate_examples(records: Sequence[RoleplayRecord], embedder: OnnxEmbedder) -> tuple[FloatArray, np.ndarray]:
    """Features and labels (0 neutral, 1 contradiction, 2 entailment) of every labelled statement–sentence pair."""
    rows: list[FloatArray] = []
    labels: list[int] = []
    code = {"neutral": 0, "contradiction": 1, "entailment": 2}
    for record in records:
        names = (record.persona.name,)
        found = sentence_labels(record)
        if not found:
            continue
        statements = [mask_names(s, names) for s in record.persona.statements]
        sentences = list(dict.fromkeys(sentence for _, sentence, _ in found))
        texts = [*statements, *(mask_names(s, names) for s in sentences), mask_names(record.query, names)]
        vectors = embedder.embed(texts)
        features = topic_features(vectors[: len(statements)], vectors[len(statements) : -1], vectors[-1])
        column = {sentence: j for j, sentence in enumerate(sentences)}
        for index, sentence, label in found:
            rows.append(features[index, column[sentence]])
            labels.append(code[label])
    return np.stack(rows), np.asarray(labels)


def recall_at_skipped(scores: FloatArray, labels: np.ndarray, skipped: float) -> dict[str, float]:
    """Share of deciding pairs (all, contradictions, entailments) a gate passes when it closes `skipped` of pairs."""
    open_ = scores >= np.quantile(scores, skipped)
    return {
        "decided": round(float(open_[labels > 0].mean()), 4),
        "contradiction": round(float(open_[labels == 1].mean()), 4),
        "entailment": round(float(open_[labels == 2].mean()), 4),
    }


def train_gate(
    records: Sequence[RoleplayRecord], out: Path, dev_share: float = 0.2, seed: int = 0
) -> dict[str, object]:
    """Fit the gate on the training characters, measure it on the dev characters, write gate.npz and config.json."""
    started = time.perf_counter()
    train, dev = split_by_persona(records, dev_share, seed)
    embedder = OnnxEmbedder()
    x_train, y_train = gate_examples(train, embedder)
    x_dev, y_dev = gate_examples(dev, embedder)
    weight = np.where(y_train > 0, POSITIVE_WEIGHT, 1.0)
    positive = (y_train > 0).astype(int)
    w, b = fit_softmax(x_train.astype(np.float64), positive, 2, l2=1e-4, steps=2000, sample_weight=weight)
    weights, bias = (w[:, 1] - w[:, 0]).astype(np.float32), float(b[1] - b[0])
    learned = x_dev @ weights + bias
    cosine = x_dev[:, -2]
    metrics: dict[str, object] = {
        f"dev_at_{round(skip * 100)}pct_skipped": {
            "learned": recall_at_skipped(learned, y_dev, skip),
            "cosine": recall_at_skipped(cosine, y_dev, skip),
        }
        for skip in SKIPPED
    }
    metrics |= {
        "train_pairs": len(y_train),
        "dev_pairs": len(y_dev),
        "train_characters": len({r.persona.name for r in train}),
        "dev_characters": len({r.persona.name for r in dev}),
        "seconds": round(time.perf_counter() - started, 1),
    }
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / "gate.npz", weights=weights, bias=np.float32(bias))
    config = {
        "embedder": "minilm-embedder",
        "features": "personae.scoring._topic.topic_features (name-masked statement, sentence and user message)",
        "training": {"records": len(records), "dev_share": dev_share, "seed": seed, "positive_weight": POSITIVE_WEIGHT},
        "metrics": metrics,
    }
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return metrics


def write_gate_card(folder: Path, reproduce: str) -> None:
    """Write MODEL_CARD.md for the gate in `folder` from its config (figures measured at training time)."""
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    m, t = config["metrics"], config["training"]
    rows = [(round(s * 100), m[f"dev_at_{round(s * 100)}pct_skipped"]) for s in SKIPPED]
    lines = [
        f"| {pct} % | {r['learned']['contradiction']:.3f} | {r['cosine']['contradiction']:.3f} | "
        f"{r['learned']['entailment']:.3f} | {r['cosine']['entailment']:.3f} |"
        for pct, r in rows
    ]
    table = "\n".join(lines)
    card = f"""# personae topic gate

Decides which persona statement–reply sentence pairs reach the persona-NLI model at all: a logistic regression over
features of the shipped all-MiniLM-L6-v2 embeddings (`minilm-embedder`) of the statement, the sentence and the
user's message, with the character's name masked (`personae.scoring._topic.topic_features`: elementwise product and
absolute difference of statement and sentence, product of statement and message, two cosines).
Weights: `gate.npz` (1,154 floats and a bias). Trained with numpy by `personae train-gate`.

## Why
The cosine gate it replaces missed contradictions through common knowledge: "My husband Walter comes home at dusk"
against "is a Benedictine nun" has a cosine of 0.46, under every gate that keeps the NLI model's work small, so the
reply was never checked. The learned gate is trained on exactly these pairs.

## Data
The role-play training data (`data/training/roleplay/`, {t["records"]} replies): a sentence that decides a statement
(entails or contradicts it) is a positive, every sentence against a statement its reply leaves neutral a negative
(positives weigh {t["positive_weight"]}). {m["train_characters"]} characters for training ({m["train_pairs"]} pairs),
{m["dev_characters"]} others for dev ({m["dev_pairs"]} pairs; split seed {t["seed"]}). Never the calibration or
measuring sets.

## Measured at training time (dev characters)
Share of deciding pairs the gate lets through when it closes the given share of all pairs:

| pairs skipped | contradictions, learned | contradictions, cosine | entailments, learned | entailments, cosine |
|---|---|---|---|---|
{table}

## How personae uses it
`RelevanceModel.topic` scores every statement–sentence pair of a reply with it; the persona-NLI model's calibration
(`personae calibrate-nli`) fits the gate's threshold on this scale, for this gate only (its name carries the weights'
digest, so a retrained gate needs a new calibration). Other embedders fall back to the cosine.

## Reproduce
`{reproduce}`
"""
    (folder / "MODEL_CARD.md").write_text(card, encoding="utf-8")
