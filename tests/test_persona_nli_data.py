"""Tests for the persona-domain NLI training data generator."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from personae.scoring._training._fam_work import JOBS
from personae.scoring._training._vocab import FILLERS, OPENERS_COMMA, OPENERS_SENTENCE
from personae.scoring._training.persona_nli_data import (
    FAMILIES,
    LABELS,
    elide_subject,
    generate_persona_dev,
    generate_persona_nli,
    main,
    split_dev,
)

TITLES = ("Brother ", "Sister ")


@pytest.fixture(scope="module")
def records() -> list[dict[str, str]]:
    return generate_persona_nli(6000, seed=0)


@pytest.fixture(scope="module")
def dev() -> list[dict[str, str]]:
    return generate_persona_dev(2000, seed=0)


def _family(record: dict[str, str]) -> str:
    return record["kind"].split("/")[1].split("+")[0]


def _first_name(character: str) -> str:
    return character.split()[1] if character.startswith(TITLES) else character.split()[0]


def _only(family: str, n: int = 1500, seed: int = 0) -> list[dict[str, str]]:
    return generate_persona_nli(n, seed=seed, families=[family])


def test_deterministic_for_a_seed() -> None:
    assert generate_persona_nli(400, seed=3) == generate_persona_nli(400, seed=3)
    assert generate_persona_nli(400, seed=3) != generate_persona_nli(400, seed=4)
    assert generate_persona_dev(200, seed=1) == generate_persona_dev(200, seed=1)


def test_records_are_complete_and_clean(records: list[dict[str, str]]) -> None:
    for r in records:
        assert set(r) == {"premise", "hypothesis", "label", "kind", "character"}
        assert r["label"] in LABELS
        for key in ("premise", "hypothesis", "kind", "character"):
            assert r[key].strip(), (key, r)
        text = r["premise"] + " " + r["hypothesis"]
        assert not re.search(r"[{}]", text), r  # every template slot was filled
        assert "  " not in text, r
        assert r["premise"][0].isupper(), r
        assert r["hypothesis"][0] in "*" + r["hypothesis"][0].upper(), r


def test_labels_are_roughly_balanced(records: list[dict[str, str]]) -> None:
    counts = Counter(r["label"] for r in records)
    for label in LABELS:
        assert 0.26 <= counts[label] / len(records) <= 0.42, counts


def test_every_premise_names_its_character(records: list[dict[str, str]], dev: list[dict[str, str]]) -> None:
    for r in [*records, *dev]:
        name = r["character"] if r["character"].startswith(TITLES) else _first_name(r["character"])
        assert re.search(rf"(?<!\w){re.escape(name)}(?!\w)", r["premise"]), r


def test_covers_many_families_kinds_and_question_prefixes(records: list[dict[str, str]]) -> None:
    families = {_family(r) for r in records}
    assert len(FAMILIES) >= 30
    assert len(families) >= 30, sorted(families)
    kinds = {r["kind"].split("/")[0].split("+")[0] for r in records}
    for kind in (
        "ent_direct",
        "ent_para",
        "ent_multi",
        "con_value",
        "con_neg",
        "con_world",
        "con_mixed",
        "neu_mention",
        "neu_related",
        "neu_wish",
        "neu_other",
        "neu_smalltalk",
    ):
        assert kind in kinds, kind
    with_question = sum(bool(re.match(r"[^.!*]*\?\s", r["hypothesis"])) for r in records)
    assert 0.2 <= with_question / len(records) <= 0.5
    assert sum("+cmp" in r["kind"] for r in records) / len(records) > 0.3  # compound statements


def test_trigger_words_appear_under_every_label(records: list[dict[str, str]]) -> None:
    for pattern in (r"\bnever\b", r"\bnot\b|n't\b", r"\bmy\b", r"\blove\b", r"can't stand|\bhate"):
        counts = Counter(r["label"] for r in records if re.search(pattern, r["hypothesis"], re.IGNORECASE))
        total = sum(counts.values())
        for label in LABELS:
            assert counts[label] / total >= 0.12, (pattern, counts)


def test_train_and_dev_share_no_names(records: list[dict[str, str]], dev: list[dict[str, str]]) -> None:
    train_full = {r["character"] for r in records}
    dev_full = {r["character"] for r in dev}
    assert not train_full & dev_full
    assert not {_first_name(c) for c in train_full} & {_first_name(c) for c in dev_full}
    assert Counter(r["label"] for r in dev).keys() == set(LABELS)


def test_dev_uses_held_out_values() -> None:
    pattern = re.compile(r"works as an? ([a-z ]+)\.")
    train_jobs = {m.group(1) for r in _only("job", 2000) if (m := pattern.search(r["premise"]))}
    dev_rows = generate_persona_nli(800, seed=0, split="dev", families=["job"])
    dev_jobs = {m.group(1) for r in dev_rows if (m := pattern.search(r["premise"]))}
    assert dev_jobs
    assert not dev_jobs & train_jobs


def test_split_dev_keeps_characters_apart(records: list[dict[str, str]]) -> None:
    train, held = split_dev(records, 0.2, seed=1)
    assert len(train) + len(held) == len(records)
    assert not {r["character"] for r in train} & {r["character"] for r in held}
    assert 0.1 < len(held) / len(records) < 0.3


def test_unknown_family_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown"):
        generate_persona_nli(5, families=["astrology"])


# Spot checks: a statement, a kind of reply, and the only label that pair may carry.


def _assertions(hypothesis: str) -> list[str]:
    """The sentences of a reply that could carry a claim: no questions, openers, actions or fillers."""
    out = []
    for sentence in re.split(r"(?<=[.!?*])\s+", hypothesis):
        if sentence.endswith("?") or sentence in FILLERS or sentence in OPENERS_SENTENCE or sentence.startswith("*"):
            continue
        for opener in OPENERS_COMMA:
            if sentence.startswith(opener):
                sentence = sentence[len(opener)].upper() + sentence[len(opener) + 1 :]
                break
        out.append(sentence)
    return out


def _pairs(rows: list[dict[str, str]], premise: str, hypothesis: str) -> list[dict[str, str]]:
    return [r for r in rows if re.search(premise, r["premise"]) and re.search(hypothesis, r["hypothesis"])]


def test_vegetarian_eating_meat_is_contradiction() -> None:
    rows = _pairs(
        _only("diet", 3000),
        r"is a vegetarian|doesn't eat meat|hasn't eaten meat",
        r"ordered the chicken|steak|bacon sandwich|burger|beef stew",
    )
    assert rows
    assert {r["label"] for r in rows} == {"contradiction"}


def test_vegetarian_lentil_curry_alone_is_neutral() -> None:
    rows = [
        r
        for r in _only("diet", 3000)
        if re.search(r"is a vegetarian|doesn't eat meat", r["premise"])
        and _assertions(r["hypothesis"]) == ["I love a good lentil curry."]
    ]
    assert rows
    assert {r["label"] for r in rows} == {"neutral"}


def test_only_child_mentioning_a_sibling_is_contradiction() -> None:
    rows = _pairs(
        _only("siblings"),
        r"is an only child|has no brothers or sisters|without any siblings",
        r"(?i)\bmy (little |older |younger )?(brother|sister|twin)\b",
    )
    assert rows
    assert {r["label"] for r in rows} == {"contradiction"}


def test_non_swimmer_who_swam_is_contradiction() -> None:
    rows = _pairs(
        _only("swim"), r"cannot swim|never learned to swim|can't swim a stroke", r"\bswam\b|lengths at the pool"
    )
    assert rows
    assert {r["label"] for r in rows} == {"contradiction"}


def test_fear_of_heights_and_climbing_is_contradiction() -> None:
    rows = _pairs(_only("fears", 3000), r"(afraid|fear|terrified) of heights", r"rock climbing|skydiving")
    assert rows
    assert {r["label"] for r in rows} == {"contradiction"}


def test_city_replies() -> None:
    moved, visit = [], []
    for r in _only("city", 3000):
        m = re.search(r"(?:lives in|based in|lived in) (?:a small flat in )?([A-Z][\w ]+?)(?: for|[,.])", r["premise"])
        if not m or "+cmp" in r["kind"]:
            continue
        home = m.group(1)
        other_flat = re.search(r"Here in my flat in ([A-Z][\w ]+?),", r["hypothesis"])
        if other_flat and other_flat.group(1) != home:
            moved.append(r["label"])
        wish = re.search(r"I'd love to visit ([A-Z][\w ]+?) someday\.", r["hypothesis"])
        if wish and wish.group(1) != home and len(_assertions(r["hypothesis"])) == 1:
            visit.append(r["label"])
    assert moved
    assert set(moved) == {"contradiction"}
    assert visit
    assert set(visit) == {"neutral"}  # a wish to visit elsewhere says nothing about home


def test_medieval_monk_with_a_smartphone_is_contradiction() -> None:
    rows = _pairs(_only("era", 1500), r"\b1[0-8]\d\d\b", r"smartphone|email|internet|television|text you")
    assert rows
    assert {r["label"] for r in rows} == {"contradiction"}


def test_instrument_paraphrase_is_entailment() -> None:
    rows = _pairs(
        _only("instrument", 3000),
        r"plays the drums|played the drums|is a talented drums player|drummer",
        r"noise from my kit|pairs of sticks",
    )
    rows = [r for r in rows if "+cmp" not in r["kind"] and not re.search(r"doesn't|can't", r["premise"])]
    assert rows
    assert {r["label"] for r in rows} == {"entailment"}


def test_job_value_word_in_every_label() -> None:
    found: dict[str, list[str]] = {label: [] for label in LABELS}
    for r in _only("job", 3000):
        m = re.fullmatch(r"\w+(?: \w+)? (?:is|works as) an? ([a-z ]+)\.", r["premise"])
        plurals = [p for j, p, _, _ in JOBS if m and j == m.group(1)]
        claims = _assertions(r["hypothesis"])
        if not (m and plurals and len(claims) == 1):
            continue
        job, plural, claim = m.group(1), plurals[0], claims[0]
        if re.fullmatch(rf"I've never worked as an? {job} in my life\.", claim):
            found["contradiction"].append(r["label"])
        elif re.fullmatch(
            rf"People always ask whether {plural} get tired of it\.|I read an article about {plural} "
            r"the other day\.",
            claim,
        ):
            found["neutral"].append(r["label"])
        elif re.fullmatch(rf"I'm an? {job}\.|I work as an? {job}\.", claim):
            found["entailment"].append(r["label"])
    for label, labels in found.items():
        assert labels, label
        assert set(labels) == {label}, (label, Counter(labels))


def test_main_writes_jsonl(tmp_path: Path) -> None:
    out = tmp_path / "train.jsonl"
    dev_out = tmp_path / "dev.jsonl"
    assert main([str(out), "--n", "50", "--seed", "2", "--dev-out", str(dev_out), "--dev-n", "20"]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows == generate_persona_nli(50, seed=2)
    assert len(dev_out.read_text(encoding="utf-8").splitlines()) == 20


def test_subject_elision_keeps_the_meaning_and_reaches_every_label(records: list[dict[str, str]]) -> None:
    assert elide_subject("I grew up in Leeds.") == "Grew up in Leeds."
    assert elide_subject("I've never lived in Oslo.") == "Never lived in Oslo."
    assert elide_subject("I'm not a nurse.") == "Not a nurse."
    assert elide_subject("I'm a nurse.") == "I'm a nurse."  # no subjectless form without the question
    assert elide_subject("I Love Lucy is my show.") == "I Love Lucy is my show."
    subjectless = re.compile(r"(^|[.!?] )(Grew|Never|Have|Live|Love) ")
    elided = Counter(r["label"] for r in records if subjectless.search(r["hypothesis"]))
    assert set(elided) == set(LABELS), elided


def test_cross_attribute_neutrals_state_specific_facts(records: list[dict[str, str]]) -> None:
    """Replies stating a fact about another attribute are the neutrals a general NLI model gets wrong most."""
    neutral = [r for r in records if r["label"] == "neutral"]
    other = [r for r in neutral if r["kind"].startswith("neu_other")]
    assert len(other) / len(neutral) > 0.3
    assert any(r["kind"].startswith("neu_other2") for r in other)
