"""APC scoring, sentence splitting and the history check, on deterministic fake models (no model files)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from helpers.runtime import CountingEmbedder, GridNLI
from personae.cli import app
from personae.persona import Persona
from personae.scoring import (
    LABELS,
    APCScorer,
    Calibration,
    FakeEmbedder,
    FakeNLI,
    HistoryChecker,
    NLIProbs,
    RelevanceModel,
    ScoringModelError,
    about_someone_else,
    concerns_others,
    fit_logistic,
    get_nli,
    list_nli,
    mask_names,
    split_sentences,
    subjects_in,
    without_others,
)

SAM = Persona(
    name="Sam Rivers",
    statements=[
        "Sam Rivers is a lighthouse keeper.",
        "Sam Rivers lives alone with a cat named Biscuit.",
        "Sam Rivers does not drink coffee.",
    ],
)


@pytest.fixture
def scorer() -> APCScorer:
    return APCScorer(SAM, nli=FakeNLI(), relevance=RelevanceModel(FakeEmbedder()))


def test_apc_follows_the_formula_statement_by_statement(scorer: APCScorer) -> None:
    result = scorer.score("What is your job?", "I am a lighthouse keeper. The sea is loud.")
    assert len(result.statements) == 3
    for s in result.statements:
        expected = s.relevance * s.entailment + (1 - s.relevance) * (1 - s.contradiction)
        assert s.apc == pytest.approx(expected, abs=1e-6)
    assert result.apc == pytest.approx(sum(s.apc for s in result.statements))
    assert result.apc_normalized == pytest.approx(result.apc / 3)
    job = result.statements[0]
    assert job.entailment > 0.8
    assert job.evidence == "I am a lighthouse keeper."
    assert [s.statement for s in result.supported] == ["Sam Rivers is a lighthouse keeper."]


def test_a_contradicting_reply_scores_lower_and_is_explained(scorer: APCScorer) -> None:
    faithful = scorer.score("Do you drink coffee?", "I do not drink coffee, never have.")
    unfaithful = scorer.score("Do you drink coffee?", "I drink coffee every morning.")
    assert faithful.apc > unfaithful.apc
    assert [v.statement for v in unfaithful.violations] == ["Sam Rivers does not drink coffee."]
    assert faithful.violations == []
    assert unfaithful.to_json()["violations"] == ["Sam Rivers does not drink coffee."]


def test_batch_keeps_input_order_and_matches_single_scores(scorer: APCScorer) -> None:
    items = [("Job?", "I keep the lighthouse."), ("Pets?", ""), ("Coffee?", "I drink coffee.")]
    batch = scorer.score_batch(items)
    assert [r.response for r in batch] == [r for _, r in items]
    for (q, r), got in zip(items, batch, strict=True):
        assert got == scorer.score(q, r)
    empty = batch[1]
    assert all(s.entailment == 0 and s.contradiction == 0 for s in empty.statements)


def test_threshold_decides_violations() -> None:
    strict = APCScorer(SAM, nli=FakeNLI(), relevance=RelevanceModel(FakeEmbedder()), threshold=0.9)
    assert strict.score("Coffee?", "I drink coffee.").violations == []


def test_scorer_needs_statements() -> None:
    with pytest.raises(ValueError, match="at least one persona statement"):
        APCScorer(Persona(name="Empty"), nli=FakeNLI(), relevance=RelevanceModel(FakeEmbedder()))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi there. I am Sam! Are you lost?", ["Hi there.", "I am Sam!", "Are you lost?"]),
        ("Dr. Reed came by. He left.", ["Dr. Reed came by.", "He left."]),
        # abbreviations end no sentence, in any case; a word that merely ends like one ("first.") still does
        (
            "The protagonist, a.k.a. The One, can fly. He met Mr. Smith on St. Mark Street.",
            ["The protagonist, a.k.a. The One, can fly.", "He met Mr. Smith on St. Mark Street."],
        ),
        (
            "Pets, e.g. Dogs, are fine. E.g. Cats. I.e. Skerry.",
            ["Pets, e.g. Dogs, are fine.", "E.g. Cats.", "I.e. Skerry."],
        ),
        (
            "Tea, cake, etc. And he came first. Then Jr. Reed left.",
            ["Tea, cake, etc. And he came first.", "Then Jr. Reed left."],
        ),
        ("*smiles* Aye.\nWelcome in", ["smiles Aye.", "Welcome in"]),
        # narration of two or more words is a unit of its own, without asterisks; one-word emphasis stays inline
        (
            "*She pours the tea.* Sit down, love. I *really* mean it.",
            ["She pours the tea.", "Sit down, love.", "I really mean it."],
        ),
        ("Hello! *waves at the ferry* Come aboard.", ["Hello!", "waves at the ferry", "Come aboard."]),
        ("   ", []),
        ("no punctuation at all", ["no punctuation at all"]),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_history_check_finds_self_contradictions() -> None:
    checker = HistoryChecker(nli=FakeNLI(), embedder=FakeEmbedder(), k=2)
    earlier = ["I have a cat named Biscuit. The lamp is bright tonight."]
    found = checker.check(earlier, "I never had a cat named Biscuit.")
    assert len(found) == 1
    assert found[0].earlier == "I have a cat named Biscuit."
    assert found[0].contradiction > 0.5
    assert checker.check(earlier, "The weather is calm.") == []
    assert checker.check([], "Anything.") == []


def test_history_check_reads_a_contradiction_again_without_what_a_clause_says_of_another_person() -> None:
    # The demo's monk: "my brother-in-law, who is a monk" was read (0.97) as contradicting "I have always been a monk".
    earlier = "I have friends at the abbey, including my brother-in-law, who is a monk."
    stripped = "I have friends at the abbey, including my brother-in-law."
    new = "I have always been a Benedictine monk."
    nli = GridNLI({(earlier, new): (0.01, 0.01, 0.98), (stripped, new): (0.05, 0.9, 0.05)})
    checker = HistoryChecker(nli=nli, embedder=FakeEmbedder(), k=2, threshold=0.9, gate=-1.0)
    assert checker.check([earlier], new) == []
    assert (stripped, new) in nli.asked
    nli.table[(stripped, new)] = (0.01, 0.01, 0.98)  # a contradiction that stands without the clause is kept
    assert [c.earlier for c in checker.check([earlier], new)] == [earlier]


def test_history_check_of_several_replies_matches_one_by_one_and_embeds_the_past_once() -> None:
    embedder = CountingEmbedder()
    checker = HistoryChecker(nli=FakeNLI(), embedder=embedder, k=2)
    earlier = ["I have a cat named Biscuit. The lamp is bright tonight.", "I do not drink coffee."]
    replies = [
        "I never had a cat named Biscuit.",
        "The weather is calm.",
        "",
        "I drink coffee. I have no cat named Biscuit.",
    ]
    batch = checker.check_batch(earlier, replies)
    assert embedder.seen.count("The lamp is bright tonight.") == 1
    assert batch == [checker.check(earlier, r) for r in replies]
    assert [len(found) for found in batch] == [1, 0, 0, 2]
    assert checker.check_batch([], replies) == [[], [], [], []]


def test_relevance_calibration_and_logistic_fit() -> None:
    a, b = fit_logistic([0.1, 0.2, 0.3, 0.6, 0.7, 0.8], [0, 0, 0, 1, 1, 1])
    assert a > 0
    assert 0.3 < -b / a < 0.6  # the decision boundary sits between the classes
    model = RelevanceModel(FakeEmbedder(), a=a, b=b)
    probs = model.probability(["Sam keeps a lighthouse."], ["Tell me about the lighthouse you keep", "Nice hat"])
    assert probs.shape == (2, 1)
    assert probs[0, 0] > probs[1, 0]


def test_relevance_masks_the_character_name() -> None:
    assert mask_names("Hey Sam Reed, is Sam's lamp lit?", ["Sam Reed"]) == "Hey, is lamp lit?"
    assert mask_names("Samuel sails.", ["Sam"]) == "Samuel sails."  # whole words only
    assert mask_names("Anything at all.", []) == "Anything at all."
    model = RelevanceModel(FakeEmbedder())
    statements = ["Sam Reed keeps a lighthouse.", "Sam Reed hates cheese."]
    # Unmasked, the name alone makes an off-topic question look related to every statement.
    assert model.similarity(statements, ["Sam Reed, what time is it?"]).min() > 0.3
    masked = model.similarity(statements, ["Sam Reed, what time is it?"], ["Sam Reed"])
    assert masked.max() == pytest.approx(0.0)
    on_topic = model.similarity(statements, ["Sam, tell me about the lighthouse"], ["Sam Reed"])[0]
    assert on_topic[0] > on_topic[1]


def test_relevance_embeds_a_statement_set_once_per_names() -> None:
    embedder = CountingEmbedder()
    model = RelevanceModel(embedder)
    model.max_cached_statement_sets = 2
    statements = ["Sam Reed keeps a lighthouse.", "Sam Reed hates cheese."]
    first = model.probability(statements, ["Sam, tell me about the lighthouse"], ["Sam Reed"])
    again = model.probability(statements, ["Any cheese, Sam?"], ["Sam Reed"])
    assert embedder.seen.count("keeps a lighthouse.") == 1  # masked once, then reused
    assert embedder.seen.count("Sam, tell me about the lighthouse") == 0  # queries are masked too
    fresh = RelevanceModel(FakeEmbedder()).probability(statements, ["Any cheese, Sam?"], ["Sam Reed"])
    np.testing.assert_allclose(again, fresh)
    assert first[0, 0] > first[0, 1]
    model.probability(statements, ["Hello"], [])  # other names: another entry, embedded unmasked
    assert embedder.seen.count("Sam Reed keeps a lighthouse.") == 1
    model.probability(["Sam Reed sails."], ["Hello"], ["Sam Reed"])  # a third set evicts the oldest
    model.probability(statements, ["Hello"], ["Sam Reed"])
    assert embedder.seen.count("keeps a lighthouse.") == 2
    with pytest.raises(ValueError, match="read-only"):
        model.statement_vectors(statements, ["Sam Reed"])[0, 0] = 1.0
    queries = ["Any cheese, Sam?", "Hello", "Any cheese, Sam?"]
    repeated = model.probability(statements, queries, ["Sam Reed"])
    assert embedder.seen.count(mask_names("Any cheese, Sam?", ["Sam Reed"])) == 2  # once above, once for both here
    np.testing.assert_allclose(repeated[0], repeated[2])
    np.testing.assert_allclose(repeated[0], fresh[0])


def test_apc_scorer_masks_the_persona_name_for_relevance() -> None:
    scorer = APCScorer(SAM, nli=FakeNLI(), relevance=RelevanceModel(FakeEmbedder()))
    assert scorer.names == (SAM.name,)
    plain = APCScorer(list(SAM.statements), nli=FakeNLI(), relevance=RelevanceModel(FakeEmbedder()))
    assert plain.names == ()
    query = f"{SAM.name}, what time is it?"
    masked = scorer.score(query, "It is noon.").statements
    unmasked = plain.score(query, "It is noon.").statements
    assert max(s.relevance for s in masked) < min(s.relevance for s in unmasked)


def test_nli_probs_label_and_bindings() -> None:
    assert NLIProbs(0.1, 0.2, 0.7).label == "contradiction"
    assert LABELS == ("entailment", "neutral", "contradiction")
    probs = get_nli("fake").predict([("Sam keeps a lighthouse.", "I keep a lighthouse.")])
    assert probs.shape == (1, 3)
    assert np.allclose(probs.sum(axis=1), 1.0)
    with pytest.raises(Exception, match="unknown NLI binding"):
        get_nli("nonsense")


runner = CliRunner()


def _persona_file(tmp_path: Path) -> Path:
    path = tmp_path / "sam.yaml"
    path.write_text("name: Sam Rivers\nstatements:\n" + "".join(f"  - {s}\n" for s in SAM.statements))
    return path


def test_cli_score_json_and_batch(tmp_path: Path) -> None:
    persona = _persona_file(tmp_path)
    result = runner.invoke(
        app, ["score", str(persona), "-q", "Coffee?", "-r", "I drink coffee.", "--json", "--nli", "fake"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"apc", "apc_normalized", "violations", "statements", "ooc"}
    assert data["violations"] == ["Sam Rivers does not drink coffee."]
    batch = tmp_path / "in.jsonl"
    batch.write_text(
        json.dumps({"query": "Job?", "response": "I keep the lighthouse."})
        + "\n\n"
        + json.dumps({"query": "Coffee?", "response": "I drink coffee.", "id": 7})
        + "\n"
    )
    result = runner.invoke(app, ["score", str(persona), "--batch", str(batch), "--nli", "fake"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2
    assert lines[0]["violations"] == []
    assert lines[1]["violations"] == ["Sam Rivers does not drink coffee."]


def test_cli_score_rejects_bad_input_with_exit_2(tmp_path: Path) -> None:
    persona = _persona_file(tmp_path)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "x", "response": "y"}\n{"query": "x"}\n')
    result = runner.invoke(app, ["score", str(persona), "--batch", str(bad), "--nli", "fake"])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {bad}:2: response: expected a string"
    result = runner.invoke(app, ["score", str(persona), "--nli", "fake"])
    assert result.exit_code == 2
    empty = tmp_path / "empty.yaml"
    empty.write_text("name: Nobody\n")
    result = runner.invoke(app, ["score", str(empty), "-q", "a", "-r", "b", "--nli", "fake"])
    assert result.exit_code == 2
    assert "statements: the persona has no statements" in result.stderr


def test_cli_nli_labels_records_in_order(tmp_path: Path) -> None:
    data = tmp_path / "pairs.jsonl"
    data.write_text(
        json.dumps({"premise": "Sam keeps a lighthouse.", "hypothesis": "I keep a lighthouse.", "id": "a"})
        + "\n"
        + json.dumps({"premise": "Sam keeps a lighthouse.", "hypothesis": "I never keep a lighthouse."})
        + "\n"
    )
    result = runner.invoke(app, ["nli", "--jsonl", str(data), "--nli", "fake"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["label"] for r in rows] == ["entailment", "contradiction"]
    assert rows[0]["id"] == "a"
    assert all(abs(r["entailment"] + r["neutral"] + r["contradiction"] - 1) < 1e-5 for r in rows)


def test_llm_judge_nli_counts_sampled_labels_and_records_failures() -> None:
    from personae.backends import Backend, MockBackendAPI
    from personae.scoring import LLMJudgeNLI

    answers = {"coffee": ["Contradiction.", "contradiction", "neutral", "entailment"], "cat": ["no idea"] * 4}

    def judge(messages, config, index):  # type: ignore[no-untyped-def]
        text = messages[-1].content
        return answers["coffee" if "coffee" in text else "cat"][index]

    nli = LLMJudgeNLI(Backend(MockBackendAPI(fn=judge), cache=None), samples=4)
    probs = nli.predict([("Sam does not drink coffee.", "I drink coffee."), ("Sam has a cat.", "Hello.")])
    assert probs[0].tolist() == pytest.approx([0.25, 0.25, 0.5])
    assert probs[1].tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 3])
    assert nli.failures == 1


def test_cli_score_uses_the_models_calibrated_violation_threshold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --threshold the table's verdicts are the calibrated scorer's (a fixed 0.5 once overrode it)."""
    import personae.cli._score as score_cli

    nli = GridNLI({(SAM.statements[2], "I drink coffee."): (0.02, 0.08, 0.9)})
    nli.calibration = {"violation_threshold": 0.95}  # type: ignore[attr-defined]
    monkeypatch.setattr(score_cli, "get_nli", lambda name: nli)
    persona = _persona_file(tmp_path)
    args = ["score", str(persona), "-q", "Coffee?", "-r", "I drink coffee.", "--json"]
    calibrated = runner.invoke(app, args)
    assert calibrated.exit_code == 0, calibrated.output
    assert json.loads(calibrated.stdout)["violations"] == []  # 0.9 is under the calibrated 0.95
    explicit = runner.invoke(app, [*args, "--threshold", "0.5"])
    assert json.loads(explicit.stdout)["violations"] == [SAM.statements[2]]


def test_topic_gate_keeps_off_topic_sentences_from_the_nli_model() -> None:
    from personae.scoring import Calibration

    nli = GridNLI({})
    scorer = APCScorer(SAM, nli=nli, relevance=RelevanceModel(FakeEmbedder()), calibration=Calibration(topic_gate=0.3))
    reply = "I am a lighthouse keeper. Lovely weather today."
    result = scorer.score("Who are you?", reply)
    keeper, cat, coffee = result.statements
    # the job sentence shares the statement's words and goes to the NLI model; the weather sentence does not
    assert ("Sam Rivers is a lighthouse keeper.", "I am a lighthouse keeper.") in nli.asked
    assert all(h != "Lovely weather today." for _, h in nli.asked)
    assert keeper.gated == 1
    assert cat.gated == 2
    assert coffee.gated == 2
    assert cat.evidence is None
    assert cat.verdict is None
    assert cat.entailment == 0.0
    ungated = APCScorer(SAM, nli=GridNLI({}), relevance=RelevanceModel(FakeEmbedder()))
    assert all(s.gated == 0 for s in ungated.score("Who are you?", reply).statements)


def test_the_gate_lets_each_sentence_reach_its_nearest_statements() -> None:
    """A contradiction through behaviour shares few words with its fact: gate_top_k still sends it to the NLI model."""
    from personae.scoring import Calibration

    coffee, sentence = SAM.statements[2], "I pour the big mug and drink it black."
    table = {(coffee, sentence): (0.01, 0.04, 0.95)}
    relevance = RelevanceModel(FakeEmbedder())
    cosines = relevance.similarity(SAM.statements, [sentence], [SAM.name])[0]
    assert 0 < cosines[2] < 0.3  # on topic only by rank: the gate alone drops it
    assert cosines[2] == cosines.max()
    gate_only = GridNLI(table)
    scorer = APCScorer(SAM, nli=gate_only, relevance=relevance, calibration=Calibration(0.5, 0.5, topic_gate=0.3))
    assert not scorer.score("Fancy a cup?", sentence).violations
    assert gate_only.asked == []
    nearest = GridNLI(table)
    cal = Calibration(0.5, 0.5, topic_gate=0.3, gate_top_k=1)
    result = APCScorer(SAM, nli=nearest, relevance=relevance, calibration=cal).score("Fancy a cup?", sentence)
    assert [v.statement for v in result.violations] == [coffee]
    assert nearest.asked == [(coffee, sentence)]  # only the nearest statement, not every one


def test_a_claim_reaches_its_nearest_statements_whatever_the_gate() -> None:
    """A claim made without words ("Yes." agreeing to a question) is one sentence about the character: it reaches its
    `claim_top_k` nearest statements even where the topic gate is closed, and the reply's own sentences do not."""
    from personae.scoring import Calibration

    relevance = RelevanceModel(FakeEmbedder())
    claim = "I do keep a parrot."
    cosines = relevance.similarity(SAM.statements, [claim], [SAM.name])[0]
    nearest = set(np.argsort(-cosines)[:2].tolist())
    for k, expected in ((0, set()), (2, nearest)):
        nli = GridNLI({})
        cal = Calibration(0.5, 0.5, topic_gate=2.0, claim_top_k=k)  # a gate no pair passes
        APCScorer(SAM, nli=nli, relevance=relevance, calibration=cal).score("Do you keep a parrot?", "Aye. Grand.")
        judged = [(s, h) for s, h in nli.asked if s in SAM.statements]  # not the check of the claim against the reply
        assert {SAM.statements.index(s) for s, _ in judged} == expected
        assert all(h == claim for _, h in judged)


def test_a_claim_violates_at_its_own_bar() -> None:
    """The claim a reply's "Aye" makes is one plain sentence: its contradiction counts from `claim_violation`, lower
    than the bar for the reply's own sentences; the same probability in a sentence of the reply does not count."""
    from personae.scoring import Calibration

    coffee, claim = SAM.statements[2], "I do take milk in my coffee."
    said = "I take milk in my coffee every morning."
    nli = GridNLI({(coffee, claim): (0.05, 0.10, 0.85), (coffee, said): (0.05, 0.10, 0.85)})
    relevance = RelevanceModel(FakeEmbedder())
    query = "Do you take milk in your coffee?"

    def violated(cal: Calibration, reply: str) -> list[str]:
        scorer = APCScorer(SAM, nli=nli, relevance=relevance, calibration=cal)
        return [v.statement for v in scorer.score(query, reply).violations]

    assert violated(Calibration(0.97, 0.5, claim_violation=0.75), "Aye, every morning.") == [coffee]
    assert violated(Calibration(0.97, 0.5, claim_violation=None), "Aye, every morning.") == []
    assert violated(Calibration(0.97, 0.5, claim_violation=0.9), "Aye, every morning.") == []
    assert violated(Calibration(0.97, 0.5, claim_violation=0.75), said) == []  # no claim: the sentence's own bar


def test_a_question_about_a_topic_opens_every_sentence_for_it() -> None:
    """With a query gate, a reply to a question about a statement's topic is read for it sentence by sentence."""
    from personae.scoring import Calibration

    coffee, sentence = SAM.statements[2], "Two sugars, please."
    nli = GridNLI({(coffee, sentence): (0.01, 0.04, 0.95)})
    cal = Calibration(0.5, 0.5, topic_gate=0.3, query_gate=0.3)
    scorer = APCScorer(SAM, nli=nli, relevance=RelevanceModel(FakeEmbedder()), calibration=cal)
    assert [v.statement for v in scorer.score("Do you drink coffee?", sentence).violations] == [coffee]
    assert nli.asked == [(coffee, sentence)]
    assert not scorer.score("How is the weather?", sentence).violations


def test_a_statement_is_never_both_supported_and_violated() -> None:
    from personae.scoring import StatementScore

    statement = SAM.statements[2]
    nli = GridNLI(
        {
            (statement, "I never touch coffee."): (0.80, 0.05, 0.15),
            (statement, "Still, I had three cups of coffee today."): (0.02, 0.03, 0.95),
        }
    )
    scorer = APCScorer(SAM, nli=nli, relevance=RelevanceModel(FakeEmbedder()))
    result = scorer.score("Coffee?", "I never touch coffee. Still, I had three cups of coffee today.")
    coffee = result.statements[2]
    assert coffee.entailment == pytest.approx(0.80)
    assert coffee.contradiction == pytest.approx(0.95)
    assert coffee.violation
    assert not coffee.supported
    assert coffee.verdict == "violated"
    assert coffee.evidence == "Still, I had three cups of coffee today."
    assert statement not in [s.statement for s in result.supported]
    # the weaker evidence decides nothing either way: a strong entailment beats a contradiction above threshold
    nli.table[(statement, "Still, I had three cups of coffee today.")] = (0.02, 0.4, 0.58)
    nli.table[(statement, "I never touch coffee.")] = (0.97, 0.02, 0.01)
    flipped = scorer.score("Coffee?", "I never touch coffee. Still, I had three cups of coffee today.").statements[2]
    assert flipped.supported
    assert not flipped.violation
    # unless a contradiction over the threshold wins: a reply that says both is flagged, with the contradicting sentence
    nli.table[(statement, "Still, I had three cups of coffee today.")] = (0.02, 0.02, 0.96)
    wins = APCScorer(
        SAM,
        nli=nli,
        relevance=RelevanceModel(FakeEmbedder()),
        calibration=Calibration(0.9, 0.9, contradiction_wins=True),
    )
    both = wins.score("Coffee?", "I never touch coffee. Still, I had three cups of coffee today.").statements[2]
    assert both.entailment > both.contradiction
    assert both.violation
    assert not both.supported
    assert both.evidence == "Still, I had three cups of coffee today."
    stronger = APCScorer(SAM, nli=nli, relevance=RelevanceModel(FakeEmbedder()), calibration=Calibration(0.9, 0.9))
    kept = stronger.score("Coffee?", "I never touch coffee. Still, I had three cups of coffee today.").statements[2]
    assert kept.supported
    assert kept.evidence == "I never touch coffee."
    with pytest.raises(ValueError, match="both supported and violated"):
        StatementScore(
            statement="x",
            relevance=0.5,
            entailment=0.9,
            neutral=0.0,
            contradiction=0.9,
            apc=0.5,
            violation=True,
            supported=True,
        )
    # a score stored before `supported` existed is read with the old rule, never as both
    old = StatementScore.model_validate(
        {
            "statement": "x",
            "relevance": 0.5,
            "entailment": 0.6,
            "neutral": 0.1,
            "contradiction": 0.7,
            "apc": 0.5,
            "violation": True,
        }
    )
    assert old.violation
    assert not old.supported


def test_a_sentence_the_persona_entails_contradicts_none_of_its_statements() -> None:
    keeper, cat = SAM.statements[0], SAM.statements[1]
    reply = "I keep the light on the point and never leave it. Biscuit died last winter."
    nli = GridNLI(
        {
            (keeper, "I keep the light on the point and never leave it."): (0.99, 0.005, 0.005),
            (cat, "I keep the light on the point and never leave it."): (0.01, 0.02, 0.97),
            (cat, "Biscuit died last winter."): (0.01, 0.03, 0.96),
        }
    )

    def verdicts(consistent: float | None, text: str = reply) -> dict[str, str | None]:
        cal = Calibration(0.9, 0.9, consistent=consistent)
        scorer = APCScorer(SAM, nli=nli, relevance=RelevanceModel(FakeEmbedder()), calibration=cal)
        return {s.statement: s.verdict for s in scorer.score("Tell me about yourself.", text).statements}

    first = "I keep the light on the point and never leave it."
    # without the rule, the model's misreading of the keeper's sentence violates the cat
    assert verdicts(None, first)[cat] == "violated"
    # with it, a sentence the keeper statement entails cannot break another statement ...
    assert verdicts(0.98, first) == {keeper: "supported", cat: None, SAM.statements[2]: None}
    # ... but another sentence still can, and an entailment under the anchor vouches for nothing
    assert verdicts(0.98)[cat] == "violated"
    nli.table[(keeper, first)] = (0.95, 0.03, 0.02)
    assert verdicts(0.98, first)[cat] == "violated"


def test_of_two_conflicting_readings_the_sentence_nearer_the_topic_decides() -> None:
    coffee = SAM.statements[2]
    plain, aside = "I do not drink coffee.", "I brew pots of it for the fishermen and sip tea by the lamp."
    nli = GridNLI({(coffee, plain): (0.98, 0.01, 0.01), (coffee, aside): (0.01, 0.01, 0.98)})

    def verdict(decides: float | None, reply: str) -> str | None:
        cal = Calibration(0.8, 0.8, topic_gate=-2.0, topic_decides=decides)  # every pair open; topic scores kept
        scorer = APCScorer(SAM, nli=nli, relevance=RelevanceModel(FakeEmbedder()), calibration=cal)
        return scorer.score("Coffee?", reply).statements[2].verdict

    # the stronger evidence alone: the misreading of the sentence about brewing wins (0.98 against 0.98)
    assert verdict(None, f"{plain} {aside}") == "violated"
    # the sentence that speaks of drinking coffee is nearer the statement's topic: its reading decides
    assert verdict(0.9, f"{plain} {aside}") == "supported"
    # and the other way round: a contradiction nearer the topic than the entailment wins
    near, far = "I drink coffee every morning.", "I do not drink anything much at the lamp."
    nli.table.update({(coffee, near): (0.01, 0.01, 0.98), (coffee, far): (0.98, 0.01, 0.01)})
    assert verdict(0.9, f"{far} {near}") == "violated"
    # readings under the level are both kept, and the stronger evidence decides
    nli.table.update({(coffee, plain): (0.88, 0.11, 0.01), (coffee, aside): (0.01, 0.1, 0.89)})
    assert verdict(0.9, f"{plain} {aside}") == "violated"
    assert verdict(0.85, f"{plain} {aside}") == "supported"


def test_of_entailments_alike_the_sentence_nearest_the_topic_is_the_evidence() -> None:
    from personae.scoring._apc import _reduce

    sentences = ["I am well-known for my commitment to the spiritual life.", "I am Brother Anselm, a monk."]
    grid = np.array([[[0.981, 0.01, 0.009], [0.980, 0.01, 0.01]]], dtype=np.float32)
    topic = np.array([[0.82, 0.99]], dtype=np.float32)
    everywhere = np.ones((1, 2), dtype=bool)
    reduced = _reduce(grid, sentences, topic, everywhere, None, None)
    assert reduced.evidence[0] is not None
    assert reduced.evidence[0][0] == "I am Brother Anselm, a monk."  # 0.980 and nearer the topic
    assert reduced.entailment[0] == pytest.approx(0.981)  # the figure stays the strongest entailment
    assert reduced.entail_topic is not None
    assert reduced.entail_topic[0] == pytest.approx(0.99)
    # a clearly stronger entailment is the evidence wherever it stands
    grid[0, 1, 0] = 0.5
    assert _reduce(grid, sentences, topic, everywhere, None, None).evidence[0][0] == sentences[0]  # type: ignore[index]


def test_side_with_topic_keeps_the_claim_and_single_sentences() -> None:
    from personae.scoring._apc import side_with_topic

    grid = np.array([[[0.98, 0.01, 0.01], [0.01, 0.01, 0.98]]], dtype=np.float32)
    topic = np.array([[0.9, 0.1]], dtype=np.float32)
    sided = side_with_topic(grid, topic, 0.9)
    assert sided[0, 1, 2] == 0
    assert np.allclose(sided.sum(axis=2), 1)
    assert side_with_topic(grid, topic[:, ::-1], 0.9)[0, 0, 0] == 0  # the contradiction is nearer: the entailment goes
    # the last sentence as the reply's claim is judged by its own rules: nothing left to weigh against
    assert side_with_topic(grid, topic, 0.9, claim=True) is grid
    one = grid[:, :1]
    assert side_with_topic(one, topic[:, :1], 0.9) is one


def test_a_settled_contradiction_moves_to_neutral_without_passing_one() -> None:
    from personae.scoring._apc import settle

    # float32 softmax rows whose neutral and contradiction sum to 1.0000001 (scorer_quality failed validation)
    contradicted = [2.7297161e-11, 0.0032036346, 0.99679643]
    grid = np.array([[[0.99, 0.005, 0.005], contradicted], [contradicted, [0.99, 0.005, 0.005]]], dtype=np.float32)
    assert grid[0, 1, 1] + grid[0, 1, 2] > 1
    settled = settle(grid, 0.98)
    assert settled[0, 1, 2] == 0
    assert settled[1, 0, 2] == 0
    assert settled[:, :, 1].max() <= 1
    assert np.allclose(settled.sum(axis=2), 1, atol=1e-6)
    assert settle(grid, None) is grid


def test_calibration_comes_from_the_nli_model_and_the_gate_only_with_its_embedder() -> None:
    from personae.scoring import Calibration, default_calibration

    nli = GridNLI({})
    nli.calibration = {  # type: ignore[attr-defined]
        "violation_threshold": 0.8,
        "support_threshold": 0.6,
        "topic_gate": 0.25,
        "embedder": "onnx:minilm-embedder",
    }
    assert default_calibration(nli, "onnx:minilm-embedder") == Calibration(0.8, 0.6, 0.25)
    assert default_calibration(nli, "fake") == Calibration(0.8, 0.6, None)
    assert default_calibration(GridNLI({}), "fake") == Calibration()
    scorer = APCScorer(SAM, nli=nli, relevance=RelevanceModel(FakeEmbedder()), threshold=0.7)
    assert scorer.calibration == Calibration(0.7, 0.6, None)
    nli.calibration["consistent"] = 0.98  # type: ignore[attr-defined]  # a rule on the NLI scale: on any topic scale
    assert default_calibration(nli, "fake") == Calibration(0.8, 0.6, None, consistent=0.98)


def test_nli_bindings_that_need_an_argument_say_which() -> None:
    with pytest.raises(ScoringModelError, match="the 'onnx' NLI binding needs a model folder: use onnx:DIR"):
        get_nli("onnx")
    assert {"shipped", "fake", "onnx", "hf", "llm"} <= set(list_nli())


def test_support_gate_needs_the_entailing_sentence_on_the_statement_topic() -> None:
    from personae.scoring import Calibration

    keeper = SAM.statements[0]
    reply = "Lovely weather today."
    nli = GridNLI({(keeper, reply): (0.95, 0.03, 0.02)})  # an entailment read into a sentence about the weather
    relevance = RelevanceModel(FakeEmbedder())
    loose = APCScorer(SAM, nli=nli, relevance=relevance).score("Hi", reply).statements[0]
    assert loose.supported
    strict = APCScorer(SAM, nli=nli, relevance=relevance, calibration=Calibration(support_gate=0.3))
    score = strict.score("Hi", reply).statements[0]
    assert score.topic is not None
    assert score.topic < 0.3
    assert not score.supported
    assert score.gated == 0  # the support gate only withholds the verdict; the NLI model still saw the pair
    nli.table[(keeper, "I am a lighthouse keeper.")] = (0.95, 0.03, 0.02)
    assert strict.score("Job?", "I am a lighthouse keeper.").statements[0].supported


def test_the_onnx_embedders_cache_cleared_by_another_thread_mid_call_loses_nothing() -> None:
    """Threads embed at once (guard scoring, memory work): a cache another one clears must not fail this call."""
    from personae.scoring._relevance import OnnxEmbedder

    embedder = OnnxEmbedder.__new__(OnnxEmbedder)  # the cache logic alone, without loading the model
    embedder._cache, embedder._max_cache = {}, 100

    def compute(texts: list[str]) -> np.ndarray:
        embedder._cache.clear()  # as another thread whose texts overflowed the cache would
        return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)

    embedder._compute = compute  # type: ignore[method-assign]
    embedder._cache["seen"] = np.array([9.0, 9.0], dtype=np.float32)
    vectors = embedder.embed(["seen", "new text", "seen"])
    assert vectors.tolist() == [[9.0, 9.0], [8.0, 1.0], [9.0, 9.0]]


def test_calibration_keeps_the_gate_the_speed_goal_needs() -> None:
    """An ungated scorer catches more here, but lets every pair through: calibration takes it only without the floor."""
    from personae.persona import persona_from_data
    from personae.scoring._training.calibrate import CalibrationData, calibrate

    sam = persona_from_data(
        {"name": "Sam", "statements": ["Sam is a vegetarian.", "Sam has a dog named Rex.", "Sam lives in Leeds."]}
    )
    case = {
        "persona": "sam",
        "query": "Hungry?",
        "faithful": "Just a salad for me, thanks.",
        "contradicting": "I had the steak tonight.",
        "off_topic": "Lovely weather we are having.",
    }
    data = CalibrationData({"sam": sam}, [], [case])
    nli = GridNLI({("Sam is a vegetarian.", "I had the steak tonight."): (0.0, 0.01, 0.99)})
    relevance = RelevanceModel(FakeEmbedder())
    grid = {"gates": (None, 0.3), "query_gates": (None,), "top_k": (0,)}

    open_cal, open_figures = calibrate(data, nli, relevance, min_gate_skipped=0.0, **grid)  # type: ignore[arg-type]
    assert open_cal.topic_gate is None
    assert open_figures["violation_recall"] == 1.0
    assert open_figures["gate_skipped"] == 0.0

    gated_cal, gated_figures = calibrate(data, nli, relevance, min_gate_skipped=0.9, **grid)  # type: ignore[arg-type]
    assert gated_cal.topic_gate == 0.3
    assert gated_figures["gate_skipped"] >= 0.9
    assert gated_figures["violation_recall"] == 0.0  # the price, on this case: its words share nothing with the diet


def test_calibration_judges_the_nearest_statements_at_the_speed_goals_persona_size() -> None:
    """Top-k opens a third of a 3-statement persona's pairs but 1 % of a 100-statement one's: the floor allows it."""
    from personae.persona import persona_from_data
    from personae.scoring._training.calibrate import CalibrationData, calibrate, score_all, skipped_at_reference

    sam = persona_from_data(
        {"name": "Sam", "statements": ["Sam is a vegetarian.", "Sam has a dog named Rex.", "Sam lives in Leeds."]}
    )
    steak = "I had the steak tonight, vegetarian or not."  # its only word in common is with the diet (cosine 0.18)
    case = {"persona": "sam", "query": "Hungry?", "faithful": "Just a salad for me, thanks.", "contradicting": steak}
    case["off_topic"] = "Lovely weather we are having."
    data = CalibrationData({"sam": sam}, [], [case])
    nli = GridNLI({("Sam is a vegetarian.", steak): (0.0, 0.01, 0.99)})
    relevance = RelevanceModel(FakeEmbedder())
    scored = score_all(data, nli, relevance)
    assert skipped_at_reference(data, scored, 0.3, None, 0) == 1.0  # the threshold closes every pair here
    assert skipped_at_reference(data, scored, 0.3, None, 1) == pytest.approx(0.99)

    grid = {"gates": (0.3,), "query_gates": (None,), "top_k": (0, 1)}
    cal, figures = calibrate(data, nli, relevance, min_gate_skipped=0.9, **grid)  # type: ignore[arg-type]
    assert (cal.topic_gate, cal.gate_top_k) == (0.3, 1)
    assert figures["violation_recall"] == 1.0
    assert figures["gate_skipped"] == pytest.approx(2 / 3)  # on this small persona: one pair of three per sentence


def test_the_topic_scale_is_the_cosine_without_the_shipped_embedder() -> None:
    from personae.scoring._topic import CosineTopic

    relevance = RelevanceModel(FakeEmbedder())
    assert isinstance(relevance.topic_model, CosineTopic)
    assert relevance.topic_model.name == "fake"
    sentences = ["I keep the lighthouse.", "Lovely weather."]
    topic = relevance.topic(SAM.statements, sentences, "Hi", [SAM.name])
    assert np.allclose(topic, relevance.similarity(SAM.statements, sentences, [SAM.name]).T)


def test_a_learned_topic_gate_reads_the_users_message() -> None:
    """The learned gate sees the question: a sentence that shares nothing with a statement opens when the user asked
    about it (here a gate that reads only the statement–message cosine, the last feature)."""
    from personae.scoring import Calibration
    from personae.scoring._topic import LearnedTopic, topic_features

    dim = FakeEmbedder().dim
    weights = np.zeros(3 * dim + 2, dtype=np.float32)
    weights[-1] = 20.0
    gate = LearnedTopic(weights, -8.0, "test-gate")
    relevance = RelevanceModel(FakeEmbedder(), topic=gate)
    coffee, sentence = SAM.statements[2], "Two sugars and a biscuit, ta."
    nli = GridNLI({(coffee, sentence): (0.01, 0.04, 0.95)})
    scorer = APCScorer(SAM, nli=nli, relevance=relevance, calibration=Calibration(0.5, 0.5, topic_gate=0.5))
    assert [v.statement for v in scorer.score("Do you drink coffee black?", sentence).violations] == [coffee]
    assert nli.asked == [(coffee, sentence)]
    nli.asked.clear()
    assert scorer.score("Nice day?", sentence).violations == []
    assert nli.asked == []
    vectors = FakeEmbedder().embed(["a b", "c d", "e"])
    assert topic_features(vectors[:1], vectors[1:2], vectors[2]).shape == (1, 1, 3 * dim + 2)


def test_calibrated_gates_apply_only_on_the_topic_scale_they_were_fitted_on() -> None:
    from personae.scoring import Calibration, default_calibration

    nli = GridNLI({})
    nli.calibration = {  # type: ignore[attr-defined]
        "violation_threshold": 0.9,
        "topic_gate": 0.4,
        "topic_scale": "topic-gate@abc:minilm-embedder",
    }
    assert default_calibration(nli, "topic-gate@abc:minilm-embedder").topic_gate == 0.4
    assert default_calibration(nli, "topic-gate@def:minilm-embedder") == Calibration(0.9, 0.5, None)
    assert default_calibration(nli, "onnx:minilm-embedder").topic_gate is None


def test_self_contradiction_keeps_a_cosine_gate_when_the_models_gate_is_learned() -> None:
    """The history check compares sentences by cosine: a gate fitted on the learned scale is not its threshold."""
    from personae.scoring import HistoryChecker
    from personae.scoring._history import COSINE_GATE

    nli = GridNLI({})
    nli.calibration = {"violation_threshold": 0.9, "topic_gate": 0.6, "topic_scale": "topic-gate@x:y"}  # type: ignore[attr-defined]
    assert HistoryChecker(nli, FakeEmbedder()).gate == COSINE_GATE
    nli.calibration = {"violation_threshold": 0.9, "topic_gate": 0.25, "topic_scale": "fake"}  # type: ignore[attr-defined]
    assert HistoryChecker(nli, FakeEmbedder()).gate == 0.25
    assert HistoryChecker(GridNLI({}), FakeEmbedder()).gate is None


def test_support_is_chosen_by_f_half_when_no_setting_reaches_the_precision_target() -> None:
    """The shipped calibration set's figures: no support setting reaches 95 % precision; the most precise one (0.878)
    listed under half the entailed statements, F0.5 takes 0.852 at 0.658 recall."""
    from personae.scoring import Calibration
    from personae.scoring._training.calibrate import choose_support, f_beta

    assert f_beta(1.0, 1.0, 0.5) == 1.0
    assert f_beta(0.0, 0.0, 0.5) == 0.0
    assert abs(f_beta(0.5, 1.0, 0.5) - 0.5 * 1.25 / 1.125) < 1e-9
    strict = (Calibration(support=0.9, support_gate=0.95), {"support_precision": 0.878, "support_recall": 0.474})
    balanced = (Calibration(support=0.9, support_gate=0.5), {"support_precision": 0.852, "support_recall": 0.658})
    loose = (Calibration(support=0.5), {"support_precision": 0.794, "support_recall": 0.75})
    assert choose_support([strict, balanced, loose], 0.95) is balanced
    # A setting over the target wins on recall, however precise the others are.
    assert choose_support([strict, balanced, loose], 0.85) is balanced
    assert choose_support([strict, balanced, loose], 0.79) is loose


def test_number_words_become_digits_on_both_sides_of_a_pair() -> None:
    from personae.scoring._numbers import numbers_as_digits, pairs_with_digits

    assert numbers_as_digits("I'm sixty-seven, and forty years at sea.") == "I'm 67, and 40 years at sea."
    for kept in ("No one came.", "One of them, the one I trust.", "Ada Quint has a border collie named Skerry."):
        assert numbers_as_digits(kept) == kept  # "one" as a pronoun, and text without numbers, as written
    assert pairs_with_digits([("Sam is thirty-two.", "I'm 32.")]) == [("Sam is 32.", "I'm 32.")]


@pytest.mark.parametrize(
    ("statement", "sentence", "neutral"),
    [
        ("Brother Anselm is 41 years old.", "I was sixteen years old when I became a monk.", True),
        ("Brother Anselm is 41 years old.", "I took my vows at the age of 16.", True),
        ("Brother Anselm is 41 years old.", "I was sixteen then, and I am fifty now.", False),  # a present age too
        ("Brother Anselm is 41 years old.", "I am 50.", False),
        ("Brother Anselm took his vows at the age of sixteen.", "I was twenty when I took my vows.", False),
    ],
)
def test_an_age_at_a_past_moment_says_nothing_of_the_present_age(statement: str, sentence: str, neutral: bool) -> None:
    """The model read the monk's age when he took his vows as his present age (0.98): such a pair is neutral."""
    from personae.scoring._numbers import age_then_not_now

    assert age_then_not_now(statement, sentence) is neutral
    nli = GridNLI({(statement, sentence): (0.01, 0.01, 0.98)})
    scorer = APCScorer([statement], nli=nli, relevance=RelevanceModel(FakeEmbedder()), names=["Brother Anselm"])
    probs = scorer.read_pairs([(statement, sentence)], nli.predict)
    assert probs[0].tolist() == pytest.approx([0.0, 1.0, 0.0] if neutral else [0.01, 0.01, 0.98])


# --- whom a sentence is about ----------------------------------------------------------------------------------------

ANSELM_NAMES = ["Brother Anselm"]


@pytest.mark.parametrize(
    ("sentence", "statement", "elsewhere"),
    [
        # what the demo listed as support: said of a sister, of the abbot
        ("My sister, Anne, is a Benedictine abbess and a scribe.", "Brother Anselm works as a scribe.", True),
        (
            "Abbot William, who is the abbot of Bury St Edmunds, keeps the keys.",
            "Brother Anselm lives at the abbey.",
            True,
        ),
        ("Our old abbot keeps bees behind the chapel.", "Brother Anselm keeps bees.", True),
        # the statement names the person: the sentence speaks of its topic
        ("Callum died in 2015.", "Ada Quint is a widow; her husband Callum died in 2015.", False),
        ("My daughter phones every Sunday.", "Ada Quint has one daughter, Morag.", False),
        # about the character: a first-person pronoun, the character's name, no subject, a place
        ("My sister and I keep bees.", "Brother Anselm keeps bees.", False),
        ("Brother Anselm keeps bees.", "Brother Anselm keeps bees in the abbey garden.", False),
        ("Never lived more than a mile from it.", "Brother Anselm has lived in Bury all his life.", False),
        ("Milan, born and raised.", "Giulia was born in Milan.", False),
        ("My home is the abbey.", "Brother Anselm lives at the abbey.", False),
        ("He died young.", "Brother Anselm is an orphan.", False),
    ],
)
def test_a_sentence_about_someone_else_is_told_from_one_about_the_character(
    sentence: str, statement: str, elsewhere: bool
) -> None:
    assert about_someone_else(sentence, statement, ANSELM_NAMES) is elsewhere


def test_a_sentence_about_someone_else_supports_nothing_but_may_still_contradict() -> None:
    anselm = Persona(
        name="Brother Anselm", statements=["Brother Anselm works as a scribe.", "Brother Anselm has no siblings."]
    )
    sister = "My sister, Anne, is a Benedictine abbess and a scribe."
    nli = GridNLI(
        {
            ("Brother Anselm works as a scribe.", sister): (0.97, 0.02, 0.01),
            ("Brother Anselm has no siblings.", sister): (0.01, 0.04, 0.95),
            ("Brother Anselm works as a scribe.", "I copy psalters all day."): (0.9, 0.08, 0.02),
        }
    )
    scorer = APCScorer(anselm, nli=nli, relevance=RelevanceModel(FakeEmbedder()), calibration=Calibration(0.5, 0.5))
    about_her = scorer.score("Tell me about your family.", sister)
    scribe, siblings = about_her.statements
    assert not scribe.supported
    assert scribe.entailment == 0.0
    assert scribe.neutral == 1.0  # nor rules anything out: scribing is not a tie to others (siblings are)
    assert siblings.violation
    mine = scorer.score("What do you do?", "I copy psalters all day.").statements[0]
    assert mine.supported
    assert mine.entailment == pytest.approx(0.9)


def test_a_pronoun_carries_on_the_person_the_sentence_before_it_was_about() -> None:
    ada = ["Ada Quint"]
    reply = ["My daughter, Morag, is a marine biologist.", "She phones every Sunday.", "I miss her."]
    assert subjects_in(reply, ada) == ["daughter", "daughter", None]
    # narration speaks of the character in the third person: a pronoun after a sentence about her stays hers
    assert subjects_in(["I'm Ada Quint.", "She wipes the salt from her brow."], ada) == [None, None]
    assert subjects_in(["She wipes the salt from her brow."], ada) == [None]
    assert subjects_in(["My dog is old.", "He and I walk the pier."], ada) == ["dog", None]


@pytest.mark.parametrize(
    ("statement", "others"),
    [
        ("Ada Quint distrusts smartphones and does not own one.", False),
        ("Ada Quint plays the fiddle at the village ceilidh every Friday.", False),  # a day is not a person
        ("Brother Anselm reads and writes Latin and French.", False),
        ("Brother Anselm has no siblings.", True),
        ("Hana Sato is an only child.", True),
        ("Ada Quint has a border collie named Skerry.", True),
        ("Ada Quint is a widow; her husband Callum died in 2015.", True),
        ("Brother Anselm lives at the abbey of Bury St Edmunds.", True),  # a name: perhaps someone's
    ],
)
def test_what_statements_concern_other_people(statement: str, others: bool) -> None:
    assert concerns_others(statement, ["Ada Quint", "Brother Anselm", "Hana Sato"]) is others


def test_a_sentence_about_someone_else_rules_out_only_what_concerns_others() -> None:
    ada = Persona(
        name="Ada Quint",
        statements=["Ada Quint distrusts smartphones.", "Ada Quint has no children.", "Ada Quint keeps bees."],
    )
    reply = "My daughter, Morag, lives in Oban. She phones every Sunday on the landline."
    phones, morag = "She phones every Sunday on the landline.", "My daughter, Morag, lives in Oban."
    nli = GridNLI(
        {
            ("Ada Quint distrusts smartphones.", phones): (0.0, 0.02, 0.98),
            ("Ada Quint has no children.", morag): (0.0, 0.02, 0.98),
            ("Ada Quint keeps bees.", "Thule Deep holds the colony of wasps."): (0.0, 0.02, 0.98),
        }
    )
    scorer = APCScorer(ada, nli=nli, relevance=RelevanceModel(FakeEmbedder()), calibration=Calibration(0.5, 0.5))
    smartphones, children, _ = scorer.score("Who calls you?", reply).statements
    assert not smartphones.violation  # the daughter's landline says nothing of Ada's phone
    assert smartphones.contradiction == 0.0
    assert children.violation  # a daughter does rule out having no children
    # read alone, a pronoun is the character's: the same sentence on its own still contradicts
    assert scorer.score("Do you own a phone?", phones).statements[0].violation
    # a name may be a place's: a sentence about one is not set aside
    assert scorer.score("Bees?", "Thule Deep holds the colony of wasps.").statements[2].violation


def test_a_relative_clause_about_someone_else_is_read_without_it() -> None:
    anselm = Persona(name="Brother Anselm", statements=["Brother Anselm is a Benedictine monk."])
    said = "I have friends at the abbey, including my brother-in-law, who is a monk, and a friend who bakes."
    nli = GridNLI({("Brother Anselm is a Benedictine monk.", said): (0.98, 0.01, 0.01)})
    scorer = APCScorer(anselm, nli=nli, relevance=RelevanceModel(FakeEmbedder()), calibration=Calibration(0.5, 0.5))
    monk = scorer.score("Who is close to you?", said).statements[0]
    assert not monk.supported
    assert monk.entailment == pytest.approx(0.05)  # the table's neutral default, for the sentence read again
    assert nli.asked[-1] == (
        "Brother Anselm is a Benedictine monk.",
        "I have friends at the abbey, including my brother-in-law and a friend.",
    )
    assert without_others("I am a monk who copies psalters.", "Brother Anselm is a monk.", ["Brother Anselm"]) is None
    # the statement names her: the clause speaks of its topic and stays
    morag = "My daughter Morag, who is a marine biologist, phones on Sundays."
    assert without_others(morag, "Ada Quint has one daughter, Morag.", ["Ada Quint"]) is None
    assert without_others(morag, "Ada Quint cannot swim.", ["Ada Quint"]) == "My daughter Morag phones on Sundays."
    # an animal is someone else too: make demo read the dog's six years as contradicting forty at sea
    skerry = "We have Skerry, my border collie, who rode the ferry with Ada for her last six years at sea."
    forty = "Ada Quint captained the ferry between Uig and Tarbert for forty years."
    assert without_others(skerry, forty, ["Ada Quint"]) == "We have Skerry, my border collie."
