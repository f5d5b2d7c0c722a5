"""Untrusted files stay bounded: regex keys that cannot hang, YAML/JSON bombs and deep nesting refused with typed
errors, duplicate keys refused, non-UTF-8 text named (issue 20, findings 4, 5 and 7)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from personae._util.loading import DataFormatError, load_text
from personae._util.regexes import UnsafePatternError, compile_safe, search_safe
from personae.evals import EvalSpecError, load_spec
from personae.persona import Lorebook, LorebookEntry, PersonaFormatError, parse_persona_text
from personae.prompting import triggered_entries

# finding 4: regular expressions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(a*)*b", r"(.*a){12}", r"((ab)*c)+", r"(?:x|(y+))+z"])
def test_nested_quantifiers_are_refused_at_compile_time(pattern: str) -> None:
    with pytest.raises(UnsafePatternError, match="exponential"):
        compile_safe(pattern)


@pytest.mark.parametrize("pattern", [r"dragons?", r"\bsea\b", r"(ab|cd)+", r"colou?r", r"(?:red|blue) sky"])
def test_ordinary_patterns_compile(pattern: str) -> None:
    assert compile_safe(pattern).pattern == pattern


def test_a_slow_pattern_that_passes_the_check_is_cut_off_by_the_timeout() -> None:
    slow = compile_safe(r"(a|aa)*c")  # no nested quantifier, yet exponential on a run of a's
    started = time.perf_counter()
    assert search_safe(slow, "a" * 60, timeout=0.05) is False
    assert time.perf_counter() - started < 1.0
    assert search_safe(slow, "aac") is True


def test_a_lorebook_with_a_pathological_key_is_refused_naming_the_entry() -> None:
    text = """
name: Ada
statements: [I sail.]
lorebook:
  entries:
    - keys: [ship]
      content: Ships.
    - name: the trap
      keys: ["/(a+)+$/"]
      content: Boom.
"""
    with pytest.raises(PersonaFormatError) as caught:
        parse_persona_text(text, "ada.yaml")
    message = str(caught.value)
    assert "lorebook.entries[1]" in message
    assert "'the trap'" in message
    assert "(a+)+$" in message


def test_a_use_regex_entry_is_checked_too() -> None:
    with pytest.raises(ValueError, match="exponential"):
        LorebookEntry(keys=["(x*)*y"], content="c", extensions={"use_regex": True})


def test_triggering_on_a_hostile_message_stays_fast() -> None:
    entries = [
        LorebookEntry(keys=["/(a|aa)*c/"], content="slow but allowed"),
        LorebookEntry(keys=["/dragons?/i"], content="dragons"),
    ]
    started = time.perf_counter()
    fired = triggered_entries(Lorebook(entries=entries), ["a" * 40 + " DRAGON"])
    assert time.perf_counter() - started < 1.0
    assert [t.entry.content for t in fired] == ["dragons"]


# findings 5 and 7: YAML and JSON -----------------------------------------------------------------------------------

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(7)
)


def test_an_alias_bomb_is_refused_quickly_everywhere() -> None:
    started = time.perf_counter()
    with pytest.raises(DataFormatError, match="aliases"):
        load_text(BOMB, "bomb.yaml")
    with pytest.raises(DataFormatError, match="aliases are not accepted"):
        load_text(BOMB, "bomb.yaml", aliases=False)
    assert time.perf_counter() - started < 1.0


def test_few_aliases_that_expand_hugely_are_refused() -> None:
    levels = ["a: &a [" + ", ".join(["x"] * 100) + "]"]
    levels += [f"l{i}: &l{i} [{', '.join(['*' + ('a' if i == 0 else f'l{i - 1}')] * 5)}]" for i in range(8)]
    with pytest.raises(DataFormatError, match="expands to more than"):
        load_text("\n".join(levels), "wide.yaml")  # 41 aliases, 100 x 5^8 nodes


def test_a_few_plain_aliases_still_load() -> None:
    assert load_text("base: &b {x: 1}\nother: *b\n", "ok.yaml") == {"base": {"x": 1}, "other": {"x": 1}}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("a: " + "[" * 5000 + "]" * 5000, "yaml"),
        ("[" * 5000 + "]" * 5000, "json"),
        ("k:\n" + "".join("  " * i + "k:\n" for i in range(1, 300)), "yaml"),
    ],
)
def test_deep_nesting_is_a_typed_error_not_a_recursion_error(text: str, kind: str) -> None:
    with pytest.raises(DataFormatError, match="nests deeper than"):
        load_text(text, "deep", kind=kind)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "kind"), [("a: 1\nb: 2\na: 3\n", "yaml"), ('{"a": 1, "a": 2}', "json")])
def test_duplicate_keys_are_refused(text: str, kind: str) -> None:
    with pytest.raises(DataFormatError, match="duplicate key 'a'"):
        load_text(text, "dup", kind=kind)  # type: ignore[arg-type]


def test_persona_and_spec_files_use_the_bounded_loader(tmp_path: Path) -> None:
    persona = tmp_path / "p.yaml"
    persona.write_bytes(b"name: Ada\nstatements: [\xff]\n")
    with pytest.raises(PersonaFormatError, match="not UTF-8"):
        parse_persona_text(persona.read_bytes(), persona)
    with pytest.raises(PersonaFormatError, match="duplicate key 'name'"):
        parse_persona_text("name: Ada\nname: Bea\n", "p.yaml")
    spec = tmp_path / "spec.yaml"
    spec.write_text(BOMB)
    with pytest.raises(EvalSpecError, match="aliases"):
        load_spec(spec)
    spec.write_text("personas: " + "[" * 3000 + "]" * 3000)
    with pytest.raises(EvalSpecError, match="nests deeper"):
        load_spec(spec)
    spec.write_bytes(b"name: \xfe\xff\n")
    with pytest.raises(EvalSpecError, match="not UTF-8"):
        load_spec(spec)


# finding 6 and 8: CHARX inflation and failed imports ------------------------------------------------------------


def test_a_charx_of_many_small_zero_members_is_refused_as_a_bomb(tmp_path: Path) -> None:
    from helpers.cards import charx_with, v3_card
    from personae.interop import read_bytes

    assets = {f"assets/zeros{i}.bin": bytes(1024 * 1024) for i in range(40)}  # each exactly 1 MiB: no member check
    data = charx_with(v3_card(), assets)
    assert len(data) < 100_000
    with pytest.raises(PersonaFormatError, match="zip bomb"):
        read_bytes(data, "bomb.charx")


def test_a_failed_import_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from helpers.cards import charx_with, v3_card
    from personae.cli import app

    card = tmp_path / "card.charx"
    card.write_bytes(charx_with(v3_card(), {"assets/icon.png": b"\x89PNG not really"}))
    out = tmp_path / "out"

    def disk_full(folder: Path, assets: dict[str, bytes]) -> None:
        (folder / "assets").mkdir(parents=True)
        (folder / "assets" / "half.png").write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("personae.cli._interop._write_assets", disk_full)
    result = CliRunner().invoke(app, ["import", str(card), "--to", str(out)])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert list(out.iterdir()) == []
    monkeypatch.undo()
    result = CliRunner().invoke(app, ["import", str(card), "--to", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["mira-vale.assets", "mira-vale.yaml"]


# finding 7: the CLI's other inputs -------------------------------------------------------------------------------


def test_cli_inputs_that_are_not_utf8_or_not_folders_exit_2(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from personae.cli import app

    runner = CliRunner()
    persona = Path(__file__).resolve().parents[1] / "examples" / "personas" / "ada.yaml"
    batch = tmp_path / "batch.jsonl"
    batch.write_bytes(b'{"query": "q", "response": "r"}\n\xff\xfe garbage\n')
    result = runner.invoke(app, ["score", str(persona), "--batch", str(batch), "--nli", "fake"])
    assert result.exit_code == 2, result.output
    assert "not UTF-8" in result.stderr
    batch.write_text('{"query": "q", "query": "r", "response": "s"}\n')
    result = runner.invoke(app, ["score", str(persona), "--batch", str(batch), "--nli", "fake"])
    assert result.exit_code == 2, result.output
    assert "duplicate key 'query'" in result.stderr

    spec = tmp_path / "spec.yaml"
    spec.write_text("name: x\n")
    existing = tmp_path / "a-file"
    existing.write_text("not a folder")
    result = runner.invoke(app, ["eval", str(spec), "--out", str(existing)])
    assert result.exit_code == 2, result.output
    assert "is a file" in result.stderr


def test_garbage_appended_to_samples_is_skipped_on_resume(tmp_path: Path) -> None:
    from personae.evals import EvalSample, read_samples

    samples = tmp_path / "samples.jsonl"
    good = EvalSample(id="t/1", task="t", persona="p", status="ok")
    samples.write_bytes(good.model_dump_json().encode() + b"\n\x00\xff\xfe{binary\n" + b"[" * 5000 + b"\n")
    assert [s.id for s in read_samples(samples)] == ["t/1"]
