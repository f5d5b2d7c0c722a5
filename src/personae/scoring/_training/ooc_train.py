"""Train the shipped OOC classifier: multinomial logistic regression over MiniLM embeddings, numpy only.

The data comes from `ooc_data.generate_ooc` (train split); the dev split (held-out names) measures it. The result
is a small `.npz` of weights plus a config and a model card, shipped under `personae/scoring/models/`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from personae.persona import Persona
from personae.scoring._onnx import FloatArray
from personae.scoring._ooc import IN_CHARACTER, OOCClassifier, OOCDetector, normalise
from personae.scoring._ooc_rules import Cues
from personae.scoring._relevance import OnnxEmbedder
from personae.scoring._training.ooc_data import LABELS, generate_ooc, load_roleplay_lines


def _texts(records: Sequence[dict[str, str]]) -> list[str]:
    return [normalise(r["reply"], Cues.of(Persona(name=r["char"]), r["user"])) for r in records]


def fit_softmax(
    x: FloatArray,
    y: np.ndarray,
    classes: int,
    l2: float = 1e-3,
    steps: int = 400,
    lr: float = 0.5,
    sample_weight: np.ndarray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Multinomial logistic regression by full-batch gradient descent with momentum; returns (weights, bias).

    `sample_weight` weighs each example's loss (a rare class counted several times); all 1 when None.
    """
    n, d = x.shape
    w = np.zeros((d, classes), dtype=np.float64)
    b = np.zeros(classes, dtype=np.float64)
    onehot = np.eye(classes)[y]
    weight = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    weight = (weight / weight.sum())[:, None]
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    for _ in range(steps):
        logits = x @ w + b
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        gw = x.T @ ((p - onehot) * weight) + l2 * w
        gb = ((p - onehot) * weight).sum(axis=0)
        vw = 0.9 * vw + gw
        vb = 0.9 * vb + gb
        w -= lr * vw
        b -= lr * vb
    return w.astype(np.float32), b.astype(np.float32)


def _binary_accuracy(pred_ooc: Sequence[bool], records: Sequence[dict[str, str]]) -> float:
    gold = [r["label"] != IN_CHARACTER for r in records]
    return float(np.mean([p == g for p, g in zip(pred_ooc, gold, strict=True)]))


def train_ooc(
    out: Path, n_train: int = 8000, n_dev: int = 2000, seed: int = 0, shared: Path | None = None
) -> dict[str, object]:
    """Generate data, fit, evaluate on dev, and write `classifier.npz` and `config.json` to `out`.

    `shared`, if given, is a data folder with CharacterBox scenes and APC replies used as real in-character lines.
    """
    started = time.perf_counter()
    roleplay = load_roleplay_lines(shared) if shared is not None else []
    train = generate_ooc(n_train, seed, "train", roleplay=roleplay)
    dev = generate_ooc(n_dev, seed, "dev", roleplay=roleplay)
    embedder = OnnxEmbedder()
    x_train = embedder.embed(_texts(train))
    y_train = np.asarray([LABELS.index(r["label"]) for r in train])
    y_dev = np.asarray([LABELS.index(r["label"]) for r in dev])
    weights, bias = fit_softmax(x_train.astype(np.float64), y_train, len(LABELS))
    classifier = OOCClassifier(weights, bias, LABELS, embedder)
    probs = classifier.predict(_texts(dev))
    clf_ooc = [bool(1 - p[0] > 0.5) for p in probs]
    reason_acc = float(np.mean([probs[i].argmax() == y_dev[i] for i in range(len(dev))]))
    combined, rules_only = [], []
    for r in dev:
        detector = OOCDetector(Persona(name=r["char"]), r["user"], classifier=classifier, classifier_decides=True)
        result = detector.detect(r["query"], r["reply"])
        combined.append(result.ooc)
        rules_only.append(any(s.source == "rule" for s in result.signals))
    metrics: dict[str, object] = {
        "dev_accuracy_classifier": round(_binary_accuracy(clf_ooc, dev), 4),
        "dev_accuracy_rules": round(_binary_accuracy(rules_only, dev), 4),
        "dev_accuracy_detector": round(_binary_accuracy(combined, dev), 4),
        "dev_label_accuracy_classifier": round(reason_acc, 4),
        "train_examples": len(train),
        "dev_examples": len(dev),
        "seconds": round(time.perf_counter() - started, 1),
    }
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / "classifier.npz", weights=weights, bias=bias)
    config = {
        "labels": list(LABELS),
        "embedder": "minilm-embedder",
        "input": "reply with the character's names replaced by 'Chara' and the user's by 'Usero'",
        "training": {
            "generator": "personae.scoring._training.ooc_data.generate_ooc",
            "seed": seed,
            "roleplay_lines": len(roleplay),
            "roleplay_sources": ["CharacterBox scenes (MIT)", "APC Alice replies (MIT)"] if roleplay else [],
        },
        "metrics": metrics,
    }
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return metrics


def write_ooc_card(folder: Path) -> None:
    """Write MODEL_CARD.md for the classifier in `folder` from its config (metrics measured at training time)."""
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    m, t = config["metrics"], config["training"]
    sources = ", ".join(t["roleplay_sources"]) or "none"
    card = f"""# personae OOC classifier

Multinomial logistic regression over all-MiniLM-L6-v2 sentence embeddings (the shipped `minilm-embedder`) of a
reply whose character and user names are replaced by placeholders. Classes: {", ".join(config["labels"])}.
Weights: `classifier.npz` (384 x {len(config["labels"])} floats + bias). Trained with numpy by `personae train-ooc`.

## Data
- {m["train_examples"]} generated training examples, {m["dev_examples"]} dev examples (names held out from training),
  from `{t["generator"]}` (seed {t["seed"]}): first-person replies of personae's persona-NLI generator with role-play
  additions, and out-of-character sentences from templates written for personae, one reason at a time.
- Real in-character lines: {t["roleplay_lines"]} ({sources}), inserted with and without an OOC sentence.

## Measured at training time (generated dev split)
- classifier alone, in/out of character: {m["dev_accuracy_classifier"]:.3f}
- classifier label (which reason) accuracy: {m["dev_label_accuracy_classifier"]:.3f}
- patterns alone: {m["dev_accuracy_rules"]:.3f}; patterns plus classifier: {m["dev_accuracy_detector"]:.3f}

## How personae uses it
The patterns decide whether a reply is out of character; the classifier's probability is reported next to them
(`OOCResult.classifier_probability`) and decides only with `OOCDetector(..., classifier_decides=True)`. On the
generated dev split the replies it flagged beyond the patterns were mostly in character (precision below 0.4 at
every threshold tried), and on the hand-labelled held-out set (`bench/ooc_quality.py`) it lowered accuracy.

## Limits
Trained on English template data; it has not seen real out-of-character replies. Treat its probability as a hint.
"""
    (folder / "MODEL_CARD.md").write_text(card, encoding="utf-8")
