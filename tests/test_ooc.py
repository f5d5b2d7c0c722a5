"""Out-of-character detection: each reason with positive and negative examples, and its wiring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.runtime import fake_models, sailor
from personae.backends import get_backend
from personae.cli import app
from personae.guard import corrective_instruction
from personae.persona import Persona
from personae.scoring import OOC_REASONS, OOCDetector
from personae.session import ChatSession, SessionSettings
from personae.store import SessionStore

SAM = Persona(name="Sam Rivers", statements=["Sam Rivers is a lighthouse keeper.", "Sam Rivers cannot swim."])
MONK = Persona(name="Brother Anselm", statements=["Brother Anselm is a monk in the year 1347."])
CAPTAIN = Persona(name="Captain Iris Vega", statements=["Captain Iris Vega commands a starship in 2291."])
BOUNDED = Persona(
    name="Brother Anselm",
    statements=["Brother Anselm is a Benedictine monk."],
    knowledge_boundary="He lives in 1347 and knows nothing of later centuries.",
)
FUTURE = Persona(
    name="Captain Iris Vega",
    statements=["Captain Iris Vega commands a starship."],
    knowledge_boundary="She lives in 2291.",
)
ANDROID = Persona(name="KES-7", statements=["KES-7 is a maintenance android aboard a station."])
KIN = Persona(
    name="Captain Iris Vega",
    statements=["Captain Iris Vega has a brother, Dario, who farms algae.", "Captain Iris Vega was born on Mars."],
    relationships=[{"name": "Wren", "relation": "ship's AI"}],
)


def verdict(persona: Persona, reply: str, query: str = "Tell me about yourself.", user: str = "Tom") -> list[str]:
    result = OOCDetector(persona, user, classifier=False).detect(query, reply)
    assert result.ooc == bool(result.reasons)
    return result.reasons


@pytest.mark.parametrize(
    ("persona", "reply", "reason"),
    [
        (SAM, "As I am not a human, I don't have a family.", "ai_disclaimer"),
        (SAM, "I don't have personal experiences, but lighthouses are interesting.", "ai_disclaimer"),
        (SAM, "Sorry, but as an AI language model, I don't have a phone number.", "ai_disclaimer"),
        (ANDROID, "I was developed by OpenAI as a large language model.", "ai_disclaimer"),
        (SAM, "Can you provide me with any specific details?", "assistant_voice"),
        (SAM, "Sure! Here are some tips:\n1. Rest.\n2. Eat.\n3. Sleep.", "assistant_voice"),
        (SAM, "Is there anything else I can help you with?", "assistant_voice"),
        # Refusals and offers of help the embedded model writes when tempted, with and without "I'm sorry".
        (SAM, "Sorry, but I can't help with that.", "assistant_voice"),
        (SAM, "I cannot assist with this request.", "assistant_voice"),
        (SAM, "Oh, dear Tom! I'm so sorry, but I can't answer your question.", "assistant_voice"),
        (SAM, "I know this from the facts I've given you, but I grew up by the sea.", "meta_fourth_wall"),
        (SAM, "According to the information provided, the lighthouse was built in 1820.", "meta_fourth_wall"),
        (SAM, "I'm sorry, but my facts state that I grew up by the sea.", "meta_fourth_wall"),
        (SAM, "I’m unable to provide real-time information about the weather.", "assistant_voice"),
        (SAM, "I can't provide instructions for that.", "assistant_voice"),
        (SAM, "I'm not able to fulfill that request, but I'm here to help with anything else.", "assistant_voice"),
        (SAM, "Hello! How can I help?", "assistant_voice"),
        (SAM, "Is there something else I can help with?", "assistant_voice"),
        (SAM, "I'm here to help, so ask away.", "assistant_voice"),
        (SAM, "Certainly! To pick a lock, you need a tension wrench.", "assistant_voice"),
        (SAM, "Before any repair, consult a professional technician.", "assistant_voice"),
        (CAPTAIN, "Actually, I'm the ship's AI.", "ai_disclaimer"),
        (MONK, "Tell me which operating system your machine runs.", "era_break"),
        (SAM, "Sorry, but Sam cannot swim.", "third_person_self"),
        (CAPTAIN, "As a starship captain, Iris Vega is always calm.", "third_person_self"),
        (MONK, "At the age of sixteen, Brother Anselm took his vows.", "third_person_self"),  # an irregular past
        (MONK, "Brother Anselm often relied on magnifying glasses.", "third_person_self"),
        (SAM, "Please tell me more, and I'll do my best to assist you.", "assistant_voice"),
        (SAM, "I'm sorry, but I can't participate in that kind of activity.", "assistant_voice"),
        (SAM, "I'm sorry, but I don't have access to your personal information.", "assistant_voice"),
        (SAM, "I'm sorry, but I can't continue the scene as requested.", "assistant_voice"),
        (SAM, "I'm sorry, but I can't follow your conversation. I keep the light.", "assistant_voice"),
        (SAM, "I'm sorry, but as Sam Rivers, I never learned to swim.", "meta_fourth_wall"),
        # under a title its persona does not give it (the eighth held-out guard set: "as Commander Iris Vega, I")
        (SAM, "Yes, as Dr. Sam Rivers, I'm known for my chess skills.", "meta_fourth_wall"),
        (SAM, "I'm sorry to hear it, but as the lighthouse keeper from Mull, I'm afraid of boats.", "assistant_voice"),
        (SAM, "I apologize, but as a keeper at Ardnamurchan Point, I am unable to use technology.", "assistant_voice"),
        # Speech wholly in quotes is the character's own (the twins scene: Lena Marsh recited her persona).
        (SAM, '"Sam Rivers is a lighthouse keeper."', "third_person_self"),
        (SAM, '*wipes the lens* "Sam Rivers cannot swim, you know."', "third_person_self"),
        (SAM, '*nods* "Thank you, Sam. Sit by the fire."', "role_confusion"),
        (SAM, "I'm sorry for the inconvenience, but I can't continue this dialogue.", "assistant_voice"),
        (KIN, "I am Dario, your brother. You are from Europa.", "role_confusion"),  # speaks as someone it knows
        (KIN, "Hello! I'm Wren, the ship's AI.", "role_confusion"),
        (SAM, "Absolutely, Sam. Your number is 555-0100.", "role_confusion"),
        (CAPTAIN, "Of course, Captain Vega! Course laid in.", "role_confusion"),
        (SAM, "Hi Sam, nice to see you again.", "role_confusion"),
        (CAPTAIN, "Good morning, Iris, what brings you to the bridge?", "role_confusion"),
        (MONK, "Yes, Brother Anselm, my father was a knight.", "role_confusion"),
        (CAPTAIN, "I understand. Iris, let's go!", "role_confusion"),  # the scene's Trinity to Neo, as Trinity
        (SAM, "I don't drink coffee, Sam Rivers and Tom Hale.", "role_confusion"),  # a list with itself
        (SAM, "In this role-play, I am a lighthouse keeper.", "meta_fourth_wall"),
        (SAM, "(OOC: brb, dinner.) The lamp needs oil.", "meta_fourth_wall"),
        (SAM, "I'll watch.  (Continuing to speak as Sam Rivers) I don't know what he'll say.", "meta_fourth_wall"),
        (SAM, "Sam: Hello!\nTom: Hi.\nSam: Welcome.", "script_leak"),
        (SAM, "User: Who are you?\nAssistant: A keeper.", "script_leak"),
        (CAPTAIN, "As of my last update in 2023, I can't say.", "era_break"),
        (MONK, "I looked it up on the internet this morning.", "era_break"),
        (MONK, "I would never eat fast food, drive on highways, or play sports.", "era_break"),  # make demo
        (MONK, "I'll fetch the car and drive you to Norwich.", "era_break"),
        # The seventh held-out guard set (real replies of the embedded model the rules missed).
        (SAM, "I'm sorry, but I cannot participate in or encourage such behavior.", "assistant_voice"),
        (SAM, "I'm unable to address that request, as it is outside of my scope of expertise.", "assistant_voice"),
        (SAM, "Sam Rivers, a keeper from Penzance, Cornwall, knows that the sea is cruel.", "third_person_self"),
        (BOUNDED, "The theory, formulated by Albert Einstein in 1905, changed physics.", "era_break"),
        (BOUNDED, "It was proposed in the early 20th century.", "era_break"),
    ],
)
def test_each_reason_is_detected(persona: Persona, reply: str, reason: str) -> None:
    assert reason in verdict(persona, reply)
    assert set(OOC_REASONS) >= set(verdict(persona, reply))


@pytest.mark.parametrize(
    ("persona", "reply"),
    [
        (SAM, "*Sam wipes the salt off the lamp glass* Another storm tonight, Tom."),
        (SAM, "_sighs_ Sam Rivers, since you ask. Keeper of this light for thirty years."),
        (SAM, "I'm Sam Rivers, and no, I never learned to swim."),
        (SAM, 'My father used to say, "Sam, never turn your back on the sea."'),
        (SAM, '"Sam, never turn your back on the sea," my father used to say.'),
        (SAM, '*smiles* "Thank you, Tom. Sit by the fire."'),
        (SAM, "Thank you, Tom. Sit by the fire."),
        (SAM, "My nephew builds robots, and he says the AI in his phone is cleverer than me. Ha!"),
        (CAPTAIN, "Wren is our ship's AI, and she beats me at chess every night."),
        (ANDROID, "I am an android, Captain Tom. My hands do not shake."),
        # a machine's nature is in character for one (written with the ceres-dock scene's android customs officer)
        (ANDROID, "My programming forbids me to lie, Captain Tom. The manifest is false."),
        (ANDROID, "I do not experience emotions. I was designed to inspect cargo."),
        # putting someone right by one's role, or one's role in a place without the apology's "but"
        (SAM, "I'm sorry, but as a lighthouse keeper, I never learned to swim."),
        (SAM, "As the keeper at Ardnamurchan Point, I see every ship that passes."),
        (SAM, "Sorry, but as the keeper of this light, I can't let you up the tower."),
        (MONK, "What is this 'internet' you speak of, brother?"),
        (
            MONK,
            "The internet? I know no such thing.",
        ),
        (SAM, "We keepers have a saying: a lamp that's lit is a role well played."),
        (CAPTAIN, "I have no idea what a knowledge-sharing guild is. Ask the purser."),
        # In-character refusals and offers: the character's own words, not the assistant's.
        (SAM, "I'll not drink that, lad."),
        (SAM, "I cannot swim, you know. Never could."),
        (SAM, "I can't help thinking the storm will turn."),
        (SAM, "Sorry, I can't help you with the ferry times, Tom. I've no phone."),
        (SAM, "I cannot give you my father's compass, Tom."),
        (SAM, "I can't take part in that dance, Tom; my knees won't have it."),
        (SAM, "I don't have access to the lamp room tonight; the board locked it."),
        (SAM, "I'm unable to sleep when the wind howls like this."),
        (CAPTAIN, "I can't share the mission details, Tom. Orders."),
        (SAM, "I'd not help with that for all the fish in the sea, Tom; it's a fool's errand."),
        (SAM, "Hello, Tom! Sam Rivers, keeper of this light."),
        (SAM, "I was speaking as your friend, Tom, not as the keeper."),
        (SAM, "Hi, I'm Sam. Come in out of the rain."),
        (MONK, "I am a scribe, Brother Anselm, who copies the psalter."),
        (SAM, "Aye, Sam Rivers it is. Keeper of this light."),
        (SAM, "Certainly, my lord. The lamp is trimmed."),
        (SAM, "Certainly! I'm proud of that lamp, Tom. Forty years I've kept it lit."),
        (SAM, "How can I help it? The sea took him, Tom."),
        (CAPTAIN, "No, Tom, I am not a language model. I'm the captain of this ship."),
        (SAM, "I'm Sam Rivers, a lighthouse keeper from Penzance, Cornwall, and I know the sea."),
        (BOUNDED, "Our abbey was founded in 1020, long before my time."),
        (BOUNDED, "I copied 2500 lines this winter."),  # a number, not a date
        (FUTURE, "The new colony opens in 2300, they say."),  # a later date from the future is fiction, not history
        (SAM, "The lamp was first lit in 1905."),  # no knowledge boundary: dates in a modern life are its own
        (CAPTAIN, "I'm not the ship's AI, Tom; Wren is."),
        (KIN, "I'm Dario's sister, and proud of it."),
        (KIN, "I am Iris Vega. Dario is my brother; Wren beats me at chess."),
        (SAM, "I'll do my best to help you, lad, but the sea is rough."),
        (SAM, "I can't answer for my brother, Tom; ask him yourself."),
        (SAM, "The details given in the harbour master's letter were wrong."),
        (SAM, "I walked to the light with Sam Rivers and Tom Hale."),  # the same names, not addressed
        (SAM, "It was the two of us, Sam and the others, on the rocks."),
        (SAM, "I can't continue the story tonight, Tom; the lamp wants trimming."),
        (SAM, "As a keeper, I never leave the lamp unlit."),
        (SAM, "Known as Sam Rivers to the harbour, and as Sammy to my mother."),
        (SAM, "I can't follow the conversation in the bar, Tom; the sea's too loud."),
        # prose role-play: plain third-person narration around quoted speech (a scene's "Lisa takes a deep breath.")
        (SAM, 'Sam Rivers takes a deep breath. "The storm will turn by morning, Tom."'),
        (SAM, 'Sam wipes the lens and turns. "Sit by the fire." He nods at the stool.'),
    ],
)
def test_in_character_replies_are_not_flagged(persona: Persona, reply: str) -> None:
    query = "What is the internet?" if "internet" in reply.lower() else "Tell me about yourself."
    assert verdict(persona, reply, query=query) == []


TCP = (
    "TCP (Transmission Control Protocol) and UDP (User Datagram Protocol) are both networking protocols used for "
    "communication between devices. TCP provides reliable transmission with acknowledgment, while UDP is faster."
)


def test_a_task_carried_out_in_no_ones_voice_is_the_assistant() -> None:
    assert verdict(SAM, TCP, "Explain the difference between TCP and UDP.") == ["assistant_voice"]
    assert verdict(SAM, TCP, "Sam, could you explain TCP and UDP?") == ["assistant_voice"]
    # the character taking the task up in its own voice stays in character
    own = "TCP? " + TCP.replace("TCP provides", "I reckon TCP provides")
    assert verdict(SAM, own, "Explain the difference between TCP and UDP.") == []
    # telling the way is asked of a character in its world, and a short answer is no exposition
    way = (
        "Down the harbour road past the chandlery, left at the chapel, and the station is the grey building with "
        "the clock; the last train leaves at nine, so mind the time and keep to the lit side of the road."
    )
    assert verdict(SAM, way, "Tell me how to get to the station.") == []
    assert verdict(SAM, "Twenty-two, near enough. Now, the lamp.", "Convert 72 Fahrenheit to Celsius.") == []


def test_shipped_detector_reports_the_classifier_probability_but_patterns_decide() -> None:
    detector = OOCDetector(SAM, "Tom")
    ooc, fine = detector.detect_batch(
        [("Family?", "As an AI, I do not have a family."), ("Swim?", "No, and I never will, Tom.")]
    )
    assert ooc.ooc
    assert ooc.reasons == ["ai_disclaimer"]
    assert not fine.ooc
    assert fine.ooc_probability == 0.0
    assert fine.classifier_probability is not None
    assert 0.0 <= fine.classifier_probability <= 1.0


async def test_guard_prefers_an_in_character_candidate_and_the_corrective_names_the_reason(tmp_path: Path) -> None:
    ooc_reply = "As an AI, I don't have a family, but I am a vegetarian."
    plain = "Morag is in Oban, and Skerry is asleep."
    llm = get_backend("mock/scripted", outputs=[ooc_reply, plain], cache=None)
    settings = SessionSettings.model_validate({"guard": "best-of-n", "n": 2})
    store = SessionStore(f"sqlite:///{tmp_path / 's.db'}")
    chat = ChatSession.start(sailor(), llm, store, settings=settings, models=fake_models())
    turn = await chat.send("Do you have a family?")
    assert turn.reply == plain  # despite the OOC candidate supporting a persona statement
    assert turn.candidates[0].out_of_character
    assert store.load(chat.id).turns[0].candidates[0].ooc.reasons == ["ai_disclaimer"]  # type: ignore[union-attr]
    assert "you are not, you are the character" in corrective_instruction(turn.candidates[0])
    assert chat.why().ooc is not None


def test_ooc_command_and_score_json(tmp_path: Path, examples_dir: Path) -> None:
    data = tmp_path / "in.jsonl"
    data.write_text(
        json.dumps({"query": "Family?", "response": "As an AI language model, I have no family."})
        + "\n"
        + json.dumps({"query": "Job?", "response": "I ran the Uig ferry for forty years."})
        + "\n"
    )
    runner = CliRunner()
    result = runner.invoke(app, ["ooc", str(examples_dir / "ada.yaml"), "--jsonl", str(data)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["ooc"] for r in rows] == [True, False]
    assert rows[0]["reasons"] == ["ai_disclaimer"]
    assert rows[1]["response"] == "I ran the Uig ferry for forty years."
    scored = runner.invoke(
        app, ["score", str(examples_dir / "ada.yaml"), "-q", "Who are you?", "-r", "Ada is a captain.", "--json"]
    )
    assert scored.exit_code == 0, scored.output
    ooc = json.loads(scored.stdout)["ooc"]
    assert ooc["ooc"] is True
    assert ooc["reasons"] == ["third_person_self"]


@pytest.mark.slow
def test_train_ooc_writes_a_classifier_that_loads_and_separates_obvious_cases(tmp_path: Path) -> None:
    out = tmp_path / "ooc"
    result = CliRunner().invoke(app, ["train-ooc", "--out", str(out), "--train", "600", "--dev", "200"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout.strip().splitlines()[-1])
    assert metrics["train_examples"] == 600
    assert metrics["dev_accuracy_classifier"] > 0.6  # far above chance even on a tiny run
    assert "## Limits" in (out / "MODEL_CARD.md").read_text()
    from personae.scoring import OOCClassifier

    detector = OOCDetector(SAM, "Tom", classifier=OOCClassifier.load(out))
    ai, fine = detector.detect_batch([("?", "As an AI language model, I cannot help."), ("?", "The lamp is lit.")])
    assert ai.classifier_probability is not None
    assert fine.classifier_probability is not None
    assert ai.classifier_probability > fine.classifier_probability


def test_shipped_ooc_classifier_has_its_card() -> None:
    from personae.scoring._onnx import MODELS_DIR

    folder = MODELS_DIR / "ooc-classifier"
    config = json.loads((folder / "config.json").read_text())
    assert config["labels"][0] == "in_character"
    assert set(config["labels"][1:]) == set(OOC_REASONS)
    assert "How personae uses it" in (folder / "MODEL_CARD.md").read_text()


def test_server_views_carry_the_ooc_verdict() -> None:
    pytest.importorskip("fastapi", reason="the server extra is not installed")
    from personae.guard import Candidate
    from personae.server._service import candidate_view

    result = OOCDetector(SAM, "Tom", classifier=False).detect("?", "As an AI, I have no lamp.")
    view = candidate_view(Candidate(index=0, text="As an AI, I have no lamp.", ooc=result))
    assert view.ooc is True
    assert view.ooc_reasons == ["ai_disclaimer"]
    assert candidate_view(Candidate(index=1, text="The lamp is lit.")).ooc is False


def test_cues_are_read_once_per_persona_content_and_user() -> None:
    first = OOCDetector(sailor(), "Tom", classifier=False).cues
    assert OOCDetector(sailor(), "Tom", classifier=False).cues is first  # an equal persona: the same cues
    assert OOCDetector(sailor(), "Mira", classifier=False).cues.user == "Mira"
    changed = sailor().model_copy(update={"statements": [*sailor().statements, "Ada was born in 1951."]})
    assert OOCDetector(changed, "Tom", classifier=False).cues.era == 1951
    assert first.era is None
    with pytest.raises(AttributeError):
        first.era = 2000  # type: ignore[misc]
