"""Answers read against their questions: the claim a bare "yes" agrees to, the premise an answer accepts, and their
use in the scorer."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.runtime import GridNLI
from personae.persona import Persona
from personae.scoring import (
    APCScorer,
    Calibration,
    FakeEmbedder,
    RelevanceModel,
    accepted_premise,
    agreed_claim,
    answerer_sentences,
    asserted_claim,
    premise_claim,
    question_claim,
    reply_sentences,
)


@pytest.mark.parametrize(
    ("question", "claim"),
    [
        ("Do you still go for your morning swim off the pier?", "I do still go for my morning swim off the pier."),
        ("Are you a vegetarian?", "I am a vegetarian."),
        ("Were you ever married?", "I was married."),
        ("Have you ever been to Rome?", "I have been to Rome."),
        ("Was your father a knight?", "My father was a knight."),
        ("Can you text me the ferry times from your phone?", "I can text you the ferry times from my phone."),
        ("Can I see both of your hands?", "You can see both of my hands."),
        ("Is your sister doing well on Europa?", "My sister is doing well on Europa."),
        ("I've brought bacon rolls for us both, you love a bacon roll, don't you?", "I love a bacon roll."),
        ("You don't trust the ship's AI, do you?", "I don't trust the ship's AI."),
        ("You always beat Wren at chess, right?", "I always beat Wren at chess."),
        ("The earth goes round the sun, surely you agree?", "The earth goes round the sun."),
        ("Morning! Do you take sugar?", "I do take sugar."),
        # the clause a tag closes runs on past a phrase, its verb agrees, and an address may follow the tag
        ("You were born on Earth, in Lisbon, weren't you?", "I was born on Earth, in Lisbon."),
        ("Your eyesight is perfect, isn't it, brother?", "My eyesight is perfect."),
        ("You're the abbot now, aren't you?", "I'm the abbot now."),
        # who speaks, an address before the question and closing quotes are not the question (a scene's lines)
        ("Ada, do you swim every morning?", "I do swim every morning."),
        ("Captain Quint, do you swim every morning?", "I do swim every morning."),
        ("Harbourmaster: Do you swim every morning?", "I do swim every morning."),
        ('[Mr Dahl turns to Ada: "Captain Quint, are you a vegetarian?"]', "I am a vegetarian."),
        ("Tell me, are you a vegetarian?", "I am a vegetarian."),
        ("If it rains, do you swim?", None),  # a condition is not an address
        # a subject of two parts, the speaker last ("The earth do and the planets go…" before)
        ("Brother, do the earth and the planets go round the sun?", "The earth and the planets do go round the sun."),
        ("Do you and Rania ever argue?", "Rania and I do argue."),
        ("Are you and your brother close?", "My brother and I are close."),
        ("Is the sea and the sky grey today?", "The sea and the sky are grey today."),
        # an offer without its "Do you" (the sixth held-out guard set: the vegetarian's bacon sandwich)
        ("Fancy a bacon sandwich before we go out?", "I would like a bacon sandwich before we go out."),
        ("Fancy a sweet milky coffee, Captain?", "I would like a sweet milky coffee."),
        ("Want some of my honey cake?", "I would like some of your honey cake."),
        ("Fancy that!", None),
        # a short afterword leaves the question the one a "yes" answers (the seventh held-out guard set)
        ("Will you drive us to choir on Thursday? My car's in the garage.", "I will drive us to choir on Thursday."),
        ("Want a cigarette, mate? You always have one after a shift.", "I would like a cigarette."),
        ("Do you swim? I was wondering, because the sea is lovely today and the boat leaves at noon.", None),
        ('[Pryce: "You love cats, aren\'t you, Rosa?"]\nRosa Marsh: I am allergic to cats.', None),  # the next line
        ("Do you swim? Do you?", None),
        # whether a clause is so: a "yes" says the clause (the tenth held-out guard set read "It is true me went…")
        (
            "Is it true you went down with the Hebridean Isles and had to swim to shore?",
            "I went down with the Hebridean Isles and had to swim to shore.",
        ),
        ("Isn't it true that your husband was a fisherman?", "My husband was a fisherman."),
        ("Is it true that you're afraid of heights?", "I'm afraid of heights."),
        # an offer, an invitation, a proposal: agreeing says the answerer wants to, or will (the calibration set's
        # student who never drinks coffee: "Wanna grab an espresso?" "Yes please!!")
        ("How about a pint, Ada?", "I would like a pint."),
        ("Wanna grab an espresso before class?", "I want to grab an espresso before class."),
        ("Do you want to come sailing with me?", "I want to come sailing with you."),
        ("Fancy going for a swim?", "I fancy going for a swim."),
        ("Care to join me for a drink?", "I would like to join you for a drink."),
        ("Shall we bet on the chariot races tomorrow?", "I will bet on the chariot races tomorrow."),
        ("Why don't we have a whisky by the fire?", "I will have a whisky by the fire."),
        # a proposal need not be a question; a short afterword that asks nothing may follow it
        (
            "Let's go up the TV tower and look at Kraków from the top deck. You'll love it!",
            "I will go up the TV tower and look at Kraków from the top deck.",
        ),
        ("Tomasz: Let's go up the tower!", "I will go up the tower."),
        ("Let's not talk about it.", None),
        ("Let's see what happens.", None),
        ("Let's go up the tower. What do you say?", None),  # the question closing the message is what a yes answers
        ("Let's go up the tower. The view from the top deck is the finest in the whole of Lesser Poland.", None),
        # a statement asked as a question
        ("You swim every morning?", "I swim every morning."),
        ("You're coming to the ceilidh tonight?", "I'm coming to the ceilidh tonight."),
        ("You'll be wanting the bacon roll or the fish supper?", None),  # a choice: "yes" picks neither
        ("You know what I mean?", None),
        ("You alright?", None),
        ("You sure?", None),
        # no yes/no question, no claim: nothing is guessed
        ("How is your wife, brother?", None),
        ("Who are you?", None),
        ("Why are you?", None),
        ("What did you think of Rome when you visited?", None),
        ("Tell me about your ship.", None),
        ("", None),
    ],
)
def test_a_yes_no_question_becomes_the_statement_a_yes_makes(question: str, claim: str | None) -> None:
    assert question_claim(question) == claim


@pytest.mark.parametrize(
    ("opening", "agrees"),
    [
        ("Of course, dear.", True),
        ("Aye, I do.", True),
        ("Sure!", True),
        ("Well, yes.", True),
        ("That's right, every morning.", True),
        ("Gladly!", True),
        ("Course I do!", True),
        ("Sounds like a plan.", True),
        ("I'd love to.", True),
        ("Happily, I never do.", False),
        ("With pleasure, but I can't today.", False),
        ("Of course not.", False),
        ("Yes, I don't.", False),
        ("Sure, but I have no phone.", False),
        ("I never have.", False),
        ("I understand.", False),
        ("I am a lighthouse keeper.", False),
        ("I have a cat.", False),
        ("Right, let me think.", False),
        ("Yesterday was rough.", False),
    ],
)
def test_only_an_opening_that_agrees_makes_the_claim(opening: str, agrees: bool) -> None:
    claim = agreed_claim("Do you swim?", opening)
    assert claim == ("I do swim." if agrees else None)


@pytest.mark.parametrize(
    ("opening", "takes"),
    [
        ("Not a bad idea!", True),
        ("Go on then, just the one.", True),
        ("I'd love one.", True),
        ("Sure!", True),
        ("Go on then, I'll have a cheese one instead.", False),  # something else taken
        ("No, thank you.", False),
        ("Lovely weather for it.", False),
    ],
)
def test_taking_up_an_offer_makes_its_claim_but_only_for_an_offer(opening: str, takes: bool) -> None:
    claim = agreed_claim("Fancy a bacon sandwich?", opening)
    assert claim == ("I would like a bacon sandwich." if takes else None)
    if opening != "Sure!":
        assert agreed_claim("Do you swim?", opening) is None  # "I'd love one." agrees to no yes/no question


@pytest.mark.parametrize(
    ("query", "claim"),
    [
        ("Fancy a bacon sandwich?", "I would like a bacon sandwich."),
        ("Wanna grab an espresso before class?", "I want to grab an espresso before class."),
        ("Let's go up the TV tower. You'll love it!", "I will go up the TV tower."),
        ("Do you swim?", None),  # "Not a bad idea!" agrees to no yes/no question
    ],
)
def test_taking_up_an_invitation_or_a_proposal_makes_its_claim(query: str, claim: str | None) -> None:
    assert agreed_claim(query, "Not a bad idea!") == claim


def test_the_claim_comes_from_the_first_spoken_sentence_and_is_quoted_with_it() -> None:
    read = reply_sentences("Do you swim?", "*laughs and sets down her mug* Aye, I do. Every morning.")
    assert read.sentences == ["laughs and sets down her mug", "Aye, I do.", "Every morning."]
    assert read.claim == "I do swim."
    assert read.judged[-1] == "I do swim."
    assert read.shown[-1] == "Aye, I do. [agreeing: I do swim.]"
    assert reply_sentences("Do you swim?", "The sea is cold.").judged == ["The sea is cold."]
    # a one-word action is narration too: it stays in its sentence for the models, not in the spoken opening
    nods = reply_sentences("Do you swim?", "*nods* Aye, I do.")
    assert (nods.sentences, nods.claim) == (["nods Aye, I do."], "I do swim.")


SAM = Persona(name="Sam Rivers", statements=["Sam Rivers does not drink coffee.", "Sam Rivers keeps a cat."])


def test_a_bare_yes_to_a_tempting_question_is_a_violation_explained_by_its_opening() -> None:
    coffee = SAM.statements[0]
    nli = GridNLI({(coffee, "I do drink coffee."): (0.01, 0.02, 0.97)})
    scorer = APCScorer(SAM, nli=nli, relevance=RelevanceModel(FakeEmbedder()), calibration=Calibration(0.9, 0.9))
    result = scorer.score("Do you drink coffee?", "Of course! Two sugars.")
    assert [v.statement for v in result.violations] == [coffee]
    assert result.violations[0].evidence == "Of course! [agreeing: I do drink coffee.]"
    # the same reply to a question it does not agree to decides nothing
    assert not scorer.score("What will you have?", "Of course! Two sugars.").violations


def test_a_yes_that_the_reply_itself_corrects_makes_no_claim() -> None:
    """ "Yes, Sam only drinks tea." answers "Do you drink coffee?" with a correction, not an agreement."""
    coffee, reply = SAM.statements[0], "Yes, Sam only drinks tea."
    nli = GridNLI(
        {
            (coffee, "I do drink coffee."): (0.01, 0.02, 0.97),
            ("I do drink coffee.", reply): (0.02, 0.08, 0.9),
        }
    )
    scorer = APCScorer(SAM, nli=nli, relevance=RelevanceModel(FakeEmbedder()), calibration=Calibration(0.9, 0.9))
    result = scorer.score("Do you drink coffee?", reply)
    assert not result.violations
    assert ("I do drink coffee.", reply) in nli.asked
    assert all(h != "I do drink coffee." for _, h in nli.asked)
    assert np.isclose(result.statements[0].contradiction, 0.05)


def test_a_huge_message_is_read_in_bounded_time() -> None:
    """Messages are untrusted: the rules read the message's last characters only, so a megabyte costs no more."""
    import time

    started = time.perf_counter()
    assert question_claim("It is cold. " * 100_000 + "Do you swim?") == "I do swim."
    assert question_claim("you, " * 200_000 + "?") is None
    assert agreed_claim("Do you swim?", "Yes " + "no " * 300_000) is None
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(
    ("question", "premise"),
    [
        ("How are your daughters getting on at school?", "I have daughters."),
        ("How are your two daughters getting on at school?", "I have two daughters."),
        ("Is your little dog still barking?", None),  # a yes/no question
        ("How is your little dog?", "I have a little dog."),
        ("Morning! How's your dog today?", "I have a dog."),
        ("How is your husband Tom?", "I have a husband."),
        ("When did you give up the violin?", "I did give up the violin."),
        ("How did you and Callum celebrate your anniversary?", "Callum and I did celebrate my anniversary."),
        ("How long have you and your wife been married?", "My wife and I have been married."),
        ("Why did you leave the navy after the war?", "I did leave the navy after the war."),
        ("How long have you been a blacksmith?", "I have been a blacksmith."),
        ("What was it like growing up in Lagos?", "I was growing up in Lagos."),
        ("What's it like being a pilot?", "I am a pilot."),
        ("How did it feel to win the cup?", "I did win the cup."),
        ("How does it feel to have been born in Paris?", "I have been born in Paris."),
        ("Tell me about the horse you sold in Galway.", "I sold the horse in Galway."),
        ("What happened to the letters you burned?", "I burned the letters."),
        ("What did you make of Vienna when you visited?", "I visited Vienna."),
        ("What made you give up the scriptorium for farm work?", "I did give up the scriptorium for farm work."),
        ("Which crew members have you buried in space?", "I have buried the crew members in space."),
        ("Which ferry did you captain, the one from Oban?", "I did captain the ferry, the one from Oban."),
        ("Which way did you go?", None),  # a way, a time: nothing done to a thing
        ('Mr Dahl: "Captain Quint, how is your husband Callum?"', "I have a husband."),
        ("Brother, what are your sons up to?", "I have sons."),
        # no premise about the answerer that the rules can read: nothing is guessed
        ("Where do you live?", None),
        ("Where are you off to on your holidays?", None),  # "where" leaves a gap in the statement
        ("What's your name?", None),
        ("What is your job?", None),
        ("Who are you?", None),
        ("How are you?", None),
        ("Tell me about yourself.", None),
        ("What was the book you mentioned?", None),
        ("What did the captain of the Orsolya tell you last night?", None),  # "you" the object ("I last the …" before)
        ("How was the crossing when you sailed to France?", None),  # "I sailed the crossing when to France." before
        ("Do you have a dog?", None),  # a yes/no question: `question_claim`'s, not a premise
        ("My sons are at school.", None),
        ("", None),
    ],
)
def test_a_wh_question_gives_the_premise_it_takes_for_granted(question: str, premise: str | None) -> None:
    assert premise_claim(question) == premise


@pytest.mark.parametrize(
    ("opening", "accepts"),
    [
        ("They're doing grand, thanks.", True),  # refers back
        ("Oh, the daughters are thriving.", True),  # names the premise's word
        ("Daughters?", True),  # takes it up; a later "I have none" is the scorer's to read (NLI)
        ("I have no daughters.", False),
        # a denial in a later clause is about something else; in the same clause, or before, it denies the premise
        ("My daughters are in Oslo, and I'm not sure when they'll be back.", True),
        ("They're grand, though I don't see them often.", True),
        ("They are not.", False),
        ("Daughters? Ay, no, I've only got my parrot.", False),
        ("I never had daughters, and I'm glad of it.", False),
        ("Because I cannot swim.", False),  # a reason answers a why-question only
        ("Sorry, I can't say.", False),
        ("The weather has turned cold.", False),
    ],
)
def test_a_reply_accepts_the_premise_when_its_opening_takes_it_up_and_denies_nothing(
    opening: str, accepts: bool
) -> None:
    premise = accepted_premise("How are your daughters getting on?", opening)
    assert premise == ("I have daughters." if accepts else None)


def test_a_reason_accepts_a_why_questions_premise_whatever_its_negations() -> None:
    """ "Because I cannot swim." takes "I did give up the fiddle." for granted: its "not" belongs to the reason."""
    question = "Why did you give up the fiddle?"
    assert accepted_premise(question, "Because I cannot swim, and the boat is no place for it.") == (
        "I did give up the fiddle."
    )
    assert accepted_premise(question, "Well, because my hands got stiff.") == "I did give up the fiddle."
    assert accepted_premise(question, "To spend more time at sea, not that I regret it.") == "I did give up the fiddle."
    assert accepted_premise(question, "To be honest, I never did.") is None
    assert accepted_premise(question, "I never gave it up.") is None
    assert accepted_premise("When did you give up the fiddle?", "Because I cannot swim.") is None


def test_a_short_kin_word_takes_the_premise_up() -> None:
    """ "son", "cat" and "dog" are words of the premise too; "the" and "did" are not."""
    assert (
        accepted_premise("Where did you and your son go last summer?", "My son and I went to Oban.") == "I have a son."
    )
    assert accepted_premise("What breed is your cat?", "My cat is a border collie.") == "I have a cat."
    assert accepted_premise("When did you leave the navy?", "The weather did turn.") is None


def test_the_premise_is_quoted_with_the_opening_that_accepted_it() -> None:
    read = reply_sentences("What are your sons up to?", "*smiles* They're back at school. Busy lads.")
    assert read.claim == "I have sons."
    assert read.kind == "accepting"
    assert read.shown[-1] == "They're back at school. [accepting: I have sons.]"
    # a yes to a yes/no question is an agreement, not a premise
    assert reply_sentences("Do you have sons?", "Aye, I do.").kind == "agreeing"


def test_an_accepted_premise_is_a_violation_and_one_the_reply_denies_is_dropped() -> None:
    persona = Persona(name="Sam Rivers", statements=["Sam Rivers has no children.", "Sam Rivers keeps a cat."])
    children = persona.statements[0]
    denial = "I have no children, love."
    nli = GridNLI(
        {
            (children, "I have daughters."): (0.01, 0.02, 0.97),
            ("I have daughters.", denial): (0.01, 0.04, 0.95),
        }
    )
    scorer = APCScorer(persona, nli=nli, relevance=RelevanceModel(FakeEmbedder()), calibration=Calibration(0.9, 0.9))
    accepted = scorer.score("How are your daughters?", "They're grand, thanks.")
    assert [v.statement for v in accepted.violations] == [children]
    assert accepted.violations[0].evidence == "They're grand, thanks. [accepting: I have daughters.]"
    assert not scorer.score("How are your daughters?", f"Daughters? {denial}").violations


def test_a_huge_wh_question_is_read_in_bounded_time() -> None:
    """The premise rules read the message's last characters only, and none of their patterns backtracks badly."""
    import time

    started = time.perf_counter()
    assert premise_claim("It is cold. " * 100_000 + "How are your sons?") == "I have sons."
    assert premise_claim("What was it like " + "flying " * 100_000 + "?") is None
    assert premise_claim("Tell me about the " + "you " * 200_000) is None
    assert accepted_premise("How are your sons?", "They " + "no " * 300_000) is None
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(
    ("message", "claim"),
    [
        ("Could you translate this letter for me? You speak German fluently.", "I speak German fluently."),
        ("Want a cigarette, mate? You always have one after a shift.", "I always have one after a shift."),
        ("You were born in York. Tell me about it.", "I was born in York."),
        ("You know, it's cold out.", None),  # a filler, not a statement about the answerer
        ("Do you speak German?", None),  # a question: `question_claim`'s
        ("I speak German.", None),  # about the speaker
        ("", None),
    ],
)
def test_a_statement_about_the_answerer_beside_the_question_is_a_claim(message: str, claim: str | None) -> None:
    assert asserted_claim(message) == claim


def test_a_huge_message_of_statements_is_read_in_bounded_time() -> None:
    assert asserted_claim("It is cold. " * 100_000 + "You speak German.") == "I speak German."


@pytest.mark.parametrize(
    ("message", "sentences"),
    [
        (
            "I hear you've got a new iPhone. What apps do you like?",
            ["You hear I've got a new iPhone.", "What apps do I like?"],
        ),
        ("How was the drive over from your house?", ["How was the drive over from my house?"]),
        ("Milk and three sugars as always, Captain?", ["Milk and three sugars as always, Captain?"]),
        ("*hands you a mug* It's your favourite, isn't it?", ["hands me a mug", "It's my favourite, isn't it?"]),
        ("What did I tell you about my sister?", ["What did you tell me about your sister?"]),  # the user's "I"
        # the speaker last, as English has it (the model reads "Where did I and Callum go" much less surely)
        ("Where did you and Callum go this spring?", ["Where did Callum and I go this spring?"]),
        ("You and your wife sail often.", ["My wife and I sail often."]),
        # the verb agrees with the swapped pronoun wherever it stands ("When I were in Rome" was read before)
        ("When you were in Rome, did you see the Pope?", ["When I was in Rome, did I see the Pope?"]),
        ("The notes say you are a nurse.", ["The notes say I am a nurse."]),
        ("Are you married?", []),  # a plain yes/no question: `question_claim`'s
        # open questions name nothing a statement could rule out (the demo: "never lost a ship" fired on the first)
        ("What is something you would never do?", []),
        ("Hello! Who are you?", []),
        ("What do you usually do on Sundays?", ["What do I usually do on Sundays?"]),
        ("I had a long day at work. The bus was late.", []),  # about the speaker, not the answerer
        ("", []),
    ],
)
def test_the_sentences_read_whole_for_a_premise_are_wh_questions_and_statements_to_the_answerer(
    message: str, sentences: list[str]
) -> None:
    assert answerer_sentences(message) == sentences


def test_a_sentence_is_read_for_its_premise_against_its_nearest_statements_only() -> None:
    """However many statements a persona has, a sentence read whole costs `PREMISE_SENTENCE_TOP_K` NLI pairs; a
    statement rules its premise out from `PREMISE_SENTENCE` on."""
    from personae.scoring._apc import PREMISE_SENTENCE_TOP_K

    many = Persona(name="Ada", summary="", statements=[f"Ada has visited island number {k}." for k in range(40)])
    asked = "What did I think of island number 7?"
    nli = GridNLI({("Ada has visited island number 7.", asked): (0.02, 0.03, 0.95)})
    scorer = APCScorer(many, nli=nli, relevance=RelevanceModel(FakeEmbedder()))
    assert scorer._sentence_premises("What did you think of island number 7?") == [
        (pytest.approx(0.95), "Ada has visited island number 7.")
    ]
    assert len(nli.asked) == PREMISE_SENTENCE_TOP_K
    assert {sentence for _, sentence in nli.asked} == {asked}
    nli.table[("Ada has visited island number 7.", asked)] = (0.02, 0.13, 0.85)  # under the bar
    assert scorer._sentence_premises("What did you think of island number 7?") == []


def test_a_message_of_many_short_sentences_is_read_whole_only_in_its_last_few() -> None:
    from personae.scoring._answers import MAX_WHOLE_SENTENCES

    many = " ".join(f"You saw {k}." for k in range(200))
    read = answerer_sentences(many)
    assert len(read) == MAX_WHOLE_SENTENCES
    assert read[-1] == "I saw 199."
