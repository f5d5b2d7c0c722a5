from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.cards import tinytroupe_agent as agent
from helpers.cards import tinytroupe_fragment as fragment
from personae.backends import get_backend
from personae.interop import (
    LLMExtractor,
    deep_merge,
    extract_statements,
    lint_persona,
    persona_from_tinytroupe,
    persona_to_tinytroupe,
    read_bytes,
    read_file,
)
from personae.interop._llm import chunk_text, dedupe_by_embedding, parse_statement_lines
from personae.persona import Persona, PersonaFormatError
from personae.scoring import FakeEmbedder, FakeNLI

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
TINYTROUPE = SHARED / "tinytroupe"
PERSONAGYM = SHARED / "personagym" / "benchmark_v1.jsonl"


def test_tinytroupe_agent_maps_to_statements_traits_goals_and_relationships() -> None:
    persona = persona_from_tinytroupe(agent(), "nora.agent.json")
    assert persona.name == "Nora Holt"
    for statement in (
        "Nora Holt is 41 years old.",
        "Nora Holt works as Baker at Holt & Sons.",
        "Nora Holt runs the ovens.",
        "Nora Holt is patient with apprentices.",
        "Nora Holt is interested in sourdough.",
        "Nora Holt likes early mornings.",
        "Nora Holt dislikes waste.",
        "Nora Holt is proficient in laminated doughs.",
        "Nora Holt believes that bread should be affordable.",
        "Nora Holt hums while kneading.",
        "Nora Holt wakes at 3 AM.",
        "Nora Holt grew up above the bakery.",
    ):
        assert statement in persona.statements
    assert persona.traits is not None
    assert (persona.traits.openness, persona.traits.neuroticism, persona.traits.extraversion) == (0.8, 0.2, 0.5)
    assert persona.traits.agreeableness is None
    assert persona.speaking_style == "Warm and brisk."
    assert persona.goals == ["Open a second shop."]
    assert persona.relationships[0].name == "Sam"
    assert persona.relationships[0].relation == "apprentice"


def test_fragment_deep_merge_concatenates_lists_merges_maps_and_replaces_scalars() -> None:
    merged = deep_merge(agent()["persona"], fragment()["persona"])
    assert merged["preferences"]["likes"] == ["Early mornings", "Debates"]  # no repeat
    assert merged["preferences"]["dislikes"] == ["Waste"]  # untouched branch kept
    assert merged["behaviors"]["general"] == ["Hums while kneading."]
    assert merged["behaviors"]["debate"] == ["Interrupts to make a point."]
    assert merged["beliefs"] == ["Bread should be affordable.", "Winning a debate is a matter of honour."]
    assert merged["age"] == 42
    persona = persona_from_tinytroupe(agent(), "nora.agent.json", [fragment()])
    assert "Nora Holt believes that winning a debate is a matter of honour." in persona.statements
    assert "Nora Holt interrupts to make a point." in persona.statements
    assert "Nora Holt is 42 years old." in persona.statements


def test_fragment_alone_is_refused_and_bad_agents_name_the_field() -> None:
    with pytest.raises(PersonaFormatError, match="fragment is not an agent"):
        read_bytes(json.dumps(fragment()).encode(), "frag.json")
    bad = agent()
    bad["persona"]["name"] = ""
    with pytest.raises(PersonaFormatError, match=r"^nora.json: persona.name: expected a non-empty string$"):
        read_bytes(json.dumps(bad).encode(), "nora.json")


def test_tinytroupe_export_keeps_the_original_and_adds_edits() -> None:
    persona = persona_from_tinytroupe(agent(), "nora.agent.json")
    assert persona_to_tinytroupe(persona) == agent()
    edited = persona.model_copy(update={"statements": [*persona.statements, "Nora Holt keeps bees."]})
    out = persona_to_tinytroupe(edited)
    assert out["persona"]["other_facts"] == ["You grew up above the bakery.", "Nora Holt keeps bees."]
    native = Persona(name="Ada", statements=["Ada sails."], goals=["Retire."], traits={"openness": 0.9})
    exported = persona_to_tinytroupe(native)
    assert exported["type"] == "TinyPerson"
    assert exported["persona"]["other_facts"] == ["Ada sails."]
    assert exported["persona"]["personality"]["big_five"]["openness"] == "High"
    again = persona_from_tinytroupe(exported, "x.json")
    assert again.traits is not None
    assert again.traits.openness == 0.8
    assert again.goals == ["Retire."]


def test_the_seven_shared_tinytroupe_agents_import_with_fragments() -> None:
    if not TINYTROUPE.exists():
        pytest.skip("../shared/data/tinytroupe not present")
    agents = sorted(TINYTROUPE.glob("*.agent.json"))
    assert len(agents) == 7
    fragments = sorted(TINYTROUPE.glob("*.fragment.json"))
    for path in agents:
        persona = read_file(path).personas[0]
        assert persona.statements
        assert persona.traits is not None
        merged = read_file(path, fragments=fragments).personas[0]
        assert len(merged.statements) > len(persona.statements)


def test_personagym_lines_become_personas() -> None:
    lines = [
        {"id": 0, "persona": "A 71-year-old retired nurse from Italy", "questions": {"x": ["q"]}},
        {"id": 1, "persona": "An astronaut who loves jazz"},
    ]
    data = "\n".join(json.dumps(line) for line in lines).encode()
    personas = read_bytes(data, "bench.jsonl").personas
    assert [p.name for p in personas] == ["Persona 0", "Persona 1"]
    assert personas[0].statements == ["Persona 0 is a 71-year-old retired nurse from Italy."]
    assert personas[0].extensions["personagym"] == {"id": 0, "questions": {"x": ["q"]}}
    with pytest.raises(PersonaFormatError, match=r"^bench.jsonl:2: persona: expected a non-empty string$"):
        read_bytes(b'{"id": 0, "persona": "A cook"}\n{"id": 1}\n', "bench.jsonl")


def test_shared_personagym_benchmark_imports() -> None:
    if not PERSONAGYM.exists():
        pytest.skip("../shared/data/personagym not present")
    personas = read_file(PERSONAGYM).personas
    assert len(personas) == 200
    assert all(p.statements for p in personas)


def test_plain_text_and_wiki_files(tmp_path: Path) -> None:
    wiki = tmp_path / "ada.wiki"
    wiki.write_text(
        "== Ada Quint ==\n'''Ada Quint''' is a [[ferry|ferry captain]] from [[Skye]].{{citation needed}}\n"
        "She retired in 2015. Her dog is called Bran.\n",
        encoding="utf-8",
    )
    persona = read_file(wiki).personas[0]
    assert persona.name == "Ada Quint"
    assert persona.statements == [
        "Ada Quint is a ferry captain from Skye.",
        "Ada Quint retired in 2015.",
        "Ada Quint's dog is called Bran.",
    ]
    text = tmp_path / "notes.txt"
    text.write_text("I am a beekeeper. I keep six hives.", encoding="utf-8")
    assert read_file(text, name="Tom").personas[0].statements == ["Tom is a beekeeper.", "Tom keeps six hives."]
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n", encoding="utf-8")
    with pytest.raises(PersonaFormatError, match="no statements"):
        read_file(empty)


def test_offline_extraction_rewrites_pronouns_and_skips_dialogue() -> None:
    text = (
        '[Mira\'s body= "red hair", "tall"]\nShe is a healer. {{char}} lives in a glade.\n'
        "<START>\n{{user}}: hi\n{{char}}: hello\nHe's kind."
    )
    assert extract_statements(text, "Mira") == [
        "Mira's body: red hair, tall.",
        "Mira is a healer.",
        "Mira lives in a glade.",
        "Mira is kind.",
    ]


def test_offline_extraction_keeps_abbreviations_inside_their_sentence() -> None:
    # Neo's description in CharacterBox's Matrix scenes: "a.k.a." once ended a statement ("The protagonist, a.k.a.")
    text = "The protagonist, a.k.a. The One, with the ability to manipulate the Matrix. He is determined."
    assert extract_statements(text, "Neo") == [
        "The protagonist, a.k.a. The One, with the ability to manipulate the Matrix.",
        "Neo is determined.",
    ]
    text = "She keeps tools, e.g. Hammers and saws. She met Dr. Reed, i.e. Her doctor, in St. Ives."
    assert extract_statements(text, "Mira") == [
        "Mira keeps tools, e.g. Hammers and saws.",
        "Mira met Dr. Reed, i.e. Her doctor, in St. Ives.",
    ]


def test_a_description_s_phrases_get_the_character_as_subject() -> None:
    # the shapes of CharacterBox's character descriptions
    text = (
        "A skilled hacker and elite warrior of the resistance. Humorous, impulsive, and loyal. Rides a motorcycle. "
        "Skilled in dueling, he is known for his reflexes. Its body glows. Harry's best friend. The One, calm. "
        "The Matrix is a simulation. Ron is brave. Never drinks."
    )
    assert extract_statements(text, "Ron Weasley", describes=True) == [
        "Ron Weasley is a skilled hacker and elite warrior of the resistance.",
        "Ron Weasley is humorous, impulsive, and loyal.",
        "Ron Weasley rides a motorcycle.",
        "Skilled in dueling, Ron Weasley is known for his reflexes.",
        "Ron Weasley's body glows.",
        "Ron Weasley is Harry's best friend.",
        "Ron Weasley is The One, calm.",
        "The Matrix is a simulation.",  # a verb and a subject of its own
        "Ron is brave.",  # names him already
        "Ron Weasley never drinks.",
    ]
    assert extract_statements("A skilled hacker.", "Trinity") == ["A skilled hacker."]  # only when asked


async def test_llm_extraction_parses_lines_and_dedupes_by_embedding() -> None:
    reply = "1. Mira is a healer.\n- Mira lives in a glade.\n\n* Mira is a healer!\nMira has red hair."
    backend = get_backend("mock/scripted", outputs=[reply], cache=None)
    extractor = LLMExtractor(backend, embedder=FakeEmbedder(), threshold=0.9)
    try:
        statements = await _in_thread(extractor, "She heals. She lives in a glade. Red hair.", "Mira")
    finally:
        extractor.close()
    assert statements == ["Mira is a healer.", "Mira lives in a glade.", "Mira has red hair."]
    history = backend.api.history  # type: ignore[attr-defined]
    assert "Character: Mira" in history[0][0][1].content


async def _in_thread(extractor: LLMExtractor, text: str, name: str) -> list[str]:
    import asyncio

    return await asyncio.to_thread(extractor, text, name)


def test_llm_helpers() -> None:
    assert parse_statement_lines("1) A b.\n\n- C d.\n#") == ["A b.", "C d."]
    pieces = chunk_text("First sentence here. " * 400, limit=500)
    assert all(len(p) <= 500 for p in pieces)
    assert " ".join(pieces).split() == ("First sentence here. " * 400).split()
    assert dedupe_by_embedding(["Ada sails.", "Ada sails!", "Ada bakes."], FakeEmbedder(), 0.95) == [
        "Ada sails.",
        "Ada bakes.",
    ]


def test_card_import_with_llm_extractor_uses_its_statements() -> None:
    from helpers.cards import v2_card

    backend = get_backend("mock/scripted", outputs=["Mira Vale keeps the Rook light."] * 3, cache=None)
    extractor = LLMExtractor(backend, embedder=FakeEmbedder())
    try:
        persona = read_bytes(json.dumps(v2_card()).encode(), "mira.json", extract=extractor).personas[0]
    finally:
        extractor.close()
    assert persona.statements == ["Mira Vale keeps the Rook light."]


def test_lint_reports_missing_malformed_and_contradicting_statements() -> None:
    persona = Persona(
        name="Ada Quint",
        statements=[
            "Ada Quint is a vegetarian.",
            "Ada Quint is not a vegetarian.",
            "She sails every day.",
            "The ferry is red.",
            "Ada Quint is a vegetarian.",
            "{{char}} likes tea.",
        ],
    )
    issues = [str(i) for i in lint_persona(persona, FakeNLI(), threshold=0.8, embedder=FakeEmbedder())]
    assert "warning statements[0]: contradicts statements[1] (p=0.85): 'Ada Quint is not a vegetarian.'" in issues
    assert "warning statements[2]: starts with a pronoun; statements should name the character" in issues
    assert "warning statements[3]: does not name Ada Quint" in issues
    assert "warning statements[4]: repeats statements[0]" in issues
    assert "warning statements[5]: contains a {{char}} macro; write the name" in issues
    assert "info greetings: none: chats start without an in-character opening" in issues
    assert next(str(i) for i in lint_persona(Persona(name="X"))) == (
        "error statements: none: the persona has no facts to stay faithful to"
    )


def test_lint_of_a_clean_example_has_no_errors(examples_dir: Path) -> None:
    from personae.persona import load_persona

    issues = lint_persona(load_persona(examples_dir / "ada.yaml"), FakeNLI(), embedder=FakeEmbedder())
    assert [i for i in issues if i.level == "error"] == []


def test_lint_flags_remote_asset_uris_and_empty_lore() -> None:
    from helpers.cards import v3_card

    card = v3_card()
    card["data"]["assets"] = [
        {"type": "icon", "uri": "https://example.invalid/a.png", "name": "main", "ext": "png"},
        {"type": "icon", "uri": "embeded://assets/icon/images/b.png", "name": "b", "ext": "png"},
    ]
    card["data"]["character_book"]["entries"][0]["content"] = " "
    persona = read_bytes(json.dumps(card).encode(), "mira.json").personas[0]
    issues = [str(i) for i in lint_persona(persona)]
    assert "info extensions.chara_card.data.assets[0]: remote URI 'https://example.invalid/a.png' is never fetched" in (
        issues
    )
    assert not any("assets[1]" in i for i in issues)
    assert "warning lorebook.entries[0].content: empty" in issues
