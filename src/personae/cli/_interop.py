"""`personae import`, `export` and `lint`: other tools' character files in and out, and persona checks."""

from __future__ import annotations

import json
import shutil
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
import yaml

from personae.cli._errors import EXIT_FAILURE, EXIT_USAGE, fail, user_errors
from personae.interop import (
    CARD_IMAGE,
    MAX_FILE_BYTES,
    MAX_ZIP_TOTAL_BYTES,
    PNG_SIGNATURE,
    Extractor,
    Imported,
    LLMExtractor,
    card_charx,
    card_json,
    card_png,
    extract_statements,
    lint_persona,
    lint_summary,
    persona_to_tinytroupe,
    read_chunks,
    read_file,
    read_limited,
    safe_member_name,
)
from personae.persona import Lorebook, Persona, PersonaFormatError, dump_persona, load_persona, slugify
from personae.scoring import Embedder, FakeEmbedder, OnnxEmbedder, get_nli


class OnClash(StrEnum):
    """What `import` does when the target file already exists."""

    suffix = "suffix"
    fail = "fail"


class ExportFormat(StrEnum):
    """Formats `export` writes."""

    card_v2_png = "card-v2-png"
    card_v3_json = "card-v3-json"
    charx = "charx"
    tinytroupe = "tinytroupe"


def assets_dir(persona_file: Path) -> Path:
    """Where the assets of an imported persona live: `<name>.assets/` next to its YAML file."""
    return persona_file.with_name(persona_file.stem + ".assets")


def _targets(stem: str, out_dir: Path, taken: set[Path], on_clash: OnClash, suffix: str) -> Path:
    """A path in `out_dir` for `stem` that neither exists nor was planned earlier in this run."""
    candidate = out_dir / f"{stem}{suffix}"
    number = 1
    while candidate in taken or candidate.exists() or assets_dir(candidate).exists():
        if on_clash is OnClash.fail:
            raise fail(f"{candidate}: already exists; nothing was written (use --on-clash suffix)", EXIT_USAGE)
        number += 1
        candidate = out_dir / f"{stem}-{number}{suffix}"
    taken.add(candidate)
    return candidate


def _write_assets(folder: Path, assets: dict[str, bytes]) -> None:
    for name, content in assets.items():
        if not safe_member_name(name):
            raise PersonaFormatError(folder, f"asset path {name!r} is not a safe relative path")
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def _read_assets(folder: Path) -> dict[str, bytes]:
    """The files under an assets folder by relative path (regular files only, bounded in total)."""
    assets: dict[str, bytes] = {}
    if not folder.is_dir():
        return assets
    total = 0
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        content = read_limited(path)
        total += len(content)
        if total > MAX_ZIP_TOTAL_BYTES:
            raise PersonaFormatError(folder, f"assets exceed {MAX_ZIP_TOTAL_BYTES} bytes")
        assets[path.relative_to(folder).as_posix()] = content
    return assets


def _default_picture(assets: dict[str, bytes]) -> bytes | None:
    """The imported card's own picture, else a PNG icon from a CHARX, else None (a blank image is used)."""
    if CARD_IMAGE in assets:
        return assets[CARD_IMAGE]
    for name, content in sorted(assets.items()):
        if name.startswith("assets/icon/") and content.startswith(PNG_SIGNATURE):
            try:
                read_chunks(content, name)
            except PersonaFormatError:
                continue
            return content
    return None


@user_errors
def import_command(
    files: Annotated[
        list[Path], typer.Argument(help="Cards (.png/.json/.charx), lorebooks, TinyTroupe, .jsonl, text.")
    ],
    to: Annotated[Path, typer.Option("--to", help="Folder for the persona YAML files (created if needed).")],
    on_clash: Annotated[
        OnClash, typer.Option("--on-clash", help="When a file of that name exists: add -2, -3... or fail.")
    ] = OnClash.suffix,
    fragment: Annotated[
        list[Path] | None, typer.Option("--fragment", help="TinyTroupe fragment merged into each agent (repeatable).")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Character name for plain-text files.")] = None,
    backend: Annotated[
        str | None,
        typer.Option("--backend", "-b", help="Extract statements with this LLM (default: offline sentence splitting)."),
    ] = None,
) -> None:
    """Import characters from other tools as persona YAML files; an existing file is never overwritten."""
    extract: Extractor = extract_statements
    closer = None
    if backend is not None:
        llm = LLMExtractor(backend)
        extract, closer = llm, llm.close
    try:
        results: list[Imported] = [read_file(f, extract=extract, fragments=fragment or [], name=name) for f in files]
    finally:
        if closer is not None:
            closer()
    try:
        _write_plan(results, to, on_clash)
    except OSError as exc:
        where = exc.filename or to
        raise fail(f"{where}: cannot write: {exc.strerror or exc}", EXIT_FAILURE) from None


def _write_plan(results: list[Imported], to: Path, on_clash: OnClash) -> None:
    """Choose a free file for every persona and lorebook first, then write them all.

    Everything is written into a staging folder inside `to` and moved into place only once all of it is written,
    so an import that fails half-way (a bad asset name, a full disk) leaves nothing behind.
    """
    to.mkdir(parents=True, exist_ok=True)
    taken: set[Path] = set()
    plan: list[tuple[Imported, Persona | None, Lorebook | None, Path]] = []
    for result in results:
        for one in result.personas:
            plan.append((result, one, None, _targets(one.slug, to, taken, on_clash, ".yaml")))
        for lorebook in result.lorebooks:
            stem = slugify(lorebook.name or Path(result.source).stem)
            plan.append((result, None, lorebook, _targets(stem, to, taken, on_clash, ".lorebook.yaml")))
    staging = Path(tempfile.mkdtemp(prefix=".personae-import-", dir=to))
    try:
        moves: list[Path] = []
        messages: list[str] = []
        for result, persona, book, target in plan:
            staged = staging / target.name
            moves.append(staged)
            if persona is not None:
                dump_persona(persona, staged)
                if result.assets and len(result.personas) == 1:
                    _write_assets(assets_dir(staged), result.assets)
                    moves.append(assets_dir(staged))
                entries = len(persona.lorebook.entries) if persona.lorebook else 0
                messages.append(
                    f"{result.source} -> {target} ({persona.name}: {len(persona.statements)} statements, "
                    f"{len(persona.greetings)} greetings, {entries} lorebook entries)"
                )
            elif book is not None:
                data = book.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
                text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
                staged.write_text(text, encoding="utf-8")
                messages.append(f"{result.source} -> {target} (lorebook: {len(book.entries)} entries)")
        for staged in moves:
            staged.rename(to / staged.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for message in messages:
        typer.echo(message)


@user_errors
def export_command(
    persona_file: Annotated[Path, typer.Argument(help="Persona file (YAML or JSON).")],
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="Output format.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file.")],
    image: Annotated[
        Path | None,
        typer.Option("--image", help="PNG to embed the card in (default: the imported picture or a blank)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --out if it exists.")] = False,
) -> None:
    """Export a persona as a character card (V2+V3 PNG, V3 JSON, CHARX) or a TinyTroupe agent."""
    persona = load_persona(persona_file)
    if out.exists() and not force:
        raise fail(f"{out}: already exists (use --force to overwrite)", EXIT_USAGE)
    assets = _read_assets(assets_dir(persona_file))
    content: bytes
    if fmt is ExportFormat.card_v2_png:
        if image is not None:
            content = card_png(persona, read_limited(image, MAX_FILE_BYTES), image)
        else:
            content = card_png(persona, _default_picture(assets), assets_dir(persona_file) / CARD_IMAGE)
    elif fmt is ExportFormat.card_v3_json:
        content = card_json(persona).encode("utf-8")
    elif fmt is ExportFormat.charx:
        content = card_charx(persona, assets)
    else:
        content = (json.dumps(persona_to_tinytroupe(persona), ensure_ascii=False, indent=4) + "\n").encode("utf-8")
    try:
        out.write_bytes(content)
    except OSError as exc:
        raise fail(f"{out}: cannot write: {exc.strerror or exc}", EXIT_FAILURE) from None
    typer.echo(f"{persona_file} -> {out} ({fmt.value}, {len(content)} bytes)")


@user_errors
def lint_command(
    persona_file: Annotated[Path, typer.Argument(help="Persona file (YAML or JSON).")],
    nli: Annotated[
        str,
        typer.Option("--nli", help="NLI binding for contradiction checks (shipped, fake, onnx:DIR, ...) or 'none'."),
    ] = "shipped",
    threshold: Annotated[float, typer.Option(help="P(contradiction), both ways, from which a pair is reported.")] = 0.8,
) -> None:
    """Report what a persona is missing or gets wrong, including contradicting statements; exit 1 on findings."""
    persona = load_persona(persona_file)
    model = None if nli == "none" else get_nli(nli)
    embedder: Embedder | None = None
    if model is not None:
        embedder = FakeEmbedder() if nli == "fake" else OnnxEmbedder()
    issues = lint_persona(persona, model, threshold, embedder)
    for issue in issues:
        typer.echo(f"{persona_file}: {issue}")
    counts = lint_summary(issues)
    typer.echo(f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} notes")
    if counts["error"] or counts["warning"]:
        raise typer.Exit(EXIT_FAILURE)
