from __future__ import annotations

import json
from pathlib import Path

import pytest

from personae.persona import (
    Persona,
    PersonaFormatError,
    dump_persona,
    expand_macros,
    load_persona,
    render_system_prompt,
)


def test_minimal_file_with_name_and_statements_loads(minimal_persona_file: Path) -> None:
    persona = load_persona(minimal_persona_file)
    assert persona.name == "Sam Rivers"
    assert persona.statements[0] == "Sam Rivers is a lighthouse keeper."
    assert persona.slug == "sam-rivers"
    assert persona.lorebook is None
    assert persona.traits is None


def test_json_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"name": "Ada", "statements": ["Ada is a retired ferry captain."]}))
    assert load_persona(path).statements == ["Ada is a retired ferry captain."]


@pytest.mark.parametrize("name", ["ada.yaml", "anselm.yaml", "vega.yaml"])
def test_shipped_examples_load(examples_dir: Path, name: str) -> None:
    persona = load_persona(examples_dir / name)
    assert len(persona.statements) >= 10
    # Every statement names the character (the contract the scorers rely on).
    first = persona.name.split()[-1] if persona.name.startswith(("Brother", "Captain")) else persona.name
    assert all(first in s for s in persona.statements), persona.name
    assert persona.greetings


def test_non_string_statement_names_its_index(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: Ada\nstatements:\n  - Ada sails.\n  - Ada knits.\n  - Ada reads.\n  - 42\n")
    with pytest.raises(PersonaFormatError) as info:
        load_persona(path)
    assert info.value.field == "statements[3]"
    assert str(info.value) == f"{path}: statements[3]: expected a string"


def test_nested_field_path_and_missing_name(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: Ada\nlorebook:\n  - keys: [sea]\n    content: 5\n")
    with pytest.raises(PersonaFormatError, match=r"lorebook\.entries\[0\]\.content: expected a string"):
        load_persona(path)
    path.write_text("statements: [Ada sails.]\n")
    with pytest.raises(PersonaFormatError, match=r"name: required field is missing"):
        load_persona(path)


def test_trait_out_of_range_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: Ada\ntraits:\n  openness: 1.5\n")
    with pytest.raises(PersonaFormatError, match=r"traits\.openness: .*less than or equal to 1"):
        load_persona(path)


def test_lorebook_entry_without_keys_must_be_constant(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: Ada\nlorebook:\n  - content: The sea is cold.\n")
    with pytest.raises(PersonaFormatError, match=r"lorebook\.entries\[0\]: an entry needs at least one key"):
        load_persona(path)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("name: [unclosed\n", "not valid YAML"),
        ("", "expected a mapping at the top level, got empty"),
        ("- just\n- a list\n", "expected a mapping at the top level, got list"),
    ],
)
def test_unparsable_files(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(PersonaFormatError, match=reason) as info:
        load_persona(path)
    assert "\n" not in str(info.value)


def test_missing_file_is_a_format_error(tmp_path: Path) -> None:
    with pytest.raises(PersonaFormatError, match="cannot read file"):
        load_persona(tmp_path / "nope.yaml")


def test_unknown_keys_move_to_extensions_and_survive_a_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "name: Ada\nstatements: [Ada sails.]\nfavourite_colour: teal\nextensions:\n  sillytavern: {depth: 4}\n"
    )
    persona = load_persona(path)
    assert persona.extensions == {"sillytavern": {"depth": 4}, "favourite_colour": "teal"}
    out = tmp_path / "out.yaml"
    dump_persona(persona, out)
    assert load_persona(out) == persona
    out_json = tmp_path / "out.json"
    dump_persona(persona, out_json)
    assert load_persona(out_json) == persona


def test_lorebook_accepts_a_plain_list_or_an_object() -> None:
    a = Persona.model_validate({"name": "A", "lorebook": [{"keys": ["x"], "content": "X"}]})
    b = Persona.model_validate({"name": "A", "lorebook": {"entries": [{"keys": ["x"], "content": "X"}]}})
    assert a == b
    assert a.lorebook is not None
    assert a.lorebook.entries[0].priority == 0


def test_content_hash_tracks_content() -> None:
    a = Persona(name="Ada", statements=["Ada sails."])
    assert a.content_hash() == Persona(name="Ada", statements=["Ada sails."]).content_hash()
    assert a.content_hash() != Persona(name="Ada", statements=["Ada rows."]).content_hash()
    assert a.content_hash().startswith("sha256:")


def test_macros_and_system_prompt(examples_dir: Path) -> None:
    assert expand_macros("Hi {{user}}, I am {{Char}}.", char="Ada", user="Tom") == "Hi Tom, I am Ada."
    persona = load_persona(examples_dir / "anselm.yaml")
    prompt = render_system_prompt(persona, user_name="Tom")
    assert prompt.startswith("You are Brother Anselm.")
    assert "- Brother Anselm keeps bees in the abbey garden." in prompt
    assert "What you do not know: He lives in 1347" in prompt
    assert "{{" not in prompt
