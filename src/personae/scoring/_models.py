"""The scoring models one runtime shares: an NLI model, an embedder and the OOC classifier, loaded once."""

from __future__ import annotations

from personae.persona import Persona
from personae.scoring._apc import APCScorer
from personae.scoring._claims import UserClaims
from personae.scoring._history import HistoryChecker
from personae.scoring._nli import NLIModel, get_nli
from personae.scoring._ooc import OOCClassifier, OOCDetector
from personae.scoring._relevance import Embedder, OnnxEmbedder, RelevanceModel


class ScoringModels:
    """The NLI model and embedder a session shares between its scorer, history check, retrieval and memory."""

    def __init__(
        self, nli: NLIModel | None = None, embedder: Embedder | None = None, ooc_classifier: OOCClassifier | bool = True
    ) -> None:
        self.nli = nli or get_nli()
        self.embedder = embedder or OnnxEmbedder()
        self.relevance = RelevanceModel(self.embedder)
        if ooc_classifier is True:  # the classifier was trained on the shipped embedder's vectors
            shipped = self.embedder if isinstance(self.embedder, OnnxEmbedder) else None
            ooc_classifier = OOCClassifier.load(embedder=shipped)
        self.ooc_classifier: OOCClassifier | None = ooc_classifier or None
        """The learned part of the OOC detector; None: patterns only."""
        self.light = all(getattr(m, "light", False) for m in (self.nli, self.embedder)) and not self.ooc_classifier
        """Whether every model is light (pure Python in microseconds, like the rule-based fakes): the guard then
        scores on the caller's thread. On a server's event loop a worker thread bought nothing for these and cost
        GIL hand-offs: about 1 ms of CPU per turn at 200 concurrent sessions."""

    def scorer(self, persona: Persona) -> APCScorer | None:
        """An APC scorer for `persona` (None when it has no statements)."""
        return APCScorer(persona, nli=self.nli, relevance=self.relevance) if persona.statements else None

    def history(self) -> HistoryChecker:
        """The self-contradiction checker."""
        return HistoryChecker(nli=self.nli, embedder=self.embedder)

    def user_claims(self, persona: Persona, user_name: str) -> UserClaims:
        """The check for replies of `persona` that claim facts of its user `user_name` as the character's own."""
        return UserClaims(persona, user_name, self.nli, self.relevance)

    def ooc(self, persona: Persona, user_name: str) -> OOCDetector:
        """The out-of-character detector for `persona` talking to `user_name`."""
        return OOCDetector(persona, user_name, classifier=self.ooc_classifier or False)

    def warm(self, persona: Persona, user_name: str = "User") -> None:
        """Prepare what every turn with `persona` reuses (masked statement embeddings, OOC patterns) ahead of time."""
        if persona.statements:  # the key the scorer and the prompt's statement retrieval look them up by
            self.relevance.statement_vectors(persona.statements, [persona.name])
        self.ooc(persona, user_name).detect("Hello.", "Hello.")
