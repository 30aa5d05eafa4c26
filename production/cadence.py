"""A concept's cadence: an RFC 5545 RRULE, built from a few choices and read back.

Dates come from dateutil's rrule (the RFC's own rules for "last Tuesday of the
month", year ends and leap years), never from hand-written date arithmetic.
Only the rules a form can build are offered; an empty rule means "ad hoc".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from libraries import holidays

# RFC 5545 weekday codes, Monday first (as datetime.weekday() counts).
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

WEEKLY = "weekly"
MONTHLY = "monthly"
AD_HOC = "adhoc"

KIND_CHOICES = [
    (WEEKLY, gettext_lazy("Weekly, on a weekday")),
    (MONTHLY, gettext_lazy("Monthly, on the nth or last weekday")),
    (AD_HOC, gettext_lazy("Ad hoc (no fixed dates)")),
]
WEEKDAY_CHOICES = [(code, WEEKDAYS[index]) for index, code in enumerate(WEEKDAY_CODES)]
ORDINAL_CHOICES = [
    (1, gettext_lazy("First")),
    (2, gettext_lazy("Second")),
    (3, gettext_lazy("Third")),
    (4, gettext_lazy("Fourth")),
    (-1, gettext_lazy("Last")),
]

_WEEKLY_RULE = re.compile(r"^FREQ=WEEKLY;BYDAY=(MO|TU|WE|TH|FR|SA|SU)$")
_MONTHLY_RULE = re.compile(r"^FREQ=MONTHLY;BYDAY=(-1|[1-4])(MO|TU|WE|TH|FR|SA|SU)$")


@dataclass(frozen=True)
class Cadence:
    """The choices behind a rule: kind, weekday code and (monthly) ordinal."""

    kind: str
    weekday: str = ""
    ordinal: int | None = None

    @property
    def rule(self) -> str:
        if self.kind == WEEKLY:
            return f"FREQ=WEEKLY;BYDAY={self.weekday}"
        if self.kind == MONTHLY:
            return f"FREQ=MONTHLY;BYDAY={self.ordinal}{self.weekday}"
        return ""


def parse(rule: str) -> Cadence:
    """The choices a rule was built from; ValueError for a rule the forms cannot build."""
    if not rule:
        return Cadence(AD_HOC)
    if match := _WEEKLY_RULE.match(rule):
        return Cadence(WEEKLY, match.group(1))
    if match := _MONTHLY_RULE.match(rule):
        return Cadence(MONTHLY, match.group(2), int(match.group(1)))
    raise ValueError(f"Unsupported cadence rule: {rule!r}")


def describe(rule: str) -> str:
    """The rule in words, in the active language: "Every Friday", "Last Tuesday of the month"."""
    cadence = parse(rule)
    if cadence.kind == AD_HOC:
        return _("Ad hoc")
    weekday = WEEKDAYS[WEEKDAY_CODES.index(cadence.weekday)]
    if cadence.kind == WEEKLY:
        return _("Every %(weekday)s") % {"weekday": weekday}
    ordinal = dict(ORDINAL_CHOICES)[cadence.ordinal]  # type: ignore[index]  # parse() only gives ordinals in the choices
    return _("%(ordinal)s %(weekday)s of the month") % {"ordinal": ordinal, "weekday": weekday}


def occurrences(rule: str, *, anchor: date, start: date, end: date) -> list[date]:
    """The dates from `start` to `end` (both included) on which the rule falls, counted from `anchor`."""
    if not rule or end < start:
        return []
    parse(rule)  # only the rules the forms build (ValueError otherwise)
    # Counting starts at the window, not at the anchor years back: these rules have no
    # INTERVAL or COUNT, so their dates do not depend on where counting starts, and
    # dateutil would otherwise step through every week since the concept began.
    window_start = datetime.combine(max(start, anchor), time())
    recurrence = rrulestr(rule, dtstart=window_start)
    window_end = datetime.combine(end, time())
    return [moment.date() for moment in recurrence.between(window_start, window_end, inc=True)]


def occurrence_times(rule: str, *, anchor: date, at: time, zone: ZoneInfo, start: date, end: date) -> list[datetime]:
    """Like `occurrences`, as aware datetimes at the wall-clock time `at` in `zone`.

    The wall-clock time stays the same across daylight-saving changes (12:00 is
    12:00 in March and in November); only the UTC offset moves. A time that does
    not exist on a spring-forward night is moved forward by the gap.
    """
    return [local_time(day, at, zone) for day in occurrences(rule, anchor=anchor, start=start, end=end)]


def local_time(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`day` at the wall-clock time `at` in `zone`, as an aware datetime (see `occurrence_times`)."""
    # fold=0 whatever `at` carries: a time in the gap then moves forward, an ambiguous one is the first.
    local = datetime.combine(day, at.replace(fold=0), tzinfo=zone)
    # A round trip through UTC resolves a wall-clock time inside the DST gap.
    return local.astimezone(UTC).astimezone(zone)


# --- Public holidays: what a concept does with a date that falls on one ---

PUBLISH_ANYWAY = "publish"
SKIP = "skip"
MOVE = "move"


@dataclass(frozen=True)
class ConceptDate:
    """One date of a concept's cadence after its holiday rule.

    `original` is the cadence's date; `date` the day a post is expected (the
    next working day when the rule moved it). `holiday` names the holiday the
    cadence's date falls on ("" on an ordinary day).
    """

    original: date
    date: date
    holiday: str = ""
    skipped: bool = False

    @property
    def moved(self) -> bool:
        return self.date != self.original


def concept_dates(
    rule: str, *, anchor: date, start: date, end: date, country: str, holiday_rule: str
) -> list[ConceptDate]:
    """The cadence's dates from `start` to `end` after the holiday rule, skipped ones included (flagged).

    A moved date counts where it lands: a holiday just before `start` may move into
    the window, and one near `end` may move out of it (into the next window).
    """
    lookback = holidays.LONGEST_BREAK_DAYS if holiday_rule == MOVE else 0
    found = holidays.holidays_between(country, start - timedelta(days=lookback), end)
    dates: dict[date, ConceptDate] = {}
    for day in occurrences(rule, anchor=anchor, start=start - timedelta(days=lookback), end=end):
        holiday = found.get(day, "")
        if holiday and holiday_rule == SKIP:
            entry = ConceptDate(day, day, holiday, skipped=True)
        elif holiday and holiday_rule == MOVE:
            entry = ConceptDate(day, holidays.next_working_day(country, day), holiday)
        else:
            entry = ConceptDate(day, day, holiday)
        # A moved date never doubles one the cadence has anyway (the first one stays).
        if start <= entry.date <= end and entry.date not in dates:
            dates[entry.date] = entry
    return sorted(dates.values(), key=lambda entry: entry.date)
