"""Reading an answer against its question: the claim a bare "yes" agrees to, and the premise an answer accepts.

"You love a bacon roll, don't you?" answered "Of course, dear!" says "I love a bacon roll" without those words; read
sentence by sentence, the reply contradicts nothing. Dialogue NLI resolves such answers against the question
(question-to-declarative conversion); this is a small rule-based version for English yes/no and tag questions: the
question's subject and auxiliary are put back in statement order and the speakers' pronouns are swapped. Offers,
invitations and proposals are read the same way ("Wanna grab an espresso?" → "I want to grab an espresso.", "Shall
we bet on the races?" or "Let's bet on the races." → "I will bet on the races."), and so is a statement asked as a
question ("You swim every morning?").

A wh-question carries a premise too (a presupposition): "What are your sons up to now?" takes for granted "I have
sons", and "They're back at school." accepts it without saying so. The premises read here are few and plain: a
relative of the character's or a pet ("your sons" → "I have sons."), an adverbial wh-question about the character
("When did you leave the monastery?" → "I did leave the monastery."), "What was it like flying planes?" ("I was
flying planes."), "the ship you lost in the storm" ("I lost the ship in the storm.") and "… when you visited"
after "of Rome" ("I visited Rome."). A reply accepts the premise when its first spoken sentence takes up the
question (names a word of the premise, or refers back with a pronoun) and denies nothing. Questions the rules
cannot read give no claim: nothing is guessed.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from personae.scoring._sentences import split_sentences

MAX_QUESTION = 400
"""Characters of a message (its end) and of a reply's opening that the rules read."""

_AUX = (
    "do|does|did|is|are|am|was|were|have|has|had|can|could|will|would|should|shall|may|might|must|"
    "don't|doesn't|didn't|isn't|aren't|wasn't|weren't|haven't|hasn't|hadn't|can't|couldn't|won't|wouldn't|shouldn't"
)
_PRONOUN = "you|i|he|she|it|we|they"
_DETERMINER = "your|my|his|her|their|our|the|this|that"

_YES = re.compile(
    r"^(?:(?:oh|ah|well|why|mm+|hmm+),?\s+)?"
    r"(?:yes|yeah|yep|aye|sure|of course|(?:'|’)?course|certainly|absolutely|indeed|definitely|naturally|true|"
    r"gladly|happily|with pleasure|by all means|you bet|count me in|why not|"
    r"sounds (?:good|great|lovely|grand|perfect|wonderful|like a plan)|(?:i'd |i would )?love to|"
    r"that's (?:right|true|correct)|you're (?:right|correct)|i agree|i (?:do|did|am|have|can|will)(?=\s*[,.!]|$))\b"
    r"(?![^.!?]*(?:\b(?:not|never|no)\b|n't\b))",
    re.IGNORECASE,
)
"""An answer that opens by agreeing ("Sure!", "Aye, I do.", "Of course, dear.", "Gladly!", "Sounds good!"), with no
denial in the same sentence ("Of course not", "Yes, I don't", "Sure, but I have no phone")."""

_TAG = re.compile(
    rf",\s*(?:(?:{_AUX})(?:\s+not)?\s+(?:{_PRONOUN}|there)|right|eh|yes|no|surely|isn't (?:it|that) so|"
    r"(?:surely\s+)?(?:you|wouldn't you|don't you|do you)\s+(?:agree|think so|think)|"
    r"(?:wouldn't|don't|do) you (?:agree|think))\s*\?+\s*$",
    re.IGNORECASE,
)
"""A tag closing a statement-question: ", don't you?", ", right?", ", surely you agree?"."""

_INVERTED = re.compile(
    rf"^(?P<aux>{_AUX})\s+(?P<subj>(?:{_PRONOUN})|(?:(?:{_DETERMINER})\s+[\w'-]+(?:'s\s+[\w'-]+)?))\s+(?P<rest>.+?)\s*\?+\s*$",
    re.IGNORECASE,
)
"""A yes/no question: an auxiliary, then its subject (a pronoun or a short noun phrase), then the rest."""

_SWAP = {
    "i": "you",
    "me": "you",
    "my": "your",
    "mine": "yours",
    "myself": "yourself",
    "your": "my",
    "yours": "mine",
    "yourself": "myself",
    "i'm": "you're",
    "you're": "I'm",
    "i've": "you've",
    "you've": "I've",
    "i'll": "you'll",
    "you'll": "I'll",
    "i'd": "you'd",
    "you'd": "I'd",
}
_NARRATION = re.compile(r"\*[^*\n]*\*")
"""Anything between asterisks, one word too: the spoken opening of "*nods* Yes, I do." is "Yes, I do." (sentence
splitting keeps a one-word action in its sentence, "nods Yes, I do.", where an agreement would not be read)."""
_CLAUSE_START = re.compile(r"(?:^|[,;:]|\b(?:and|but|that|if|when|because|so))\s*$", re.IGNORECASE)
_FOLLOWS_SUBJECT = re.compile(rf"^\s+(?:{_AUX}|'re|'ve|'ll|'d|still|always|never|really|ever)\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
_AGREE = {("i", "are"): "am", ("i", "is"): "am", ("i", "were"): "was", ("you", "am"): "are", ("you", "is"): "are"}
_AGREE.update({("you", "was"): "were", ("i", "aren't"): "am not", ("you", "isn't"): "aren't"})
_AGREE.update({("i", "weren't"): "wasn't", ("i", "does"): "do", ("i", "doesn't"): "don't"})
_AGREE.update({("you", "does"): "do", ("you", "doesn't"): "don't", ("you", "wasn't"): "weren't"})


_I_AND = re.compile(r"\bI and (?P<other>(?:my|our) [a-z]+(?:-[a-z]+)*|[A-Z][\w'-]*(?: [A-Z][\w'-]*)?)")
""""I and Callum", "I and my wife": English puts the speaker last."""


def _swap_pronouns(text: str) -> str:
    """Swap the speakers' first and second person; "you" is "I" where it starts a clause or precedes its verb."""

    def one(match: re.Match[str]) -> str:
        word = match.group(0)
        low = word.lower()
        if low == "you":
            subject = _CLAUSE_START.search(text[: match.start()]) or _FOLLOWS_SUBJECT.match(text[match.end() :])
            return "I" if subject else "me"
        swapped = _SWAP.get(low)
        if swapped is None:
            return word
        if swapped.startswith("I"):
            return swapped
        # "I" is upper case anywhere; its swap only where it starts the text ("What did I say?" -> "What did you say?")
        starts = match.start() == 0 or low[0] != "i"
        return swapped.capitalize() if word[0].isupper() and starts else swapped

    return _speaker_last(_WORD.sub(one, text))


def _speaker_last(text: str) -> str:
    """`text` with "I and Callum" written "Callum and I", as English puts the speaker last.

    The model read "Where did I and Callum go for my last anniversary?" against the widow's statement at 0.20, "Where
    did Callum and I go…" at 0.91.
    """

    def one(match: re.Match[str]) -> str:
        other = match.group("other")
        return f"{other[0].upper() + other[1:] if match.start() == 0 else other} and I"

    return _I_AND.sub(one, text)


def _subject(text: str) -> str:
    """The swapped subject of a question, agreeing with nothing yet ("you" → "I", "your father" → "my father")."""
    low = text.lower()
    if low == "you":
        return "I"
    if low == "i":
        return "you"
    return _swap_pronouns(text)


def _statement(subject: str, aux: str, rest: str) -> str:
    aux = _AGREE.get((subject.lower(), aux.lower()), aux.lower())
    rest = re.sub(r"^ever\s+", "", rest, flags=re.IGNORECASE)  # "have you ever been" -> "I have been"
    text = f"{subject} {aux} {_swap_pronouns(rest)}".strip()
    return _sentence(text)


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + "."


_QUOTE_CLOSE = " \"”’')]"
"""Marks after a quoted or bracketed question's own mark ('… "Do you swim?"]'), not part of the sentence."""
_SPOKEN = re.compile(r"^[^\"“:]{0,80}:\s*[\"“]?\s*|^[\"“\[(]\s*")
"""Who speaks and how, before the words ('Harbourmaster: ', 'Mr Dahl turns to Ada: "'), or an opening mark."""
_LEAD = re.compile(
    r"^(?:[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,3}|(?i:tell me|well|so|now|say|listen|look|hey|oh|right|okay|then))"
    rf"\s*,\s+(?=(?i:{_AUX}|what|how|when|where|why|who|which|whose|tell)\b)"
)
"""An address or opener before the question proper ("Captain Quint, do you…", "Tell me, what…"): names and titles
(capitalised words) or a few openers; a clause ("You're the abbot now, aren't you?") or a condition ("If it rains,
do you…") is none."""


def _last_sentence(text: str, closing: str = ".!?") -> str:
    """The message's closing sentence (of its last `MAX_QUESTION` characters), whitespace collapsed.

    The `closing` marks at its end are its own; the sentence starts after the last mark before them. Who speaks
    ('Harbourmaster: "…"', as a scene's lines and events read), closing quotes and a leading address ("Ada, do you…")
    are left out: the rules read the question itself.
    """
    tail = " ".join(text[-MAX_QUESTION:].split()).rstrip(_QUOTE_CLOSE)
    body = tail.rstrip(closing + " ")
    sentence = tail[max(body.rfind(c) for c in ".!?") + 1 :].strip()
    return _LEAD.sub("", re.sub(r"[\"“”]", "", _SPOKEN.sub("", sentence)))  # quotes within: '"Go on," says Pryce, "…


AFTERWORD = 60
"""Characters of plain statement that may follow the closing question of a message and leave it the one a "yes"
answers ("Will you drive us to choir on Thursday? My car's in the garage." "Certainly!")."""


def _closing_question(text: str) -> str:
    """The question a "yes" to `text` answers: its closing sentence, or the question just before a short afterword.

    Returns `_last_sentence`'s reading (which ends with "?" only for a question).
    """
    question = _last_sentence(text, "?")
    if question.endswith("?"):
        return question
    text = text[-MAX_QUESTION:].rstrip()
    mark = text.rfind("?")
    after = text[mark + 1 :].strip(_QUOTE_CLOSE)
    if mark < 0 or len(after) > AFTERWORD or "\n" in after or not after.endswith((".", "!")):
        return question  # no question, a long afterword, or one in another line (the next speaker's, in a scene)
    return _last_sentence(text[: mark + 1], "?")


_VOCATIVE = re.compile(r",\s*(?:my\s+)?[A-Za-z]+\s*\?+\s*$")
"""A one-word address closing a question ("…, brother?"), tried away when no tag closes the question."""
_SUBJECT_START = re.compile(rf"^(?:(?:{_PRONOUN})\b|you(?:'re|'ve|'d|'ll)|(?:{_DETERMINER})\s+\w|[A-Z])", re.IGNORECASE)
"""A clause that opens with its subject ("you were born on Earth", "the earth goes round"), not a phrase ("in
Lisbon")."""


def _tagged_clause(statement: str) -> str:
    """The clause a tag closes: the last one that opens with a subject, with the phrases after it.

    "I've brought rolls, you love a bacon roll" → "you love a bacon roll"; "You were born on Earth, in Lisbon" → the
    whole (its last part, "in Lisbon", has no subject of its own).
    """
    parts = re.split(r"[,;:]\s+|\s+-+\s+", statement)
    for i in range(len(parts) - 1, -1, -1):
        if _SUBJECT_START.match(parts[i]) and not re.match(r"^(?:in|on|at|to|from|with|for|by)\b", parts[i], re.I):
            return ", ".join(parts[i:])
    return parts[-1]


def _agree(clause: str) -> str:
    """The verb after a swapped "I" or "you" made to agree ("I were born" → "I was born")."""
    m = re.match(r"^(I|you)\s+(\S+)", clause, re.IGNORECASE)
    if m is None:
        return clause
    verb = _AGREE.get((m[1].lower(), m[2].lower()))
    return clause if verb is None else f"{m[1]} {verb}{clause[m.end() :]}"


_SUBJECT_VERB = re.compile(r"(?<!\bof )\b(I|you)\s+([\w']+)", re.IGNORECASE)


def _agree_all(text: str) -> str:
    """Every swapped "I" or "you" in `text` with its verb agreeing ("When I were in Rome" → "When I was in Rome").

    Not after "of": "which of you is" swaps to "which of I is", a form no verb fixes.
    """

    def one(m: re.Match[str]) -> str:
        verb = _AGREE.get((m[1].lower(), m[2].lower()))
        return m[0] if verb is None else f"{m[1]} {verb}"

    return _SUBJECT_VERB.sub(one, text)


_ADDRESSED = r"(?:,\s*[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)?)?"
"""A name or title closing an offer, invitation or proposal (", Captain?"), left out of what is offered."""
_OFFER = re.compile(
    r"^(?:(?:so|and|well|oh|now),?\s+)?(?:fancy|want|care for|(?:how|what)\s+about)\s+"
    rf"(?P<rest>(?:a|an|some|another|more)\s+[^?]+?){_ADDRESSED}\s*\?+$",
    re.IGNORECASE,
)
"""An offer without its "Do you": "Fancy a bacon sandwich?", "Want a lift home?", "How about a pint?"; a "yes" takes
what is offered."""
_INVITE = re.compile(
    r"^(?:(?:so|and|well|oh|now|hey),?\s+)?(?:(?:do\s+|d'|d’)?you\s+)?"
    rf"(?P<want>wanna|want to|care to|fancy|feel like)\s+(?P<rest>[a-z]+\b[^?]*?){_ADDRESSED}\s*\?+$",
    re.IGNORECASE,
)
"""An invitation to do something: "Wanna grab an espresso before class?", "Fancy going for a swim?" (the calibration
set's student who never drinks coffee answers "Yes please!!"); a "yes" says the answerer wants to."""
_PROPOSE = re.compile(
    r"^(?:(?:so|and|well|oh|now|hey|come on),?\s+)?(?:(?:shall|should)\s+we|(?:how|what)\s+about\s+we|"
    rf"why\s+don't\s+we|why\s+not|what\s+say\s+we|let's|let\s+us)\s+(?P<rest>[a-z]+\b[^?!]*?){_ADDRESSED}\s*[.?!]*$",
    re.IGNORECASE,
)
"""A proposal to do something together: "Shall we bet on the chariot races tomorrow?", "Let's go up the TV tower and
look at Kraków from the top deck."; agreeing to it says the answerer will (the calibration set's Roman who never
gambles answers "Gladly! Ten denarii on the Greens")."""


def question_claim(text: str) -> str | None:
    """The statement a "yes" to the yes/no question closing `text` makes, in the answerer's words, or None.

    Only the last `MAX_QUESTION` characters are read: the question closes the message (or comes just before a short
    afterword, `AFTERWORD`), and the rules stay linear.
    """
    question = _closing_question(text)
    if not question.endswith("?"):
        proposal = _closing_proposal(text)
        return None if proposal is None else _invitation_claim(proposal)
    tag = _TAG.search(question) or _TAG.search(_VOCATIVE.sub("?", question))  # "…, isn't it, brother?"
    if tag and tag.start() > 0:
        clause = _tagged_clause(question[: tag.start()].rstrip(" ,"))
        if not clause or _INVERTED.match(clause + "?"):
            return None  # "Do you swim, right?": not a statement with a tag
        return _sentence(_agree(_swap_pronouns(clause)))
    said = _IT_IS_SO.match(question)
    if said:  # "Is it true you went down with the Hebridean Isles?": a "yes" says the clause
        return _sentence(_agree_all(_swap_pronouns(said["clause"])))
    invited = _invitation_claim(question)
    if invited:
        return invited
    inverted = _INVERTED.match(question)
    if inverted is None:
        stated = question.rstrip("? ")
        if _ASSERTED.match(stated) and not _CHECK_IN.match(stated) and not re.search(r"\bor\b", stated, re.I):
            return _sentence(_agree(_swap_pronouns(stated)))  # a statement asked: "You swim every morning?"
        return None
    subject, aux, rest = _subject(inverted["subj"]), inverted["aux"], inverted["rest"]
    both = _ALSO.match(rest)
    if both:  # "Do the earth and the planets go round the sun?", "Do you and Callum swim?"
        parts = sorted([subject, _subject(both["other"])], key=lambda part: part == "I")  # "Callum and I"
        return _statement(" and ".join(parts), _PLURAL_AUX.get(aux.lower(), aux.lower()), both["rest"])
    return _statement(subject, aux, rest)


_CHECK_IN = re.compile(r"^you\s+(?:alright|all right|okay|ok|there|sure|ready|too|again|up|awake|mad)\b", re.IGNORECASE)
"""A check-in asked as a statement ("You alright?", "You there?", "You sure?"): no claim about the answerer's facts."""


def _invitation_claim(sentence: str) -> str | None:
    """What agreeing to an offer, invitation or proposal says (`_OFFER`, `_INVITE`, `_PROPOSE`), or None.

    "Fancy a coffee?" → "I would like a coffee."; "Wanna grab an espresso?" → "I want to grab an espresso.";
    "Shall we bet on the races?" → "I will bet on the races." (the answerer's own part in what "we" do).
    """
    offer = _OFFER.match(sentence)
    if offer:
        return _sentence(f"I would like {_swap_pronouns(offer['rest'])}")
    invite = _INVITE.match(sentence)
    if invite:
        want = invite["want"].lower()
        verb = {"wanna": "want to", "care to": "would like to"}.get(want, want)
        return _sentence(f"I {verb} {_swap_pronouns(invite['rest'])}")
    propose = _PROPOSE.match(sentence)
    if propose and not re.match(r"(?:not|never|be|see|hope)\b", propose["rest"], re.IGNORECASE):
        return _sentence(f"I will {_swap_pronouns(propose['rest'])}")
    return None


def _closing_proposal(text: str) -> str | None:
    """The proposal closing `text` ("Let's go up the TV tower."), or the one before a short afterword, or None.

    The afterword (`AFTERWORD` characters at most) asks nothing: "… You'll love it!" leaves the proposal the thing a
    "yes" agrees to, "… What do you say?" does not.
    """
    sentences = split_sentences(" ".join(text[-MAX_QUESTION:].split()))
    after = 0
    for sentence in reversed(sentences):
        sentence = _LEAD.sub("", _SPOKEN.sub("", sentence.strip(" *\"'“”"))).strip(" \"'“”")
        if _PROPOSE.match(sentence) and not sentence.endswith("?"):
            return sentence
        after += len(sentence) + 1
        if after > AFTERWORD or "?" in sentence:
            return None
    return None


_IT_IS_SO = re.compile(
    r"^(?:is|isn't|was|wasn't)\s+it\s+(?:true|right|so|correct|the case)\s+(?:that\s+)?"
    rf"(?P<clause>(?:{_PRONOUN}|you(?:'re|'ve|'d|'ll)|your\b|my\b)\s*\S.*?)\s*\?+\s*$",
    re.IGNORECASE,
)
"""Whether a clause is so: "Is it true (that) you …?"; a "yes" says the clause, not "It is true me …"."""
_ALSO = re.compile(
    rf"^and\s+(?P<other>(?:{_PRONOUN})|(?:{_DETERMINER})\s+[\w'-]+|[A-Z][\w'-]*)\s+(?P<rest>\S.*)$", re.IGNORECASE
)
"""The rest of a yes/no question whose subject has two parts: "and the planets go round the sun"."""
_PLURAL_AUX = {"is": "are", "isn't": "aren't", "am": "are", "was": "were", "wasn't": "weren't", "does": "do"}
_PLURAL_AUX |= {"doesn't": "don't", "has": "have", "hasn't": "haven't"}
"""An auxiliary made to agree with a subject of two ("you and Callum", "the earth and the planets")."""


_KIN = (
    "wife|husband|son|sons|daughter|daughters|child|children|kids|brother|brothers|sister|sisters|twin|mother|father|"
    "mum|mom|dad|parents|grandson|grandsons|granddaughter|granddaughters|grandchildren|fiancée|fiancé|fiance|fiancee|"
    "girlfriend|boyfriend|cat|cats|dog|dogs|horse|horses|pet|pets"
)
_PLURAL = {"sons", "daughters", "children", "kids", "brothers", "sisters", "parents", "grandsons", "granddaughters"}
_PLURAL.update({"grandchildren", "cats", "dogs", "horses", "pets"})
_NUMBERS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_COUNT = "|".join([*_NUMBERS, "twin", "little", "young", "old", "grown", "eldest", "youngest", "baby", "new"])
_POSSESSIVE = re.compile(rf"\byour\s+(?:(?P<count>{_COUNT})\s+)?(?P<noun>{_KIN})\b", re.IGNORECASE)
"""A relative or pet of the answerer's, perhaps counted or described ("your two daughters", "your little dog")."""
_WH = re.compile(r"^(?:(?:so|and|but|well|oh),?\s+)?(?:what|how|when|where|why|who|which|whose)\b", re.IGNORECASE)
_WHY = re.compile(r"^(?:(?:so|and|but|well|oh),?\s+)?why\b", re.IGNORECASE)
"""A why-question, with `_WH`'s openers (a premise is read only from a question `_WH` matches)."""
_TELL = re.compile(r"^(?:(?:so|and|now|please),?\s+)?tell me (?:about|more about)\b", re.IGNORECASE)
_ADVERBIAL = re.compile(
    r"^(?:(?:so|and|but|well|oh),?\s+)?(?:when|why|how long|how often|how)\s+"
    r"(?P<aux>did|do|does|have|had|were|was|are|will|would|didn't|don't|haven't|weren't|wasn't|aren't)\s+you\s+"
    r"(?P<rest>\S+\s+\S.*?)\s*\?+$",
    re.IGNORECASE,
)
_MADE = re.compile(
    r"^(?:(?:so|and|but|well|oh),?\s+)?(?:what|who)\s+made\s+you\s+(?P<rest>\S+\s+\S.*?)\s*\?+$", re.IGNORECASE
)
"""'What made you give up the scriptorium?' takes 'I gave up the scriptorium' for granted, as a why-question does."""
_WHICH = re.compile(
    r"^(?:(?:so|and|but|well|oh),?\s+)?(?:which|what)\s+(?P<noun>[a-z]+(?:\s+[a-z]+)?)\s+"
    r"(?P<aux>have|did|had)\s+you\s+(?P<verb>[a-z]+)\b(?P<rest>[^?]*?)\s*\?+$",
    re.IGNORECASE,
)
"""'Which crew members have you buried in space?' takes 'I have buried the crew members in space' for granted."""
_NOT_A_THING = re.compile(r"^(?:way|ways|time|times|one|ones|kind|sort|part|day|days|year|years|of)\b", re.IGNORECASE)
"""Nouns of 'which way did you go?', 'what time did you leave?': no thing the answerer has done something to."""
_LIKE = re.compile(
    r"^(?:(?:so|and|but|well|oh),?\s+)?(?:what(?:'s|\s+is|\s+was)\s+it\s+like|how\s+(?:does|did)\s+it\s+feel)\s+"
    r"(?:to\s+be\s+|being\s+|to\s+(?P<perfect>have\s+been\s+)|to\s+(?P<inf>\w+)\s+|(?P<ving>\w+ing)\s+)?"
    r"(?P<rest>\S.*?)\s*\?+$",
    re.IGNORECASE,
)
_RELATIVE = re.compile(
    r"\bthe\s+(?P<noun>[a-z]+(?:\s+(?!when\b)[a-z]+)?)\s+(?:that\s+|which\s+)?you\s+(?P<verb>[a-z]+)\b"
    r"(?P<rest>[^,;?.!]*)",
    re.IGNORECASE,
)
_NOT_A_DEED = re.compile(
    rf"^(?:{_AUX}|know|knew|mean|meant|said|say|mentioned|told|asked|want|wanted|need|needed|think|thought|"
    # a time after "you" makes it the object: "What did the captain of the Orsolya tell you last night?"
    r"last|next|this|every|all|both|again|now|today|yesterday|tonight|tomorrow)$",
    re.IGNORECASE,
)
_VISITED = re.compile(
    r"\b(?:of|about)\s+(?P<place>[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*)\s+when\s+you\s+(?P<verb>[a-z]+ed|saw|went)\s*\?+$"
)
_DENIAL = re.compile(r"\b(?:not|never|no|none|nothing|neither|nor|cannot|sorry)\b|n't\b", re.IGNORECASE)
_REASON = re.compile(
    r"^\W*(?:(?:well|oh|ah),?\s+)?(?:because|'cause|cos|so (?:that|as to)|"
    r"to (?!be honest|tell (?:you )?the truth|be fair|my (?:mind|knowledge))[a-z]+)\b",
    re.IGNORECASE,
)
"""An answer giving a reason or a purpose ("Because I cannot swim…", "To earn more for my family."): it takes a
why-question's premise for granted, negation or not; its "not" belongs to the reason."""
_CONTENT = re.compile(r"[a-z]{3,}")
_FUNCTION = frozenset({"have", "has", "had", "did", "does", "the", "and", "was", "were", "are", "for", "you", "her"})
_FUNCTION |= {"his", "its", "but", "not", "with", "from", "that", "this", "they", "them", "then", "than", "there"}
"""Words of three letters or more that say nothing of the premise's topic ("the", "did"): a kin noun may be short
("son", "cat"), so content words start at three letters."""
_LATER_CLAUSE = re.compile(r",\s*(?:and|but|though|although|while)\b|;|\s-+\s")
"""What opens a clause of its own after the words that took a premise up (its denials are about something else)."""
_BACK = re.compile(r"\b(?:he|she|it|they|him|her|them|his|their|its|it's|they're|they've|she's|he's)\b", re.IGNORECASE)


_AND_OTHER = re.compile(
    r"and\s+(?P<other>(?:your|my)\s+[a-z]+(?:-[a-z]+)*|[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)?)\s+(?P<rest>.+)"
)
"""The rest of a question whose subject is "you and someone": "and Callum celebrate your anniversary"."""


def premise_claim(text: str) -> str | None:
    """The premise about the answerer that the wh-question or "tell me about" closing `text` takes for granted, or None.

    "What are your sons up to now?" → "I have sons."; "When did you leave the monastery to become a merchant?" → "I did
    leave the monastery to become a merchant."; "Tell me about the ship you lost in the storm." → "I lost the ship in
    the storm."
    """
    question = _last_sentence(text)
    if not (_WH.match(question) and question.endswith("?")) and not _TELL.match(question):
        return None
    adverbial = _ADVERBIAL.match(question)
    if adverbial:
        together = _AND_OTHER.match(adverbial["rest"])
        if together:  # "How did you and Callum celebrate…?" → "Callum and I did celebrate…"
            aux = adverbial["aux"].lower()
            subject = f"{_swap_pronouns(together['other'])} and I"  # `_statement` capitalises "my wife and I"
            return _statement(subject, _PLURAL_AUX.get(aux, aux), together["rest"])
        return _statement("I", adverbial["aux"], adverbial["rest"])
    made = _MADE.match(question)
    if made:
        return _statement("I", "did", made["rest"])
    which = _WHICH.match(question)
    if which and not _NOT_A_DEED.match(which["verb"]) and not _NOT_A_THING.match(which["noun"]):
        after = which["rest"].strip()
        rest = f"{which['verb']} the {which['noun']}" + (after if after.startswith(",") else f" {after}")
        return _statement("I", which["aux"], rest.strip())
    like = _LIKE.match(question)
    if like:
        past = re.match(r"(?:\w+\W+){1,2}(?:was|did)\b", question, re.IGNORECASE) is not None
        if like["perfect"]:
            verb = "have been "
        elif like["inf"]:
            verb = ("did " if past else "do ") + like["inf"] + " "
        else:
            verb = ("was " if past else "am ") + (like["ving"] + " " if like["ving"] else "")
        return _sentence(f"I {verb}{_swap_pronouns(like['rest'])}")
    visited = _VISITED.search(question)
    if visited:
        return _sentence(f"I {visited['verb']} {visited['place']}")
    relative = _RELATIVE.search(question)
    if relative and not _NOT_A_DEED.match(relative["verb"]):
        rest = _swap_pronouns(relative["rest"].strip())
        return _sentence(f"I {relative['verb']} the {relative['noun']} {rest}".strip())
    kin = _POSSESSIVE.search(question)
    if kin:
        noun = kin["noun"].lower()
        count = (kin["count"] or "").lower()
        if count in _NUMBERS:
            return _sentence(f"I have {count} {noun}")
        described = f"{count} {noun}" if count else noun
        return _sentence(f"I have {described}" if noun in _PLURAL else f"I have {_article(described)} {described}")
    return None


_ASSERTED = re.compile(r"^you(?:'re|'ve|\s+(?!know\b|see\b|mean\b|said\b|say\b|asked\b|told\b)[a-z]+\b)", re.IGNORECASE)
"""A sentence about the answerer, said to it ("You speak German fluently."), not a filler ("You know, …")."""


def _article(phrase: str) -> str:
    return "an" if phrase[:1].lower() in "aeiou" else "a"


def asserted_claim(text: str) -> str | None:
    """What the message's last statement about the answerer says, in the answerer's words, or None.

    "Could you translate this letter? You speak German fluently." → "I speak German fluently."; a message may set its
    premise down as a statement beside the question. Questions and sentences not about the answerer give none.
    """
    for sentence in reversed(split_sentences(" ".join(text[-MAX_QUESTION:].split()))):
        sentence = sentence.strip(" *\"'“”")
        if sentence.endswith("?") or not _ASSERTED.match(sentence):
            continue
        return _sentence(_agree(_swap_pronouns(sentence.rstrip(".!"))))
    return None


_ABOUT_ANSWERER = re.compile(r"\byou(?:r|rs|rself|'re|'ve|'d|'ll)?\b", re.IGNORECASE)
MAX_WHOLE_SENTENCES = 4
"""The last sentences of a message read whole for a premise at most: each costs NLI pairs, and a message of many
short sentences ("You a. You b. …") must not cost seconds."""
_INVERTED_ME = re.compile(rf"\b(?P<aux>{_AUX})\s+me\b", re.IGNORECASE)
_OPEN_WORDS = re.compile(
    rf"\b(?:{_AUX}|what|how|when|where|why|who|which|whose|you|your|yours|yourself|i|me|my|mine|myself|be|done|doing|"
    r"s|re|ve|d|ll|t|a|an|the|one|ones|thing|things|something|anything|someone|anyone|somebody|anybody|somewhere|"
    r"anywhere|kind|sort|type|of|to|that|this|it|there|never|ever|not|else|really|most|least|very|so|and|but|well|"
    r"oh|like|say|think|want|usually|always|sometimes|often|then|now|today|tell|about|for|in|on|at|with)\b",
    re.IGNORECASE,
)
"""Words that name nothing the persona could rule out: a wh-question made only of them ("What is something you
would never do?", "What do you usually do?") takes nothing for granted."""
_YES_NO = re.compile(rf"^(?:(?:so|and|but|well|oh),?\s+)?(?:{_AUX})\b", re.IGNORECASE)


def answerer_sentences(text: str) -> list[str]:
    """The message's wh-questions and its statements to the answerer, each in the answerer's first person.

    "I hear you've got a new iPhone. What apps do you like?" → ["You hear I've got a new iPhone.", "What apps do I
    like?"]. What such a sentence takes for granted is read from the whole sentence by the NLI model, where the rules
    of `premise_claim` find no pattern ("How was the drive over from your house?", "Milk and three sugars as always?").
    Plain yes/no questions are left out: the model reads "Am I married?" as denying a marriage (on the calibration
    set's user messages, 26 of 199 yes/no questions reach 0.9 against their three nearest statements, 11 of the 380
    sentences kept here), and `question_claim` reads them as the claim they ask agreement to.
    """
    out = []
    for sentence in split_sentences(" ".join(text[-MAX_QUESTION:].split())):
        sentence = sentence.strip(" *\"'“”")  # the user's *narration* is read too: "*pours cream in your coffee*"
        question = sentence.endswith("?")
        if len(sentence) < 3:
            continue
        if question and not _WH.match(sentence) and _YES_NO.match(sentence) and not _TAG.search(sentence):
            continue
        if not question and not _ABOUT_ANSWERER.search(sentence):
            continue
        if question and not re.search(r"\w", _OPEN_WORDS.sub(" ", sentence.replace("'", " ").replace("’", " "))):
            continue  # an open question: nothing in it for a statement to rule out
        swapped = _agree_all(_swap_pronouns(sentence))
        if question:  # "What apps do you like?": the "you" after the auxiliary is its subject
            swapped = _INVERTED_ME.sub(lambda m: f"{_AGREE.get(('i', m['aux'].lower()), m['aux'])} I", swapped)
            swapped = _speaker_last(swapped)
        out.append(swapped)
    return out[-MAX_WHOLE_SENTENCES:]


def accepted_premise(query: str, first_sentence: str) -> str | None:
    """The premise of the question closing `query`, when the reply's opening sentence takes it up and denies nothing.

    "They're back at school." takes up "What are your sons up to now?" (a pronoun refers back), and "Because I cannot
    swim." takes up "Why did you give up the fiddle?"; "Sons? I've none." and "The weather's turned." do not.
    """
    opening = first_sentence[:MAX_QUESTION]
    claim = premise_claim(query)
    if claim is None:
        return None
    if _REASON.match(opening) and _WHY.match(_last_sentence(query)):
        return claim
    premise = {w[:5] for w in _CONTENT.findall(claim.lower()) if w not in _FUNCTION}
    words = [m for m in _CONTENT.finditer(opening.lower()) if m.group(0) not in _FUNCTION]
    shared = [m.start() for m in words if m.group(0)[:5] in premise]
    back = _BACK.search(opening)
    found = min([*shared, *([back.start()] if back else [])], default=None)
    if found is None:
        return None
    # a denial denies the premise unless it comes in a later clause than the words that take the premise up ("My
    # grandchildren are in Oslo, and I'm not sure when they'll be back."; but "They are not.", "Dogs? Ay, no, …")
    for denial in _DENIAL.finditer(opening):
        if denial.start() < found or not _LATER_CLAUSE.search(opening, found, denial.start()):
            return None
    return claim


_TAKEN = re.compile(
    r"^(?:(?:oh|ah|well|mm+|hmm+),?\s+)?(?:not a bad idea|(?:that's |what |sounds like )?an? "
    r"(?:good|great|lovely|grand|fine|brilliant) idea|i(?:'d| would) love (?:that|one|some)|go on,? then|"
    r"don't mind if i do)\b(?![^.!?]*\b(?:instead|rather)\b)",
    re.IGNORECASE,
)
"""Taking up an offer ("Fancy a bacon sandwich?" "Not a bad idea!"), beside the plain agreements of `_YES`."""


def _invited(query: str) -> bool:
    """Whether `query` closes with an offer, an invitation or a proposal (what "Not a bad idea!" can take up)."""
    question = _closing_question(query)
    if not question.endswith("?"):
        return _closing_proposal(query) is not None
    return _invitation_claim(question) is not None


def agreed_claim(query: str, first_sentence: str) -> str | None:
    """The claim a reply makes by agreeing at its start (`first_sentence`) to the yes/no question closing `query`."""
    opening = first_sentence[:MAX_QUESTION].strip(" *\"'“")
    if not (_YES.match(opening) or (_TAKEN.match(opening) and _invited(query))):
        return None
    return question_claim(query)


class ReplySentences(NamedTuple):
    """A reply as the scorer reads it: its sentences, and the claim its opening makes (agreement, else a premise)."""

    sentences: list[str]
    claim: str | None = None
    opening: str | None = None
    """The spoken sentence that made the claim (narration in asterisks is skipped)."""
    kind: str = "agreeing"
    """How the opening made the claim: "agreeing" (a yes to a yes/no question) or "accepting" (a question's premise)."""

    @property
    def judged(self) -> list[str]:
        """What the models judge: the sentences, then the claim."""
        return [*self.sentences, self.claim] if self.claim else self.sentences

    @property
    def shown(self) -> list[str]:
        """How an explanation quotes each judged sentence: the claim as the opening that made it."""
        if not self.claim:
            return self.sentences
        return [*self.sentences, f"{self.opening} [{self.kind}: {self.claim}]"]


def reply_sentences(query: str, reply: str) -> ReplySentences:
    """The reply's sentences, and the claim its first spoken sentence makes (`agreed_claim`, else `accepted_premise`).

    The sentence agrees to the yes/no question closing `query`, or takes up the premise of its wh-question.
    """
    sentences = split_sentences(reply)
    spoken = split_sentences(_NARRATION.sub(" ", reply))
    if not spoken:
        return ReplySentences(sentences)
    claim = agreed_claim(query, spoken[0])
    if claim:
        return ReplySentences(sentences, claim, spoken[0])
    claim = accepted_premise(query, spoken[0])
    return ReplySentences(sentences, claim, spoken[0], "accepting") if claim else ReplySentences(sentences)
