"""Running a scene: each step (event, line, narration) decided, generated, guarded, logged at once; resumable.

A scene is a fixed sequence of steps: at turn t, characters entering or leaving, the scripted events of t, one
speaker's line, and the narrator every few turns. Each step has an id (`t3/line`); a finished step is in
transcript.jsonl, so resume replays the stored steps into the characters' memories and goes on from the first
missing one. Draws and seeds depend on the turn only, so a resumed scene makes the choices an unbroken one would.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path

from personae.backends import Backend, GenerateConfig, Message, get_backend
from personae.evals import SampleWriter, capture_environment, describe_models, resumed_start
from personae.guard import Guard, GuardPolicy, Judgement, corrective_instruction
from personae.memory import LongTermMemory
from personae.persona import Persona
from personae.prompting import Exchange, PromptAssembler, PromptSettings
from personae.scene._confusion import NARRATOR, ConfusionDetector, RoleConfusion, confusion_instruction
from personae.scene._exits import narrated_exit
from personae.scene._log import (
    RESULTS_FILE,
    SCENE_FILE,
    TRANSCRIPT_FILE,
    SceneRecord,
    SceneResults,
    read_transcript,
)
from personae.scene._metrics import figures
from personae.scene._mock import scene_mock_options
from personae.scene._policy import SpeakerChoice, addressed, direct, mentions, natural, round_robin
from personae.scene._sillytavern import ChatMessage, read_chat_export
from personae.scene._spec import CharacterSpec, SceneError, SceneSpec, persona_of, scene_from_data
from personae.scoring import FakeEmbedder, ScoringModels, get_nli

END_MARK = "THE END"
NARRATOR_PROMPT = (
    "You are the narrator of a scene with several characters. In one to three sentences, describe what happens next: "
    "events, and the consequences of what the characters just did. Never speak for the characters and never write "
    "their lines. If the story has reached a natural end, finish your narration with THE END."
)

AskUser = Callable[[str], str]
"""Reads the user's line when their turn comes (given a prompt naming the scene's last line); may raise `AwaitUser`."""
OnRecord = Callable[[SceneRecord], None]
"""Called with each step as soon as it is logged (not with steps a resume replays): how a caller streams a scene."""


class AwaitUser(Exception):
    """Raised by an `AskUser` that has no line yet: the scene pauses at the user's turn, with its results so far.

    Resuming the folder later (with an `AskUser` that has the line) goes on from that turn.
    """


def scoring_models(spec: SceneSpec) -> ScoringModels:
    """The scoring models a scene spec names (`embedder: fake` also drops the learned OOC classifier)."""
    if spec.embedder == "fake":
        return ScoringModels(nli=get_nli(spec.nli), embedder=FakeEmbedder(), ooc_classifier=False)
    return ScoringModels(nli=get_nli(spec.nli))


def _format(record: SceneRecord) -> str:
    if record.kind in ("line", "user"):
        return f"{record.speaker}: {record.text}"
    if record.kind == "narration":
        return f"[{NARRATOR}] {record.text}"
    return f"[{record.text}]"


def memory_view(name: str, history: Sequence[SceneRecord]) -> tuple[list[Exchange], str]:
    """What character `name` witnessed: exchanges (what it heard, what it said), and what it heard since it spoke.

    Steps it did not witness are left out: a character absent from a step never learns of it.
    """
    exchanges: list[Exchange] = []
    heard: list[str] = []
    for record in history:
        if name not in record.witnesses or record.kind == "end":
            continue
        if record.kind == "line" and record.speaker == name:
            exchanges.append(Exchange(index=len(exchanges), user="\n".join(heard) or "(silence)", reply=record.text))
            heard = []
        else:
            heard.append(_format(record))
    return exchanges, "\n".join(heard)


def heard_lines(name: str, history: Sequence[SceneRecord]) -> dict[str, list[str]]:
    """Speaker → the lines character `name` heard them say (characters, narrator, user), oldest first.

    Events count as the narrator's: a character who writes out the event it heard is writing the narrator's part.
    """
    out: dict[str, list[str]] = {}
    for record in history:
        speaker = NARRATOR if record.kind == "event" else record.speaker
        heard = record.kind in ("line", "user", "narration", "event") and name in record.witnesses
        if heard and speaker and speaker != name:
            out.setdefault(speaker, []).append(record.text)
    return out


def addressed_alone(name: str, history: Sequence[SceneRecord], present: Sequence[str]) -> bool:
    """Whether the last line character `name` heard names it and no one else present ("Captain Quint! …" to Ada).

    Speaker labels are not names in a line: the text of a line, the narration or the event is read.
    """
    for record in reversed(history):
        heard = record.kind in ("line", "user", "narration", "event") and name in record.witnesses
        if heard and record.speaker != name:
            return mentions(record.text, [n for n in present if n != record.speaker]) == [name]
        if record.kind == "line" and record.speaker == name:
            return False
    return False


class _Character:
    """One character's runtime: persona, backend, guard and role-confusion detector."""

    def __init__(
        self, spec: CharacterSpec, persona: Persona, backend: Backend | None, scene: SceneSpec, models: ScoringModels
    ) -> None:
        self.spec = spec
        self.persona = persona
        self.name = persona.name
        self.backend = backend
        self.scene = scene
        self.models = models
        self.detector: ConfusionDetector | None = None
        self._guards: dict[tuple[str, bool], Guard] = {}

    def guard(self, audience: str, addressed: bool = False) -> Guard:
        """The guard for this character speaking to `audience` (cached: the OOC patterns depend on it).

        `addressed`: the line it answers names it alone of those present, so that line's "you" is this character
        and its sentences are read whole for a false premise (`APCScorer.premise_conflicts`); otherwise the "you" of
        a line heard may be anyone present, and only the claim rules read it.
        """
        key = (audience, addressed)
        if key not in self._guards:
            models, scorer = self.models, self.models.scorer(self.persona)
            self._guards[key] = Guard(
                self.scene.guard if scorer is not None else "off",
                n=self.scene.n,
                scorer=scorer,
                history=models.history(),
                ooc=models.ooc(self.persona, audience),
                offload=not models.light,
                embedder=models.embedder,
                premise_sentences=addressed,
            )
        return self._guards[key]

    def present(self, turn: int) -> bool:
        """Whether the character is in the scene at `turn`."""
        return self.spec.enters <= turn and (self.spec.leaves is None or turn < self.spec.leaves)


def _audience(names: Sequence[str]) -> str:
    if not names:
        return "no one"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _choose(judgement: Judgement, confusion: Sequence[RoleConfusion]) -> int:
    """The guard's choice with role confusion as a criterion: non-empty, then unconfused, then the guard's ranking."""

    def key(i: int) -> tuple[bool, bool, bool, int, float]:
        empty, ooc, problems, apc = judgement.candidates[i].rank_key()
        return empty, confusion[i].confused, ooc, problems, apc

    return min(range(len(judgement.candidates)), key=key)


def _correction(
    policy: GuardPolicy, name: str, audience: str, judgement: Judgement, confusion: Sequence[RoleConfusion], chosen: int
) -> str | None:
    """The instruction for the scene's own corrective round under the `threshold` policy, or None for no round.

    One runs when every candidate is role-confused, and when the line the scene would show leaves the role or breaks
    the persona though the guard ran no corrective round of its own: the guard judges by its ranking, which does not
    see role confusion, so its best may be a confused draft the scene passes over for a worse unconfused one ("How
    can I assist you?", the only unconfused draft of a night-train turn).
    """
    if policy != "threshold":
        return None
    pick = judgement.candidates[chosen]
    unseen = judgement.corrective_instruction is None and (pick.out_of_character or pick.problems > 0)
    parts = []
    if all(v.confused for v in confusion):
        parts.append(confusion_instruction(name, audience, confusion))
    if unseen:
        parts.append(corrective_instruction(pick))
    return "\n\n".join(parts) or None


LEGACY_FIELDS: dict[str, object] = {"exits": "scripted"}
"""Scene spec fields added after scenes were first recorded, with the behaviour a scene recorded without them had."""


class SceneRun:
    """One scene in one output folder: `await SceneRun(spec, out).run()` (or `resume=True` to continue).

    Example:
        spec = load_scene("examples/scenes/harbour.yaml").with_backend("mock/scene")
        results = asyncio.run(SceneRun(spec, "out/harbour").run())
        results.scene.role_confusion_rate, results.characters["Ada"].apc_normalized
    """

    def __init__(
        self,
        spec: SceneSpec,
        out_dir: Path | str,
        resume: bool = False,
        backends: Mapping[str, Backend] | None = None,
        models: ScoringModels | None = None,
        ask_user: AskUser | None = None,
        report: bool = True,
        generate: bool = True,
        on_record: OnRecord | None = None,
        backend_factory: Callable[[str], Backend] | None = None,
    ) -> None:
        self.spec = spec
        self.out = Path(out_dir)
        self.resume = resume
        self.backends = dict(backends or {})
        """Ready-made backends by role (a character's name, `narrator`, `director`) or `*` for every role."""
        self.ask_user = ask_user
        self.write_report = report
        self.on_record = on_record
        self.backend_factory = backend_factory
        """Makes the backend of an address (default: `get_backend` with the scene mocks' options); the server binds
        addresses to its upstreams with it. Backends it makes are closed when the run ends."""
        self.paused = False
        """Whether the last `run()` stopped at the user's turn (`AwaitUser`) rather than at the scene's end."""
        if spec.user and spec.user.takes_part and ask_user is None:
            raise SceneError(f"the scene's user takes part (mode: {spec.user.mode}) but nothing reads their lines")
        self.personas = [persona_of(spec, i) for i in range(len(spec.characters))]
        names = [p.name for p in self.personas]
        if len(set(names)) != len(names):
            raise SceneError(
                f"two characters share a name: {', '.join(sorted({n for n in names if names.count(n) > 1}))}"
            )
        if spec.user and spec.user.takes_part and spec.user.name in names:
            raise SceneError(f"the user's name {spec.user.name!r} is a character's")
        self.models = models or scoring_models(spec)
        self._by_address: dict[str, Backend] = {}
        self.cast = [
            _Character(c, p, self._backend(p.name, c.backend or spec.backend) if generate else None, spec, self.models)
            for c, p in zip(spec.characters, self.personas, strict=True)
        ]
        for c in self.cast:
            c.detector = ConfusionDetector(c.persona, self.personas, self.models)
        self.history: list[SceneRecord] = []
        self.turn = 0
        self.gone: set[str] = set()
        """Characters that narrated their own exit (`SceneSpec.exits`): absent from then on."""

    def _backend(self, role: str, address: str) -> Backend:
        if role in self.backends:
            return self.backends[role]
        if "*" in self.backends:
            return self.backends["*"]
        if address not in self._by_address:
            make = self.backend_factory or (lambda a: get_backend(a, **scene_mock_options(a)))
            self._by_address[address] = make(address)
        return self._by_address[address]

    @property
    def user_name(self) -> str | None:
        """The user's name when they take part."""
        return self.spec.user.name if self.spec.user and self.spec.user.takes_part else None

    def _prepare(self) -> float:
        """Create or check the folder; returns when the scene first started."""
        self.out.mkdir(parents=True, exist_ok=True)
        scene_file, transcript = self.out / SCENE_FILE, self.out / TRANSCRIPT_FILE
        identity = self._as_recorded(scene_file)
        mismatch = f"{self.out} holds a different scene; resume it with the same scene and options"
        resumed = resumed_start(scene_file, transcript, identity, self.resume, SceneError, "a scene", mismatch)
        if resumed is not None:
            return resumed
        started = time.time()
        personas = {p.name: p.model_dump(mode="json") for p in self.personas}
        scene_file.write_text(
            json.dumps({"spec": identity, "personas": personas, "started_at": started}, indent=1, ensure_ascii=False),
            encoding="utf-8",
        )
        return started

    def _as_recorded(self, scene_file: Path) -> dict[str, object]:
        """The spec's identity; resuming a scene recorded before a field existed, with the behaviour it was run with.

        A field the recorded spec lacks and this one leaves at its default takes its `LEGACY_FIELDS` value (a scene
        recorded before `exits` ran with scripted exits only) and is left out of the comparison.
        """
        previous: object = None
        if self.resume and scene_file.exists():
            try:
                previous = json.loads(scene_file.read_text(encoding="utf-8")).get("spec")
            except (OSError, ValueError, AttributeError):
                previous = None
        if not isinstance(previous, dict):
            return self.spec.model_dump(mode="json")
        older = {
            field: value
            for field, value in LEGACY_FIELDS.items()
            if field not in previous and field not in self.spec.model_fields_set
        }
        self.spec = self.spec.model_copy(update=older)
        identity = self.spec.model_dump(mode="json")
        return {field: value for field, value in identity.items() if field not in older}

    async def run(self) -> SceneResults:
        """Run the scene's missing steps, then write results.json and report.html."""
        started_at = self._prepare()
        t0 = time.perf_counter()
        done = {r.step: r for r in read_transcript(self.out / TRANSCRIPT_FILE)}
        writer = SampleWriter(self.out / TRANSCRIPT_FILE)

        async def step(step_id: str, make: Callable[[], Awaitable[SceneRecord]]) -> SceneRecord:
            record = done.get(step_id)
            if record is None:
                record = (await make()).model_copy(update={"step": step_id})
                await writer.write_async(record)
                if self.on_record is not None:
                    self.on_record(record)
            self.history.append(record)
            return record

        self.paused = False
        try:
            await self._steps(step)
        except AwaitUser:
            self.paused = True
        finally:
            writer.close()
            for backend in {id(b): b for b in [*self._by_address.values()]}.values():
                await backend.aclose()
        return self._finish(started_at, t0)

    def _finish(self, started_at: float, t0: float) -> SceneResults:
        """Write results.json and report.html from the transcript."""
        results = self.results(started_at, time.perf_counter() - t0)
        (self.out / RESULTS_FILE).write_text(results.model_dump_json(indent=2), encoding="utf-8")
        if self.write_report:
            from personae.scene._report import write_report

            write_report(self.out)
        return results

    async def measure(self, messages: Sequence[ChatMessage]) -> SceneResults:
        """Measure a recorded conversation as this scene: each character message scored like a generated line.

        Every character hears every message (a chat has no entries and exits); a message by a name that is no
        character of the scene is the user's.
        """
        started_at = self._prepare()
        t0 = time.perf_counter()
        done = {r.step: r for r in read_transcript(self.out / TRANSCRIPT_FILE)}
        writer = SampleWriter(self.out / TRANSCRIPT_FILE)
        names = [c.name for c in self.cast]
        try:
            for i, message in enumerate(messages):
                record = done.get(f"m{i}") or await self._measured(i, message, names)
                if f"m{i}" not in done:
                    await writer.write_async(record)
                self.history.append(record)
                self.turn = i + 1
            if "end" not in done:
                await writer.write_async(SceneRecord(step="end", kind="end", turn=self.turn, text="end of the chat"))
        finally:
            writer.close()
        return self._finish(started_at, t0)

    async def _measured(self, i: int, message: ChatMessage, names: Sequence[str]) -> SceneRecord:
        character = next((c for c in self.cast if c.name == message.name), None)
        if message.is_user or character is None:
            return SceneRecord(
                step=f"m{i}", kind="user", turn=i, speaker=message.name, text=message.text, witnesses=list(names)
            )
        others = [n for n in names if n != character.name]
        audience = _audience([*others, *([self.spec.user.name] if self.spec.user else [])])
        _, heard = memory_view(character.name, self.history)
        earlier = [r.text for r in self.history if r.kind == "line" and r.speaker == character.name]
        started = time.perf_counter()
        candidates = await character.guard(audience).score(heard, [message.text], earlier)
        assert character.detector is not None
        said = heard_lines(character.name, self.history)
        confusion = character.detector.detect_batch(heard, [message.text], present=others, heard=said)
        return SceneRecord(
            step=f"m{i}", kind="line", turn=i, speaker=character.name, text=message.text, witnesses=list(names),
            why="recorded", candidates=candidates, confusion=confusion, chosen=0,
            seconds_scoring=time.perf_counter() - started,
        )  # fmt: skip

    async def _steps(self, step: Callable[[str, Callable[[], Awaitable[SceneRecord]]], Awaitable[SceneRecord]]) -> None:
        spec = self.spec
        for t in range(spec.stop.turns + 1):
            self.turn = t
            here = self._present(t)
            for c in self.cast:
                if c.spec.enters == t and t > 0:
                    await step(f"t{t}/enter:{c.name}", self._event(f"{c.name} enters.", here))
                if c.spec.leaves == t and c.name not in self.gone:
                    await step(f"t{t}/leave:{c.name}", self._event(f"{c.name} leaves.", [*here, c.name]))
            for i, event in enumerate(e for e in spec.events if e.turn == t):
                if event.text:
                    await step(f"t{t}/event{i}", self._event(event.text, here))
                if event.ends or (event.name is not None and event.name == spec.stop.event):
                    await step("end", self._end(f"event: {event.name or event.text[:60]}"))
                    return
            if t == spec.stop.turns:
                await step("end", self._end("turns"))
                return
            if not here:
                await step("end", self._end("nobody present"))
                return
            if self._alone(t, here):
                await step("end", self._end("alone"))
                return
            line = await step(f"t{t}/line", self._line(t, here))
            if (
                spec.exits == "narrated"
                and line.kind == "line"
                and line.speaker
                and narrated_exit(line.text, line.speaker)
            ):
                await step(f"t{t}/exit:{line.speaker}", self._event(f"{line.speaker} leaves.", here))
                self.gone.add(line.speaker)
                here = self._present(t)
            if spec.narrator and (t + 1) % spec.narrator.every == 0:
                record = await step(f"t{t}/narration", self._narrate(t, here))
                if record.why == "ends the scene":
                    await step("end", self._end("narrator"))
                    return

    def _alone(self, turn: int, here: Sequence[str]) -> bool:
        """Whether one character is left with nobody to speak to: no user taking part and nobody still to enter.

        Its lines would be a monologue to an empty room, which no scene is written for.
        """
        still_to_come = any(c.spec.enters > turn for c in self.cast)
        return len(here) == 1 and self.user_name is None and not still_to_come

    def _present(self, turn: int) -> list[str]:
        return [c.name for c in self.cast if c.present(turn) and c.name not in self.gone]

    def _event(self, text: str, witnesses: Sequence[str]) -> Callable[[], Awaitable[SceneRecord]]:
        async def make() -> SceneRecord:
            return SceneRecord(step="", kind="event", turn=self.turn, text=text, witnesses=list(witnesses))

        return make

    def _end(self, reason: str) -> Callable[[], Awaitable[SceneRecord]]:
        async def make() -> SceneRecord:
            return SceneRecord(step="end", kind="end", turn=self.turn, text=reason)

        return make

    def _transcript(self, limit: int = 12) -> list[str]:
        return [_format(r) for r in self.history if r.kind != "end"][-limit:]

    def _last_spoken(self) -> SceneRecord | None:
        return next((r for r in reversed(self.history) if r.kind in ("line", "user")), None)

    async def _pick(self, t: int, here: Sequence[str]) -> SpeakerChoice:
        user = [self.user_name] if self.user_name else []
        first = bool(self.spec.user and self.spec.user.first)
        order = [*user, *(c.name for c in self.cast)] if first else [*(c.name for c in self.cast), *user]
        present = [*here, *([self.user_name] if self.user_name else [])]
        last_record = self._last_spoken()
        last = last_record.speaker if last_record else None
        text = last_record.text if last_record else ""
        policy = self.spec.policy
        if policy == "round-robin":
            return round_robin(order, present, last)
        if policy == "addressed":
            return addressed(order, present, last, text)
        if policy == "natural":
            talk = {c.name: c.spec.talkativeness for c in self.cast}
            return natural(order, present, last, text, talk, random.Random(f"{self.spec.seed}/{t}"))
        director = self._backend("director", self.spec.director or self.spec.backend)
        return await direct(director, order, present, last, self._transcript(), seed=self.spec.seed * 1000 + t)

    def _line(self, t: int, here: Sequence[str]) -> Callable[[], Awaitable[SceneRecord]]:
        async def make() -> SceneRecord:
            started = time.perf_counter()
            choice = await self._pick(t, here)
            if choice.speaker == self.user_name:
                assert self.ask_user is not None
                last = self._last_spoken()
                text = self.ask_user(_format(last) if last else "(the scene begins)").strip()
                return SceneRecord(
                    step=f"t{t}/line", kind="user", turn=t, speaker=choice.speaker, text=text,
                    witnesses=list(here), why=choice.why, seconds_generating=time.perf_counter() - started,
                )  # fmt: skip
            character = next(c for c in self.cast if c.name == choice.speaker)
            return await self._speak(character, t, here, choice.why)

        return make

    def _scene_block(self, character: _Character, others: Sequence[str]) -> str:
        lines = []
        if self.spec.setting:
            lines.append(f"The scene: {self.spec.setting}")
        lines.append(f"Present with you: {_audience(list(others))}.")
        if character.spec.position:
            lines.append(f"Where you are and how you feel: {character.spec.position}")
        name = character.name
        lines.append(
            f"You are in a scene with several characters. The messages you receive tell you what the others say "
            f"and what happens. Speak only as {name}: write {name}'s own words and brief actions, never the lines, "
            f"speech or actions of {_audience(list(others))}, and never a speaker label."
        )
        return "\n".join(lines)

    async def _speak(self, character: _Character, t: int, here: Sequence[str], why: str) -> SceneRecord:
        name, spec = character.name, self.spec
        assert character.backend is not None, "a measuring run generates nothing"
        others = [n for n in here if n != name] + ([self.user_name] if self.user_name else [])
        audience = _audience(others)
        exchanges, heard = memory_view(name, self.history)
        query = heard or "(The scene begins.)"
        cue = f"\n\n({name}'s turn. Reply with {name}'s own words and actions only.)"
        settings = PromptSettings()
        guard = character.guard(audience, addressed_alone(name, self.history, here))
        scorer = guard.scorer
        # a false premise in what it heard ("Captain Quint, is your husband joining us?" to a widow) is named in the
        # prompt, as in a one-to-one chat; read as the guard reads it (sentences whole only when addressed alone)
        assembler = PromptAssembler(
            character.persona,
            user_name=audience,
            settings=settings,
            relevance=self.models.relevance,
            count_tokens=character.backend.count_tokens,
            premises=None if scorer is None else lambda _: scorer.premise_conflicts(query, guard.premise_sentences),
            heard=True,
        )
        memory = LongTermMemory(name, audience, embedder=self.models.embedder)
        context = memory.context(exchanges, settings.recent_turns, query, None)
        prompt = assembler.assemble(exchanges, query + cue, context)
        messages = list(prompt.messages)
        block = self._scene_block(character, others)
        premise = next((p.text for p in prompt.parts if p.section == "premise"), "")  # stays last, where it is read
        head = messages[0].content.removesuffix(premise).rstrip()
        messages[0] = Message(role="system", content="\n\n".join(t for t in (head, block, premise) if t))
        earlier = [r.text for r in self.history if r.kind == "line" and r.speaker == name]
        # the embedded model sometimes writes out the turn cue it was given and goes on: stop there
        config = GenerateConfig(
            temperature=spec.temperature,
            max_tokens=spec.max_tokens,
            seed=spec.seed * 1000 + t,
            stop=(f"({name}'s turn.",),
        )
        judgement = await guard.run(character.backend, messages, config, query, earlier)
        detector = character.detector
        assert detector is not None
        started = time.perf_counter()
        said = heard_lines(name, self.history)
        confusion = detector.detect_batch(query, [c.text for c in judgement.candidates], present=others, heard=said)
        scoring = time.perf_counter() - started
        chosen = _choose(judgement, confusion)
        correction = _correction(spec.guard, name, audience, judgement, confusion, chosen)
        if correction:
            corrected = [Message(role="system", content=f"{messages[0].content}\n\n{correction}"), *messages[1:]]
            more = await guard.run(
                character.backend, corrected, config, query, earlier, round_no=1, first_index=len(judgement.candidates)
            )
            started = time.perf_counter()
            more_confusion = detector.detect_batch(query, [c.text for c in more.candidates], present=others, heard=said)
            confusion = [*confusion, *more_confusion]
            scoring += time.perf_counter() - started
            judgement = judgement.model_copy(
                update={
                    "candidates": [*judgement.candidates, *more.candidates],
                    "seconds_generating": judgement.seconds_generating + more.seconds_generating,
                    "seconds_scoring": judgement.seconds_scoring + more.seconds_scoring,
                }
            )
            chosen = _choose(judgement, confusion)
        return SceneRecord(
            step=f"t{t}/line",
            kind="line",
            turn=t,
            speaker=name,
            text=judgement.candidates[chosen].text,
            witnesses=list(here),
            why=why,
            candidates=judgement.candidates,
            confusion=confusion,
            chosen=chosen,
            seconds_generating=judgement.seconds_generating,
            seconds_scoring=judgement.seconds_scoring + scoring,
        )

    def _narrate(self, t: int, here: Sequence[str]) -> Callable[[], Awaitable[SceneRecord]]:
        narrator = self.spec.narrator
        assert narrator is not None

        async def make() -> SceneRecord:
            backend = self._backend("narrator", narrator.backend or self.spec.backend)
            system = NARRATOR_PROMPT
            if self.spec.setting:
                system += f"\n\nThe scene: {self.spec.setting}"
            system += f"\nCharacters present: {_audience(list(here))}."
            if narrator.direction:
                system += f"\nWhere the story should go: {narrator.direction}"
            user = "The scene so far:\n" + "\n".join(self._transcript()) + "\n\nNarrate what happens next."
            config = GenerateConfig(temperature=0.7, max_tokens=120, seed=self.spec.seed * 1000 + t)
            started = time.perf_counter()
            output = await backend.generate(
                [Message(role="system", content=system), Message(role="user", content=user)], config
            )
            text = output.text.strip()
            ends = narrator.can_end and END_MARK in text.upper()
            if ends:
                at = text.upper().rfind(END_MARK)
                text = (text[:at] + text[at + len(END_MARK) :]).strip(" .\n") + "."
            return SceneRecord(
                step=f"t{t}/narration", kind="narration", turn=t, speaker=NARRATOR, text=text,
                witnesses=list(here), why="ends the scene" if ends else None,
                seconds_generating=time.perf_counter() - started,
            )  # fmt: skip

        return make

    def results(self, started_at: float, seconds: float) -> SceneResults:
        """Figures of the records in transcript.jsonl."""
        records = read_transcript(self.out / TRANSCRIPT_FILE)
        environment = capture_environment()
        per, scene = figures(records, [c.name for c in self.cast], self.models.embedder)
        end = next((r for r in records if r.kind == "end"), None)
        return SceneResults(
            name=self.spec.name,
            spec=self.spec.model_dump(mode="json"),
            versions=environment.versions,
            git_revision=environment.git_revision,
            started_at=started_at,
            finished_at=time.time(),
            seconds=seconds,
            turns=sum(1 for r in records if r.kind in ("line", "user")),
            ended=end.text if end else None,
            characters=per,
            scene=scene,
            scoring=describe_models(self.models),
        )


async def run_scene(
    spec: SceneSpec,
    out_dir: Path | str,
    resume: bool = False,
    backends: Mapping[str, Backend] | None = None,
    models: ScoringModels | None = None,
    ask_user: AskUser | None = None,
) -> SceneResults:
    """Run (or resume) a scene into `out_dir`: transcript.jsonl, results.json and report.html."""
    return await SceneRun(spec, out_dir, resume=resume, backends=backends, models=models, ask_user=ask_user).run()


def chat_scene(messages: Sequence[ChatMessage], personas: Sequence[Persona] = (), name: str = "chat") -> SceneSpec:
    """The scene a recorded chat was: its characters and its user.

    A character takes the persona of the same name from `personas`; without one it is its name alone.
    """
    known = {p.name.casefold(): p for p in personas}
    cast = list(dict.fromkeys(m.name for m in messages if not m.is_user))
    if not 2 <= len(cast) <= 8:
        raise SceneError(f"a group chat to measure needs 2 to 8 characters; this one has {len(cast)}")
    user = next((m.name for m in messages if m.is_user), None)
    characters = [
        {
            "persona": known[n.casefold()].model_dump(mode="json", exclude_none=True)
            if n.casefold() in known
            else {"name": n}
        }
        for n in cast
    ]
    data = {
        "name": name[:200],
        "characters": characters,
        "backend": "recorded",
        "stop": {"turns": min(500, len(messages))},
    }
    if user:
        data["user"] = {"name": user, "mode": "absent"}
    return scene_from_data(data, name)


async def measure_chat(
    path: Path | str,
    out_dir: Path | str,
    personas: Sequence[Persona] = (),
    resume: bool = False,
    models: ScoringModels | None = None,
    nli: str = "shipped",
) -> SceneResults:
    """Measure a SillyTavern group-chat export (`.jsonl`) into `out_dir`: transcript, results and report as a scene.

    Characters with a persona in `personas` (matched by name) are scored against it; the others only by the checks
    that need no persona (role confusion by rule, out-of-character patterns, self-contradiction, dominance,
    convergence). `nli` binds the NLI model when `models` is not given.
    """
    messages = read_chat_export(path)
    spec = chat_scene(messages, personas, name=f"measured: {Path(path).name}")
    spec = spec.model_copy(update={"nli": nli})
    run = SceneRun(spec, out_dir, resume=resume, models=models, generate=False)
    return await run.measure(messages)
