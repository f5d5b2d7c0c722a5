"""The guard's check for replies that claim the user's facts as the character's own ("I work as a nurse.")."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import text

from helpers.runtime import GridNLI
from personae.backends import Backend, GenerateConfig, get_backend
from personae.cli._render import render_candidates, render_explanation
from personae.guard import Candidate, Guard, corrective_instruction
from personae.memory import Recalled
from personae.persona import Persona
from personae.prompting import AssembledPrompt
from personae.scoring import FakeEmbedder, RelevanceModel, ScoringModels, UserClaims
from personae.session import ChatSession, Explanation, SessionSettings
from personae.store import SessionStore, TurnRecord

ENTAILS = (0.95, 0.04, 0.01)
NURSE = "Sam works as a nurse."
ADA = Persona(name="Ada", statements=["Ada is a retired ferry captain.", "Ada has a border collie named Skerry."])
TABLE = {
    ("Ada works as a nurse.", "I work as a nurse."): ENTAILS,  # the user's fact, put on the character
    ("Ada has a dog.", "I have a dog."): ENTAILS,
    ("Ada has a border collie named Skerry.", "I have a dog."): ENTAILS,  # ... and what the persona says itself
}
ASKED = "What do I do for a living?"
CONFIG = GenerateConfig(temperature=0.8, max_tokens=50)


def models(nli: GridNLI | None = None) -> ScoringModels:
    return ScoringModels(nli=nli or GridNLI(TABLE), embedder=FakeEmbedder(), ooc_classifier=False)


def claims(persona: Persona = ADA, nli: GridNLI | None = None) -> tuple[UserClaims, GridNLI]:
    nli = nli or GridNLI(TABLE)
    return UserClaims(persona, "Sam", nli, RelevanceModel(FakeEmbedder())), nli


def scripted(*replies: str) -> Backend:
    return get_backend("mock/scripted", outputs=list(replies), cache=None)


def test_a_reply_claiming_the_users_fact_is_found_and_one_about_the_user_is_not() -> None:
    check, nli = claims()
    replies = ["I work as a nurse.", "You work as a nurse.", "I know you work as a nurse.", "Sam, I work as a nurse."]
    assert check.claimed(ASKED, [NURSE], replies) == [[NURSE], [], [], [NURSE]]
    # what the reply says of the user ("you", or a clause naming them) is never read as the character's own
    assert {hypothesis for _premise, hypothesis in nli.asked} == {"I work as a nurse."}


def test_without_user_facts_or_first_person_clauses_nothing_is_claimed_and_no_nli_runs() -> None:
    check, nli = claims()
    assert check.claimed(ASKED, [], ["I work as a nurse."]) == [[]]
    assert check.claimed(ASKED, [NURSE], ["You work as a nurse.", "*nods* A fine job."]) == [[], []]
    assert check.claimed(ASKED, ["The ferry leaves at noon."], ["I work as a nurse."]) == [[]]  # names no user
    assert nli.asked == []


def test_a_claim_the_persona_makes_too_is_the_characters_own() -> None:
    check, nli = claims()
    assert check.claimed("Do I have pets?", ["Sam has a dog."], ["I have a dog."]) == [[]]
    assert ("Ada has a border collie named Skerry.", "I have a dog.") in nli.asked
    captain = Persona(name="Ada", statements=["Ada is a retired ferry captain."])
    assert claims(captain)[0].claimed("Do I have pets?", ["Sam has a dog."], ["I have a dog."]) == [["Sam has a dog."]]


async def test_the_guard_prefers_a_candidate_that_does_not_claim_the_users_fact() -> None:
    m = models()
    guard = Guard("best-of-n", n=2, scorer=m.scorer(ADA), claims=m.user_claims(ADA, "Sam"), offload=False)
    backend = scripted("I work as a nurse.", "You work as a nurse.", "I work as a nurse.", "You work as a nurse.")
    unchecked = await guard.run(backend, [], CONFIG, ASKED)
    assert unchecked.best.text == "I work as a nurse."  # a tie on every other score: the first candidate
    checked = await guard.run(backend, [], CONFIG, ASKED, user_facts=[NURSE])
    assert checked.best.text == "You work as a nurse."
    assert [c.claimed_user_facts for c in checked.candidates] == [[NURSE], []]
    assert [c.problems for c in checked.candidates] == [1, 0]  # as bad as a broken persona fact


async def test_threshold_names_the_claimed_fact_as_the_users_in_its_corrective_round() -> None:
    m = models()
    guard = Guard("threshold", n=1, scorer=m.scorer(ADA), claims=m.user_claims(ADA, "Sam"), offload=False)
    backend = scripted("I work as a nurse.", "You work as a nurse.")
    judgement = await guard.run(backend, [], CONFIG, ASKED, user_facts=[NURSE])
    assert judgement.best.text == "You work as a nurse."
    assert judgement.corrective_instruction is not None
    assert "they are the user's, not yours:\n- Sam works as a nurse." in judgement.corrective_instruction
    sent = backend.api.history[1][0][0]  # type: ignore[attr-defined]
    assert sent.role == "system"
    assert judgement.corrective_instruction in sent.content
    clean = Candidate(index=0, text="You work as a nurse.")
    assert "not yours" not in corrective_instruction(clean)


async def test_a_session_checks_replies_against_what_it_knows_of_the_user_and_stores_the_verdict(
    tmp_path: Path,
) -> None:
    db = SessionStore(f"sqlite:///{tmp_path / 'sessions.db'}")
    m = models()
    first = ChatSession.start(
        ADA, scripted("Good for you."), db, user_name="Sam", settings=SessionSettings(guard="off"), models=m
    )
    first.clock = lambda: datetime(2023, 5, 8, tzinfo=UTC)
    await first.send("I work as a nurse.")

    second = ChatSession.start(
        ADA,
        scripted("I work as a nurse.", "You work as a nurse."),
        db,
        user_name="Sam",
        settings=SessionSettings(n=2),
        models=m,
    )
    turn = await second.send(ASKED)
    assert turn.reply == "You work as a nurse."
    assert [c.claimed_user_facts for c in turn.candidates] == [[NURSE], []]

    assert second.why().claimed_user_facts == []
    second.show(0)
    assert second.why().claimed_user_facts == [NURSE]

    loaded = db.load(second.id).turns[0].candidates
    assert [c.claimed_user_facts for c in loaded] == [[NURSE], []]
    with db.engine.begin() as conn:  # a row stored before the check existed has no such key
        conn.execute(text('UPDATE candidates SET scores = \'{"result": null, "contradictions": [], "ooc": null}\''))
    assert [c.claimed_user_facts for c in db.load(second.id).turns[0].candidates] == [[], []]

    forgetful = ChatSession.start(
        ADA,
        scripted("I work as a nurse.", "You work as a nurse."),
        db,
        user_name="Sam",
        settings=SessionSettings.model_validate({"n": 2, "memory": {"user": {"enabled": False}}}),
        models=m,
    )
    assert forgetful.guard.claims is None  # without user memory there is nothing to check, at no cost
    assert (await forgetful.send(ASKED)).reply == "I work as a nurse."


async def test_a_recalled_message_stands_for_the_facts_read_from_it(tmp_path: Path) -> None:
    """A recall offers one item per message, often the message itself ("Sam said: ..."): the check gets its facts."""
    db = SessionStore(f"sqlite:///{tmp_path / 'sessions.db'}")
    first = ChatSession.start(
        ADA, scripted("Good for you."), db, user_name="Sam", settings=SessionSettings(guard="off"), models=models()
    )
    first.clock = lambda: datetime(2023, 5, 8, tzinfo=UTC)
    await first.send("I work as a nurse. I love the night shifts.")
    memory = first.user_memory
    message = next(
        f for f in memory.repository.facts(memory.read_scope, messages=True) if f.text.startswith("Sam said")
    )
    read = [f.text for f in memory.repository.facts(memory.read_scope)]
    assert NURSE in read
    assert len(read) == 2  # the job, and the night shifts
    assert memory.stated([(message, 0.9)]) == read
    fact = next(f for f in memory.repository.facts(memory.read_scope) if f.text == NURSE)
    assert memory.stated([(fact, 0.9), (message, 0.8)]) == [NURSE, *(t for t in read if t != NURSE)]  # each once


async def test_the_prompt_shows_the_facts_read_from_a_recalled_message_not_its_first_person_words(
    tmp_path: Path,
) -> None:
    """Quoted in the prompt, "I work as a nurse." was answered as the character's own job: the facts stand in."""
    db = SessionStore(f"sqlite:///{tmp_path / 'sessions.db'}")
    settings = SessionSettings(guard="off")
    first = ChatSession.start(ADA, scripted("Good for you."), db, user_name="Sam", settings=settings, models=models())
    first.clock = lambda: datetime(2023, 5, 8, tzinfo=UTC)
    await first.send("I work as a nurse. I love the night shifts.")
    await first.end()
    second = ChatSession.start(ADA, scripted("You nurse."), db, user_name="Sam", settings=settings, models=models())
    second.clock = lambda: datetime(2023, 5, 15, tzinfo=UTC)
    memory = second.user_memory
    message = next(
        f for f in memory.repository.facts(memory.read_scope, messages=True) if f.text.startswith("Sam said")
    )

    def the_message(*args: Any, **kwargs: Any) -> Recalled:  # a recall that ranked the message over its facts
        return Recalled(facts=[(message, 0.9)], episodes=[], known=True, last_seen=None)

    memory.recall = the_message  # type: ignore[method-assign]
    system = (await second.build_prompt("What is my job?")).messages[0].content
    assert f"- {NURSE}" in system
    assert 'Sam said: "I work as a nurse' not in system


def test_the_chat_and_the_server_show_which_user_facts_a_candidate_claims() -> None:
    from personae.server._service import candidate_view

    claiming = Candidate(index=0, text="I work as a nurse.", claimed_user_facts=[NURSE])
    turn = TurnRecord(
        index=0,
        user_text=ASKED,
        prompt=AssembledPrompt(messages=[], parts=[], budget_tokens=0),
        candidates=[claiming, Candidate(index=1, text="You work as a nurse.")],
        chosen_index=1,
    )
    console = Console(record=True, width=200)
    render_candidates(turn, console)
    table = console.export_text()
    header = next(line for line in table.splitlines() if "user-fact" in line).split("┃")
    rows = [line.split("│") for line in table.splitlines() if "work as a nurse" in line]
    column = [cell.strip() for cell in header].index("user-fact")
    assert [row[column].strip() for row in rows] == ["1", "0"]
    why = Explanation(
        reply=claiming.text,
        apc_normalized=None,
        supported=[],
        violated=[],
        contradictions=[],
        claimed_user_facts=[NURSE],
    )
    render_explanation(why, console)
    assert "Claims the user's fact as its own: “Sam works as a nurse.”" in console.export_text()
    assert "No statement is clearly" not in console.export_text()
    assert candidate_view(claiming).claimed_user_facts == [NURSE]


class CalibratedGridNLI(GridNLI):
    """A `GridNLI` with a shipped-style calibration: a low topic gate widened by top-2, a stricter support gate."""

    def __init__(self, table: dict[tuple[str, str], tuple[float, float, float]], scale: str) -> None:
        super().__init__(table)
        self.calibration = {
            "topic_scale": scale,
            "topic_gate": 0.05,
            "gate_top_k": 2,
            "support_gate": 0.5,
            "support_threshold": 0.5,
            "violation_threshold": 0.9,
        }


def test_fact_checks_ask_the_nli_model_only_pairs_that_could_be_a_support() -> None:
    """Whose facts a text states is read from supports alone, and a support needs the support gate: pairs beneath it
    (opened for contradictions by the low topic gate and top-k) are never sent to the NLI model."""
    relevance = RelevanceModel(FakeEmbedder())
    nli = CalibratedGridNLI(TABLE, relevance.topic_model.name)
    check = UserClaims(ADA, "Sam", nli, relevance)
    reply = "I work as a nurse. The gulls are loud today. Tea is brewing."
    facts = [NURSE, "Sam has a cat called Biscuit.", "Sam lives in Leeds."]
    assert check.claimed(ASKED, facts, [reply]) == [[NURSE]]
    assert nli.asked, "the fact the reply states was read"
    statements = ["Ada works as a nurse.", "Ada has a cat called Biscuit.", "Ada lives in Leeds."]
    sentences = ["I work as a nurse.", "The gulls are loud today.", "Tea is brewing."]
    topic = relevance.topics(statements, [sentences], [ASKED], ["Ada"])[0]
    for premise, hypothesis in nli.asked:
        if premise in statements:
            assert topic[statements.index(premise), sentences.index(hypothesis)] >= 0.5, (premise, hypothesis)
    # the same calibration for a persona's APC opens the low pairs (its violations need them)
    from personae.scoring import APCScorer

    apc_nli = CalibratedGridNLI(TABLE, relevance.topic_model.name)
    APCScorer(statements, nli=apc_nli, relevance=relevance, names=["Ada"]).score(ASKED, reply)
    low = [(p, h) for p, h in apc_nli.asked if topic[statements.index(p), sentences.index(h)] < 0.5]
    assert low, "top-2 sends pairs under the support gate to the NLI model when violations are read"


def test_the_candidates_table_leaves_out_empty_columns_and_keeps_the_reply_readable_at_80_columns() -> None:
    long = (
        "I am Ada Quint, a retired ferry captain who spent forty years crossing the Minch between Uig and Tarbert, "
        "and I still walk Skerry along the shore every morning."
    )
    turn = TurnRecord(
        index=0,
        user_text="Who are you?",
        prompt=AssembledPrompt(messages=[], parts=[], budget_tokens=0),
        candidates=[Candidate(index=i, text=long if i else "[bold]Aye.[/bold]") for i in range(3)],
        chosen_index=1,
    )
    console = Console(record=True, width=80)
    render_candidates(turn, console)
    text = console.export_text()
    header = next(line for line in text.splitlines() if "reply" in line)
    assert "violated" in header  # always shown: it is what the guard chooses by
    assert not any(name in header for name in ("round", "self-contra", "user-fact", "OOC"))
    assert "[bold]Aye.[/bold]" in text  # a reply is shown as written, never read as markup
    rows = [line for line in text.splitlines() if "│" in line]
    assert len(rows) <= 3 * 3, text  # each 70-character cut of a reply wraps onto at most three lines
