"""REST routes of user memory: what characters know about a user, to read, correct and forget, per API key.

Every route is scoped to the request's key: a key reads, corrects and deletes only the memory its own sessions
wrote, and another key's user of the same name is another user.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from personae.memory import Episode, MemoryScope, UserFact
from personae.server._auth import KeyDep, ServiceDep
from personae.store import UserMemoryStore

router = APIRouter(prefix="/v1/users", tags=["memory"])

UserPath = Annotated[str, Path(min_length=1, max_length=200, description="The user's name ({{user}}).")]
PersonaQuery = Annotated[
    str | None, Query(min_length=1, max_length=200, description="One character's memory; all characters without it.")
]


class MemoryView(BaseModel):
    """What the characters of a key know about one user."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    user: str
    """The user's name."""
    persona: str | None
    """The character asked for, or None for all."""
    facts: list[UserFact]
    """Facts, oldest first (current ones only unless `history=true`); each names its character (`persona_id`)."""
    episodes: list[Episode]
    """Dated summaries of earlier sessions, oldest first."""


FACT_ID_MAX = 2**63 - 1
"""Fact ids are SQL BIGINT row ids: a larger number is no fact (and would overflow the driver), so it is a 400."""
FactId = Annotated[int, Field(ge=1, le=FACT_ID_MAX)]


class FactCorrection(BaseModel):
    """A corrected fact: its id and the text it should say instead."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    id: FactId
    """The fact's id (from `GET`)."""
    text: str = Field(min_length=1, max_length=2000)
    """What is true instead, in the third person ("Sam lives in Leeds.")."""


class MemoryPatch(BaseModel):
    """Body of `PATCH /v1/users/{user}/memory`: corrections and facts to forget."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    correct: list[FactCorrection] = Field(default_factory=list, max_length=200)
    """Facts to correct; the old text is kept as history, superseded by the correction."""
    forget: list[FactId] = Field(default_factory=list, max_length=1000)
    """Ids of facts to delete for good (with the history they superseded)."""


def _view(memory: UserMemoryStore, scope: MemoryScope, history: bool) -> MemoryView:
    return MemoryView(
        user=scope.user,
        persona=scope.persona_id,
        facts=memory.facts(scope, history=history),
        episodes=memory.episodes(scope),
    )


@router.get("/{user}/memory")
def get_memory(
    user: UserPath,
    service: ServiceDep,
    key: KeyDep,
    persona: PersonaQuery = None,
    history: Annotated[bool, Query(description="Include superseded facts.")] = False,
) -> MemoryView:
    """What this key's characters know about `user` (one character's with `persona`)."""
    return _view(UserMemoryStore(service.store), MemoryScope(key.id, user, persona), history)


@router.patch("/{user}/memory")
def patch_memory(
    user: UserPath, body: MemoryPatch, service: ServiceDep, key: KeyDep, persona: PersonaQuery = None
) -> MemoryView:
    """Correct facts and forget others; a fact id of another key, user or character is a 404."""
    memory = UserMemoryStore(service.store)
    scope = MemoryScope(key.id, user, persona)
    unknown = [fact_id for fact_id in [c.id for c in body.correct] + body.forget if memory.fact(scope, fact_id) is None]
    if unknown:
        raise HTTPException(404, f"no fact {unknown[0]} in the memory of user {user!r}")
    for correction in body.correct:
        if memory.correct(scope, correction.id, correction.text) is None:
            raise HTTPException(409, f"fact {correction.id} was superseded already; correct the current one")
    if body.forget:
        memory.forget(scope, body.forget)
    return _view(memory, scope, history=False)


@router.delete("/{user}/memory", status_code=204)
def delete_memory(
    user: UserPath,
    service: ServiceDep,
    key: KeyDep,
    persona: PersonaQuery = None,
    fact: Annotated[int | None, Query(description="Forget only this fact.", ge=1, le=FACT_ID_MAX)] = None,
) -> Response:
    """Forget `user`: every fact and episode (of one character with `persona`; one fact with `fact`)."""
    memory = UserMemoryStore(service.store)
    scope = MemoryScope(key.id, user, persona)
    if fact is not None:
        if memory.fact(scope, fact) is None:
            raise HTTPException(404, f"no fact {fact} in the memory of user {user!r}")
        memory.forget(scope, [fact])
    else:
        memory.forget(scope)
    return Response(status_code=204)
