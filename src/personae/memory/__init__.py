"""Long-term memory: rolling summaries of older turns and retrieval of related past exchanges."""

from personae.memory._memory import LongTermMemory, MemoryItem, MemorySettings

__all__ = ["LongTermMemory", "MemoryItem", "MemorySettings"]
