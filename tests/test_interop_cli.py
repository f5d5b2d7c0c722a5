from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.cards import SHARED_CARDS_REASON, b64, charx_with, png_with, text_chunk, v2_card, v3_card, ztxt_bomb
from helpers.cards import tinytroupe_agent as agent
from helpers.cards import tinytroupe_fragment as fragment
from personae.cli import app
from personae.interop import read_file, read_text_chunks
from personae.persona import load_persona

runner = CliRunner()
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SERAPHINA = SHARED / "cards" / "real" / "default_Seraphina.png"


def _run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PERSONAE_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "personae", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def bomb_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "bomb.png"
    path.write_bytes(ztxt_bomb())  # a 1 GiB-when-inflated zTXt `chara` chunk, about 1 MB on disk
    return path


def _bad_inputs(tmp_path: Path, bomb_png: Path) -> dict[str, tuple[Path, str]]:
    good_png = png_with([text_chunk("chara", b64(v2_card()))])
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good_png[: len(good_png) // 2])
    traversal = tmp_path / "evil.charx"
    traversal.write_bytes(charx_with(v3_card(), raw_names={"../../etc/evil.txt": b"x"}))
    return {
        "truncated": (truncated, f"error: {truncated}: truncated PNG: chunk "),
        "traversal": (traversal, f"error: {traversal}: CHARX member name '../../etc/evil.txt' is unsafe"),
        "bomb": (bomb_png, f"error: {bomb_png}: PNG zTXt chunk 'chara': inflates past the "),
    }


@pytest.mark.slow
@pytest.mark.parametrize("case", ["truncated", "traversal", "bomb"])
def test_hostile_files_exit_2_with_one_line_and_no_traceback(case: str, tmp_path: Path, bomb_png: Path) -> None:
    path, prefix = _bad_inputs(tmp_path, bomb_png)[case]
    out = tmp_path / "out"
    proc = _run("import", str(path), "--to", str(out), home=tmp_path / "home")
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.startswith(prefix)
    assert proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr
    assert not out.exists() or not any(out.iterdir())


def test_zip_bomb_member_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.charx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("card.json", json.dumps(v3_card()))
        archive.writestr("assets/other/zeros.bin", b"\0" * (64 * 1024 * 1024))
    result = runner.invoke(app, ["import", str(path), "--to", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "looks like a zip bomb" in result.stderr


def test_import_writes_yaml_and_assets_and_never_overwrites(tmp_path: Path) -> None:
    card = tmp_path / "mira.png"
    card.write_bytes(png_with([text_chunk("chara", b64(v2_card()))]))
    out = tmp_path / "out"
    first = runner.invoke(app, ["import", str(card), "--to", str(out)])
    assert first.exit_code == 0, first.output
    assert f"-> {out / 'mira-vale.yaml'} (Mira Vale: " in first.stdout
    assert (out / "mira-vale.assets" / "card.png").is_file()
    before = (out / "mira-vale.yaml").read_bytes()
    second = runner.invoke(app, ["import", str(card), "--to", str(out)])
    assert second.exit_code == 0
    assert (out / "mira-vale-2.yaml").is_file()
    assert (out / "mira-vale.yaml").read_bytes() == before
    third = runner.invoke(app, ["import", str(card), "--to", str(out), "--on-clash", "fail"])
    assert third.exit_code == 2
    assert "already exists; nothing was written" in third.stderr
    assert sorted(p.name for p in out.glob("*.yaml")) == ["mira-vale-2.yaml", "mira-vale.yaml"]


def test_two_inputs_with_the_same_name_in_one_run_get_distinct_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(v2_card()))
    b.write_text(json.dumps(v3_card()))
    result = runner.invoke(app, ["import", str(a), str(b), "--to", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["mira-vale-2.yaml", "mira-vale.yaml"]


def test_export_formats_and_reimport(tmp_path: Path) -> None:
    card = tmp_path / "mira.png"
    image = png_with([text_chunk("chara", b64(v2_card()))])
    card.write_bytes(image)
    out = tmp_path / "out"
    assert runner.invoke(app, ["import", str(card), "--to", str(out)]).exit_code == 0
    persona_file = out / "mira-vale.yaml"
    persona = load_persona(persona_file)
    for fmt, name in (("card-v2-png", "x.png"), ("card-v3-json", "x.json"), ("charx", "x.charx")):
        target = tmp_path / name
        result = runner.invoke(app, ["export", str(persona_file), "--format", fmt, "--out", str(target)])
        assert result.exit_code == 0, result.output
        assert read_file(target).personas[0] == persona
    with zipfile.ZipFile(tmp_path / "x.charx") as archive:
        assert sorted(archive.namelist()) == ["card.json", "card.png"]
    chunks = read_text_chunks((tmp_path / "x.png").read_bytes())
    assert json.loads(base64.b64decode(chunks["chara"])) == v2_card()
    tt = tmp_path / "x.agent.json"
    assert runner.invoke(app, ["export", str(persona_file), "-f", "tinytroupe", "-o", str(tt)]).exit_code == 0
    assert json.loads(tt.read_text())["persona"]["name"] == "Mira Vale"
    again = runner.invoke(app, ["export", str(persona_file), "-f", "charx", "-o", str(tmp_path / "x.charx")])
    assert again.exit_code == 2
    assert "already exists (use --force" in again.stderr


def test_import_tinytroupe_with_fragment_and_lorebook(tmp_path: Path) -> None:
    a, f = tmp_path / "nora.agent.json", tmp_path / "debater.fragment.json"
    a.write_text(json.dumps(agent()))
    f.write_text(json.dumps(fragment()))
    book = tmp_path / "rook.json"
    book.write_text(json.dumps({"spec": "lorebook_v3", "data": v3_card()["data"]["character_book"]}))
    result = runner.invoke(app, ["import", str(a), str(book), "--fragment", str(f), "--to", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    nora = load_persona(tmp_path / "out" / "nora-holt.yaml")
    assert "Nora Holt interrupts to make a point." in nora.statements
    assert (tmp_path / "out" / "rook.lorebook.yaml").is_file()


def test_lint_command(tmp_path: Path, minimal_persona_file: Path) -> None:
    clean = runner.invoke(app, ["lint", str(minimal_persona_file), "--nli", "fake"])
    assert clean.exit_code == 0, clean.output
    assert clean.stdout.endswith("0 errors, 0 warnings, 3 notes\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: Sam\nstatements:\n  - Sam is a vegetarian.\n  - Sam is not a vegetarian.\n  - She sails.\n")
    result = runner.invoke(app, ["lint", str(bad), "--nli", "fake"])
    assert result.exit_code == 1
    assert f"{bad}: warning statements[0]: contradicts statements[1]" in result.stdout
    assert f"{bad}: warning statements[2]: starts with a pronoun" in result.stdout


def test_unrecognised_and_missing_files_exit_2(tmp_path: Path) -> None:
    junk = tmp_path / "junk.json"
    junk.write_text('{"hello": 1}')
    result = runner.invoke(app, ["import", str(junk), "--to", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.stderr == f"error: {junk}: not a recognised format (character card, lorebook, TinyTroupe agent)\n"
    missing = runner.invoke(app, ["import", str(tmp_path / "nope.png"), "--to", str(tmp_path / "o")])
    assert missing.exit_code == 2
    assert "cannot read file" in missing.stderr


def test_seraphina_acceptance(tmp_path: Path) -> None:
    if not SERAPHINA.exists():
        pytest.skip(SHARED_CARDS_REASON)
    out = tmp_path / "out"
    result = runner.invoke(app, ["import", str(SERAPHINA), "--to", str(out)])
    assert result.exit_code == 0, result.output
    persona = load_persona(out / "seraphina.yaml")
    assert persona.name == "Seraphina"
    assert persona.lorebook is not None
    assert len(persona.lorebook.entries) == 4
    assert persona.greetings
    png = tmp_path / "seraphina.png"
    assert (
        runner.invoke(app, ["export", str(out / "seraphina.yaml"), "-f", "card-v2-png", "-o", str(png)]).exit_code == 0
    )
    assert runner.invoke(app, ["import", str(png), "--to", str(out)]).exit_code == 0
    assert load_persona(out / "seraphina-2.yaml") == persona
    original_image = read_file(SERAPHINA).assets["card.png"]
    assert read_file(png).assets["card.png"] == original_image  # the picture survives byte for byte


def test_png_export_of_a_charx_import_uses_its_png_icon(tmp_path: Path) -> None:
    icon = png_with([text_chunk("Comment", b"icon")])
    charx = tmp_path / "mira.charx"
    charx.write_bytes(charx_with(v3_card(), {"assets/icon/images/main.png": icon}))
    out = tmp_path / "out"
    assert runner.invoke(app, ["import", str(charx), "--to", str(out)]).exit_code == 0
    png = tmp_path / "mira.png"
    result = runner.invoke(app, ["export", str(out / "mira-vale.yaml"), "-f", "card-v2-png", "-o", str(png)])
    assert result.exit_code == 0, result.output
    assert read_text_chunks(png.read_bytes())["comment"] == b"icon"


def test_unwritable_target_and_bad_image_are_one_line_errors(tmp_path: Path) -> None:
    card = tmp_path / "mira.json"
    card.write_text(json.dumps(v2_card()))
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    result = runner.invoke(app, ["import", str(card), "--to", str(blocker)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {blocker}: cannot write: ")
    assert runner.invoke(app, ["import", str(card), "--to", str(tmp_path / "out")]).exit_code == 0
    not_png = tmp_path / "photo.png"
    not_png.write_bytes(b"GIF89a...")
    out = tmp_path / "x.png"
    bad = runner.invoke(
        app,
        [
            "export",
            str(tmp_path / "out" / "mira-vale.yaml"),
            "-f",
            "card-v2-png",
            "-o",
            str(out),
            "--image",
            str(not_png),
        ],
    )
    assert bad.exit_code == 2
    assert bad.stderr == f"error: {not_png}: not a PNG file (bad signature)\n"
    assert not out.exists()


def test_import_with_an_llm_backend_takes_statements_from_the_model(tmp_path: Path) -> None:
    card = tmp_path / "mira.json"
    card.write_text(json.dumps(v2_card()))
    result = runner.invoke(app, ["import", str(card), "--to", str(tmp_path / "out"), "--backend", "mock/echo"])
    assert result.exit_code == 0, result.output
    statements = load_persona(tmp_path / "out" / "mira-vale.yaml").statements
    # mock/echo answers "You said: <prompt>", so each statement is a line of the prompt sent for extraction.
    assert statements[0] == "You said: Character: Mira Vale"
    assert "Statements about Mira Vale:" in statements
