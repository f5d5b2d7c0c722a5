"""Partial support: a reply that agrees with a statement but names none of its particulars does not support it."""

from __future__ import annotations

import pytest

from helpers.runtime import GridNLI
from personae.persona import Persona
from personae.scoring import APCScorer, Calibration, FakeEmbedder, RelevanceModel
from personae.scoring._specifics import specifics, uncovered

ADA = Persona(
    name="Ada Quint",
    statements=[
        "Ada Quint captained the ferry between Uig and Tarbert for forty years.",
        "Ada Quint is a vegetarian.",
    ],
)
FERRY, VEGETARIAN = ADA.statements
ENTAILS = (0.99, 0.005, 0.005)
NAMES = ("Ada Quint", "Ada", "Quint")


@pytest.mark.parametrize(
    ("statement", "reply", "missing"),
    [
        (FERRY, "I am a ferry captain.", ["uig", "tarbert", "40"]),
        (FERRY, "Forty years I ran the Uig to Tarbert crossing.", []),  # number words read as digits
        ("Ada Quint lives in a stone cottage in Uig.", "I'm Ada Quint, a retired captain from Skye.", ["uig"]),
        ("Brother Anselm lives at the abbey of Bury St Edmunds.", "I copy books in the abbey.", ["bury st edmunds"]),
        ("Brother Anselm lives at the abbey of Bury St Edmunds.", "I copy books at Bury.", []),  # a name by one word
        ("Gaius Varro serves in the Sixth Legion.", "I'm a centurion of the Sixth.", []),  # an ordinal in a name
        ("Tamsin Rook was born on Ceres Station.", "I came out of a Ceres birthing ward.", []),
        ("Dee Ruiz lives in El Paso, Texas.", "I drive out of El Paso.", []),  # the larger place is implied
        ("Dee Ruiz lives in El Paso, Texas.", "Texas born and bred.", ["el paso"]),  # ... not the smaller
        ("Iris Vega was born on Mars in the city of Tharsis Landing.", "I was born on Mars.", ["tharsis landing"]),
        ("Ada Quint is 67 years old.", "I'm sixty-seven.", []),
        ("Ada Quint has a border collie named Skerry.", "Skerry's asleep by the stove.", []),  # a possessive
        ("Anselm is a Benedictine monk.", "We Benedictines rise early.", []),  # another ending of the same name
        ("Ada Quint speaks English and Gaelic.", "I have the Gaelic.", ["english"]),
        (VEGETARIAN, "I've not touched meat in thirty years.", []),  # nothing particular to name
    ],
)
def test_a_statements_particulars_are_its_names_and_numbers(statement: str, reply: str, missing: list[str]) -> None:
    names = tuple(statement.split(" ")[:2]) + NAMES  # the subject's name is the character's
    assert uncovered(statement, reply, names) == missing


def test_the_subject_and_the_characters_own_names_are_no_particulars() -> None:
    assert specifics("Ada Quint has a daughter, Morag, in Oban.", NAMES) == ("morag", "oban")
    assert specifics("Aldric is a knight of the Order of the Ashen Rose.", ("Aldric",)) == ("order of the ashen rose",)
    assert specifics("Ada sailed between Uig and Tarbert.", NAMES) == ("uig", "tarbert")
    assert specifics("Ada Quint is a widow.", NAMES) == ()


def scorer(particulars: bool, nli: GridNLI) -> APCScorer:
    cal = Calibration(0.5, 0.5, particulars=particulars)
    return APCScorer(ADA, nli=nli, relevance=RelevanceModel(FakeEmbedder()), calibration=cal)


def test_a_reply_naming_none_of_a_statements_particulars_is_not_listed_as_supporting_it() -> None:
    reply = "I am a ferry captain."
    nli = GridNLI({(FERRY, reply): ENTAILS})
    strict, loose = scorer(True, nli).score("Who are you?", reply), scorer(False, nli).score("Who are you?", reply)
    assert loose.statements[0].supported
    assert not strict.statements[0].supported
    assert not strict.statements[0].violation
    # consistent with the statement all the same: APC reads the entailment as before
    assert strict.statements[0].entailment == pytest.approx(0.99)
    assert strict.apc == pytest.approx(loose.apc)
    whole = "Forty years I took the ferry from Uig to Tarbert and back."
    nli = GridNLI({(FERRY, whole): ENTAILS})
    assert scorer(True, nli).score("Who are you?", whole).statements[0].supported


def test_particulars_are_read_in_the_claim_a_yes_makes() -> None:
    """ "Aye." to "Did you run the Uig to Tarbert ferry for forty years?" claims it all: the claim names them."""
    query = "Did you captain the ferry between Uig and Tarbert for forty years?"
    nli = GridNLI({})
    read = scorer(True, nli).read_replies([(query, "Aye, that I did.")])[0]
    assert read.claim is not None
    nli = GridNLI({(FERRY, read.claim): ENTAILS})
    assert scorer(True, nli).score(query, "Aye, that I did.").statements[0].supported


def test_fact_checks_count_a_part_of_a_fact_as_stating_it() -> None:
    cal = Calibration(0.5, 0.5, topic_gate=0.3, support_gate=0.5, particulars=True)
    assert not cal.for_support().particulars
    assert not Calibration(particulars=True).for_support().particulars


def test_the_support_refit_takes_the_particulars_rule_when_partial_supports_cost_precision() -> None:
    from personae.scoring._training.calibrate import CalibrationData, refit_support, score_all

    partial, whole = "I am a ferry captain.", "Forty years on the Uig to Tarbert ferry, aye."
    query = "Who are you?"
    triples = [
        {"persona": "ada", "statement": FERRY, "query": query, "reply": partial, "label": "neutral"},
        {"persona": "ada", "statement": FERRY, "query": query, "reply": whole, "label": "entailment"},
    ]
    data = CalibrationData({"ada": ADA}, triples, [])
    nli = GridNLI({(FERRY, partial): ENTAILS, (FERRY, whole): ENTAILS})
    relevance = RelevanceModel(FakeEmbedder())
    cal, figures = refit_support(data, Calibration(0.9, 0.5), score_all(data, nli, relevance), relevance)
    assert cal.particulars
    assert (figures["support_precision"], figures["support_recall"]) == (1.0, 1.0)
    assert cal.violation == 0.9  # violations are kept as they were


def test_only_a_whole_entailment_vouches_for_a_sentence() -> None:
    """The consistency anchor: a sentence one statement entails contradicts no other, unless that entailment is
    partial ("Aye, I use the fiddle and the phone." agrees with the fiddle but names no Friday ceilidh)."""
    fiddle = "Ada Quint plays the fiddle at the village ceilidh every Friday."
    phone = "Ada Quint distrusts smartphones and does not own one."
    persona = Persona(name="Ada Quint", statements=[fiddle, phone])
    relevance = RelevanceModel(FakeEmbedder())
    for sentence, violated in (
        ("Aye, I use the fiddle and the phone.", True),  # partial: the phone stays a violation
        ("Aye, every Friday at the ceilidh I play the fiddle and the phone.", False),  # whole: the anchor holds
    ):
        nli = GridNLI({(fiddle, sentence): ENTAILS, (phone, sentence): (0.0, 0.01, 0.99)})
        for particulars, expected in ((False, False), (True, violated)):
            cal = Calibration(0.9, 0.5, consistent=0.98, particulars=particulars)
            result = APCScorer(persona, nli=nli, relevance=relevance, calibration=cal).score("Phone?", sentence)
            assert bool(result.violations) is expected, (sentence, particulars)
