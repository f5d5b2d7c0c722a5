"""The consistency guard: sample several replies, score each for faithfulness, keep the best, explain why.

guard = Guard("best-of-n", n=4, scorer=APCScorer(persona), history=HistoryChecker())
judgement = await guard.run(backend, messages, config, query=user_text, earlier_replies=previous_replies)
judgement.best.text, judgement.diversity.duplicate_share   # what was shown; how many candidates repeated another
"""

from personae.guard._diversity import NEAR_DUPLICATE, Diversity, measure_diversity, near_duplicate
from personae.guard._guard import DEFAULT_SPREAD, Guard, corrective_instruction
from personae.guard._types import GUARD_POLICIES, Candidate, GuardPolicy, Judgement

__all__ = [
    "DEFAULT_SPREAD",
    "GUARD_POLICIES",
    "NEAR_DUPLICATE",
    "Candidate",
    "Diversity",
    "Guard",
    "GuardPolicy",
    "Judgement",
    "corrective_instruction",
    "measure_diversity",
    "near_duplicate",
]
