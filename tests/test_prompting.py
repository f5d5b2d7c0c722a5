"""Prompt assembly: statement retrieval, lorebook triggering and budget, memory, macros."""

from __future__ import annotations

import pytest

from helpers.runtime import fake_models, sailor
from personae.persona import Lorebook, LorebookEntry
from personae.prompting import Exchange, MemoryContext, PromptAssembler, PromptSettings, triggered_entries
from personae.prompting._assemble import in_first_person, in_second_person
from personae.scoring import FakeEmbedder, RelevanceModel

LORE = [
    LorebookEntry(keys=["Minch"], content="The Minch is a strait known for sudden gales.", priority=10),
    LorebookEntry(keys=["ceilidh"], content="The ceilidh is held on Fridays in the village hall.", priority=1),
    LorebookEntry(constant=True, content="It is autumn in Uig.", priority=5),
]


def test_entry_whose_key_is_in_the_user_message_reaches_the_prompt() -> None:
    prompt = PromptAssembler(sailor(LORE)).assemble([], "Was the minch rough today?")
    system = prompt.messages[0].content
    assert "sudden gales" in system
    assert "village hall" not in system


def test_constant_entry_is_always_in_the_prompt() -> None:
    prompt = PromptAssembler(sailor(LORE)).assemble([], "Good morning.")
    assert "It is autumn in Uig." in prompt.messages[0].content
    assert "sudden gales" not in prompt.messages[0].content


def test_over_budget_the_lowest_priority_entry_is_dropped_first() -> None:
    persona = sailor(LORE)
    text = "Is the ceilidh on, or is the Minch too rough?"
    full = PromptAssembler(persona).assemble([], text)
    lore = [p for p in full.parts if p.section == "lorebook"]
    assert all(p.included for p in lore)
    assert len(lore) == 3
    cheapest_two = sorted(p.tokens for p in lore if "ceilidh" not in p.text)
    # A lorebook budget with room for the two higher-priority entries only.
    tight = sailor(LORE, budget=sum(cheapest_two))
    prompt = PromptAssembler(tight).assemble([], text)
    dropped = [p.text for p in prompt.parts if p.section == "lorebook" and not p.included]
    assert dropped == ["The ceilidh is held on Fridays in the village hall."]
    assert "sudden gales" in prompt.messages[0].content
    assert "autumn" in prompt.messages[0].content


def test_entries_are_placed_in_insertion_order_not_priority_order() -> None:
    entries = [
        LorebookEntry(keys=["fiddle"], content="SECOND entry.", insertion_order=20, priority=9),
        LorebookEntry(keys=["fiddle"], content="FIRST entry.", insertion_order=10, priority=1),
    ]
    system = PromptAssembler(sailor(entries)).assemble([], "Play the fiddle!").messages[0].content
    assert system.index("FIRST entry.") < system.index("SECOND entry.")


def test_selective_entry_needs_a_secondary_key_and_keys_match_whole_words() -> None:
    entry = LorebookEntry(keys=["sea"], secondary_keys=["storm", "gale"], content="Sea storms.")
    book = Lorebook(entries=[entry])
    assert triggered_entries(book, ["The sea is calm."]) == []
    assert [t.entry for t in triggered_entries(book, ["A gale on the sea!"])] == [entry]
    assert triggered_entries(book, ["Seasonal gale."]) == []  # "sea" is not a word of "Seasonal"


def test_case_sensitive_and_regex_keys_and_scan_depth() -> None:
    exact = LorebookEntry(keys=["Ben"], content="Ben is Ada's neighbour.", case_sensitive=True)
    regex = LorebookEntry(keys=["/ferr(y|ies)/i"], content="Ferries.")
    book = Lorebook(entries=[exact, regex], scan_depth=1)
    assert [t.entry for t in triggered_entries(book, ["ben nevis"])] == []
    assert [t.entry for t in triggered_entries(book, ["Ben came by"])] == [exact]
    assert [t.entry for t in triggered_entries(book, ["Old FERRIES"])] == [regex]
    assert triggered_entries(book, ["Ben came by", "then left"]) == []  # older message is beyond scan depth 1


def test_top_k_statements_are_the_most_relevant_to_the_message() -> None:
    assembler = PromptAssembler(
        sailor(), settings=PromptSettings(top_k_statements=1), relevance=RelevanceModel(FakeEmbedder())
    )
    prompt = assembler.assemble([], "Tell me about Skerry, your border collie.")
    kept = [p.text for p in prompt.parts if p.section == "statement"]
    assert kept == ["Ada has a border collie named Skerry."]
    assert "border collie" in prompt.messages[0].content
    assert "vegetarian" not in prompt.messages[0].content


def test_a_question_about_the_users_own_life_ranks_the_characters_same_topic_statements_last() -> None:
    assembler = PromptAssembler(
        sailor(), settings=PromptSettings(top_k_statements=1), relevance=RelevanceModel(FakeEmbedder())
    )
    question = "Do I have a border collie named Skerry?"
    knows = MemoryContext(user_facts=[("Sam has a cat named Mitten.", 0.9)])
    # without memory of the user, the character's own dog is the statement to offer ...
    assert [p.text for p in assembler.assemble([], question).parts if p.section == "statement"] == [
        "Ada has a border collie named Skerry."
    ]
    # ... with it, the question is about Sam's life: Ada's own dog was what the embedded model answered with
    prompt = assembler.assemble([], question, knows)
    kept = [p for p in prompt.parts if p.section == "statement"]
    assert len(kept) == 1
    assert "Skerry" not in kept[0].text
    assert "Sam has a cat named Mitten." in prompt.messages[0].content
    full = PromptAssembler(sailor(), relevance=RelevanceModel(FakeEmbedder())).assemble([], question, knows)
    last = [p for p in full.parts if p.section == "statement"][-1]
    assert last.text == "Ada has a border collie named Skerry."
    assert last.note is not None
    assert last.note.endswith("ranked last: User asks about User's own life")
    # a question to the character keeps the ranking by relevance
    other = assembler.assemble([], "Is Skerry your border collie?", knows)
    assert [p.text for p in other.parts if p.section == "statement"] == ["Ada has a border collie named Skerry."]


def test_recent_turns_are_verbatim_and_old_ones_drop_first_over_budget() -> None:
    history = [Exchange(index=i, user=f"question {i} " + "word " * 40, reply=f"answer {i}") for i in range(6)]
    roomy = PromptAssembler(sailor()).assemble(history, "And now?")
    assert [m.role for m in roomy.messages[-3:]] == ["user", "assistant", "user"]
    assert roomy.messages[-2].content == "answer 5"
    fixed = sum(p.tokens for p in roomy.parts if p.section in ("core", "rules", "user", "greeting"))
    turn = max(p.tokens for p in roomy.parts if p.section == "turn")
    budget = fixed + 3 * turn + 5  # room for three of the six exchanges
    tight = PromptAssembler(sailor(), settings=PromptSettings(budget_tokens=budget, top_k_statements=0))
    prompt = tight.assemble(history, "And now?")
    contents = [m.content for m in prompt.messages]
    assert [c for c in contents if c.startswith("answer")] == ["answer 3", "answer 4", "answer 5"]
    assert prompt.tokens <= prompt.budget_tokens
    assert any(not p.included and p.section == "turn" for p in prompt.parts)


def test_memory_summary_and_retrieved_events_enter_the_system_prompt() -> None:
    memory = MemoryContext(
        summary="Tom told Ada he is afraid of the sea.",
        events=[(Exchange(index=0, user="My dog is called Rex.", reply="A fine name."), 0.9)],
    )
    history = [Exchange(index=i, user=f"q{i}", reply=f"a{i}") for i in range(12)]
    prompt = PromptAssembler(sailor(), settings=PromptSettings(recent_turns=4)).assemble(history, "Hi", memory)
    system = prompt.messages[0].content
    assert "Tom told Ada he is afraid of the sea." in system
    assert "My dog is called Rex." in system
    assert "Come in" not in " ".join(m.content for m in prompt.messages)  # greeting left the window


def test_macros_are_expanded_and_render_shows_the_prompt() -> None:
    prompt = PromptAssembler(sailor(), user_name="Tom").assemble([], "Hello")
    assert prompt.messages[1].content == "Come in, Tom."
    text = prompt.render()
    assert "--- system ---" in text
    assert "You are Ada." in text


def test_options_kept_by_a_card_import_are_honoured() -> None:
    not_selective = LorebookEntry(
        keys=["sea"], secondary_keys=["storm"], content="Sea.", extensions={"chara_card": {"selective": False}}
    )
    regex = LorebookEntry(keys=["ferr(y|ies)"], content="Ferries.", extensions={"chara_card": {"use_regex": True}})
    partial = LorebookEntry(keys=["sea"], content="Partial.", extensions={"world_info": {"matchWholeWords": False}})
    book = Lorebook(entries=[not_selective, regex, partial])
    assert [t.entry for t in triggered_entries(book, ["The sea is calm."])] == [not_selective, partial]
    assert [t.entry for t in triggered_entries(book, ["Two ferries; seasonal."])] == [regex, partial]


def test_a_message_whose_premise_a_statement_contradicts_ends_the_prompt_with_that_statement() -> None:
    # "Do you swim every morning?" asks agreement to "I do swim every morning", which "Ada cannot swim." contradicts
    # (the fake NLI reads the negation mismatch); "Are you a vegetarian?" asks agreement to a true statement.
    scorer = fake_models().scorer(sailor())
    assert scorer is not None
    assembler = PromptAssembler(sailor(), user_name="Sam", premises=scorer.premise_conflicts)
    prompt = assembler.assemble([], "Do you swim every morning?")
    system = prompt.messages[0].content
    assert system.endswith(
        "Sam's message takes for granted something your facts rule out:\n- You cannot swim.\n"
        'Do not go along with it: put Sam right in your own voice ("I …"), in character.'
    )
    assert [p.section for p in prompt.parts if p.section == "premise"] == ["premise"]  # /prompt lists it
    assert "your facts rule out" not in assembler.assemble([], "Are you a vegetarian?").messages[0].content
    assert "your facts rule out" not in assembler.assemble([], "Tell me about the sea.").messages[0].content  # no claim
    off = PromptAssembler(
        sailor(), user_name="Sam", settings=PromptSettings(premise_cue=False), premises=scorer.premise_conflicts
    )
    assert "your facts rule out" not in off.assemble([], "Do you swim every morning?").messages[0].content


@pytest.mark.parametrize(
    ("statement", "told"),
    [
        (
            "Ada Quint is a widow; her husband Callum died in 2015.",
            "You are a widow; your husband Callum died in 2015.",
        ),
        (
            "Ada Quint cannot swim, which she finds funny for a sailor.",
            "You cannot swim, which you find funny for a sailor.",
        ),
        ("Ada distrusts smartphones and does not own one.", "You distrust smartphones and do not own one."),
        ("Ada plays chess every night and usually loses.", "You play chess every night and usually lose."),
        ("Ada carries a lantern and watches the sea.", "You carry a lantern and watch the sea."),
        ("Ada likes dogs and cats.", "You like dogs and cats."),  # a last plural noun is no verb
        ("Ada Quint's brother lives in Oslo.", "Your brother lives in Oslo."),
        ("The ferry is old.", "The ferry is old."),  # not about her: as it is
    ],
)
def test_the_premise_cue_tells_the_character_its_facts_in_the_second_person(statement: str, told: str) -> None:
    assert in_second_person(statement, "Ada Quint") == told


@pytest.mark.parametrize(
    ("statement", "said"),
    [
        ("Ada Quint is a widow; her husband Callum died in 2015.", "I am a widow; my husband Callum died in 2015."),
        (
            "Ada Quint cannot swim, which she finds funny for a sailor.",
            "I cannot swim, which I find funny for a sailor.",
        ),
        ("Ada plays chess every night and usually loses.", "I play chess every night and usually lose."),
        ("Ada Quint was born on Mars.", "I was born on Mars."),
        ("Ada Quint's brother lives in Oslo.", "My brother lives in Oslo."),
        ("The ferry is old.", None),  # not about her: nothing she would say of herself
    ],
)
def test_the_guard_s_opening_gives_a_fact_in_the_character_s_own_words(statement: str, said: str | None) -> None:
    assert in_first_person(statement, "Ada Quint") == said
