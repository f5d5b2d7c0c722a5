"""The `personae` command line: thin commands over the library's public functions."""

from __future__ import annotations

import sys

import typer
from typer.exceptions import TyperException

from personae import __version__
from personae.cli import _cache, _memory
from personae.cli._audit import audit_command
from personae.cli._chat import chat
from personae.cli._demo import demo
from personae.cli._eval import eval_command, report_command
from personae.cli._interop import export_command, import_command, lint_command
from personae.cli._pairs import export_pairs
from personae.cli._scene import scene_command
from personae.cli._score import nli_command, ooc_command, score
from personae.cli._serve import keys_app, serve
from personae.cli._train import calibrate_nli, train_gate, train_nli, train_ooc

app = typer.Typer(
    name="personae",
    help="Persona-driven role-playing agents that stay in character, measurably.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("chat")(chat)
app.command("demo")(demo)
app.command("score")(score)
app.command("nli")(nli_command)
app.command("ooc")(ooc_command)
app.command("train-nli")(train_nli)
app.command("train-gate")(train_gate)
app.command("train-ooc")(train_ooc)
app.command("calibrate-nli")(calibrate_nli)
app.command("export-pairs")(export_pairs)
app.command("import")(import_command)
app.command("export")(export_command)
app.command("lint")(lint_command)
app.command("eval")(eval_command)
app.command("report")(report_command)
app.command("audit")(audit_command)
app.command("scene")(scene_command)
app.add_typer(_cache.app, name="cache")
app.command("serve")(serve)
app.add_typer(keys_app, name="keys")
app.add_typer(_memory.app, name="memory")


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Persona-driven role-playing agents that stay in character, measurably."""


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: usage errors end in one `error:` line naming the command, exit code 2."""
    try:
        code = app(args=argv, prog_name="personae", standalone_mode=False)
    except TyperException as exc:  # click's exceptions, as vendored by typer
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ != "NoArgsIsHelpError":  # `personae` or a group alone: typer printed its help
            command = ctx.command_path if ctx is not None else "personae"
            hint = f" (see '{command} --help')" if exc.exit_code == 2 else ""
            print(f"error: {command}: {' '.join(exc.format_message().split())}{hint}", file=sys.stderr)
        code = exc.exit_code
    except typer.Abort:
        print("error: aborted", file=sys.stderr)
        code = 1
    sys.exit(code if isinstance(code, int) else 0)


__all__ = ["app", "main"]
