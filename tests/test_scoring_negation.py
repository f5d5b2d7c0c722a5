"""A denial read against its positive: the rules that build the positive, and their use in the scorer."""

from __future__ import annotations

import time

import numpy as np
import pytest

from helpers.runtime import GridNLI
from personae.persona import Persona
from personae.scoring import APCScorer, Calibration, FakeEmbedder, RelevanceModel, positive, read_denials


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("I am not a knight.", "I am a knight."),
        ("No, Sam does not take milk in his tea.", "Sam does take milk in his tea."),
        ("I never lost a ship in my life.", "I lost a ship in my life."),
        ("I would never steal a thing.", "I would steal a thing."),
        # an adverb between subject and negation ("make demo": read 0.98 against keeping bees in the abbey garden)
        ("I would also never leave the abbey.", "I would also leave the abbey."),
        ("I am no sailor.", "I am a sailor."),
        ("I have no sons.", "I have sons."),
        ("I cannot swim.", "I can swim."),
        ("I won't go back.", "I will go back."),
        ("However, I don't trust it entirely.", "I trust it entirely."),  # no connective, no emphatic "do"
        ("I didn't see him.", "I did see him."),
        ("I’m not married.", "I'm married."),
        # none, several, or negations the rules cannot turn: nothing is changed
        ("The sea is calm.", None),
        # a negation that denies nothing about anyone: a fixed phrase, or not on the subject's verb
        ("Can't beat a bacon butty after training.", None),
        ("A pie is no trouble at all.", None),
        ("I was mindful not to be drawn in.", None),
        ("I can't swim, not a stroke.", None),
        # negations that affirm: no denial
        ("I can't wait to give the speech to the Admiralty on Friday.", None),
        ("I couldn't be happier with the crew.", None),
        ("I wouldn't miss it for the world.", None),
        ("Nothing matters.", None),
        ("Nobody told me.", None),
        ("No.", None),
        ("x" * 500 + " not", None),
    ],
)
def test_a_sentence_with_one_negation_gives_its_positive(sentence: str, expected: str | None) -> None:
    assert positive(sentence) == expected


STATEMENT = "Sam Rivers drinks his tea black."
DENIAL = "I don't take milk."
TRUE_DENIAL = "I don't drink tea."
UNRELATED_DENIAL = "I am not a knight."


def test_a_denial_of_what_the_statement_contradicts_is_no_contradiction() -> None:
    nli = GridNLI(
        {
            (STATEMENT, DENIAL): (0.01, 0.01, 0.98),  # the SNLI convention: different, so "contradiction"
            (STATEMENT, "I take milk."): (0.02, 0.01, 0.97),  # the statement contradicts the positive...
            (STATEMENT, TRUE_DENIAL): (0.01, 0.02, 0.97),
            (STATEMENT, "I drink tea."): (0.95, 0.04, 0.01),  # ...here it entails it: the denial contradicts
            (STATEMENT, UNRELATED_DENIAL): (0.01, 0.01, 0.98),
            (STATEMENT, "I am a knight."): (0.03, 0.9, 0.07),  # ...and here it says nothing of it
        }
    )
    pairs = [
        (STATEMENT, DENIAL),
        (STATEMENT, TRUE_DENIAL),
        (STATEMENT, UNRELATED_DENIAL),
        (STATEMENT, "The sea is calm."),
    ]
    probs = nli.predict(pairs)
    out = read_denials(pairs, probs, nli.predict)
    assert out[0, 2] == pytest.approx(0.02)  # bounded by the positive's entailment
    assert np.allclose(out.sum(axis=1), 1.0)
    assert out[1, 2] == pytest.approx(0.95)  # as far as the statement entails "I drink tea.": still a contradiction
    assert out[2, 2] == pytest.approx(0.03)  # the statement says nothing of knights
    assert np.array_equal(out[3], probs[3])
    # the positive of a pair not read as a contradiction is never asked for
    assert nli.asked[4:] == [(STATEMENT, "I take milk."), (STATEMENT, "I drink tea."), (STATEMENT, "I am a knight.")]


def test_the_scorer_reads_denials_in_its_batched_and_reference_paths() -> None:
    persona = Persona(name="Sam Rivers", statements=[STATEMENT])
    nli = GridNLI({(STATEMENT, DENIAL): (0.01, 0.01, 0.98), (STATEMENT, "I take milk."): (0.02, 0.01, 0.97)})
    scorer = APCScorer(persona, nli=nli, relevance=RelevanceModel(FakeEmbedder()), calibration=Calibration(0.9, 0.9))
    assert not scorer.score("Milk?", DENIAL).violations
    assert not scorer.score_batch([("Milk?", DENIAL)])[0].violations


def test_a_huge_sentence_is_read_in_bounded_time() -> None:
    started = time.perf_counter()
    assert positive("not " * 300_000) is None
    assert positive("I don't swim" + " at all" * 40 + ".") == "I swim" + " at all" * 40 + "."
    assert time.perf_counter() - started < 1.0
