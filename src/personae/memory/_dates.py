"""Relative times in a user's message ("yesterday", "last week", "three days ago") made absolute.

A fact read weeks later must not say "yesterday": each expression is resolved against the time the message was
sent (the session's clock) and rewritten as a date, and the date it points to is kept with the fact.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import NamedTuple

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "a couple of": 2,
    "a few": 3,
}
_COUNT = r"(?P<count>\d{1,3}|a couple of|a few|an?|one|two|three|four|five|six|seven|eight|nine|ten)"
_PATTERN = re.compile(
    r"\b(?:"
    r"(?P<day>yesterday|today|tonight|this morning|this afternoon|this evening|tomorrow|the day before yesterday)"
    rf"|(?P<ago>{_COUNT}\s+(?P<unit>day|week|month|year)s?\s+ago)"
    r"|(?P<rel>(?P<dir>last|next|this past)\s+(?P<what>week|weekend|month|year|" + "|".join(_WEEKDAYS) + r"))"
    r")\b",
    re.IGNORECASE,
)


class ResolvedDates(NamedTuple):
    """A text with its relative times rewritten, and the date the first of them points to."""

    text: str
    """The text with each relative time replaced by an absolute one."""
    refers_to: date | None
    """The date of the first expression resolved (the start of a week, month or year); None if there was none."""


def _day(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


def _month_shift(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _resolve(match: re.Match[str], today: date) -> tuple[str, date]:
    """The absolute phrase for one match, and the date it points to."""
    day = (match.group("day") or "").lower()
    if day:
        offset = {"yesterday": -1, "tomorrow": 1, "the day before yesterday": -2}.get(day, 0)
        when = today + timedelta(days=offset)
        return f"on {_day(when)}", when
    if match.group("ago"):
        count_text = re.sub(r"\s+", " ", match.group("count").lower())
        count = int(count_text) if count_text.isdigit() else _NUMBERS.get(count_text, 1)
        unit = match.group("unit").lower()
        if unit == "day":
            when = today - timedelta(days=count)
            return f"on {_day(when)}", when
        if unit == "week":
            when = today - timedelta(weeks=count)
            return f"in the week of {_day(when - timedelta(days=when.weekday()))}", when
        if unit == "month":
            when = _month_shift(today, -count)
            return f"in {when:%B %Y}", when
        when = date(today.year - count, 1, 1)
        return f"in {when.year}", when
    sign = 1 if match.group("dir").lower() == "next" else -1
    what = match.group("what").lower()
    if what == "week":
        start = today - timedelta(days=today.weekday()) + timedelta(weeks=sign)
        return f"in the week of {_day(start)}", start
    if what == "weekend":
        monday = today - timedelta(days=today.weekday())
        saturday = monday - timedelta(days=2) if sign < 0 else monday + timedelta(days=5 if today.weekday() < 5 else 12)
        return f"on the weekend of {_day(saturday)}", saturday
    if what == "month":
        when = _month_shift(today, sign)
        return f"in {when:%B %Y}", when
    if what == "year":
        when = date(today.year + sign, 1, 1)
        return f"in {when.year}", when
    target = _WEEKDAYS.index(what)
    if sign < 0:
        back = (today.weekday() - target) % 7 or 7
        when = today - timedelta(days=back)
    else:
        when = today + timedelta(days=(target - today.weekday()) % 7 or 7)
    return f"on {when:%A} {_day(when)}", when


def resolve_relative_dates(text: str, today: date) -> ResolvedDates:
    """Rewrite "yesterday", "last week", "3 days ago", "next Friday"… in `text` as dates seen from `today`.

    Example:
        resolve_relative_dates("I moved to Berlin last month.", date(2023, 5, 8)).text
        # 'I moved to Berlin in April 2023.'
    """
    first: list[date] = []

    def replace(match: re.Match[str]) -> str:
        phrase, when = _resolve(match, today)
        first.append(when)
        return phrase

    rewritten = _PATTERN.sub(replace, text)
    return ResolvedDates(rewritten, first[0] if first else None)
