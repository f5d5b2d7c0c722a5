"""`personae cache`: inspect and clear the request cache."""

from __future__ import annotations

import typer

from personae.backends import cache_clear, cache_prune, cache_size, default_cache_path

app = typer.Typer(help="Manage the request cache.", no_args_is_help=True)


@app.command("clear")
def clear() -> None:
    """Delete every cached response."""
    removed = cache_clear()
    typer.echo(f"removed {removed} cached responses from {default_cache_path()}")


@app.command("prune")
def prune() -> None:
    """Delete expired cached responses."""
    typer.echo(f"removed {cache_prune()} expired responses")


@app.command("size")
def size() -> None:
    """Print how many responses are cached."""
    typer.echo(f"{cache_size()} cached responses in {default_cache_path()}")
