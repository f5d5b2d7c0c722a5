"""Exits a character narrates in its own line (`narrated_exit`), read as the scene runner reads them."""

from __future__ import annotations

import pytest

from personae.scene._exits import narrated_exit


@pytest.mark.parametrize(
    "line",
    [
        "*grabs her coat and walks out*",
        "(Lisa leaves the room, the door clicking shut behind her.)",
        '"Fine. Do it your way." *storms out of the office*',
        "*Lisa takes her leave with a nod*",
        "*She sighs, then heads out into the rain.*",
        "[Lisa quietly slips out through the side door.]",
        "*I leave the room without another word*",
        "*exits*",
        "_leaves_",
        '"Goodnight, all." *closes the door behind her*',
        "*Lisa Carter hurries off to catch her train*",
    ],
)
def test_an_exit_of_the_speakers_own_is_read(line: str) -> None:
    assert narrated_exit(line, "Lisa Carter") is not None


@pytest.mark.parametrize(
    "line",
    [
        "I'm leaving. Don't wait up.",  # spoken, not narrated: she may yet stay
        '"I should walk out of here," she says.',
        "*turns to leave, then stops at the door*",
        "*steps out of the way to let Marcos pass*",
        "*leaves the cup on the desk*",
        "*walks over to the window*",
        "*looks away from Marcos*",
        "*is about to walk out but sits back down*",
        "*never leaves the room without her keys*",
        "*pours the tea* Marcos left an hour ago.",
        "*Marcos walks out*",  # another character's exit is not hers (and is role confusion, read elsewhere)
    ],
)
def test_no_exit_is_read_where_the_speaker_does_not_leave(line: str) -> None:
    assert narrated_exit(line, "Lisa Carter") is None
