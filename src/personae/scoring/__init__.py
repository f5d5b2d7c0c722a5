"""Faithfulness scoring: APC with per-statement explanations, NLI and relevance models, history checks.

scorer = APCScorer(persona)              # shipped persona-NLI + MiniLM relevance, offline, no torch
result = scorer.score(query, reply)
result.apc_normalized, [v.statement for v in result.violations]
"""

from personae.scoring._answers import (
    ReplySentences,
    accepted_premise,
    agreed_claim,
    answerer_sentences,
    asserted_claim,
    premise_claim,
    question_claim,
    reply_sentences,
)
from personae.scoring._apc import PREMISE_CONTRADICTION, APCScorer, Calibration, default_calibration
from personae.scoring._claims import (
    FactClaims,
    UserClaims,
    about,
    addressed_claims,
    aliases,
    self_claims,
    unquoted,
)
from personae.scoring._history import HistoryChecker
from personae.scoring._models import ScoringModels
from personae.scoring._negation import positive, read_denials
from personae.scoring._nli import (
    FakeNLI,
    HFCrossEncoderNLI,
    LLMJudgeNLI,
    NLIFactory,
    NLIModel,
    OnnxNLI,
    get_nli,
    list_nli,
    register_nli,
)
from personae.scoring._onnx import ScoringModelError
from personae.scoring._ooc import OOCClassifier, OOCDetector, OOCResult, OOCSignal
from personae.scoring._ooc_rules import OOC_REASONS
from personae.scoring._relevance import Embedder, FakeEmbedder, OnnxEmbedder, RelevanceModel, fit_logistic, mask_names
from personae.scoring._sentences import split_sentences
from personae.scoring._subject import about_someone_else, concerns_others, other_subject, subjects_in, without_others
from personae.scoring._types import LABELS, APCResult, Contradiction, NLIProbs, StatementScore

__all__ = [
    "LABELS",
    "OOC_REASONS",
    "PREMISE_CONTRADICTION",
    "APCResult",
    "APCScorer",
    "Calibration",
    "Contradiction",
    "Embedder",
    "FactClaims",
    "FakeEmbedder",
    "FakeNLI",
    "HFCrossEncoderNLI",
    "HistoryChecker",
    "LLMJudgeNLI",
    "NLIFactory",
    "NLIModel",
    "NLIProbs",
    "OOCClassifier",
    "OOCDetector",
    "OOCResult",
    "OOCSignal",
    "OnnxEmbedder",
    "OnnxNLI",
    "RelevanceModel",
    "ReplySentences",
    "ScoringModelError",
    "ScoringModels",
    "StatementScore",
    "UserClaims",
    "about",
    "about_someone_else",
    "accepted_premise",
    "addressed_claims",
    "agreed_claim",
    "aliases",
    "answerer_sentences",
    "asserted_claim",
    "concerns_others",
    "default_calibration",
    "fit_logistic",
    "get_nli",
    "list_nli",
    "mask_names",
    "other_subject",
    "positive",
    "premise_claim",
    "question_claim",
    "read_denials",
    "register_nli",
    "reply_sentences",
    "self_claims",
    "split_sentences",
    "subjects_in",
    "unquoted",
    "without_others",
]
