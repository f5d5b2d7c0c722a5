from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from helpers.cards import SHARED_CARDS_REASON, b64, charx_with, png_with, text_chunk, v1_card, v2_card, v3_card
from personae.interop import (
    CARD_IMAGE,
    blank_png,
    card_charx,
    card_json,
    card_png,
    card_v2,
    card_v3,
    parse_mes_example,
    read_bytes,
    read_chunks,
    read_file,
    read_text_chunks,
    render_mes_example,
)
from personae.persona import Persona, PersonaFormatError, dump_persona, load_persona

SHARED_CARDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "cards" / "real"


def _only(data: bytes, name: str) -> Persona:
    result = read_bytes(data, name)
    assert len(result.personas) == 1
    return result.personas[0]


def _chunk_card(png: bytes, keyword: str) -> dict[str, Any]:
    card: dict[str, Any] = json.loads(base64.b64decode(read_text_chunks(png)[keyword]))
    return card


def test_v2_json_maps_every_card_field_to_the_persona() -> None:
    persona = _only(json.dumps(v2_card()).encode(), "mira.json")
    assert persona.name == "Mira Vale"
    assert "Mira Vale is a lighthouse keeper on the island of Rook." in persona.statements
    assert "Mira Vale lives alone with a cat." in persona.statements  # "She" → the name
    assert "Mira Vale's father built the lighthouse." in persona.statements
    assert "Mira Vale's personality: stubborn, kind, dry humour." in persona.statements
    assert persona.greetings == [v2_card()["data"]["first_mes"], *v2_card()["data"]["alternate_greetings"]]
    assert [[line.role for line in d] for d in persona.example_dialogues] == [["user", "char"], ["user", "char"]]
    assert persona.example_dialogues[1][1].content == "The cat disagrees.\nShe smiles."
    assert persona.lorebook is not None
    assert persona.lorebook.name == "Rook"
    assert persona.lorebook.scan_depth == 3
    first, second = persona.lorebook.entries
    assert first.keys == ["lighthouse", "lamp"]
    assert first.extensions["probability"] is None  # card extensions are kept as they are
    assert second.constant
    assert second.priority == 5
    assert second.case_sensitive
    assert second.name == "island"
    kept = persona.extensions["chara_card"]["data"]
    assert kept["system_prompt"] == "Write {{char}}'s next reply. {{original}}"
    assert kept["post_history_instructions"] == "Stay in character."
    assert kept["description"] == v2_card()["data"]["description"]  # the original text is kept
    assert kept["acme_unknown_data_field"] == "kept"


@pytest.mark.parametrize("make", [v1_card, v2_card, v3_card])
def test_every_version_reads_from_json(make: Any) -> None:
    persona = _only(json.dumps(make()).encode(), "card.json")
    assert persona.name == "Mira Vale"
    assert persona.greetings[0].startswith("*Mira holds up a lantern.*")


def test_v2_and_v3_of_the_same_card_give_the_same_persona_apart_from_v3_fields() -> None:
    v2 = _only(json.dumps(v2_card()).encode(), "a.json")
    v3 = _only(json.dumps(card_v3(v2)).encode(), "b.json")
    assert v3 == v2


@pytest.mark.parametrize("kind", ["tEXt", "zTXt", "iTXt"])
@pytest.mark.parametrize("before_idat", [True, False])
def test_png_card_is_found_in_any_text_chunk_type_before_or_after_idat(kind: str, before_idat: bool) -> None:
    png = png_with([text_chunk("chara", b64(v2_card()), kind)], before_idat=before_idat)
    assert _only(png, "mira.png").name == "Mira Vale"


def test_png_prefers_ccv3_over_chara() -> None:
    other = v2_card()
    other["data"]["name"] = "Old Name"
    png = png_with([text_chunk("chara", b64(other)), text_chunk("ccv3", b64(v3_card()))])
    persona = _only(png, "mira.png")
    assert persona.name == "Mira Vale"
    assert persona.extensions["chara_card"]["data"]["nickname"] == "Keeper"


def test_png_export_writes_both_chunks_and_keeps_the_image_bytes() -> None:
    persona = _only(json.dumps(v2_card()).encode(), "mira.json")
    image = png_with([text_chunk("Comment", b"hello")])
    out = card_png(persona, image)
    assert _chunk_card(out, "chara")["spec"] == "chara_card_v2"
    assert _chunk_card(out, "ccv3")["spec"] == "chara_card_v3"
    image_chunks = [c for c in read_chunks(image) if c.type != b"IEND"]
    out_chunks = [c for c in read_chunks(out) if c.type not in (b"IEND",)]
    assert out_chunks[: len(image_chunks)] == image_chunks  # IHDR, IDAT, other text: byte for byte
    assert _only(out, "out.png") == persona


def test_v2_card_written_back_equals_the_original_card() -> None:
    original = v2_card()
    persona = _only(json.dumps(original).encode(), "mira.json")
    written = card_v2(persona)
    original["data"]["character_book"]["entries"][1].pop("acme_unknown_entry_field")
    written["data"]["character_book"]["entries"][1].pop("acme_unknown_entry_field")
    assert written == original
    assert card_v2(persona)["data"]["character_book"]["entries"][1]["acme_unknown_entry_field"] == {"nested": [1, None]}


def test_round_trip_v2_png_to_v3_json_to_charx_to_v2_png_keeps_every_field(tmp_path: Path) -> None:
    original = v2_card()
    png = png_with([text_chunk("chara", b64(original))])
    step1 = _only(png, "a.png")
    step2 = _only(card_json(step1).encode(), "b.json")
    step3 = _only(card_charx(step2, {"assets/other/notes.txt": b"hi"}), "c.charx")
    final_png = card_png(step3, blank_png())
    step4 = _only(final_png, "d.png")
    assert step1 == step2 == step3 == step4
    assert _chunk_card(final_png, "chara") == original


def test_round_trip_from_v3_keeps_v3_only_fields() -> None:
    original = v3_card()
    persona = _only(json.dumps(original).encode(), "mira.json")
    again = _only(card_charx(_only(card_png(persona), "x.png")), "x.charx")
    assert card_v3(again) == original


def test_null_fields_are_treated_as_absent() -> None:
    card = v2_card()
    card["data"]["character_book"] = None
    card["data"]["alternate_greetings"] = None
    card["data"]["tags"] = None
    persona = _only(json.dumps(card).encode(), "mira.json")
    assert persona.lorebook is None
    assert len(persona.greetings) == 1
    assert "character_book" not in card_v2(persona)["data"]
    assert card_v2(persona)["data"]["tags"] == []


def test_charx_reads_card_and_assets(tmp_path: Path) -> None:
    data = charx_with(v3_card(), {"assets/icon/images/main.png": blank_png(), "x_app.json": b"{}"})
    result = read_bytes(data, "mira.charx")
    assert result.personas[0].name == "Mira Vale"
    assert set(result.assets) == {"assets/icon/images/main.png", "x_app.json"}


def test_persona_fields_without_a_card_field_survive_a_card_round_trip(examples_dir: Path) -> None:
    ada = load_persona(examples_dir / "ada.yaml")
    back = _only(card_png(ada), "ada.png")
    assert back.name == ada.name
    assert back.statements == ada.statements
    assert back.traits == ada.traits
    assert back.goals == ada.goals
    assert back.relationships == ada.relationships
    assert back.greetings == ada.greetings
    assert back.example_dialogues == ada.example_dialogues
    assert back.lorebook == ada.lorebook


def test_mes_example_parsing_and_rendering() -> None:
    text = "<START>\n{{user}}: Hi\n{{char}}: Hello.\nMira: Also me.\n<START>\nno speaker here"
    dialogues = parse_mes_example(text, "Mira")
    assert len(dialogues) == 1
    assert [(line.role, line.content) for line in dialogues[0]] == [
        ("user", "Hi"),
        ("char", "Hello."),
        ("char", "Also me."),
    ]
    assert parse_mes_example(render_mes_example(dialogues), "Mira") == dialogues


def test_imported_persona_survives_yaml_and_writes_the_same_card(tmp_path: Path) -> None:
    persona = _only(json.dumps(v2_card()).encode(), "mira.json")
    dump_persona(persona, tmp_path / "mira.yaml")
    again = load_persona(tmp_path / "mira.yaml")
    assert again == persona
    assert card_v2(again) == card_v2(persona)


def test_edited_statements_are_written_into_the_description() -> None:
    persona = _only(json.dumps(v2_card()).encode(), "mira.json")
    edited = persona.model_copy(update={"statements": ["Mira Vale keeps bees."]})
    assert card_v2(edited)["data"]["description"] == "Mira Vale keeps bees."
    assert card_v2(persona)["data"]["description"] == v2_card()["data"]["description"]


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda c: c["data"].update(name=""), "data.name: the card has no name"),
        (lambda c: c["data"].update(name=7), "data.name: expected a string"),
        (lambda c: c["data"].update(alternate_greetings="hi"), "data.alternate_greetings: expected a list of strings"),
        (lambda c: c["data"]["character_book"].update(entries={}), "data.character_book.entries: expected a list"),
        (
            lambda c: c["data"]["character_book"]["entries"][0].update(keys=[]),
            "data.character_book.entries[0]: an entry needs at least one key unless it is constant",
        ),
        (lambda c: c.update(spec="chara_card_v9"), "unknown card spec 'chara_card_v9'"),
        (lambda c: c.update(data=[]), "data: expected a mapping"),
    ],
)
def test_malformed_cards_raise_format_errors_naming_file_and_field(mutate: Any, reason: str) -> None:
    card = copy.deepcopy(v2_card())
    mutate(card)
    with pytest.raises(PersonaFormatError) as info:
        read_bytes(json.dumps(card).encode(), "bad.json")
    assert str(info.value) == f"bad.json: {reason}"


def test_standalone_lorebooks_v3_and_world_info() -> None:
    book = {"spec": "lorebook_v3", "data": v3_card()["data"]["character_book"]}
    result = read_bytes(json.dumps(book).encode(), "rook.json")
    assert result.personas == []
    assert len(result.lorebooks) == 1
    assert result.lorebooks[0].entries[1].name == "island"
    world = {
        "entries": {
            "0": {
                "uid": 0,
                "key": ["tide"],
                "keysecondary": [],
                "comment": "Tides",
                "content": "Tides.",
                "constant": False,
                "selective": False,
                "order": 50,
                "position": 0,
                "disable": True,
            }
        }
    }
    wi = read_bytes(json.dumps(world).encode(), "world.json").lorebooks[0]
    assert wi.name == "world"
    entry = wi.entries[0]
    assert (entry.keys, entry.name, entry.insertion_order, entry.enabled) == (["tide"], "Tides", 50, False)
    assert entry.extensions["world_info"] == {"uid": 0, "selective": False, "position": 0}


def test_real_seraphina_card_imports_and_round_trips_through_png() -> None:
    path = SHARED_CARDS / "default_Seraphina.png"
    if not path.exists():
        pytest.skip(SHARED_CARDS_REASON)
    result = read_file(path)
    persona = result.personas[0]
    assert persona.name == "Seraphina"
    assert persona.lorebook is not None
    assert len(persona.lorebook.entries) == 4
    assert persona.greetings
    assert persona.greetings[0].startswith("*You wake with a start")
    png = card_png(persona, result.assets[CARD_IMAGE])
    assert read_bytes(png, "again.png").personas[0] == persona
    original = json.loads(base64.b64decode(read_text_chunks(path.read_bytes())["chara"]))
    written = _chunk_card(png, "chara")
    written["data"]["character_book"].pop("extensions")  # spec-required, absent from the original
    assert written == original


def test_real_world_info_file_imports() -> None:
    path = SHARED_CARDS / "Eldoria.json"
    if not path.exists():
        pytest.skip(SHARED_CARDS_REASON)
    book = read_file(path).lorebooks[0]
    assert book.name == "Eldoria"
    assert len(book.entries) == 4
    assert book.entries[0].keys[0] == "eldoria"


def test_real_seraphina_round_trips_v2_png_to_v3_json_to_charx_to_v2_png() -> None:
    path = SHARED_CARDS / "default_Seraphina.png"
    if not path.exists():
        pytest.skip(SHARED_CARDS_REASON)
    result = read_file(path)
    step1 = result.personas[0]
    step2 = _only(card_json(step1).encode(), "b.json")
    step3 = _only(card_charx(step2), "c.charx")
    final = card_png(step3, result.assets[CARD_IMAGE])
    assert _only(final, "d.png") == step1
    original = json.loads(base64.b64decode(read_text_chunks(path.read_bytes())["chara"]))
    written = _chunk_card(final, "chara")
    assert written["data"]["character_book"].pop("extensions") == {}  # spec-required, absent from the original
    assert written == original


def test_persona_fields_in_card_extensions_are_restored_or_kept_or_reported() -> None:
    card = v2_card()
    card["data"]["extensions"]["personae"] = {"goals": ["Keep the light."], "extensions": [1], "future": True}
    persona = _only(json.dumps(card).encode(), "mira.json")
    assert persona.goals == ["Keep the light."]
    kept = persona.extensions["chara_card"]["data"]["extensions"]["personae"]
    assert kept == {"extensions": [1], "future": True}
    assert card_v2(persona)["data"]["extensions"]["personae"] == card["data"]["extensions"]["personae"]
    card["data"]["extensions"]["personae"] = {"traits": {"openness": 7}}
    with pytest.raises(PersonaFormatError, match=r"^bad.json: traits.openness: "):
        read_bytes(json.dumps(card).encode(), "bad.json")


def test_non_mapping_in_the_personae_namespace_does_not_break_export() -> None:
    card = v2_card()
    card["data"]["extensions"]["personae"] = [1, 2]
    persona = _only(json.dumps(card).encode(), "mira.json")
    assert card_v2(persona)["data"]["extensions"]["personae"] == [1, 2]
    edited = persona.model_copy(update={"goals": ["Rest."]})
    assert card_v2(edited)["data"]["extensions"]["personae"] == {"goals": ["Rest."]}


def test_a_newer_spec_version_is_written_back_unchanged() -> None:
    card = v3_card()
    card["spec_version"] = "3.1"
    persona = _only(json.dumps(card).encode(), "mira.json")
    assert card_v3(persona)["spec_version"] == "3.1"
    assert card_v2(persona)["spec_version"] == "2.0"
