"""Scenes over HTTP: run a scene with its turns streamed as server-sent events, talk in it, read it back.

The user talking in a scene is the web UI's group chat. A scene runs through the scene runner
(`personae.scene.SceneRun`) exactly as `personae scene` does, in a worker thread with its own event loop (as eval
runs do), into its own folder under the server's scene folder, one folder per key: a key reads only its own scenes.
Characters are the key's personas (by id) or inline personas; every role's backend is bound by the same upstream
policy as posted evals; the server's own scoring models score.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import re
import secrets
import shutil
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from personae._util.loading import DataFormatError, Kind, load_text
from personae._util.paths import home_dir
from personae.backends import Backend, BackendSettings, get_backend
from personae.evals import EvalSpecError, RoleSpec
from personae.persona import Persona, PersonaError
from personae.scene import (
    RESULTS_FILE,
    SCENE_FILE,
    TRANSCRIPT_FILE,
    AwaitUser,
    SceneError,
    SceneRecord,
    SceneResults,
    SceneRun,
    SceneSpec,
    describe_end,
    read_transcript,
    scene_from_data,
    scene_mock_options,
)
from personae.scoring import ScoringModels
from personae.server._auth import KeyDep
from personae.server._errors import ApiError, client_error
from personae.server._service import CandidateView, NotFoundError, Service, candidate_view
from personae.server._sse import EventStream, LastEvents
from personae.server._upstreams import UpstreamPolicy
from personae.store import ApiKey

SPEC_SOURCE = "scene"
"""What errors in a posted scene are located in."""
META_FILE = "server.json"
"""The server's own notes on a scene (persona ids by character, the user's name), inside its folder."""
_ID = re.compile(r"^[0-9a-f]{12}$")

SceneStatus = Literal["running", "waiting", "finished", "interrupted"]
"""`running`: generating now (until its thread's run is over, whether or not anyone reads its stream); `waiting`:
paused at the user's turn; `finished`: ended; `interrupted`: stopped before it ended or reached the user's turn (by an
error, reported as the stream's `error` event, or a server restart)."""


class SceneCharacter(BaseModel):
    """A character of a served scene, with the persona it plays."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    name: str
    """The character's name (the speaker of its lines)."""
    persona_id: str | None
    """The key's persona it was started from (None: an inline persona)."""
    avatar_url: str | None = None
    """Where its persona's picture is served, if it has one."""


class SceneTurn(BaseModel):
    """One step of a served scene: a character's line with its scores, the user's line, a narration or an event."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    step: str
    """Step id within the scene (`t3/line`)."""
    kind: str
    """`line` (a character), `user`, `narration`, `event` or `end`."""
    turn: int
    """Speaking turns before this step."""
    speaker: str | None
    """Who spoke (a character, the user, `Narrator`); None for events and the end."""
    persona_id: str | None = None
    """The speaking character's persona id, when it came from the key's personas."""
    text: str
    """What was said or happened (for `end`: the runner's code for why the scene ended, `turns`, `event: tide`)."""
    ended: str | None = None
    """For `end`: how the scene ended, in words ("ended at its turn limit"; `describe_end`), for clients to show."""
    why: str | None = None
    """Why this speaker (the turn policy's reason)."""
    candidate: CandidateView | None = None
    """The line spoken, with its scores (faithfulness, out of character, contradictions, the why)."""
    candidates: int = 0
    """Candidates the guard chose among."""
    role_confusion: list[dict[str, str]] = Field(default_factory=list)
    """Role-confusion signals of the line spoken (`kind`, `other`, `evidence`); empty: none."""


class SceneView(BaseModel):
    """A served scene: who is in it, where it stands, its turns, and its figures."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    id: str
    """Scene id."""
    name: str
    """The scene's name."""
    status: SceneStatus
    """Where it stands."""
    characters: list[SceneCharacter]
    """Its characters, in the scene's order."""
    user_name: str | None
    """The user's name when they take part."""
    turns: list[SceneTurn] = Field(default_factory=list)
    """Every step so far, in order."""
    results: dict[str, Any] | None = None
    """results.json (per-character and per-scene figures) once written: at the end, or at each pause."""


class UserLine(BaseModel):
    """Body of `POST /v1/scenes/{id}/messages`."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    content: str = Field(min_length=1, max_length=8000)
    """What the user says in the scene."""


def _event(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def scene_turn(record: SceneRecord, persona_ids: dict[str, str]) -> SceneTurn:
    """The API view of a transcript record."""
    shown, confusion = record.shown, record.shown_confusion
    return SceneTurn(
        step=record.step,
        kind=record.kind,
        turn=record.turn,
        speaker=record.speaker,
        persona_id=persona_ids.get(record.speaker or ""),
        text=record.text,
        ended=describe_end(record.text) if record.kind == "end" else None,
        why=record.why,
        candidate=candidate_view(shown) if shown is not None else None,
        candidates=len(record.candidates),
        role_confusion=[s.model_dump() for s in confusion.signals] if confusion else [],
    )


class _Thread:
    """A scene run in its own thread and event loop; its new records and its end go to the server's loop.

    `on_end` is called once when the run is over, however it ended, on the server's loop just before the result is
    queued: what it frees is free before the stream can pass the result on, and whether or not anyone reads it.
    """

    def __init__(self, run: SceneRun, loop: asyncio.AbstractEventLoop, on_end: Callable[[_Thread], None]) -> None:
        self.queue: asyncio.Queue[SceneRecord | SceneResults | BaseException] = asyncio.Queue()
        self._loop = loop
        self._on_end = on_end
        run.on_record = self._post
        self.run = run
        self.thread = threading.Thread(target=self._main, name="personae-scene", daemon=True)
        self.thread.start()

    def _post(self, record: SceneRecord) -> None:
        with contextlib.suppress(RuntimeError):  # the server's loop has closed: nobody is listening
            self._loop.call_soon_threadsafe(self.queue.put_nowait, record)

    def _main(self) -> None:
        try:
            result: SceneResults | BaseException = asyncio.run(self.run.run())
        except BaseException as exc:  # handed to the server's loop, which reports it in the stream
            result = exc
        try:
            self._loop.call_soon_threadsafe(self._end, result)
        except RuntimeError:  # the server's loop has closed: nobody reads the result, but the end still counts
            self._on_end(self)

    def _end(self, result: SceneResults | BaseException) -> None:
        """On the server's loop: the run is over; `on_end`, then the result for the stream."""
        try:
            self._on_end(self)
        finally:
            self.queue.put_nowait(result)


class ServerScenes:
    """The scenes of one server: each in a folder of its key's, run in a worker thread, streamed while it runs."""

    def __init__(self, service: Service, out_root: Path | None = None) -> None:
        self.service = service
        self.config = service.config
        self.out_root = out_root or self.config.scenes_dir or home_dir() / "server-scenes"
        self.policy = UpstreamPolicy(self.config)
        self._running: dict[str, tuple[str, _Thread | None]] = {}
        """Scenes generating in this process (or being prepared: no thread yet), by id, with their key's id: each
        holds a slot of its key's quota from `_prepare` until its thread's run is over (`_release`)."""

    # parsing --------------------------------------------------------------------------------------------------------

    def parse(self, key: ApiKey, body: bytes, content_type: str) -> tuple[SceneSpec, dict[str, str]]:
        """A posted scene, validated within the server's limits, its personas resolved; and persona ids by name.

        A character's `persona` is one of the key's persona ids or an inline persona (never a file of the server's);
        without a `backend` every role speaks through the server's own upstream.
        """
        kind: Kind = "yaml" if "yaml" in content_type else "json"
        try:
            data = load_text(body, SPEC_SOURCE, kind=kind, aliases=False)
        except DataFormatError as exc:
            raise ApiError(400, f"{SPEC_SOURCE}: {exc.reason}", param=exc.field or "body") from None
        if not isinstance(data, dict):
            raise ApiError(400, f"{SPEC_SOURCE}: expected a mapping at the top level", param="body")
        data = {"backend": self.config.backend, **data}  # every role on the server's own upstream unless named
        characters = data.get("characters")
        if isinstance(characters, list) and len(characters) > self.config.max_scene_characters:
            raise ApiError(
                413,
                f"characters: {len(characters)} characters, over the server's limit of "
                f"{self.config.max_scene_characters}",
                param="characters",
                code="too_large",
            )
        ids: dict[int, str] = {}
        if isinstance(characters, list):
            resolved = []
            for i, entry in enumerate(characters):
                if isinstance(entry, dict) and isinstance(entry.get("persona"), str):
                    persona = self._persona(key, entry["persona"], f"characters[{i}].persona")
                    ids[i] = entry["persona"]
                    entry = {**entry, "persona": persona.model_dump(mode="json", exclude_none=True)}
                resolved.append(entry)
            data = {**data, "characters": resolved}
        try:
            spec = scene_from_data(data, SPEC_SOURCE)
        except SceneError as exc:
            raise ApiError(400, str(exc), param=getattr(exc, "field", None)) from None
        if spec.stop.turns > self.config.max_scene_turns:
            raise ApiError(
                413,
                f"stop.turns: {spec.stop.turns} turns, over the server's limit of {self.config.max_scene_turns}",
                param="stop.turns",
                code="too_large",
            )
        self.bind(spec)  # refuses backends the server does not allow, before anything runs
        return spec, {n: ids[i] for i, n in enumerate(self._names(spec)) if i in ids}

    def _persona(self, key: ApiKey, persona_id: str, field: str) -> Persona:
        try:
            persona = self.service.persona(key, persona_id)
        except NotFoundError:
            raise ApiError(400, f"{field}: no persona {persona_id!r} for this key", param=field) from None
        if len(persona.statements) > self.config.max_persona_statements:
            raise ApiError(
                413,
                f"{field}: persona {persona_id!r} has {len(persona.statements)} statements, over the server's limit "
                f"of {self.config.max_persona_statements}",
                param=field,
                code="too_large",
            )
        return persona

    @staticmethod
    def _names(spec: SceneSpec) -> list[str]:
        names = []
        for c in spec.characters:
            persona = c.persona
            names.append(str(persona.get("name", "")) if isinstance(persona, dict) else persona)
        return names

    def bind(self, spec: SceneSpec) -> dict[str, RoleSpec]:
        """Each backend address the scene names, bound to an upstream the operator allows (the evals' policy)."""
        fields = [("backend", spec.backend)]
        fields += [(f"characters[{i}].backend", c.backend) for i, c in enumerate(spec.characters) if c.backend]
        if spec.narrator and spec.narrator.backend:
            fields.append(("narrator.backend", spec.narrator.backend))
        if spec.director:
            fields.append(("director", spec.director))
        bound: dict[str, RoleSpec] = {}
        for field, address in fields:
            if address in bound:
                continue
            try:
                bound[address] = self.policy.role(RoleSpec(backend=address), field.removesuffix(".backend"))
            except EvalSpecError as exc:
                message = str(exc).replace(f"{SPEC_SOURCE}: ", "", 1).replace("spec: ", "", 1)
                raise ApiError(400, f"{field}: {message.split(': ', 1)[-1]}", param=field) from None
        return bound

    def _factory(self, spec: SceneSpec) -> Callable[[str], Backend]:
        bound = self.bind(spec)
        settings = BackendSettings(max_concurrency=self.config.backend_concurrency)

        def make(address: str) -> Backend:
            role = bound[address]
            options = {**scene_mock_options(role.backend), **role.options}
            return get_backend(role.backend, settings=settings, cache=None, **options)

        return make

    # running --------------------------------------------------------------------------------------------------------

    def _folder(self, key: ApiKey, scene_id: str) -> Path:
        if not _ID.match(scene_id) or not re.match(r"^[\w-]{1,64}$", key.id):
            raise NotFoundError(f"no scene {scene_id!r}")
        return self.out_root / key.id / scene_id

    def _check_quota(self, key: ApiKey) -> None:
        mine = [owner for owner, _ in list(self._running.values()) if owner == key.id]
        if len(mine) >= self.config.max_scenes_per_key:
            raise ApiError(
                429,
                f"this key already has {len(mine)} scene(s) generating (limit {self.config.max_scenes_per_key}); "
                "wait for one to finish",
            )

    def _models(self) -> ScoringModels:
        if self.service.models is None:
            raise ApiError(503, "scenes need the scoring models; this server runs with --scoring off")
        return self.service.models

    async def _prepare(self, key: ApiKey, scene_id: str, make: Callable[[], SceneRun]) -> SceneRun:
        """`make()` in a worker thread (personas and role-confusion scorers are built), a slot of the key's reserved.

        The reservation is handed on to `_launch` (called with no await in between) or, if `make()` fails or the
        request is cancelled meanwhile, dropped.
        """
        self._check_quota(key)
        self._running[scene_id] = (key.id, None)
        try:
            return await asyncio.to_thread(make)
        except BaseException as exc:
            if self._running.get(scene_id) == (key.id, None):
                del self._running[scene_id]
            if isinstance(exc, SceneError):
                raise ApiError(400, str(exc), param=getattr(exc, "field", None) or "characters") from None
            raise

    async def start(self, key: ApiKey, spec: SceneSpec, persona_ids: dict[str, str]) -> AsyncIterator[str]:
        """Create the scene's folder and start it in a worker thread; returns its event stream."""
        models = self._models()
        scene_id = secrets.token_hex(6)
        out = self._folder(key, scene_id)
        user = spec.user.name if spec.user and spec.user.takes_part else None
        factory = self._factory(spec)

        def make() -> SceneRun:
            out.mkdir(parents=True)
            meta = {"persona_ids": persona_ids, "user_name": user}
            (out / META_FILE).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
            return SceneRun(spec, out, models=models, ask_user=_waiting, backend_factory=factory)

        try:
            run = await self._prepare(key, scene_id, make)
        except ApiError:
            shutil.rmtree(out, ignore_errors=True)
            raise
        return self._launch(key, scene_id, run, persona_ids)

    async def say(self, key: ApiKey, scene_id: str, text: str) -> AsyncIterator[str]:
        """Resume a scene waiting at the user's turn with the user's line; returns the event stream."""
        out = self._folder(key, scene_id)
        view = self.view(key, scene_id, with_turns=False)
        if view.status != "waiting":
            raise ApiError(
                409, f"scene {scene_id} is {view.status}; the user speaks only at their turn", code="conflict"
            )
        stored = json.loads((out / SCENE_FILE).read_text(encoding="utf-8"))
        spec = SceneSpec.model_validate(stored["spec"])
        models, factory = self._models(), self._factory(spec)
        given = [text]

        def ask(_last: str) -> str:
            if not given:
                raise AwaitUser
            return given.pop()

        def make() -> SceneRun:
            return SceneRun(spec, out, resume=True, models=models, ask_user=ask, backend_factory=factory)

        run = await self._prepare(key, scene_id, make)
        persona_ids = {c.name: c.persona_id for c in view.characters if c.persona_id}
        return self._launch(key, scene_id, run, persona_ids)

    def _launch(self, key: ApiKey, scene_id: str, run: SceneRun, persona_ids: dict[str, str]) -> AsyncIterator[str]:
        """Start a prepared scene in its thread, its reserved slot held until the run is over; returns its stream."""
        try:
            thread = _Thread(run, asyncio.get_running_loop(), functools.partial(self._release, scene_id))
        except BaseException:  # no thread: nothing will give the reservation back but this
            self._running.pop(scene_id, None)
            raise
        self._running[scene_id] = (key.id, thread)
        return self._events(key, scene_id, thread, persona_ids)

    def _release(self, scene_id: str, thread: _Thread) -> None:
        """Give back the slot of the scene `thread` ran, once its run is over (called once, by the thread's end).

        Not by the event stream: a client may leave, or its stream never start, without the scene having ended, and
        the scene ends without anyone reading its stream. A slot already taken by a later run is left alone.
        """
        entry = self._running.get(scene_id)
        if entry is not None and entry[1] is thread:
            self._running.pop(scene_id, None)

    async def _events(
        self, key: ApiKey, scene_id: str, thread: _Thread, persona_ids: dict[str, str]
    ) -> AsyncIterator[str]:
        """The scene's events as its thread hands them over: its head, each turn, then its results or its error.

        Reading it is up to the client; the scene runs to its end, recorded, whether it is read, left or never begun.
        """
        urls = self.service.avatar_urls(key)
        run = thread.run
        head = SceneView(
            id=scene_id,
            name=run.spec.name,
            status="running",
            characters=[
                SceneCharacter(
                    name=p.name,
                    persona_id=persona_ids.get(p.name),
                    avatar_url=urls.get(persona_ids.get(p.name, "")),
                )
                for p in run.personas
            ],
            user_name=run.user_name,
        )
        yield _event("scene", head.model_dump(mode="json"))
        while True:
            item = await thread.queue.get()
            if isinstance(item, SceneRecord):
                yield _event("turn", scene_turn(item, persona_ids).model_dump(mode="json"))
            elif isinstance(item, BaseException):
                error = client_error(item, self.service.backend.api.redact, own=(SceneError, PersonaError))
                yield LastEvents(_event("error", error))
                return
            else:
                status = "waiting" if run.paused else "finished"
                results = item.model_dump(mode="json")
                yield LastEvents(_event("results", {"id": scene_id, "status": status, "results": results}))
                return

    # reading --------------------------------------------------------------------------------------------------------

    def view(self, key: ApiKey, scene_id: str, with_turns: bool = True) -> SceneView:
        """A scene of this key's with its transcript and results, or NotFoundError."""
        out = self._folder(key, scene_id)
        if not (out / SCENE_FILE).is_file() or not (out / META_FILE).is_file():
            raise NotFoundError(f"no scene {scene_id!r}")
        stored = json.loads((out / SCENE_FILE).read_text(encoding="utf-8"))
        meta = json.loads((out / META_FILE).read_text(encoding="utf-8"))
        ids: dict[str, str] = meta.get("persona_ids", {})
        urls = self.service.avatar_urls(key)
        characters = [
            SceneCharacter(name=name, persona_id=ids.get(name), avatar_url=urls.get(ids.get(name, "")))
            for name in stored.get("personas", {})
        ]
        results = None
        if (out / RESULTS_FILE).is_file():
            results = json.loads((out / RESULTS_FILE).read_text(encoding="utf-8"))
        records = read_transcript(out / TRANSCRIPT_FILE) if with_turns or results is None else []
        if scene_id in self._running:
            status: SceneStatus = "running"
        elif results is not None and results.get("ended"):
            status = "finished"
        elif results is not None and meta.get("user_name"):  # paused at the user's turn (or resumable there)
            status = "waiting"
        else:
            status = "interrupted"
        return SceneView(
            id=scene_id,
            name=str(stored.get("spec", {}).get("name", "scene")),
            status=status,
            characters=characters,
            user_name=meta.get("user_name"),
            turns=[scene_turn(r, ids) for r in records] if with_turns else [],
            results=results,
        )

    def scenes(self, key: ApiKey) -> list[SceneView]:
        """This key's scenes, newest first, without their turns."""
        folder = self.out_root / key.id
        if not folder.is_dir():
            return []
        found = sorted(
            (p for p in folder.iterdir() if _ID.match(p.name) and (p / SCENE_FILE).is_file()),
            key=lambda p: (p / SCENE_FILE).stat().st_mtime,
            reverse=True,
        )
        return [self.view(key, p.name, with_turns=False) for p in found]


def _waiting(_last: str) -> str:
    """The user's line at the start of a served scene: none yet, so the scene waits for it."""
    raise AwaitUser


async def get_scenes(request: Request) -> ServerScenes:
    """The process's scenes, stored on the app."""
    scenes: ServerScenes = request.app.state.scenes
    return scenes


ScenesDep = Annotated[ServerScenes, Depends(get_scenes)]
router = APIRouter(prefix="/v1/scenes", tags=["scenes"])


@router.post("", response_model=None)
async def start_scene(request: Request, scenes: ScenesDep, key: KeyDep) -> EventStream:
    """Run a scene sent as the body (a scene spec, JSON or YAML); server-sent events as it runs.

    Events: `scene` (its id and characters), one `turn` per step (speaker, text, and for a character's line its
    scores), then `results` (the figures; `status` is `waiting` when the scene stopped at the user's turn, to go on
    with `POST /v1/scenes/{id}/messages`) or `error`. 400: a bad scene or a backend the server does not allow;
    413: over the server's limits on characters, turns or statements; 429: too many scenes generating.
    """
    body = await request.body()
    spec, ids = await asyncio.to_thread(scenes.parse, key, body, request.headers.get("content-type", ""))
    return EventStream(await scenes.start(key, spec, ids))


@router.get("")
def list_scenes(scenes: ScenesDep, key: KeyDep) -> list[SceneView]:
    """This key's scenes with their status and results, newest first (without their turns)."""
    return scenes.scenes(key)


@router.get("/{scene_id}")
def get_scene(scene_id: str, scenes: ScenesDep, key: KeyDep) -> SceneView:
    """A scene with every step (lines with their scores) and its results."""
    return scenes.view(key, scene_id)


@router.post("/{scene_id}/messages")
async def say_in_scene(scene_id: str, body: UserLine, scenes: ScenesDep, key: KeyDep) -> EventStream:
    """The user's line in a scene waiting for it; the scene goes on to the user's next turn or its end.

    Events as for `POST /v1/scenes`; 409 when it is not the user's turn.
    """
    return EventStream(await scenes.say(key, scene_id, body.content))
