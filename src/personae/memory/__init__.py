"""Memory: rolling summaries within a session, and what a character knows about its user across sessions.

memory = UserMemory(UserMemoryStore(store), MemoryScope(None, "Sam", "ada-quint"), "Ada", models)
await memory.observe("I moved to Berlin last month.", session_id, turn=0, when=now)
memory.recall("Where do I live?").facts       # [(UserFact('Sam moved to Berlin (April 2023).'), 0.93)]
"""

from personae.memory._dates import ResolvedDates, resolve_relative_dates
from personae.memory._facts import (
    MESSAGE_TOPIC,
    SINGLE_VALUED,
    ExtractedFact,
    FactSource,
    MemoryScope,
    UserFact,
    extract_facts,
    extract_with_backend,
    is_state,
    message_item,
    single_valued,
    third_person,
)
from personae.memory._index import FactIndex, Neighbour
from personae.memory._memory import LongTermMemory, MemoryItem, MemorySettings
from personae.memory._user import (
    Episode,
    MemoryRepository,
    Planned,
    Recalled,
    UserMemory,
    UserMemorySettings,
    fuse,
)

__all__ = [
    "MESSAGE_TOPIC",
    "SINGLE_VALUED",
    "Episode",
    "ExtractedFact",
    "FactIndex",
    "FactSource",
    "LongTermMemory",
    "MemoryItem",
    "MemoryRepository",
    "MemoryScope",
    "MemorySettings",
    "Neighbour",
    "Planned",
    "Recalled",
    "ResolvedDates",
    "UserFact",
    "UserMemory",
    "UserMemorySettings",
    "extract_facts",
    "extract_with_backend",
    "fuse",
    "is_state",
    "message_item",
    "resolve_relative_dates",
    "single_valued",
    "third_person",
]
