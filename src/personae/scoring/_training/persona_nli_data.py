"""Persona-domain NLI training pairs: third-person persona statements against first-person role-play replies.

Each record pairs a premise (a statement about a named character, simple or compound) with a hypothesis (the
character's reply, sometimes preceded by the user's question) and a label:

* entailment: the reply confirms the statement, or one part of a compound statement, directly or by paraphrase;
* contradiction: the reply contradicts the statement or any part of it (other value, negation, world knowledge);
* neutral: the reply neither confirms nor denies it (same topic without commitment, related but distinct facts,
  wishes, opinions, other attributes, small talk).

Generation is deterministic for a seed, uses only the standard library, and keeps train and dev apart: the dev
split uses names and attribute values that the train split never sees.

Usage: ``python -m personae.scoring._training.persona_nli_data OUT.jsonl --n 30000 --seed 0``
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ._core import Character, Ctx, Fact, Pool, article, fill
from ._fam_body import diet, drive, exercise, food, health, pets, sleep, smoking, swim
from ._fam_home import children, city, hometown, marital, relationships, siblings
from ._fam_mind import beliefs, fears, goals, personality
from ._fam_taste import colour, hobbies, instrument, languages, music, season, sport
from ._fam_work import age, education, job, past
from ._fam_world import appearance, era, possessions
from ._vocab import vocab

__all__ = ["LABELS", "elide_subject", "generate_persona_dev", "generate_persona_nli", "main", "split_dev"]

LABELS = ("entailment", "neutral", "contradiction")
LABEL_WEIGHTS = (0.33, 0.39, 0.28)

# (family, generator, weight); the group of a family is its name except where noted in GROUPS.
FAMILIES: tuple[tuple[str, Callable[[Ctx], Fact], float], ...] = (
    ("job", job, 1.6),
    ("age", age, 1.0),
    ("hometown", hometown, 1.0),
    ("city", city, 1.2),
    ("siblings", siblings, 1.0),
    ("children", children, 0.9),
    ("marital", marital, 1.0),
    ("relationships", relationships, 1.0),
    ("education", education, 0.9),
    ("past", past, 1.0),
    ("pets", pets, 1.0),
    ("diet", diet, 1.1),
    ("food", food, 0.9),
    ("swim", swim, 0.8),
    ("drive", drive, 0.8),
    ("sleep", sleep, 0.7),
    ("smoking", smoking, 0.6),
    ("exercise", exercise, 0.8),
    ("health", health, 0.9),
    ("languages", languages, 0.9),
    ("instrument", instrument, 1.0),
    ("music", music, 1.0),
    ("sport", sport, 0.8),
    ("colour", colour, 0.6),
    ("season", season, 0.6),
    ("hobbies", hobbies, 1.1),
    ("beliefs", beliefs, 0.9),
    ("fears", fears, 1.0),
    ("personality", personality, 1.6),
    ("goals", goals, 1.0),
    ("possessions", possessions, 0.9),
    ("appearance", appearance, 1.3),
    ("era", era, 0.5),
)
GROUPS = {name: name for name, _, _ in FAMILIES} | {"diet": "food"}

# Groups whose facts could contradict or imply each other: never combined in one statement, and a reply about
# one is never used as a "different attribute" neutral for a statement about the other.
_CONFLICT_PAIRS = (
    ("food", "beliefs"),
    ("food", "health"),
    ("swim", "exercise"),
    ("swim", "fears"),
    ("swim", "health"),
    ("pets", "fears"),
    ("drive", "possessions"),
    ("drive", "job"),
    ("drive", "health"),
    ("job", "education"),
    ("job", "fears"),
    ("job", "health"),
    ("job", "past"),
    ("job", "beliefs"),
    ("job", "sleep"),
    ("job", "goals"),
    ("languages", "hometown"),
    ("languages", "city"),
    ("languages", "past"),
    ("sleep", "exercise"),
    ("sleep", "hobbies"),
    ("sleep", "past"),
    ("smoking", "health"),
    ("smoking", "exercise"),
    ("health", "exercise"),
    ("health", "appearance"),
    ("health", "past"),
    ("health", "hobbies"),
    ("health", "possessions"),
    ("fears", "hobbies"),
    ("fears", "past"),
    ("fears", "goals"),
    ("fears", "exercise"),
    ("fears", "beliefs"),
    ("fears", "possessions"),
    ("fears", "personality"),
    ("possessions", "city"),
    ("possessions", "past"),
    ("past", "city"),
    ("past", "hometown"),
    ("past", "exercise"),
    ("past", "sport"),
    ("hometown", "city"),
    ("relationships", "personality"),
    ("goals", "hobbies"),
    ("appearance", "colour"),
    ("sport", "exercise"),
    ("sport", "hobbies"),
    ("hobbies", "exercise"),
    ("music", "instrument"),
)
CONFLICTS: dict[str, frozenset[str]] = {}
for _a, _b in _CONFLICT_PAIRS:
    CONFLICTS[_a] = CONFLICTS.get(_a, frozenset()) | {_b}
    CONFLICTS[_b] = CONFLICTS.get(_b, frozenset()) | {_a}

GENERIC_QUESTIONS = (
    "How are you today?",
    "Tell me a bit about yourself.",
    "What's new with you?",
    "Can I ask you something personal?",
    "What's on your mind?",
    "How's life treating you?",
    "Anything interesting happen lately?",
)
# Hard neutrals (the value word without commitment, related facts, wishes, compatible values) come up more often.
_NEU_WEIGHTS = {"mention": 2.4, "related": 1.4, "wish": 1.4, "compat": 1.6}
_ASKBACK = ("What about you?", "Enough about me.", "Why do you ask?", "Let me turn that around.")


def _weighted(rng: random.Random, items: Sequence[tuple[str, float]]) -> str:
    total = sum(w for _, w in items)
    r = rng.random() * total
    for name, w in items:
        r -= w
        if r <= 0:
            return name
    return items[-1][0]


def _blocked(groups: Sequence[str]) -> set[str]:
    out = set(groups)
    for g in groups:
        out |= CONFLICTS.get(g, frozenset())
    return out


def _pick_families(rng: random.Random, k: int, only: Sequence[str] | None = None) -> list[str]:
    first = _weighted(rng, [(n, w) for n, _, w in FAMILIES if only is None or n in only])
    if first == "era":
        return [first]
    chosen = [first]
    while len(chosen) < k:
        blocked = _blocked([GROUPS[c] for c in chosen])
        cands = [(n, w) for n, _, w in FAMILIES if n != "era" and GROUPS[n] not in blocked]
        if not cands:
            break
        chosen.append(_weighted(rng, cands))
    return chosen


_GENERATORS = {name: gen for name, gen, _ in FAMILIES}


def _other_fact(ctx: Ctx, facts: Sequence[Fact]) -> Fact | None:
    """A fact about an attribute the statement says nothing about (and that cannot interact with it)."""
    blocked = _blocked([GROUPS[f.family] for f in facts])
    cands = [(n, w) for n, _, w in FAMILIES if n != "era" and GROUPS[n] not in blocked]
    if not cands or any(f.timeless for f in facts):
        return None
    return _GENERATORS[_weighted(ctx.rng, cands)](ctx)


def _age(rng: random.Random) -> int:
    lo, hi = rng.choice(((18, 29), (18, 29), (30, 49), (30, 49), (30, 49), (50, 69), (50, 69), (70, 88)))
    return rng.randint(lo, hi)


def _character(rng: random.Random, pool: Pool) -> Character:
    words = vocab()
    gender = rng.choice("fm")
    names = words.female_names if gender == "f" else words.male_names
    first = rng.choice(pool.candidates(names, main=True))
    last = rng.choice(pool.candidates(words.last_names, main=True))
    return Character(first, last, gender, _age(rng))


def _people(pool: Pool) -> Callable[[random.Random, str], str]:
    female = pool.candidates(vocab().female_names, main=True)
    male = pool.candidates(vocab().male_names, main=True)

    def person(rng: random.Random, gender: str) -> str:
        return rng.choice(female if gender == "f" else male)

    return person


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _render(template: str, fact: Fact, pron: dict[str, str]) -> str:
    return _cap(fill(fill(template, fact.slots), pron))


def _join(parts: Sequence[str], rng: random.Random) -> str:
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        return f"{parts[0]} and {parts[1]}"
    comma = "," if rng.random() < 0.5 else ""
    return ", ".join(parts[:-1]) + f"{comma} and {parts[-1]}"


def _later_sentence(template: str, rng: random.Random, short: str) -> str:
    """Rewrite a statement template for a second sentence: refer to the character by pronoun or short name."""
    if rng.random() < 0.4:
        return template.replace("{S}", short)
    if template.startswith("{S}'s"):
        return "{His}" + template[5:]
    if template.startswith("{S}"):
        return "{He}" + template[3:]
    return template.replace("{S}'s", "{his}").replace("{S}", "{he}")


def _also(pred: str) -> str:
    """Insert "also" into a verb phrase ("is also a nurse", "also lives in Leeds")."""
    first = pred.split(" ", 1)[0]
    if first in ("is", "was"):
        return pred.replace(" ", " also ", 1)
    if first in ("can", "cannot", "can't", "doesn't", "has", "hasn't", "never", "rarely", "hates", "refuses"):
        return pred if first != "has" or pred.startswith("has never") else "also " + pred
    return "also " + pred


def _premise(facts: Sequence[Fact], char: Character, rng: random.Random) -> str:
    subject = char.full if (char.title or rng.random() < 0.6) else char.first
    slots = {**char.pronouns(), "S": subject}

    def done(text: str) -> str:
        return _cap(fill(text, slots))

    if len(facts) == 1:
        f = facts[0]
        t = rng.choice(f.sentences) if rng.random() < 0.75 else "{S} " + rng.choice(f.preds) + "."
        return done(fill(t, f.slots))
    preds = [fill(rng.choice(f.preds), f.slots) for f in facts]
    nouns = [i for i, f in enumerate(facts) if f.nouns]
    adjs = [i for i, f in enumerate(facts) if f.adjs]
    r = rng.random()
    if (nouns or adjs) and r < 0.35:
        ni = rng.choice(nouns) if nouns else None
        ai = rng.choice([i for i in adjs if i != ni] or [-1]) if adjs else -1
        noun = fill(rng.choice(facts[ni].nouns), facts[ni].slots) if ni is not None else "{man}"
        adj = fill(rng.choice(facts[ai].adjs), facts[ai].slots) + " " if ai >= 0 else ""
        rest = [p for i, p in enumerate(preds) if i not in (ni, ai)]
        if rest or (ni is not None and ai >= 0):
            head = f"{{S}} is {article(adj + noun if adj else noun)} {adj}{noun}"
            return done(head + (" who " + _join(rest, rng) if rest else "") + ".")
    if r < 0.6:
        return done("{S} " + _join(preds, rng) + ".")
    if r < 0.75:
        also = _also(preds[1])
        return done("{S} " + preds[0] + ". {He} " + _join([also, *preds[2:]], rng) + ".")
    if r < 0.85:
        return done("{S}, who " + preds[0] + ", " + _join(preds[1:], rng) + ".")
    sentences = [fill(rng.choice(facts[0].sentences), facts[0].slots)]
    sentences += [fill(_later_sentence(rng.choice(f.sentences), rng, char.short), f.slots) for f in facts[1:]]
    return " ".join(done(s) for s in sentences)


def _reply_line(
    rng: random.Random, fact: Fact, pool: Sequence[tuple[str, str]], pron: dict[str, str]
) -> tuple[str, str]:
    tag, template = rng.choice(pool)
    if "{rel_his}" in template:
        rel = fact.slots.get("rel", "")
        his = (
            "her"
            if rel in ("aunt", "godmother", "goddaughter")
            else "his"
            if rel in ("uncle", "godson")
            else (rng.choice(("his", "her")))
        )
        pron = {**pron, "rel_his": his}
    return tag, _render(template, fact, pron)


def _neutral(ctx: Ctx, facts: Sequence[Fact], target: Fact, pron: dict[str, str]) -> tuple[str, str, Fact]:
    """A neutral reply: (tag, text, the fact whose topic the reply is about)."""
    rng = ctx.rng
    r = rng.random()
    if r < 0.4:
        weights = [_NEU_WEIGHTS.get(t, 1.0) for t, _ in target.neu]
        line = rng.choices(target.neu, weights=weights)[0]
        tag, text = _reply_line(rng, target, (line,), pron)
        return tag, text, target
    if r < 0.77:
        # A specific fact about another attribute: the commonest reply in role-play, and the one a model
        # trained on SNLI ("a different scene contradicts") most often mistakes for a contradiction.
        other = _other_fact(ctx, facts)
        if other is None:  # historical statement: only timeless replies are safe
            tag, text = _reply_line(rng, target, [x for x in target.neu if x[0] == "other"] or target.neu, pron)
            return "other", text, target
        pool = rng.choices((other.ent, _other_con(other), other.neu), weights=(0.55, 0.3, 0.15))[0]
        _, text = _reply_line(rng, other, pool, pron)
        if rng.random() < 0.3:
            second = _reply_line(rng, other, rng.choice((other.ent, other.neu)), pron)[1]
            if second != text:
                return "other2", f"{text} {second}", other
        return "other", text, other
    if r < 0.87 and target.topic:
        _, text = _reply_line(rng, target, vocab().topic_neutral, {**pron, "topic": target.topic})
        return "vague", text, target
    if r < 0.96:
        tag, text = rng.choice(vocab().small_talk)
        return tag, text, target
    q = rng.choice(target.questions)
    return "askback", f"{rng.choice(_ASKBACK)} {q}", target


def _padding(ctx: Ctx, facts: Sequence[Fact], pron: dict[str, str]) -> str:
    """A sentence about an unrelated attribute (or a timeless remark), harmless for any label."""
    other = _other_fact(ctx, facts)
    if other is None:
        era_fact = next(f for f in facts if f.timeless)
        return _reply_line(ctx.rng, era_fact, [x for x in era_fact.neu if x[0] == "other"], pron)[1]
    pool = ctx.rng.choice((other.ent, _other_con(other), other.neu))
    return _reply_line(ctx.rng, other, pool, pron)[1]


def _other_con(other: Fact) -> Sequence[tuple[str, str]]:
    """Contradicting lines of an unrelated fact, usable as neutral; a wrong age could clash with implied ages."""
    return other.neu if other.family == "age" else other.con


_ELIDABLE = re.compile(r"^(?:I'm|I've|I'd|I'll|I am|I) (?=[a-z])")


def elide_subject(sentence: str) -> str:
    """Drop a leading first-person subject as chat replies do ("Grew up in Leeds."): the label stays the same."""
    match = _ELIDABLE.match(sentence)
    if match is None:
        return sentence
    rest = sentence[match.end() :]
    if match.group(0).startswith(("I'm", "I am")) and not rest.startswith(("not ", "never ", "still ")):
        return sentence  # "I'm a nurse" has no natural subjectless form ("A nurse" needs the question)
    return rest[:1].upper() + rest[1:]


def _decorate(rng: random.Random, sentences: list[str]) -> tuple[str, bool]:
    """Elide some subjects, add fillers, an opener and an action; return the reply and whether filler was added."""
    words = vocab()
    sentences = [elide_subject(s) if rng.random() < 0.15 else s for s in sentences]
    filled = False
    if rng.random() < 0.25:
        filled = True
        fillers = rng.sample(words.fillers, rng.choice((1, 1, 1, 2)))
        for f in fillers:
            sentences.insert(rng.choice((0, len(sentences))), f)
    text = " ".join(sentences)
    r = rng.random()
    if r < 0.15:
        text = f"{rng.choice(words.openers_sentence)} {text}"
    elif r < 0.3:
        first, _, rest = text.partition(" ")
        if first in ("I", "I'm", "I've", "I'd", "I'll") or first.lower().strip(",.?!") in words.lowerable:
            low = first if first.startswith("I") and first[1:2] in ("", "'") else first.lower()
            text = f"{rng.choice(words.openers_comma)}{low} {rest}"
        else:
            text = f"{rng.choice(words.openers_sentence)} {text}"
    if rng.random() < 0.12:
        action = rng.choice(words.actions)
        text = f"{action} {text}" if rng.random() < 0.6 else f"{text} {action}"
    return text, filled


def _question(rng: random.Random, fact: Fact, char: Character) -> str:
    q = rng.choice(fact.questions) if rng.random() < 0.8 else rng.choice(GENERIC_QUESTIONS)
    r = rng.random()
    if r < 0.2:
        return f"{char.short}, {q[0].lower()}{q[1:]}" if not q.startswith("I ") else f"{char.short}, {q}"
    if r < 0.35 and q.endswith("?"):
        return f"{q[:-1]}, {char.short}?"
    return q


def _record(rng: random.Random, pool: Pool, only: Sequence[str] | None) -> dict[str, str]:
    char = _character(rng, pool)
    ctx = Ctx(rng, pool, char, _people(pool))
    k = rng.choices((1, 2, 3), weights=(0.5, 0.32, 0.18))[0]
    facts = [_GENERATORS[name](ctx) for name in _pick_families(rng, k, only)]
    title = next((f.extra["title"] for f in facts if "title" in f.extra), "")
    if title:
        char = Character(char.first, char.last, char.gender, char.age, title)
    pron = char.pronouns()
    premise = _premise(facts, char, rng)
    label = rng.choices(LABELS, weights=LABEL_WEIGHTS)[0]
    target = rng.choice(facts)
    topic_fact = target
    sentences: list[str]
    if label == "entailment":
        if len(facts) > 1 and rng.random() < 0.25:
            a, b = rng.sample(facts, 2)
            sentences = [_reply_line(rng, a, a.ent, pron)[1], _reply_line(rng, b, b.ent, pron)[1]]
            kind = "ent_multi"
        else:
            tag, text = _reply_line(rng, target, target.ent, pron)
            sentences, kind = [text], f"ent_{tag}"
    elif label == "contradiction":
        tag, text = _reply_line(rng, target, target.con, pron)
        sentences, kind = [text], f"con_{tag}"
        if len(facts) > 1 and rng.random() < 0.45:
            other = rng.choice([f for f in facts if f is not target])
            confirm = _reply_line(rng, other, other.ent, pron)[1]
            sentences = [confirm, text] if rng.random() < 0.6 else [text, confirm]
            kind = "con_mixed"
    else:
        tag, text, topic_fact = _neutral(ctx, facts, target, pron)
        sentences, kind = [text], f"neu_{tag}"
        if rng.random() < 0.2:
            extra = _reply_line(rng, target, target.neu, pron)[1]
            if extra != text:
                sentences.insert(rng.choice((0, 1)), extra)
                kind += "+neu"
    if label != "neutral" and rng.random() < 0.25:
        safe = [x for x in target.neu if label == "entailment" or x[0] in ("topic", "opinion", "mention")]
        tail = _reply_line(rng, target, safe or target.neu, pron)[1]
        sentences.insert(rng.choice((0, len(sentences))) if rng.random() < 0.3 else len(sentences), tail)
        kind += "+neu"
    padded = rng.random() < 0.22
    if padded:
        pad = _padding(ctx, facts, pron)
        sentences.insert(rng.choice((0, len(sentences))), pad)
    reply, filled = _decorate(rng, sentences)
    hypothesis = reply
    if rng.random() < 0.3:
        hypothesis = f"{_question(rng, topic_fact, char)} {reply}"
    tags = ("+cmp" if len(facts) > 1 else "") + ("+pad" if padded else "") + ("+fill" if filled else "")
    return {
        "premise": premise,
        "hypothesis": hypothesis,
        "label": label,
        "kind": f"{kind}/{target.family}{tags}",
        "character": char.full,
    }


def generate_persona_nli(
    n: int, seed: int = 0, *, split: str = "train", families: Sequence[str] | None = None
) -> list[dict[str, str]]:
    """Generate `n` labelled persona NLI records, deterministically for `seed`.

    `split` is "train" (never uses held-out names and values), "dev" (uses only held-out names and prefers
    held-out values) or "all"; `families` restricts the main attribute family (e.g. ``["diet"]``).
    """
    if families is not None:
        unknown = sorted(set(families) - set(_GENERATORS))
        if unknown or not families:
            raise ValueError(f"unknown attribute families: {unknown}")
    rng = random.Random(f"persona-nli:{split}:{seed}")
    pool = Pool(split)
    return [_record(rng, pool, families) for _ in range(n)]


def generate_persona_dev(n: int, seed: int = 0) -> list[dict[str, str]]:
    """Generate `n` dev records: names and attribute values held out from the train split."""
    return generate_persona_nli(n, seed, split="dev")


def split_dev(
    records: Sequence[dict[str, str]], fraction: float, seed: int = 0
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Split records into (train, dev) by character, so no character appears in both."""
    names = sorted({r["character"] for r in records})
    random.Random(f"split:{seed}").shuffle(names)
    dev_names = set(names[: round(len(names) * fraction)])
    train = [r for r in records if r["character"] not in dev_names]
    dev = [r for r in records if r["character"] in dev_names]
    return train, dev


def write_jsonl(records: Sequence[dict[str, str]], path: Path) -> None:
    """Write records as JSON Lines (UTF-8)."""
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: write generated records as JSONL."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("out", type=Path, help="output JSONL path")
    parser.add_argument("--n", type=int, default=30000, help="number of records")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split", choices=("train", "dev", "all"), default="train")
    parser.add_argument("--dev-out", type=Path, help="also write a held-out dev set here")
    parser.add_argument("--dev-n", type=int, default=3000, help="size of the dev set")
    args = parser.parse_args(argv)
    records = generate_persona_nli(args.n, args.seed, split=args.split)
    write_jsonl(records, args.out)
    counts = {lab: sum(r["label"] == lab for r in records) for lab in LABELS}
    print(f"wrote {len(records)} records to {args.out}: {counts}", file=sys.stderr)
    if args.dev_out:
        dev = generate_persona_dev(args.dev_n, args.seed)
        write_jsonl(dev, args.dev_out)
        print(f"wrote {len(dev)} dev records to {args.dev_out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
