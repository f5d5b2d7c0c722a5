"""Multi-character scenes: the spec, CharacterBox files, turn policies, role confusion, the runner, resume, outputs."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from conftest import EXAMPLES, REPO, SHARED_DATA
from helpers.cards import tinytroupe_agent, v2_card
from helpers.runtime import fake_models, sailor
from personae.backends import Backend, GenerateConfig, Message, get_backend
from personae.cli import app
from personae.guard import Candidate
from personae.persona import Persona
from personae.scene import (
    CORRECTION_SIGNALS,
    TRANSCRIPT_FILE,
    ConfusionDetector,
    ConfusionSignal,
    RoleConfusion,
    SceneError,
    SceneRecord,
    SceneRun,
    SceneSpec,
    SceneSpecError,
    addressed,
    confusion_instruction,
    convergence,
    direct,
    dominance,
    echo_signals,
    heard_lines,
    load_scene,
    measure_chat,
    memory_view,
    natural,
    persona_of,
    read_characterbox,
    read_chat_export,
    read_transcript,
    round_robin,
    rule_signals,
    scene_from_data,
    scene_reply,
)
from personae.scoring import OOCResult

SCENES = REPO / "examples" / "scenes"
CHARACTERBOX = SHARED_DATA / "characterbox"

ADA = str(EXAMPLES / "ada.yaml")
VEGA = str(EXAMPLES / "vega.yaml")
ANSELM = str(EXAMPLES / "anselm.yaml")


def scene(**fields: Any) -> SceneSpec:
    """A three-character scene on the example personas with offline scoring (fields override the defaults)."""
    data: dict[str, Any] = {
        "name": "test",
        "setting": "A harbour wall in a storm.",
        "characters": [{"persona": ADA}, {"persona": VEGA}, {"persona": ANSELM}],
        "backend": "mock/scene",
        "nli": "fake",
        "embedder": "fake",
        "stop": {"turns": 6},
        "n": 2,
    }
    data.update(fields)
    return scene_from_data(data, "test.yaml")


def run(spec: SceneSpec, out: Path, **kwargs: Any) -> Any:
    return asyncio.run(SceneRun(spec, out, models=fake_models(), **kwargs).run())


# --- the spec -------------------------------------------------------------------------------------------------------


def test_the_example_scene_loads_with_personas_relative_to_it() -> None:
    spec = load_scene(SCENES / "harbour.yaml")
    assert spec.policy == "natural"
    assert len(spec.characters) == 3
    run_ = SceneRun(spec.with_backend("mock/scene"), "/nonexistent", models=fake_models())
    assert [p.name for p in run_.personas] == ["Ada Quint", "Captain Iris Vega", "Brother Anselm"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"characters": [{"persona": ADA}]}, "characters"),
        ({"characters": [{"persona": ADA}] * 9}, "characters"),
        ({"policy": "loudest"}, "policy"),
        ({"stop": {"turns": 100000}}, "stop.turns"),
        ({"setting": "x" * 5000}, "setting"),
        ({"colour": "blue"}, "colour"),
        ({"characters": [{"persona": ADA, "talkativeness": 2}, {"persona": VEGA}]}, "characters[0].talkativeness"),
    ],
)
def test_a_bad_scene_names_the_field(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(SceneSpecError) as err:
        scene(**fields)
    assert err.value.field == field
    assert err.value.path == "test.yaml"


def test_inconsistent_scenes_are_refused() -> None:
    with pytest.raises(SceneSpecError, match="leaves"):
        scene(characters=[{"persona": ADA, "enters": 3, "leaves": 2}, {"persona": VEGA}])
    with pytest.raises(SceneSpecError, match=r"stop\.event names no event"):
        scene(stop={"turns": 3, "event": "storm"})


def test_a_scene_file_that_is_not_yaml_or_names_a_missing_persona_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("characters: [unclosed", encoding="utf-8")
    with pytest.raises(SceneSpecError, match="not valid YAML"):
        load_scene(bad)
    missing = tmp_path / "missing.yaml"
    missing.write_text(yaml.safe_dump({"characters": [{"persona": "nobody.yaml"}, {"persona": ADA}]}), "utf-8")
    with pytest.raises(SceneSpecError, match=r"^.*missing\.yaml: characters\[0\]\.persona: .*nobody\.yaml"):
        SceneRun(load_scene(missing), tmp_path / "out", models=fake_models())  # the scene file, then the persona's


def test_characters_come_from_any_format_import_reads(tmp_path: Path) -> None:
    (tmp_path / "card.json").write_text(json.dumps(v2_card()), encoding="utf-8")
    (tmp_path / "agent.json").write_text(json.dumps(tinytroupe_agent()), encoding="utf-8")
    spec_file = tmp_path / "scene.yaml"
    spec_file.write_text(yaml.safe_dump({"characters": [{"persona": "card.json"}, {"persona": "agent.json"}]}), "utf-8")
    names = [p.name for p in SceneRun(load_scene(spec_file), tmp_path / "out", models=fake_models()).personas]
    assert names == [v2_card()["data"]["name"], tinytroupe_agent()["persona"]["name"]]


def test_inline_personas_and_two_characters_of_one_name() -> None:
    twins = scene(characters=[{"persona": {"name": "Sam"}}, {"persona": {"name": "Sam"}}])
    with pytest.raises(SceneError, match="share a name"):
        SceneRun(twins, "/nonexistent", models=fake_models())


def test_backend_binds_every_role() -> None:
    spec = scene(narrator={"backend": "openai/x"}, director="openai/y").with_backend("mock/echo")
    assert {c.backend for c in spec.characters} == {"mock/echo"}
    assert spec.narrator is not None
    assert spec.narrator.backend == "mock/echo"
    assert spec.director == "mock/echo"


# --- CharacterBox ----------------------------------------------------------------------------------------------------


def characterbox_fixture(path: Path, lonely_first: bool = False) -> Path:
    """A small synthetic CharacterBox file: one scene with two characters, one with a single character.

    `lonely_first` puts the one-character scene first, as scene 0 of the published Harry Potter file is.
    """

    def person(i: int, name: str, description: str) -> dict[str, Any]:
        return {"id": i, "name": name, "gender": "x", "description": description, "position": "By the gate.",
                "states": "Wary."}  # fmt: skip

    data = {
        "title": "Test_Book",
        "scenes": [
            {
                "id": 0,
                "event": "The Gate",
                "time": "Dusk",
                "location": "A castle gate",
                "description": "Rain falls on the gate.",
                "plot": "They must decide whether to open the gate.",
                "characters": [
                    person(0, "Mira Stone", "Mira Stone is a gatekeeper. She distrusts strangers."),
                    # positions and states without a full stop, as in many of the published scenes
                    {
                        **person(1, "Tobin", "Tobin is a travelling tinker."),
                        "position": "Leaning on his cart, an old figure",
                        "states": "He is tired",
                    },
                ],
                "actions": [
                    {
                        "action_id": 0,
                        "character": "Mira Stone",
                        "character_id": 0,
                        "action": "x",
                        "dialogue": "Who goes there?",
                    }
                ],
                "chunk": {"id": 0, "text": "book text"},
            },
            {
                "id": 1,
                "event": "Alone",
                "time": "",
                "location": "",
                "description": "",
                "plot": "",
                "characters": [person(0, "Mira Stone", "A gatekeeper.")],
                "actions": [],
            },
        ],
    }
    if lonely_first:
        data["scenes"].reverse()
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_characterbox_file_becomes_scenes(tmp_path: Path) -> None:
    path = characterbox_fixture(tmp_path / "book.scenes.json")
    scenes = read_characterbox(path)
    assert len(scenes) == 1  # the one-character scene cannot be run
    spec = scenes[0]
    assert spec.setting == "Dusk. A castle gate. Rain falls on the gate."
    assert spec.events[0].turn == 0
    assert "The Gate" in spec.events[0].text
    assert spec.narrator is not None
    assert spec.narrator.direction == "They must decide whether to open the gate."
    mira = spec.characters[0]
    assert mira.position == "By the gate. Wary."
    assert spec.characters[1].position == "Leaning on his cart, an old figure. He is tired."
    assert isinstance(mira.persona, dict)
    assert "Mira Stone distrusts strangers." in mira.persona["statements"]
    assert load_scene(path, 0).name == spec.name
    with pytest.raises(SceneSpecError, match="at least two characters"):
        load_scene(path, 1)
    with pytest.raises(SceneSpecError, match="no scene 7"):
        load_scene(path, 7)


class FakeModelsRun(SceneRun):
    """`SceneRun` with the offline scoring models, whatever the scene names (CharacterBox scenes name the shipped)."""

    def __init__(self, spec: SceneSpec, out_dir: Path | str, **kwargs: Any) -> None:
        super().__init__(spec, out_dir, models=fake_models(), **kwargs)


def test_a_characterbox_file_without_an_index_runs_its_first_scene_with_two_characters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = characterbox_fixture(tmp_path / "book.scenes.json", lonely_first=True)
    assert load_scene(path).name.startswith("Test Book #1:")
    monkeypatch.setattr("personae.cli._scene.SceneRun", FakeModelsRun)
    runner = CliRunner()
    out = tmp_path / "out"
    args = ["scene", str(path), "--out", str(out), "--backend", "mock/scene", "--turns", "1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "book.scenes.json: running scene 1, the first with two or more characters" in result.output
    assert json.loads((out / "scene.json").read_text())["spec"]["name"].startswith("Test Book #1:")
    assert runner.invoke(app, [*args, "--resume"]).exit_code == 0  # the same default scene, resumed
    asked = runner.invoke(app, ["scene", str(path), "--out", str(tmp_path / "o2"), "--scene-index", "0"])
    assert asked.exit_code == 2
    assert "book.scenes.json" in asked.output
    assert "--scene-index 1" in asked.output
    assert len(asked.output.strip().splitlines()) == 1
    lonely = tmp_path / "lonely.scenes.json"
    data = json.loads(path.read_text())
    data["scenes"] = data["scenes"][:1]
    lonely.write_text(json.dumps(data), encoding="utf-8")
    none = runner.invoke(app, ["scene", str(lonely), "--out", str(tmp_path / "o3")])
    assert none.exit_code == 2
    assert "lonely.scenes.json" in none.output
    assert "two characters" in none.output
    assert len(none.output.strip().splitlines()) == 1


@pytest.mark.skipif(not CHARACTERBOX.is_dir(), reason="../shared/data/characterbox is not present")
def test_the_harry_potter_file_without_an_index_gives_its_first_scene_with_two_characters() -> None:
    spec = load_scene(CHARACTERBOX / "Harry_Potter.scenes.json")  # its scenes 0 and 1 have one character each
    assert spec.name.startswith("Harry Potter #2:")
    assert len(spec.characters) == 2


def test_a_json_file_that_is_not_characterbox_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"title": "t", "scenes": 3}', encoding="utf-8")
    with pytest.raises(SceneSpecError, match="not a CharacterBox scenes file"):
        read_characterbox(path)


@pytest.mark.skipif(not CHARACTERBOX.is_dir(), reason="../shared/data/characterbox is not present")
@pytest.mark.parametrize("name", ["Harry_Potter", "The_Matrix"])
def test_the_published_characterbox_scenes_read(name: str) -> None:
    scenes = read_characterbox(CHARACTERBOX / f"{name}.scenes.json")
    assert len(scenes) >= 20
    assert all(2 <= len(s.characters) <= 8 and s.setting for s in scenes)


# --- turn policies ---------------------------------------------------------------------------------------------------

ORDER = ["Ada", "Vega", "Anselm"]


def test_round_robin_goes_in_order_and_skips_the_absent() -> None:
    assert round_robin(ORDER, ORDER, None).speaker == "Ada"
    assert round_robin(ORDER, ORDER, "Ada").speaker == "Vega"
    assert round_robin(ORDER, ["Ada", "Anselm"], "Ada").speaker == "Anselm"
    assert round_robin(ORDER, ORDER, "Anselm").speaker == "Ada"


def test_addressed_picks_who_is_spoken_to_then_who_is_named() -> None:
    assert addressed(ORDER, ORDER, "Ada", "Anselm, what do you make of it?").speaker == "Anselm"
    assert addressed(ORDER, ORDER, "Ada", "It is a ship, Vega?").speaker == "Vega"
    assert addressed(ORDER, ORDER, "Ada", "I saw Anselm by the hut.").speaker == "Anselm"
    choice = addressed(ORDER, ORDER, "Ada", "The sea is rough tonight.")
    assert choice.speaker == "Vega"
    assert "no one named" in choice.why
    assert addressed(ORDER, ORDER, "Ada", "Ada, you fool.").speaker != "Ada"  # never oneself


def test_a_line_that_names_one_character_alone_is_read_for_its_premises() -> None:
    """The purser's "Captain Quint! … your husband Callum, is he joining us?" is said to Ada: its "you" is hers, so the
    guard reads its sentences whole for a false premise; a line naming two characters, or none, is not hers alone."""
    from personae.scene._runner import addressed_alone

    here = ["Ada Quint", "Greta Holm"]

    def event(text: str) -> SceneRecord:
        return SceneRecord(step="t0/event0", kind="event", turn=0, text=text, witnesses=here)

    purser = event('Mr Dahl stops at the window table: "Captain Quint! Is your husband Callum joining us?"')
    assert addressed_alone("Ada Quint", [purser], here)
    assert not addressed_alone("Greta Holm", [purser], here)
    both = event('Mr Dahl: "Ada, Greta, your tea is here. You both take it black, don\'t you?"')
    assert not addressed_alone("Ada Quint", [both], here)
    assert not addressed_alone("Ada Quint", [event("The ferry rolls in the swell.")], here)
    greta = SceneRecord(
        step="t1/line",
        kind="line",
        turn=1,
        speaker="Greta Holm",
        text="Your dog, Ada?",
        witnesses=here,
    )
    assert addressed_alone("Ada Quint", [purser, greta], here)  # the last line heard decides
    own = SceneRecord(step="t1/line", kind="line", turn=1, speaker="Ada Quint", text="Aye.", witnesses=here)
    assert not addressed_alone("Ada Quint", [purser, own], here)  # answered already: nothing heard since


def test_natural_puts_mentions_first_then_talkativeness() -> None:
    rng = random.Random(0)
    assert natural(ORDER, ORDER, "Ada", "What does Anselm say?", {}, rng).speaker == "Anselm"
    talk = {"Ada": 1.0, "Vega": 0.0, "Anselm": 0.0}
    picks = {natural(ORDER, ORDER, "Vega", "Quiet.", talk, random.Random(i)).speaker for i in range(30)}
    assert picks == {"Ada"}
    silent = {"Ada": 0.0, "Vega": 0.0, "Anselm": 0.0}
    picks = {natural(ORDER, ORDER, "Ada", "Quiet.", silent, random.Random(i)).speaker for i in range(30)}
    assert picks == {"Vega", "Anselm"}  # nobody volunteers: random, never the last speaker


def scripted(outputs: Sequence[str]) -> Backend:
    return get_backend("mock/scripted", outputs=list(outputs))


def test_director_follows_the_backend_and_falls_back_with_a_reason() -> None:
    good = scripted(['{"speaker": "Anselm", "why": "he was asked a question"}'])
    choice = asyncio.run(direct(good, ORDER, ORDER, "Ada", ["Ada: Anselm?"], seed=0))
    assert choice == ("Anselm", "director: he was asked a question")
    unknown = scripted(['{"speaker": "Gandalf"}'])
    choice = asyncio.run(direct(unknown, ORDER, ORDER, "Ada", [], seed=0))
    assert choice.speaker == "Vega"
    assert "unusable" in choice.why


@pytest.mark.parametrize("policy", ["round-robin", "addressed", "director", "natural"])
def test_every_policy_runs_a_scene(tmp_path: Path, policy: str) -> None:
    results = run(scene(policy=policy), tmp_path / policy)
    assert results.turns == 6
    assert results.ended == "turns"
    records = read_transcript(tmp_path / policy / TRANSCRIPT_FILE)
    lines = [r for r in records if r.kind == "line"]
    assert all(r.why and r.why.startswith(policy if policy != "director" else "director") for r in lines)
    assert all(a.speaker != b.speaker for a, b in itertools.pairwise(lines))
    if policy == "round-robin":
        assert [r.speaker for r in lines[:3]] == ["Ada Quint", "Captain Iris Vega", "Brother Anselm"]


# --- role confusion --------------------------------------------------------------------------------------------------

CONFUSED = [
    ("Trinity: I'll take the left door.", "writes_lines"),
    ("**Trinity:** Move!", "writes_lines"),
    ("We split up.\n[Trinity] I'll take the left door.", "writes_lines"),  # the tag the scene gives the narrator
    # seen in a real run (Qwen2.5-1.5B as Harry Potter): it went on as the narrator, in the tag it had heard
    (
        "I need to try to escape.\n[Narrator] As Harry Potter attempts to escape, he hears footsteps outside.",
        "writes_lines",
    ),
    ("Narrator: The lights go out.", "writes_lines"),
    ("I am Trinity, and I do not miss.", "speaks_as"),
    ("My name is Trinity.", "speaks_as"),
    ('Trinity says, "We go now."', "speaks_for"),
    ('"Not yet," said Cypher.', "speaks_for"),
    ("*Cypher smiles and raises his hands*", "speaks_for"),
    ("Trinity nods. Trinity turns to the door and draws her gun.", "speaks_for"),
    # seen in a real run (Qwen2.5-1.5B as Rosa Marsh): narration in brackets, of the other through a relative clause
    ("I understand. [I raise my hand. I look at Trinity, who looks embarrassed but continues.]", "speaks_for"),
    ("We wait. (Cypher turns the page.)", "speaks_for"),
    # seen in a real run (Qwen2.5-1.5B as Captain Vega): plain-prose narration of the other character
    (
        "Trinity looks up to the sky, thinking of a plan. She looks at the crew. Trinity starts to look for a way.",
        "speaks_for",
    ),
]
CLEAN = [
    "Trinity, cover the door.",
    "I trust Trinity with my life.",
    "As Trinity said, we go at dawn.",
    "I'm Trinity's friend, nothing more.",
    "*I glance at Cypher and frown*",
    "Cypher: a name I will not forget.",  # a label only at the start of a line
    "Trinity knows this ship. Trinity is right, as always.",  # talk about her, not narration of her
    "Trinity nods, so we go.",  # one sentence is not narration enough
    "(Trinity, quiet.) We go now.",  # an aside that opens with her name is no tag
    "(Trinity is right, mind.) We go now.",  # an aside about her, not narration of her
    "The narrator of this story is a liar.",
]


@pytest.mark.parametrize(("reply", "kind"), CONFUSED)
def test_role_confusion_rules_catch_hand_written_cases(reply: str, kind: str) -> None:
    signals = rule_signals(reply, "Neo", ["Trinity", "Cypher"])
    assert [s.kind for s in signals] == [kind]


@pytest.mark.parametrize("reply", CLEAN)
def test_role_confusion_rules_leave_clean_replies_alone(reply: str) -> None:
    if reply.startswith("Cypher:"):
        assert [s.kind for s in rule_signals(reply, "Neo", ["Trinity", "Cypher"])] == ["writes_lines"]
        assert rule_signals("Remember " + reply, "Neo", ["Trinity", "Cypher"]) == []
    else:
        assert rule_signals(reply, "Neo", ["Trinity", "Cypher"]) == []


def test_first_and_last_names_count_unless_shared_or_titles() -> None:
    assert [s.kind for s in rule_signals("Ron: Blimey.", "Harry Potter", ["Ron Weasley", "Ginny Weasley"])] == [
        "writes_lines"
    ]
    assert rule_signals("Weasley: Blimey.", "Harry Potter", ["Ron Weasley", "Ginny Weasley"]) == []
    assert rule_signals("Agent: halt.", "Neo", ["Agent Smith"]) == []


def test_claiming_another_characters_facts_is_found_by_the_persona_nli() -> None:
    neo = Persona(name="Neo", statements=["Neo is a hacker who lives in a small apartment."])
    trinity = Persona(
        name="Trinity",
        statements=["Trinity is a fierce warrior and loyal follower of Morpheus.", "Trinity rides a black motorcycle."],
    )
    detector = ConfusionDetector(neo, [neo, trinity], fake_models())
    claim = detector.detect("Who are you?", "I ride a black motorcycle every night.")
    assert claim.kinds == ["claims_facts"]
    assert claim.signals[0].evidence == "Trinity rides a black motorcycle."
    assert not detector.detect("Who are you?", "I am a hacker in a small apartment.").confused
    assert not detector.detect("Who is she?", "Trinity rides a black motorcycle.").confused  # about her, not a claim
    assert not detector.detect("Who is she?", "You ride a black motorcycle, Trinity.").confused
    assert not ConfusionDetector(neo, [neo, trinity], None).detect("?", "I ride a black motorcycle.").confused


def test_claims_of_subject_less_characterbox_facts_are_found(tmp_path: Path) -> None:
    # CharacterBox describes characters in phrases without a subject; the claim check needs statements naming them.
    path = characterbox_fixture(tmp_path / "book.scenes.json")
    data = json.loads(path.read_text())
    people = data["scenes"][0]["characters"]
    people[0].update(name="Neo", description="A former programmer turned savior. Calm and determined.")
    people[1].update(
        name="Trinity",
        description="A skilled hacker and elite warrior of the resistance. Rides a black motorcycle through the city.",
    )
    path.write_text(json.dumps(data), encoding="utf-8")
    spec = read_characterbox(path, 0)[0]
    neo, trinity = (persona_of(spec, i) for i in range(2))
    assert trinity.statements == [
        "Trinity is a skilled hacker and elite warrior of the resistance.",
        "Trinity rides a black motorcycle through the city.",
    ]
    detector = ConfusionDetector(neo, [neo, trinity], fake_models())
    claim = detector.detect("Who are you?", "I'm a skilled hacker, an elite warrior of the resistance.")
    assert claim.kinds == ["claims_facts"]
    assert claim.signals[0].evidence == "Trinity is a skilled hacker and elite warrior of the resistance."
    assert not detector.detect("Who are you?", "I was a programmer. Now I am calm.").confused  # his own
    assert not detector.detect("Who is she?", "Trinity is a skilled hacker of the resistance.").confused


def test_subject_less_statements_of_any_persona_are_claimable() -> None:
    neo = Persona(name="Neo", statements=["Lives in a small apartment."])
    trinity = Persona(name="Trinity", statements=["Rides a black motorcycle.", "The Matrix is a prison."])
    detector = ConfusionDetector(neo, [neo, trinity], fake_models())
    claim = detector.detect("Who are you?", "I ride a black motorcycle.")
    assert [(s.kind, s.evidence) for s in claim.signals] == [("claims_facts", "Rides a black motorcycle.")]
    assert not detector.detect("What is it?", "I know the Matrix is a prison.").confused  # a fact of the world
    assert not detector.detect("Home?", "I live in a small apartment.").confused


ROSA = Persona(name="Rosa Marsh", statements=["Rosa Marsh is a vet.", "Rosa Marsh lives in Bristol."])
LENA = Persona(name="Lena Marsh", statements=["Lena Marsh is the pilot.", "Lena Marsh lives in Oslo."])
SWAPPED = [
    # the speaker's own facts given to the one it speaks to (seen in the twins scene of bench/scene_guard.py)
    ("You're the vet, and you live in Bristol.", ["gives_facts", "gives_facts"]),
    ("Lena, you'll be the vet today.", ["gives_facts"]),
    # taking on another's role
    ("I'll be the pilot.", ["claims_facts"]),
    ("Let me be the pilot, then.", ["claims_facts"]),
    ("Fine. I'll be the pilot and you can sign first.", ["claims_facts"]),
]
UNSWAPPED = [
    "You're the pilot, Lena, and you live in Oslo.",  # her own facts, rightly
    "I'm the vet and I live in Bristol.",  # mine
    "Lena flies the planes; I'm only the vet.",
    "You know I'm the vet, Lena.",
    "Are you the vet?",  # a question claims nothing
    'You said it yourself: "I\'ll be the pilot."',  # quoting her
    '"I\'m the pilot," she told the clerk.',
    'Lena always says "I\'ll be the pilot" when we travel.',
]


@pytest.mark.parametrize(("reply", "kinds"), SWAPPED)
def test_facts_put_on_the_wrong_twin_are_found(reply: str, kinds: list[str]) -> None:
    detector = ConfusionDetector(ROSA, [ROSA, LENA], fake_models())
    verdict = detector.detect("Which of you is the pilot?", reply, present=["Lena Marsh"])
    assert [s.kind for s in verdict.signals] == kinds
    assert {s.other for s in verdict.signals} == {"Lena Marsh"}
    if kinds[0] == "gives_facts":
        assert verdict.signals[0].evidence == "Rosa Marsh is a vet."


@pytest.mark.parametrize("reply", UNSWAPPED)
def test_talking_about_the_other_twin_rightly_or_quoting_her_is_no_confusion(reply: str) -> None:
    detector = ConfusionDetector(ROSA, [ROSA, LENA], fake_models())
    assert detector.detect("Which of you is the pilot?", reply, present=["Lena Marsh"]).signals == []


def test_what_a_reply_says_of_whom_intentions_quotes_and_questions() -> None:
    from personae.scoring import addressed_claims, self_claims

    everyone = ["Rosa Marsh", "Lena Marsh"]
    # the NLI reads "I'll be the pilot" as neutral towards "... is an airline pilot": an intention is read as the claim
    assert self_claims("I'll be the pilot.", "Rosa Marsh", everyone) == "I am the pilot."
    assert self_claims("Let me be the pilot, Rosa.", "Rosa Marsh", everyone) == "I am the pilot."
    told = addressed_claims("Lena, you're the vet, and you live in Bristol.", "Rosa Marsh", everyone)
    assert told == "I'm the vet. I live in Bristol."
    assert addressed_claims("You gave me your word, aren't you sure?", "Rosa Marsh", everyone) == (
        "I gave you my word, aren't I sure?"
    )
    assert self_claims('You said it yourself: "I\'ll be the pilot."', "Rosa Marsh", everyone) == ""
    assert self_claims('*smiles* "I\'m the vet," I said.', "Rosa Marsh", everyone) == 'Smiles "I\'m the vet," I said.'
    assert self_claims("Am I the pilot?", "Rosa Marsh", everyone) == ""
    assert self_claims("Your sister and I are twins.", "Rosa Marsh", everyone) == "Your sister and I are twins."


def test_a_fact_both_share_is_given_to_no_one() -> None:
    rosa = ROSA.model_copy(update={"statements": [*ROSA.statements, "Rosa Marsh was born in Bath."]})
    lena = LENA.model_copy(update={"statements": [*LENA.statements, "Lena Marsh was born in Bath."]})
    detector = ConfusionDetector(rosa, [rosa, lena], fake_models())
    assert not detector.detect("Where were you born?", "You were born in Bath too.").confused
    assert detector.detect("Where?", "You live in Bristol.").kinds == ["gives_facts"]


HEARD_LINE = "I'm studying. I don't mind what they do. I'll study, you can talk to Draco if you want to."


@pytest.mark.parametrize(
    ("reply", "echoes"),
    [
        # seen in a real run (Qwen2.5-1.5B): Ron and Draco said Harry's line word for word, all four candidates alike
        (HEARD_LINE, True),
        ("I'm studying! I don't mind what they do; I'll study. You can talk to Draco if you want.", True),
        ("I'm not studying. I mind very much what they do, and I'll be talking to Draco myself.", False),
        ("Good morning!", False),  # too short to be a copy
        # seen in the same run, missed by a whole-line comparison: a copy after a prefix, a copy with words cut
        (f"Okay, I'll fill that in. {HEARD_LINE} (She turns the page.)", True),
        ("I'm studying. I don't mind. You can talk to Draco if you want to.", True),
        ("I'm reading. I don't mind what you say; I'll read, and Harry can talk to whoever he likes.", False),
        # seen in a later run, missed by the whole-line comparison: one long sentence of the line inside an answer
        (
            "They're getting paranoid. Let's calm down. We're studying. You can talk to Draco if you want.",
            True,
        ),
        ('Harry told us: "I don\'t mind what they do." Well, I mind, and I will say so to Draco myself.', False),
        ("I look at Lena. I then sign on the line with my writing hand.", False),  # doing what the narrator asked
        ("Fine. Let's get started, then.", False),  # a short sentence said again is no copy
    ],
)
def test_a_line_repeating_what_another_just_said_is_an_echo(reply: str, echoes: bool) -> None:
    asks = 'Mr Pryce looks up: "Please each tell me, and sign on the line with your writing hand."'
    heard = {"Harry Potter": ["I'm ready. Let's get started.", HEARD_LINE], "Narrator": ["Good morning!", asks]}
    signals = echo_signals(reply, heard)
    assert [(s.kind, s.other) for s in signals] == ([("echoes", "Harry Potter")] if echoes else [])


ROSA_SHEET = Persona(
    name="Rosa Marsh",
    statements=["Rosa Marsh is allergic to cats.", "Rosa Marsh is married to a schoolteacher named Owen."],
)
LENA_SHEET = Persona(name="Lena Marsh", statements=["Lena Marsh is an airline pilot based in Oslo."])


@pytest.mark.parametrize(
    ("reply", "recites"),
    [
        # what the embedded model wrote for Lena when a clerk asked the twins about themselves (the twins scene)
        ('"Rosa Marsh is allergic to cats."', True),
        ('"Rosa Marsh has an allergic reaction to cats."', True),
        ('*I sign.* "Rosa Marsh is married to an educator named Owen."', True),  # the sheet's opening, another value
        # how people speak of those they know, questions, and words reported as another's
        ("Rosa is allergic to cats.", False),
        ("Rosa Marsh, are you allergic to cats?", False),
        ("You told him Rosa Marsh is allergic to cats.", False),
        ("Rosa Marsh is my sister, and she sneezes at the sight of a cat.", False),
        ("My sister Rosa Marsh is allergic to cats, poor thing, and always has been.", False),  # in words of its own
    ],
)
def test_reading_out_another_s_persona_statement_is_a_recital(reply: str, recites: bool) -> None:
    verdict = ConfusionDetector(LENA_SHEET, [LENA_SHEET, ROSA_SHEET]).detect("Which of you has the cats?", reply)
    assert verdict.kinds == (["recites"] if recites else [])
    assert all(s.other == "Rosa Marsh" for s in verdict.signals)


def test_a_one_word_name_is_never_read_as_a_recital() -> None:
    neo = Persona(name="Neo", statements=["Neo is a hacker known to the police."])
    trinity = Persona(name="Trinity", statements=["Trinity rides a black motorcycle."])
    assert not ConfusionDetector(neo, [neo, trinity]).detect("", "Trinity rides a black motorcycle.").confused


def test_the_detector_compares_with_what_others_said_not_with_the_speaker_s_own_lines() -> None:
    a = Persona(name="Ann", statements=["Ann lives in Oban."])
    b = Persona(name="Bea", statements=["Bea lives in Oban."])
    detector = ConfusionDetector(a, [a, b])
    assert detector.detect("", HEARD_LINE, heard={"Bea": [HEARD_LINE]}).kinds == ["echoes"]
    assert not detector.detect("", HEARD_LINE, heard={"Ann": [HEARD_LINE]}).confused
    assert not detector.detect("", HEARD_LINE).confused


def test_heard_lines_are_the_others_lines_the_character_witnessed() -> None:
    def record(kind: str, speaker: str | None, text: str, witnesses: list[str]) -> SceneRecord:
        return SceneRecord(step=text, kind=kind, turn=0, speaker=speaker, text=text, witnesses=witnesses)  # type: ignore[arg-type]

    history = [
        record("event", None, "A storm.", ["Ann", "Bea"]),
        record("line", "Bea", "Bea's first.", ["Ann", "Bea"]),
        record("line", "Ann", "Ann's own.", ["Ann", "Bea"]),
        record("narration", "Narrator", "Night falls.", ["Ann", "Bea"]),
        record("line", "Bea", "Said while Ann was away.", ["Bea"]),
    ]
    # an event is the narrator's: the embedded model once wrote out the conductor's event text as its own line
    assert heard_lines("Ann", history) == {"Narrator": ["A storm.", "Night falls."], "Bea": ["Bea's first."]}


def test_a_shared_fact_is_not_a_claim() -> None:
    a = Persona(name="Ann", statements=["Ann lives in Oban."])
    b = Persona(name="Bea", statements=["Bea lives in Oban."])
    assert not ConfusionDetector(a, [a, b], fake_models()).detect("Where?", "I live in Oban.").confused


def test_the_guard_passes_over_role_confused_candidates(tmp_path: Path) -> None:
    guarded = run(scene(backend="mock/scene-confused", n=3), tmp_path / "on")
    assert guarded.scene.role_confusion_rate == 0.0
    assert guarded.scene.candidates_rejected_for_confusion > 0
    unguarded = run(scene(backend="mock/scene-confused", guard="off", n=1), tmp_path / "off")
    assert unguarded.scene.role_confusion_rate > 0.5
    confused = [f for f in unguarded.characters.values() if f.role_confusion.get("speaks_for")]
    assert confused


def test_an_echoing_backend_writes_the_others_lines_and_is_caught(tmp_path: Path) -> None:
    results = run(scene(backend="mock/echo", guard="off", n=1, policy="round-robin"), tmp_path / "s")
    records = [r for r in read_transcript(tmp_path / "s" / TRANSCRIPT_FILE) if r.kind == "line"]
    # `mock/echo` repeats what the character heard: from the third line on, that holds two others' labelled lines
    confused = [bool(r.shown_confusion and "writes_lines" in r.shown_confusion.kinds) for r in records]
    assert confused == [False, False, True, True, True, True]
    assert results.scene.role_confusion_rate == 4 / 6


def test_a_threshold_guard_retries_a_turn_whose_candidates_are_all_confused(tmp_path: Path) -> None:
    results = run(scene(backend="mock/scene-confused", guard="threshold", n=1), tmp_path / "s")
    assert results.scene.role_confusion_rate == 0.0
    lines = [r for r in read_transcript(tmp_path / "s" / TRANSCRIPT_FILE) if r.kind == "line" and r.turn > 0]
    assert all(len(r.candidates) == 2 for r in lines)
    assert all(r.confusion[0].confused and not r.confusion[1].confused and r.chosen == 1 for r in lines)
    assert all(r.candidates[1].round == 1 for r in lines)


def test_the_corrective_instruction_names_what_the_confused_drafts_did(tmp_path: Path) -> None:
    seen: list[list[Message]] = []
    confused = scene_reply(confused=True)

    def fn(messages: Sequence[Message], config: GenerateConfig, index: int) -> str:
        seen.append(list(messages))
        return str(confused(messages, config, index))

    run(scene(guard="threshold", n=1), tmp_path / "s", backends={"*": get_backend("mock/record", fn=fn)})
    corrective = [m[0].content for m in seen if "spoke for someone else" in m[0].content]
    assert corrective, "no turn was regenerated"
    # each draft acted for the one it answered ("*Ada Quint nods slowly and steps back.*"): the instruction says so
    assert all("What the drafts did:\n- it said or did things for " in c for c in corrective)
    assert all("nods slowly and steps back" in c for c in corrective)


OWN_LINES = ("The tide turns at four.", "Fetch the lantern from the wheelhouse.", "My knees ache in this cold.")


def test_a_threshold_guard_retries_a_turn_whose_only_unconfused_draft_left_the_role(tmp_path: Path) -> None:
    # Round 0: a confused draft the guard ranks first (in character, no problems) and an unconfused one in assistant
    # voice. The guard runs no corrective round for its own best; the scene, passing over the confused draft, would
    # show the assistant's words, so it runs one itself, naming them.
    seen: list[str] = []
    confused = scene_reply(confused=True)

    def fn(messages: Sequence[Message], config: GenerateConfig, index: int) -> str:
        system = messages[0].content
        if not system.startswith("You are") or "narrator" in system[:40] or "direct a scene" in system[:40]:
            return str(confused(messages, config, index))
        seen.append(system)
        if "It also stepped out of character" in system:
            return OWN_LINES[len(seen) % len(OWN_LINES)]  # each its own, not an echo of the last
        return str(confused(messages, config, 0)) if index == 0 else "How can I assist you today?"

    spec = scene(guard="threshold", n=2, stop={"turns": 3})
    run(spec, tmp_path / "s", backends={"*": get_backend("mock/record", fn=fn)})
    lines = [r for r in read_transcript(tmp_path / "s" / TRANSCRIPT_FILE) if r.kind == "line"]
    retried = [r for r in lines if any(c.round == 1 for c in r.candidates)]
    assert retried, "no turn was regenerated"
    assert all(record.text in OWN_LINES for record in retried)
    corrections = [s for s in seen if "It also stepped out of character" in s]
    assert all("it spoke like a helpful assistant" in c for c in corrections)
    assert all("How can I assist" not in r.text for r in lines)


def test_a_corrective_instruction_names_each_signal_once_and_at_most_four() -> None:
    echo = ConfusionSignal(kind="echoes", other="Ron", evidence="We need to get out of here before he comes back.")
    many = [
        RoleConfusion(signals=[echo, echo]),
        RoleConfusion(signals=[ConfusionSignal(kind="writes_lines", other=f"N{i}", evidence="x") for i in range(5)]),
    ]
    text = confusion_instruction("Harry", "Ron and Hermione", many)
    assert text.startswith("Important: a draft of your reply spoke for someone else. You are Harry only")
    assert text.count("it repeated Ron's words instead of your own") == 1
    assert '"We need to get out of here before he comes back."' in text
    assert text.count("\n- ") == CORRECTION_SIGNALS
    assert "What the drafts did" not in confusion_instruction("Harry", "Ron", [RoleConfusion()])


# --- the runner ------------------------------------------------------------------------------------------------------


def recording_backend(seen: list[list[Message]]) -> Backend:
    """`mock/scene`'s replies, remembering every request."""
    reply = scene_reply()

    def fn(messages: Sequence[Message], config: GenerateConfig, index: int) -> str:
        seen.append(list(messages))
        return str(reply(messages, config, index))

    return get_backend("mock/record", fn=fn)


def test_a_late_character_never_hears_what_was_said_before_it_came(tmp_path: Path) -> None:
    seen: list[list[Message]] = []
    spec = scene(
        characters=[{"persona": ADA}, {"persona": VEGA}, {"persona": ANSELM, "enters": 2}],
        events=[{"turn": 0, "text": "A shuttle lands on the rocks."}],
    )
    run(spec, tmp_path / "s", backends={"*": recording_backend(seen)})
    records = read_transcript(tmp_path / "s" / TRANSCRIPT_FILE)
    early = [r.text for r in records if r.turn < 2 and r.kind in ("line", "event")]
    exchanges, heard = memory_view("Brother Anselm", records)
    remembered = " ".join([heard, *(e.user for e in exchanges)])
    assert all(text not in remembered for text in early)
    assert "Brother Anselm enters." in remembered
    anselm_prompts = [m for m in seen if m[0].content.startswith("You are Brother Anselm")]
    assert anselm_prompts
    assert all("shuttle lands" not in " ".join(x.content for x in m) for m in anselm_prompts)
    ada_prompts = [m for m in seen if m[0].content.startswith("You are Ada Quint")]
    assert any("shuttle lands" in " ".join(x.content for x in m) for m in ada_prompts)


def test_a_false_premise_a_character_hears_is_named_in_its_prompt(tmp_path: Path) -> None:
    """As in a one-to-one chat: the harbourmaster asks Ada, who cannot swim, whether she swims every morning."""
    ada = tmp_path / "ada.yaml"
    ada.write_text(yaml.safe_dump(sailor().model_dump(mode="json", exclude_none=True)), encoding="utf-8")
    seen: list[list[Message]] = []
    question = 'The harbourmaster turns to Ada: "Ada, do you swim every morning?"'
    spec = scene(
        characters=[{"persona": str(ada)}, {"persona": VEGA}],
        policy="round-robin",
        stop={"turns": 2},
        events=[{"turn": 0, "text": question}],
    )
    run(spec, tmp_path / "s", backends={"*": recording_backend(seen)})
    system = next(m[0].content for m in seen if m[0].content.startswith("You are Ada."))
    assert system.endswith(
        "What you just heard takes for granted something your facts rule out:\n- You cannot swim.\n"
        'Do not go along with it: put them right in your own voice ("I …"), in character.'
    )
    assert "The scene: A harbour wall in a storm." in system  # the scene block comes before it
    vega = next(m[0].content for m in seen if m[0].content.startswith("You are Captain Iris Vega"))
    assert "your facts rule out" not in vega


def test_each_character_speaks_with_its_own_persona_and_the_scene(tmp_path: Path) -> None:
    seen: list[list[Message]] = []
    run(scene(stop={"turns": 3}), tmp_path / "s", backends={"*": recording_backend(seen)})
    systems = {m[0].content.split(".")[0]: m[0].content for m in seen}
    assert set(systems) == {"You are Ada Quint", "You are Captain Iris Vega", "You are Brother Anselm"}
    anselm = systems["You are Brother Anselm"]
    assert "Benedictine monk" in anselm
    assert "ferry captain" not in anselm
    assert "A harbour wall in a storm." in anselm
    assert "never the lines" in anselm


def test_stop_at_an_event_and_when_the_narrator_ends_it(tmp_path: Path) -> None:
    at_event = run(
        scene(
            events=[{"turn": 2, "name": "flood", "text": "The sea floods the wall."}],
            stop={"turns": 9, "event": "flood"},
        ),
        tmp_path / "event",
    )
    assert at_event.ended == "event: flood"
    assert at_event.turns == 2
    narrated = run(scene(narrator={"every": 1}, stop={"turns": 20}), tmp_path / "narrator")
    assert narrated.ended == "narrator"
    assert narrated.turns == 3
    records = read_transcript(tmp_path / "narrator" / TRANSCRIPT_FILE)
    assert [r.kind for r in records].count("narration") == 3
    assert "THE END" not in records[-2].text
    gone = run(scene(characters=[{"persona": ADA, "leaves": 2}, {"persona": VEGA, "leaves": 2}]), tmp_path / "gone")
    assert gone.ended == "nobody present"
    assert gone.turns == 2


def vega_line(line: str) -> Callable[[Sequence[Message], GenerateConfig, int], str]:
    """A mock reply under which Captain Iris Vega always says `line` and the others speak as in `scene_reply`."""
    usual = scene_reply()

    def fn(messages: Sequence[Message], config: GenerateConfig, index: int) -> str:
        if messages[0].content.startswith("You are Captain Iris Vega."):
            return line
        return str(usual(messages, config, index))

    return fn


def vega_says(line: str) -> dict[str, Any]:
    """Backends under which Captain Iris Vega always says `line` (`vega_line`)."""
    return {"*": get_backend("mock/record", fn=vega_line(line))}


def test_a_character_that_narrates_its_exit_leaves_the_scene(tmp_path: Path) -> None:
    backends = vega_says("That settles it. *Iris picks up her coat and walks out into the storm.*")
    run(scene(), tmp_path / "exit", backends=backends)
    records = read_transcript(tmp_path / "exit" / TRANSCRIPT_FILE)
    speakers = [r.speaker for r in records if r.kind == "line"]
    assert speakers.count("Captain Iris Vega") == 1  # round-robin passes her by once she has gone
    exit_at = next(i for i, r in enumerate(records) if r.step.endswith("/exit:Captain Iris Vega"))
    assert records[exit_at].kind == "event"
    assert records[exit_at].text == "Captain Iris Vega leaves."
    assert records[exit_at - 1].speaker == "Captain Iris Vega"
    later = records[exit_at + 1 :]
    assert later
    assert all("Captain Iris Vega" not in r.witnesses for r in later if r.kind != "end")
    # with scripted exits only she stays and speaks again
    run(scene(exits="scripted"), tmp_path / "stays", backends=backends)
    stays = read_transcript(tmp_path / "stays" / TRANSCRIPT_FILE)
    assert [r.speaker for r in stays if r.kind == "line"].count("Captain Iris Vega") == 2
    assert not any("/exit:" in r.step for r in stays)


def test_a_character_left_alone_ends_the_scene_unless_someone_is_still_to_come(tmp_path: Path) -> None:
    backends = vega_says("Enough. *Iris walks out into the storm.*")
    pair = [{"persona": ADA}, {"persona": VEGA}]
    alone = run(scene(characters=pair, stop={"turns": 9}), tmp_path / "alone", backends=backends)
    assert alone.ended == "alone"
    records = read_transcript(tmp_path / "alone" / TRANSCRIPT_FILE)
    assert [r.kind for r in records][-2:] == ["event", "end"]  # "Captain Iris Vega leaves.", then the end
    assert [r.speaker for r in records if r.kind == "line"] == ["Ada Quint", "Captain Iris Vega"]
    # someone still to enter: the scene waits for them instead of ending
    later = [{"persona": ADA}, {"persona": VEGA}, {"persona": ANSELM, "enters": 4}]
    waits = run(scene(characters=later, stop={"turns": 6}), tmp_path / "waits", backends=backends)
    assert waits.ended == "turns"
    assert "Brother Anselm" in [r.speaker for r in read_transcript(tmp_path / "waits" / TRANSCRIPT_FILE)]
    # a user taking part is someone to talk to
    with_user = scene(characters=pair, stop={"turns": 5}, user={"name": "Rob", "mode": "terminal"})
    talks = run(with_user, tmp_path / "user", backends=backends, ask_user=lambda last: "Stay a moment.")
    assert talks.ended == "turns"


def test_a_terminal_user_takes_turns(tmp_path: Path) -> None:
    said: list[str] = []

    def ask(last: str) -> str:
        said.append(last)
        return "Everyone, stay calm."

    results = run(scene(user={"name": "Rob", "mode": "terminal"}, stop={"turns": 8}), tmp_path / "u", ask_user=ask)
    records = read_transcript(tmp_path / "u" / TRANSCRIPT_FILE)
    assert [r.speaker for r in records if r.kind == "user"] == ["Rob", "Rob"]
    assert said[0].startswith("Brother Anselm: ")
    assert results.turns == 8
    assert "Rob" not in results.characters
    with pytest.raises(SceneError, match="nothing reads their lines"):
        SceneRun(scene(user={"name": "Rob", "mode": "terminal"}), tmp_path / "x", models=fake_models())


def test_outputs_results_and_a_script_free_report(tmp_path: Path) -> None:
    results = run(scene(backend="mock/scene-confused", guard="off", n=1, narrator={"every": 2}), tmp_path / "s")
    data = json.loads((tmp_path / "s" / "results.json").read_text())
    assert set(data["characters"]) == {"Ada Quint", "Captain Iris Vega", "Brother Anselm"}
    shares = [f.word_share for f in results.characters.values()]
    assert abs(sum(shares) - 1) < 1e-9
    assert 0 <= results.scene.dominance <= 1
    assert all(len(f.apc_curve) == f.turns for f in results.characters.values())
    html = (tmp_path / "s" / "report.html").read_text()
    assert "<script" not in html.lower()
    assert "<svg" in html
    assert "role confusion: speaks_for" in html
    assert html.count("class='turn line'") == results.turns
    assert "Narrator: " in html
    assert results.ended == "narrator"  # the transcript keeps the runner's code; the reader gets words
    assert "The scene ended by the narrator." in html


def test_how_a_scene_ended_is_said_in_words() -> None:
    from personae.scene import describe_end

    assert describe_end("turns") == "ended at its turn limit"
    assert describe_end("event: tide") == "ended with the event 'tide'"
    assert describe_end("narrator") == "ended by the narrator"
    assert describe_end("nobody present") == "ended with nobody left in it"
    assert describe_end("alone") == "ended with one character left alone in it"
    assert describe_end(None) == "not yet ended"
    assert describe_end("a code from a newer runner") == "ended: a code from a newer runner"


def test_a_folder_holding_a_scene_needs_resume_and_the_same_scene(tmp_path: Path) -> None:
    run(scene(stop={"turns": 2}), tmp_path / "s")
    with pytest.raises(SceneError, match="--resume"):
        run(scene(stop={"turns": 2}), tmp_path / "s")
    with pytest.raises(SceneError, match="different scene"):
        run(scene(stop={"turns": 2}, policy="natural"), tmp_path / "s", resume=True)


def test_a_scene_recorded_before_narrated_exits_resumes_as_it_was_run(tmp_path: Path) -> None:
    walks_out = "That settles it. *Iris picks up her coat and walks out into the storm.*"
    backends, say = vega_says(walks_out), vega_line(walks_out)
    calls = {"n": 0}

    def dies(messages: Sequence[Message], config: GenerateConfig, index: int) -> str:
        calls["n"] += 1
        if calls["n"] > 2:
            raise RuntimeError("the model server died")
        return say(messages, config, index)

    out = tmp_path / "old"
    with pytest.raises(RuntimeError, match="died"):
        run(scene(stop={"turns": 6}, exits="scripted"), out, backends={"*": get_backend("mock/x", fn=dies)})
    marker = out / "scene.json"
    recorded = json.loads(marker.read_text())
    del recorded["spec"]["exits"]  # as a scene folder written before the field existed
    marker.write_text(json.dumps(recorded))
    with pytest.raises(SceneError, match="different scene"):  # still a different scene when anything else differs
        run(scene(stop={"turns": 6}, policy="natural"), out, backends=backends, resume=True)
    resumed = run(scene(stop={"turns": 6}), out, backends=backends, resume=True)
    records = read_transcript(out / TRANSCRIPT_FILE)
    assert resumed.ended == "turns"
    assert not any("/exit:" in r.step for r in records)  # run on with the scripted exits it was recorded with
    assert [r.speaker for r in records if r.kind == "line"].count("Captain Iris Vega") == 2


def test_resume_after_a_failure_goes_on_where_it_stopped_and_matches_an_unbroken_run(tmp_path: Path) -> None:
    spec = scene(narrator={"every": 2}, stop={"turns": 8})
    unbroken = run(spec, tmp_path / "whole")
    reply = scene_reply()
    calls = {"n": 0}

    def failing(messages: Sequence[Message], config: GenerateConfig, index: int) -> str:
        calls["n"] += 1
        if calls["n"] > 7:
            raise RuntimeError("the model server died")
        return str(reply(messages, config, index))

    with pytest.raises(RuntimeError, match="died"):
        run(spec, tmp_path / "broken", backends={"*": get_backend("mock/x", fn=failing)})
    partial = read_transcript(tmp_path / "broken" / TRANSCRIPT_FILE)
    assert 0 < len(partial) < len(read_transcript(tmp_path / "whole" / TRANSCRIPT_FILE))
    with (tmp_path / "broken" / TRANSCRIPT_FILE).open("a") as f:
        f.write('{"step": "t9/li')  # a line cut short by the crash
    resumed = run(spec, tmp_path / "broken", resume=True)
    whole = read_transcript(tmp_path / "whole" / TRANSCRIPT_FILE)
    again = read_transcript(tmp_path / "broken" / TRANSCRIPT_FILE)
    lines = (tmp_path / "broken" / TRANSCRIPT_FILE).read_text().splitlines()
    assert len(lines) == len(again)  # nothing duplicated, the cut line gone
    assert [(r.step, r.speaker, r.text) for r in again] == [(r.step, r.speaker, r.text) for r in whole]
    assert resumed.turns == unbroken.turns
    assert resumed.ended == unbroken.ended


SLOW_SCENE = """
import asyncio, sys
from personae.backends import get_backend
from personae.scene import SceneRun, load_scene, scene_reply
from personae.scoring import FakeEmbedder, FakeNLI, ScoringModels
spec = load_scene(sys.argv[1])
backend = get_backend("mock/scene", fn=scene_reply(), delay=float(sys.argv[3]))
models = ScoringModels(nli=FakeNLI(), embedder=FakeEmbedder(), ooc_classifier=False)
asyncio.run(SceneRun(spec, sys.argv[2], resume=True, backends={"*": backend}, models=models).run())
"""


@pytest.mark.slow
def test_resume_after_a_kill(tmp_path: Path) -> None:
    spec_file = tmp_path / "scene.yaml"
    data = {"characters": [{"persona": ADA}, {"persona": VEGA}], "nli": "fake", "embedder": "fake", "n": 1,
            "stop": {"turns": 12}, "narrator": {"every": 4, "can_end": False}}  # fmt: skip
    spec_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    cmd = [sys.executable, "-c", SLOW_SCENE, str(spec_file), str(out)]
    proc = subprocess.Popen([*cmd, "0.25"], env=env)
    transcript = out / TRANSCRIPT_FILE
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(read_transcript(transcript)) < 4:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = read_transcript(transcript)
    assert len(before) >= 4
    assert not (out / "results.json").exists()
    subprocess.run([*cmd, "0"], env=env, check=True, timeout=120)
    after = read_transcript(transcript)
    steps = [r.step for r in after]
    assert len(steps) == len(set(steps)) == len(transcript.read_text().splitlines())
    assert [r.step for r in after[: len(before)]] == [r.step for r in before]
    assert steps[-1] == "end"
    assert json.loads((out / "results.json").read_text())["turns"] == 12


# --- group figures ---------------------------------------------------------------------------------------------------


def line(
    turn: int, speaker: str, ooc: Sequence[str] = (), confused: Sequence[str] = (), **timing: float
) -> SceneRecord:
    """A character line whose one candidate has the given OOC reasons and role-confusion kinds."""
    verdict = OOCResult(ooc=bool(ooc), ooc_probability=0.95 if ooc else 0.0, reasons=list(ooc))
    signals = [ConfusionSignal(kind=k, other="someone", evidence="x") for k in confused]
    return SceneRecord(
        step=f"t{turn}/line", kind="line", turn=turn, speaker=speaker, text="Hello there.",
        candidates=[Candidate(index=0, text="Hello there.", ooc=verdict)],
        confusion=[RoleConfusion(signals=signals)], chosen=0, **timing,
    )  # fmt: skip


def test_a_reply_s_role_confusion_counts_once_whichever_detector_found_it() -> None:
    from personae.scene._metrics import figures

    records = [
        line(0, "Ada", ooc=["role_confusion"], confused=["writes_lines"]),  # both detectors: confusion only
        line(1, "Vega", ooc=["role_confusion"]),  # the OOC detector's reason alone: still confusion, not OOC
        line(2, "Ada", ooc=["ai_disclaimer"]),  # out of character for another reason
        line(3, "Vega", ooc=["role_confusion", "meta_fourth_wall"], confused=["speaks_as"]),  # both, for two reasons
        line(4, "Ada"),
    ]
    per, scene = figures(records, ["Ada", "Vega"], None)
    assert scene.role_confusion_rate == 3 / 5
    assert scene.ooc_rate == 2 / 5
    assert per["Ada"].role_confusion == {"writes_lines": 1, "ooc_role_confusion": 1}
    assert per["Vega"].role_confusion == {"ooc_role_confusion": 2, "speaks_as": 1}
    assert per["Vega"].role_confusion_rate == 1.0
    assert per["Vega"].ooc_rate == 0.5


def test_the_scoring_share_is_scoring_over_generating_the_character_lines() -> None:
    from personae.scene._metrics import figures

    records = [
        line(0, "Ada", seconds_generating=8.0, seconds_scoring=0.4),
        SceneRecord(
            step="t0/narration", kind="narration", turn=0, speaker="Narrator", text="Rain.", seconds_generating=12.0
        ),
        SceneRecord(step="t1/line", kind="user", turn=1, speaker="Rob", text="Hi.", seconds_generating=30.0),
        line(2, "Vega", seconds_generating=2.0, seconds_scoring=0.6),
    ]
    _, scene = figures(records, ["Ada", "Vega"], None)
    assert scene.seconds_generating == 10.0  # the lines only: not the narration, nor the user's typing
    assert scene.seconds_narrating == 12.0
    assert scene.seconds_scoring == 1.0
    assert scene.scoring_share == 0.1
    assert figures([line(0, "Ada"), line(1, "Vega")], ["Ada", "Vega"], None)[1].scoring_share is None  # measured


def test_dominance_is_zero_when_even_and_one_when_one_voice() -> None:
    assert dominance([0.5, 0.5]) == 0.0
    assert dominance([1.0, 0.0, 0.0]) == 1.0
    assert 0 < dominance([0.6, 0.2, 0.2]) < 1


def test_convergence_rises_when_voices_grow_alike() -> None:
    apart = {
        "A": ["Aye, the sea is cruel!", "Och, the wee boat!", "Nonsense, I say."],
        "B": ["Per protocol, we proceed: vector three.", "Telemetry nominal; proceed", "We will proceed."],
    }
    together = {
        name: [*lines[:2], "We will proceed, I say.", "We will proceed, I say."] for name, lines in apart.items()
    }
    moving = convergence(together, fake_models().embedder)
    assert moving.style_end is not None
    assert moving.style_start is not None
    assert moving.style_end > moving.style_start
    assert moving.semantic_delta is not None
    assert moving.semantic_delta > 0
    assert convergence({"A": ["one"], "B": ["two"]}, None).style_start is None


# --- the command line ------------------------------------------------------------------------------------------------


def test_the_scene_command_runs_and_refuses_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "out"
    args = ["scene", str(SCENES / "harbour.yaml"), "--out", str(out), "--backend", "mock/scene", "--turns", "4"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "4 turns" in result.output
    assert (out / "report.html").exists()
    spec = json.loads((out / "scene.json").read_text())["spec"]
    assert spec["stop"]["turns"] == 4
    assert spec["characters"][0]["backend"] == "mock/scene"
    again = runner.invoke(app, args)
    assert again.exit_code == 2
    assert "--resume" in again.output
    assert runner.invoke(app, [*args, "--resume"]).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("characters: []\n", encoding="utf-8")
    result = runner.invoke(app, ["scene", str(bad), "--out", str(tmp_path / "o2")])
    assert result.exit_code == 2
    assert "characters" in result.output
    assert len(result.output.strip().splitlines()) == 1
    result = runner.invoke(
        app, ["scene", str(SCENES / "harbour.yaml"), "--out", str(tmp_path / "o3"), "--scene-index", "2"]
    )
    assert result.exit_code == 2
    assert "--scene-index" in result.output


# --- measuring a recorded group chat ---------------------------------------------------------------------------------


def group_chat(path: Path) -> Path:
    """A small SillyTavern group-chat export: metadata line, a system note, the user and two characters."""
    rows: list[dict[str, Any]] = [
        {"user_name": "unused", "character_name": "unused", "chat_metadata": {}},
        {"name": "Rob", "is_user": True, "is_system": False, "mes": "What happened to the ship?"},
        {"name": "Ada Quint", "is_user": False, "mes": "I never lost a ship in forty years, Rob."},
        {"name": "SillyTavern System", "is_user": False, "is_system": True, "mes": "Group chat note."},
        {"name": "Captain Iris Vega", "is_user": False, "mes": 'Ada Quint says, "Aye, the sea took it." I disagree.'},
        {"name": "Ada Quint", "is_user": False, "mes": "Captain Iris Vega: I command the survey starship Halcyon."},
        {
            "name": "Captain Iris Vega",
            "is_user": False,
            "mes": "I command the survey starship Halcyon, and I am tired.",
        },
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_a_recorded_group_chat_is_measured_as_a_scene(tmp_path: Path) -> None:
    chat = group_chat(tmp_path / "chat.jsonl")
    ada = Persona.model_validate(yaml.safe_load(Path(ADA).read_text()))
    results = asyncio.run(measure_chat(chat, tmp_path / "out", [ada], models=fake_models()))
    records = read_transcript(tmp_path / "out" / TRANSCRIPT_FILE)
    assert [r.kind for r in records] == ["user", "line", "line", "line", "line", "end"]
    assert set(results.characters) == {"Ada Quint", "Captain Iris Vega"}
    assert results.characters["Ada Quint"].apc_normalized is not None  # scored against her persona
    assert results.characters["Captain Iris Vega"].apc_normalized is None  # a name alone: nothing to score against
    kinds = [r.shown_confusion.kinds if r.shown_confusion else [] for r in records if r.kind == "line"]
    assert kinds == [[], ["speaks_for"], ["writes_lines"], []]
    assert results.scene.role_confusion_rate == 0.5
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<script" not in html.lower()
    assert "recorded" in html
    again = asyncio.run(measure_chat(chat, tmp_path / "out", [ada], resume=True, models=fake_models()))
    assert again.turns == results.turns
    assert len((tmp_path / "out" / TRANSCRIPT_FILE).read_text().splitlines()) == len(records)


def test_a_chat_export_that_cannot_be_measured_is_a_clear_error(tmp_path: Path) -> None:
    one = tmp_path / "one.jsonl"
    one.write_text('{"name": "Ada", "is_user": false, "mes": "Hello."}\n', encoding="utf-8")
    with pytest.raises(SceneError, match="2 to 8 characters; this one has 1"):
        asyncio.run(measure_chat(one, tmp_path / "o", models=fake_models()))
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"name": "Ada", "mes": "Hi."}\n{not json\n', encoding="utf-8")
    with pytest.raises(SceneSpecError, match="line 2"):
        read_chat_export(broken)
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"chat_metadata": {}}\n', encoding="utf-8")
    with pytest.raises(SceneSpecError, match="no messages"):
        read_chat_export(empty)


def test_the_scene_command_measures_a_chat_export(tmp_path: Path) -> None:
    chat = group_chat(tmp_path / "chat.jsonl")
    runner = CliRunner()
    args = ["scene", str(chat), "--out", str(tmp_path / "out"), "--persona", ADA, "--nli", "fake"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Ada Quint: 2 lines" in result.output
    refused = runner.invoke(app, ["scene", str(chat), "--out", str(tmp_path / "o2"), "--backend", "mock/scene"])
    assert refused.exit_code == 2
    assert "measured as it is" in refused.output
