"""Relevance pairs for calibrating the relevance model: is a persona statement relevant to a user's question?

Built from the same attribute families as the NLI data: a question asked about one attribute is relevant to
a statement about that attribute (possibly inside a compound statement) and irrelevant to a statement about
an unrelated one; generic small-talk questions are irrelevant to any single fact. Never uses APC's Alice data.
"""

from __future__ import annotations

import random

from personae.scoring._training._core import Character, Ctx, Fact, Pool
from personae.scoring._training.persona_nli_data import (
    _GENERATORS,
    GENERIC_QUESTIONS,
    _character,
    _other_fact,
    _people,
    _pick_families,
    _premise,
    _question,
)

_TOPIC_FRAMES = (
    "Tell me about {topic} in your life.",
    "I'd love to hear how {topic} fits into your days.",
    "What's your story when it comes to {topic}?",
    "Can we talk about {topic} for a moment?",
    "How do you feel about {topic}, honestly?",
)


def _ask(rng: random.Random, fact: Fact, char: Character) -> str:
    """A question about `fact`: a family question, or (as users often do) one that names the topic."""
    if fact.topic and rng.random() < 0.4:
        return rng.choice(_TOPIC_FRAMES).format(topic=fact.topic)
    return _question(rng, fact, char)


def generate_relevance_pairs(n: int, seed: int = 0, split: str = "train") -> list[dict[str, str]]:
    """`n` records {statement, query, relevant: yes/no, character}, about half relevant, deterministic for `seed`."""
    rng = random.Random(f"persona-relevance:{split}:{seed}")
    pool = Pool(split)
    out: list[dict[str, str]] = []
    while len(out) < n:
        char = _character(rng, pool)
        ctx = Ctx(rng, pool, char, _people(pool))
        names = _pick_families(rng, rng.choice((1, 1, 2)))
        facts = [_GENERATORS[name](ctx) for name in names]
        other = _other_fact(ctx, facts)
        if other is None:
            continue
        statement = _premise(facts, char, rng)
        if rng.random() < 0.5:
            target = rng.choice(facts)
            query = _ask(rng, target, char)
            if query in GENERIC_QUESTIONS:
                continue
            out.append({"statement": statement, "query": query, "relevant": "yes", "character": char.full})
        elif rng.random() < 0.8:
            query = _ask(rng, other, char)
            if query in GENERIC_QUESTIONS:
                continue
            out.append({"statement": statement, "query": query, "relevant": "no", "character": char.full})
        else:
            out.append(
                {
                    "statement": statement,
                    "query": rng.choice(GENERIC_QUESTIONS),
                    "relevant": "no",
                    "character": char.full,
                }
            )
    return out


def calibrate_shipped_embedder(n: int = 4000, seed: int = 0) -> dict[str, float]:
    """Fit the relevance calibration on generated train pairs, measure it on dev pairs, store it in the model."""
    import json

    from personae.scoring._onnx import MODELS_DIR
    from personae.scoring._quality import relevance_accuracy
    from personae.scoring._relevance import SHIPPED_EMBEDDER, RelevanceModel, fit_logistic

    model = RelevanceModel()
    train = generate_relevance_pairs(n, seed, "train")
    sims = [float(model.similarity([r["statement"]], [r["query"]], [r["character"]])[0, 0]) for r in train]
    a, b = fit_logistic(sims, [int(r["relevant"] == "yes") for r in train])
    model.a, model.b = a, b
    dev = generate_relevance_pairs(n // 4, seed, "dev")
    dev_accuracy = relevance_accuracy(model, dev)["accuracy"]
    path = MODELS_DIR / SHIPPED_EMBEDDER / "config.json"
    config = json.loads(path.read_text())
    config["relevance_calibration"] = {
        "a": round(a, 4),
        "b": round(b, 4),
        "fitted_on": f"{n} generated train pairs (seed {seed}), character names masked",
        "dev_accuracy": round(dev_accuracy, 4),
        "dev_pairs": len(dev),
    }
    path.write_text(json.dumps(config, indent=2) + "\n")
    return {"a": a, "b": b, "dev_accuracy": dev_accuracy}


if __name__ == "__main__":
    print(calibrate_shipped_embedder())
