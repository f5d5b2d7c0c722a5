from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from personae.backends import RequestCache
from personae.cli import app, main

runner = CliRunner()


def test_chat_one_shot_message_prints_the_reply(minimal_persona_file: Path) -> None:
    result = runner.invoke(
        app,
        ["chat", str(minimal_persona_file), "--backend", "mock/echo", "--guard", "off", "--message", "What do you do?"],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "You said: What do you do?\n"


def test_chat_interactive_streams_and_quits(examples_dir: Path) -> None:
    result = runner.invoke(
        app,
        ["chat", str(examples_dir / "ada.yaml"), "--backend", "mock/echo", "--user", "Tom"],
        input="Hi Ada\n\n/quit\n",
    )
    assert result.exit_code == 0, result.output
    assert "Kettle's on." in result.stdout  # greeting with {{user}} expanded
    assert "Aye, come in out of the wind, Tom." in result.stdout
    assert "Ada Quint: You said: Hi Ada" in result.stdout


def test_malformed_persona_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: Ada\nstatements:\n  - Ada sails.\n  - [not, a, string]\n")
    env = {**os.environ, "PERSONAE_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, "-m", "personae", "chat", str(bad), "--backend", "mock/echo", "--message", "hi"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == f"error: {bad}: statements[1]: expected a string\n"


def test_usage_errors_are_one_line_naming_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, message in [
        (["chat", "--bogus"], "error: personae chat: No such option: --bogus"),
        (["score"], "error: personae score: Missing argument 'persona_file'."),
        (["memory", "show", "--limit", "x"], "error: personae memory show: No such option: --limit"),
    ]:
        with pytest.raises(SystemExit) as ended:
            main(argv)
        assert ended.value.code == 2, argv
        err = capsys.readouterr().err
        assert err.startswith(message), err
        assert err.count("\n") == 1, err  # one line: no usage block, no box
    with pytest.raises(SystemExit) as ended:  # help still works and exits 0
        main(["lint", "--help"])
    assert ended.value.code == 0
    assert "Usage: personae lint" in capsys.readouterr().out


def test_unknown_backend_exits_2_with_a_message(minimal_persona_file: Path) -> None:
    result = runner.invoke(app, ["chat", str(minimal_persona_file), "--backend", "nope", "--message", "hi"])
    assert result.exit_code == 2  # bad input, like any other usage error
    assert "unknown backend 'nope'" in result.stderr


def test_serve_refuses_a_misspelt_backend_option_before_starting() -> None:
    result = runner.invoke(app, ["serve", "--backend", "mock/echo", "--backend-option", "delya=0.5"])
    assert result.exit_code == 2
    assert "mock/echo has no option 'delya' (did you mean 'delay'?)" in result.stderr


def test_cache_size_and_clear(tmp_path: Path) -> None:
    from personae.backends import BackendOutput, Choice, default_cache_path

    RequestCache(default_cache_path()).put("k", BackendOutput(model="m", choices=[Choice(text="x")]))
    assert runner.invoke(app, ["cache", "size"]).stdout.startswith("1 cached responses")
    result = runner.invoke(app, ["cache", "clear"])
    assert result.exit_code == 0
    assert result.stdout.startswith("removed 1 cached responses")
    assert RequestCache(default_cache_path()).size() == 0
    # The cache lives under the isolated test home, never the user's.
    assert str(default_cache_path()).startswith(os.environ["PERSONAE_HOME"])


def test_demo_runs_a_scripted_conversation_on_the_mock(examples_dir: Path) -> None:
    result = runner.invoke(app, ["demo", str(examples_dir / "vega.yaml"), "--backend", "mock/echo", "--no-score"])
    assert result.exit_code == 0, result.output
    assert "You said: What do you do for a living?" in result.stdout
    assert "4 turns" in result.stdout
