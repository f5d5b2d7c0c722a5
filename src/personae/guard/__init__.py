"""The consistency guard: sample several replies, score each for faithfulness, keep the best, explain why.

guard = Guard("best-of-n", n=4, scorer=APCScorer(persona), history=HistoryChecker())
judgement = await guard.run(backend, messages, config, query=user_text, earlier_replies=previous_replies)
"""

from personae.guard._guard import Guard, corrective_instruction
from personae.guard._types import GUARD_POLICIES, Candidate, GuardPolicy, Judgement

__all__ = ["GUARD_POLICIES", "Candidate", "Guard", "GuardPolicy", "Judgement", "corrective_instruction"]
