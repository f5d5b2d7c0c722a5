"""`personae serve` (the HTTP server and web UI) and `personae keys create` (API keys for it)."""

from __future__ import annotations

import json
import os
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from personae.backends import check_backend_options
from personae.cli._errors import EXIT_USAGE, fail, user_errors
from personae.cli._options import BaseUrlOpt, DatabaseOpt, GuardOpt, NOpt
from personae.store import AccessStore, SessionStore


def private_files() -> None:
    """Create files 0600 and folders 0700 from here on (the server's database and eval runs hold chats and keys)."""
    os.umask(0o077)


keys_app = typer.Typer(help="API keys for `personae serve`.", no_args_is_help=True)


def _options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise fail(f"--backend-option: {pair!r} is not KEY=VALUE", EXIT_USAGE)
        try:
            options[name] = json.loads(raw)
        except json.JSONDecodeError:
            options[name] = raw
    return options


def _upstreams(pairs: list[str]) -> dict[str, dict[str, Any]]:
    """`--eval-upstream NAME=ADDRESS[@BASE_URL]` values as the config's `eval_upstreams`, each address checked."""
    found: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        name, sep, target = pair.partition("=")
        address, at, url = target.partition("@")
        if not sep or not name.strip() or not address.strip() or (at and not url.startswith(("http://", "https://"))):
            raise fail(f"--eval-upstream: {pair!r} is not NAME=ADDRESS or NAME=ADDRESS@http(s)://URL", EXIT_USAGE)
        check_backend_options(address, {})
        found[name.strip()] = {"backend": address.strip(), "base_url": url or None}
    return found


def _pass_through(values: list[str], known: Sequence[str]) -> list[str]:
    """`--pass-through` values (repeated, or comma lists) as the config's `pass_through`, each checked."""
    found: list[str] = []
    for value in values:
        for name in (part.strip() for part in value.split(",")):
            if name not in known:
                raise fail(f"--pass-through: {name!r} is not one of {', '.join(known)}", EXIT_USAGE)
            if name not in found:
                found.append(name)
    return found


@user_errors
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    db: DatabaseOpt = None,
    backend: Annotated[
        str,
        typer.Option(
            "--backend",
            "-b",
            envvar="PERSONAE_BACKEND",
            help="Upstream model address: 'embedded', 'openai/<model>', 'mock/echo'.",
        ),
    ] = "embedded",
    base_url: BaseUrlOpt = None,
    backend_option: Annotated[
        list[str] | None,
        typer.Option(
            "--backend-option",
            help="KEY=VALUE passed to the backend provider (repeatable; VALUE parsed as JSON when it can be), "
            "e.g. delay=0.5 for mock/echo.",
        ),
    ] = None,
    backend_concurrency: Annotated[
        int, typer.Option("--backend-concurrency", min=1, max=1024, help="Upstream requests in flight at once.")
    ] = 8,
    personas: Annotated[
        Path | None,
        typer.Option("--personas", help="Directory of persona files and cards every key can chat with."),
    ] = None,
    guard: GuardOpt = None,
    n: NOpt = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1, help="Default cap on tokens per reply.")] = 200,
    pass_through: Annotated[
        list[str] | None,
        typer.Option(
            "--pass-through",
            help="Chat-completion fields to forward to an OpenAI-compatible --backend instead of refusing them "
            "with a 400 (repeatable, or a comma list): tools (with functions, tool_choice, function_call, "
            "parallel_tool_calls), "
            "response_format, logprobs (with top_logprobs). A request using one gets the upstream's own reply to "
            "the persona's prompt, unguarded; with the embedded model or a mock it is still a 400.",
        ),
    ] = None,
    scoring: Annotated[
        str,
        typer.Option(
            "--scoring", help="onnx: the shipped scoring models; fake: rule-based (tests, load benchmarks); off."
        ),
    ] = "onnx",
    cors_origin: Annotated[
        list[str] | None,
        typer.Option("--cors-origin", help="Allow this browser origin (repeatable); CORS is off without it."),
    ] = None,
    evals_dir: Annotated[
        Path | None,
        typer.Option("--evals-dir", help="Folder for eval runs started through the API (default: the personae home)."),
    ] = None,
    eval_base_dir: Annotated[
        Path | None,
        typer.Option(
            "--eval-base-dir", help="Folder that paths in posted eval specs resolve against and must stay inside."
        ),
    ] = None,
    eval_upstream: Annotated[
        list[str] | None,
        typer.Option(
            "--eval-upstream",
            help="NAME=ADDRESS[@BASE_URL]: an upstream posted eval specs may name as a role's backend, called with "
            "this server's keys (repeatable), e.g. judge=openai/gpt-4o-mini. Besides these, specs may use mock/... "
            "and --backend.",
        ),
    ] = None,
    allow_any_eval_backend: Annotated[
        bool,
        typer.Option(
            "--allow-any-eval-backend",
            help="Let posted eval specs name any backend and URL; such a role must bring its own options.api_key.",
        ),
    ] = False,
    max_eval_items: Annotated[
        int, typer.Option("--max-eval-items", min=1, help="Most items one posted eval may plan (more: 413).")
    ] = 2000,
    max_evals_per_key: Annotated[
        int, typer.Option("--max-evals-per-key", min=1, help="Evals one key may run at once (more: 429).")
    ] = 2,
    scenes_dir: Annotated[
        Path | None,
        typer.Option("--scenes-dir", help="Folder for scenes run through the API (default: the personae home)."),
    ] = None,
    max_scene_turns: Annotated[
        int,
        typer.Option("--max-scene-turns", min=1, max=500, help="Most turns one posted scene may run (more: 413)."),
    ] = 60,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Server processes sharing the port and the database (e.g. one per core with a remote upstream); "
            "each checks its cached sessions against the database.",
        ),
    ] = 1,
    log_level: Annotated[str, typer.Option("--log-level", help="Uvicorn log level.")] = "info",
) -> None:
    """Serve personas as OpenAI-compatible models, the REST API and the web UI."""
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError:
        raise fail("the server needs its extra: pip install 'personae[server]'", EXIT_USAGE) from None

    from personae.server import CONFIG_ENV, PassThroughField, ServerConfig, interrupt_stale_evals

    private_files()  # the database, its WAL and eval outputs: readable by this user only (workers inherit it)

    if personas is not None and not personas.is_dir():
        raise fail(f"--personas: {personas} is not a directory", EXIT_USAGE)
    if scoring not in ("onnx", "fake", "off"):
        raise fail(f"--scoring: {scoring!r} is not one of onnx, fake, off", EXIT_USAGE)
    options = _options(backend_option or [])
    check_backend_options(backend, options)  # here, not in a server worker's traceback
    upstreams = _upstreams(eval_upstream or [])
    passed = _pass_through(pass_through or [], typing.get_args(PassThroughField))
    config = ServerConfig.model_validate(
        {
            "backend": backend,
            "base_url": base_url,
            "backend_options": options,
            "backend_concurrency": backend_concurrency,
            "database_url": db,
            "personas_dir": str(personas.resolve()) if personas else None,
            "guard": guard.value if guard else "best-of-n",
            "n": n or 4,
            "max_tokens": max_tokens,
            "pass_through": passed,
            "scoring": scoring,
            "cors_origins": cors_origin or [],
            "evals_dir": str(evals_dir.resolve()) if evals_dir else None,
            "eval_base_dir": str(eval_base_dir.resolve()) if eval_base_dir else None,
            "workers": workers,
            "eval_upstreams": upstreams,
            "allow_any_eval_backend": allow_any_eval_backend,
            "max_eval_items": max_eval_items,
            "max_evals_per_key": max_evals_per_key,
            "scenes_dir": str(scenes_dir.resolve()) if scenes_dir else None,
            "max_scene_turns": max_scene_turns,
        }
    )
    if workers > 1:
        if backend == "embedded":
            typer.echo(
                f"warning: --workers {workers} with the embedded backend loads the model {workers} times, and the "
                "workers compete for the same cores; serve the model with an OpenAI-compatible server instead",
                err=True,
            )
        # Once, before any worker starts: the workers then find the schema current and no run of theirs to mark.
        store = SessionStore(db)
        try:
            interrupt_stale_evals(AccessStore(store))
        finally:
            store.close()
    os.environ[CONFIG_ENV] = json.dumps(config.model_dump(mode="json"))
    shown = f", {workers} workers" if workers > 1 else ""
    shown += f", passing {', '.join(passed)} through" if passed else ""
    typer.echo(f"personae serving on http://{host}:{port}/ (backend {backend}, scoring {scoring}{shown})", err=True)
    uvicorn.run(
        "personae.server:app_from_env",
        factory=True,
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=30,
        workers=workers,
    )


@keys_app.command("create")
@user_errors
def create_key(
    name: Annotated[str, typer.Option("--name", help="A label for the key.")] = "default",
    db: DatabaseOpt = None,
) -> None:
    """Create an API key and print it on stdout (only its hash is stored: keep it)."""
    private_files()
    store = SessionStore(db)
    try:
        new = AccessStore(store).create_key(name)
    finally:
        store.close()
    typer.echo(new.secret)
    typer.echo(f"key {new.key.id} ({name}) created in {store.url}; it is shown only once", err=True)


@keys_app.command("list")
@user_errors
def list_keys(db: DatabaseOpt = None) -> None:
    """List the keys (id, name, when created, whether revoked); secrets are never stored, so never shown."""
    store = SessionStore(db)
    try:
        keys = AccessStore(store).list_keys()
    finally:
        store.close()
    for key in keys:
        state = "revoked" if key.revoked else "active"
        typer.echo(f"{key.id}  {state:7}  {key.created_at:%Y-%m-%d %H:%M}  {key.name}")
    if not keys:
        typer.echo(f"no keys in {store.url}; create one with `personae keys create`", err=True)


@keys_app.command("revoke")
@user_errors
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="The key's id, as `personae keys list` shows it.")],
    db: DatabaseOpt = None,
) -> None:
    """Revoke a key: every server on this database refuses it within a second; its sessions and uploads stay."""
    store = SessionStore(db)
    try:
        access = AccessStore(store)
        known = {key.id: key for key in access.list_keys()}
        if key_id not in known:
            raise fail(f"no key {key_id!r} in {store.url} (see `personae keys list`)", EXIT_USAGE)
        if not access.revoke_key(key_id):
            typer.echo(f"key {key_id} ({known[key_id].name}) was already revoked", err=True)
            return
    finally:
        store.close()
    typer.echo(f"key {key_id} ({known[key_id].name}) revoked", err=True)
