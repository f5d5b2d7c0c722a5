"""What a running task can use: the agent under test (through the runtime), the judges, the user, NLI models."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event

from personae.backends import Backend, BackendError, BackendSettings, GenerateConfig, Message, get_backend
from personae.evals._errors import JudgeParseError
from personae.evals._judge import ParsedScore
from personae.evals._log import JudgeRecord
from personae.evals._mock import mock_options
from personae.evals._scoring import ReplyScores, ScoringContext, scoring_models
from personae.evals._spec import EvalSpec, RoleSpec
from personae.evals._task import Item
from personae.memory import MemorySettings, UserMemorySettings
from personae.persona import Persona
from personae.scoring import ScoringModels
from personae.session import ChatSession, SessionSettings
from personae.store import SessionStore

Reader = Callable[[str], ParsedScore]
"""Reads a judge's raw output into a score; raises `JudgeParseError` when it cannot."""


def build_backend(role: RoleSpec) -> Backend:
    """A backend for a role, with the role's concurrency bound and retries."""
    settings = BackendSettings(max_concurrency=role.max_concurrency, max_retries=role.max_retries)
    options = {**mock_options(role.backend), **role.options}
    return get_backend(role.backend, settings=settings, **options)


def role_config(role: RoleSpec, seed: int) -> GenerateConfig:
    """Generation settings of a role's requests."""
    cache = None if role.cache else False  # None: cached at temperature 0 only
    return GenerateConfig(temperature=role.temperature, max_tokens=role.max_tokens, seed=seed, cache=cache)


def _fast_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


def scratch_store(path: Path) -> SessionStore:
    """The run's session database. Not synced to disk on every turn: samples.jsonl is the durable record."""
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", _fast_sqlite)
    return SessionStore(engine=engine)


class EvalContext(ScoringContext):
    """The models bound to roles for one run, shared by every item: backends to run items, scoring models to score."""

    def __init__(
        self,
        spec: EvalSpec,
        personas: Mapping[str, Persona],
        out_dir: Path,
        backends: Mapping[str, Backend] | None = None,
        models: ScoringModels | None = None,
    ) -> None:
        super().__init__(personas, models or scoring_models(spec))
        given = dict(backends or {})
        self._given = given
        self.spec = spec
        self.agent = given.get("agent") or build_backend(spec.agent)
        self.judges = [given.get(f"judge{i}") or build_backend(r) for i, r in enumerate(spec.roles.judge)]
        self.generator = given.get("generator") or (
            build_backend(spec.roles.generator) if spec.roles.generator else self.judges[0]
        )
        self.user = given.get("user") or (build_backend(spec.roles.user) if spec.roles.user else self.judges[0])
        self._store_path = out_dir / "sessions.db"
        self._store: SessionStore | None = None

    @property
    def store(self) -> SessionStore:
        """The run's session database, opened when the first session starts."""
        if self._store is None:
            self._store = scratch_store(self._store_path)
        return self._store

    async def aclose(self) -> None:
        """Close the backends this context built (backends passed in belong to the caller)."""
        built = {id(b): b for b in self.roles().values() if all(b is not g for g in self._given.values())}
        for backend in built.values():
            await backend.aclose()

    def roles(self) -> dict[str, Backend]:
        """Role name → backend (shared backends appear under each role that uses them)."""
        out = {"agent": self.agent, "generator": self.generator, "user": self.user}
        out.update({f"judge{i}": b for i, b in enumerate(self.judges)})
        return out

    def chat(self, item: Item, seed: int, user_name: str = "User", user_memory: bool = False) -> EvalChat:
        """A fresh session of the agent under test for `item`, run with the spec's guard and sampling settings.

        Memory of the user across sessions is off unless `user_memory`: items are independent (what one item's user
        said must not reach another item's prompt, or results would depend on the order items ran in); a task that
        measures memory (`personalization`) turns it on with user names that no other item uses.
        """
        agent = self.spec.agent
        settings = SessionSettings(
            guard=agent.guard,
            n=agent.n,
            generate=role_config(agent, seed),
            memory=MemorySettings(user=UserMemorySettings(enabled=user_memory)),
        )
        session = ChatSession.start(
            self.personas[item.persona],
            self.agent,
            self.store,
            user_name=user_name,
            settings=settings,
            models=self.models,
        )
        return EvalChat(session, item.id, self)

    async def ask(self, backend: Backend, role: RoleSpec, system: str, user: str, seed: int) -> str:
        """One request to a role: system + user message, the role's generation settings."""
        messages = [Message(role="system", content=system), Message(role="user", content=user)]
        output = await backend.generate(messages, role_config(role, seed))
        return output.text

    async def generate_text(self, system: str, user: str, seed: int) -> str:
        """Ask the question writer."""
        return (await self.ask(self.generator, self.spec.generator, system, user, seed)).strip()

    async def judge(self, system: str, user: str, seed: int, read: Reader) -> list[JudgeRecord]:
        """Ask every judge and read each output with `read`; unusable outputs are recorded with their reason."""
        outputs = await asyncio.gather(
            *(self.ask(b, r, system, user, seed) for b, r in zip(self.judges, self.spec.roles.judge, strict=True)),
            return_exceptions=True,
        )
        records: list[JudgeRecord] = []
        for i, (backend, out) in enumerate(zip(self.judges, outputs, strict=True)):
            name = f"{backend.address}#{i}" if len(self.judges) > 1 else backend.address
            if isinstance(out, BackendError):
                records.append(JudgeRecord(judge=name, error=f"backend: {out}"))
            elif isinstance(out, BaseException):
                raise out
            else:
                records.append(read_record(name, out, read))
        return records


class EvalChat:
    """The agent under test in one item's conversation.

    `send` returns the reply shown, and keeps the guard's verdicts on it (APC, OOC, self-contradiction, computed
    with the run's own scoring models) so that the task's `score` need not compute them a second time.
    """

    def __init__(self, session: ChatSession, item_id: str, scoring: ScoringContext) -> None:
        self.session = session
        self.item_id = item_id
        self.scoring = scoring
        self.finish_reason: str | None = None
        """Why the backend stopped generating the last reply shown (`stop`, `length`, ...), None if it did not say."""

    async def send(self, text: str) -> str:
        """The reply shown to `text`."""
        earlier = [turn.reply for turn in self.session.turns]
        shown = (await self.session.send(text)).shown
        if shown is None:
            raise RuntimeError("the runtime returned a turn without a reply")
        self.finish_reason = shown.finish_reason
        if shown.ooc is not None:  # None: no detector ran, nothing to keep
            scores = ReplyScores(shown.result, shown.ooc, shown.contradictions)
            self.scoring.remember(self.item_id, text, shown.text, earlier, scores)
        return shown.text


def read_record(name: str, raw: str, read: Reader) -> JudgeRecord:
    """Read one judge output into a record: the score and rationale, or the parse failure and its reason."""
    try:
        parsed = read(raw)
    except JudgeParseError as exc:
        return JudgeRecord(judge=name, raw=raw, error=exc.reason)
    return JudgeRecord(judge=name, raw=raw, score=parsed.score, rationale=parsed.rationale, method=parsed.method)


def judge_failure(records: Sequence[JudgeRecord]) -> str | None:
    """Why no judge gave a usable score (None when at least one did)."""
    if any(r.score is not None for r in records):
        return None
    return "no usable judge output: " + "; ".join(f"{r.judge}: {r.error}" for r in records)


def mean_score(records: Sequence[JudgeRecord]) -> float | None:
    """The mean of the judges' usable scores, None when there is none."""
    scores = [r.score for r in records if r.score is not None]
    return sum(scores) / len(scores) if scores else None
