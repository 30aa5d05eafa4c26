"""Properties (hypothesis) of the caption counters (publishing/captions.py) and cadences (production/cadence.py).

Each property is checked against an oracle written differently from the
code under test (a character loop instead of the regular expressions, the
calendar module instead of RRULE), on text and dates hypothesis makes up:
any Unicode, line ends of every kind, hashtags and mentions next to each
other, every weekday and ordinal, windows across year ends, leap days and
daylight-saving changes.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from production import cadence
from publishing.posts import captions

OSLO = ZoneInfo("Europe/Oslo")
# Enough examples to find the corners, no deadline (the machine is shared), and no example database in the tree.
checked = settings(max_examples=200, deadline=None, database=None)


# --- Captions ---


def _is_word(char: str) -> bool:
    """What `\\w` matches in Python's Unicode patterns: alphanumeric characters (str.isalnum) and the underscore."""
    return char.isalnum() or char == "_"


def tags(text: str, sign: str, allowed: str = "") -> int:
    """The oracle: a `sign` not preceded by a word character or another `sign`, followed by word characters."""
    count = 0
    for index, char in enumerate(text):
        if char != sign:
            continue
        before = text[index - 1] if index else ""
        after = text[index + 1] if index + 1 < len(text) else ""
        if before and (before == sign or _is_word(before)):
            continue
        if after and (_is_word(after) or after in allowed):
            count += 1
    return count


caption_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("#@ _.\r\n\tæøåÆØÅ👋🏽\u200b\u202e\u0301abc123")),
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
    ),
    max_size=300,
)


@checked
@given(caption_text)
@example("Hei 👋 #bøker #lesing_2025 @sola.bibliotek e-post@example.org ##dobbel #")
@example("#a#b @c@d #_ @. \r\n#x\r#y")
def test_caption_counts_match_a_character_by_character_count(text: str) -> None:
    counts = captions.count(text)
    plain = text.replace("\r\n", "\n").replace("\r", "\n")
    assert counts.characters == len(plain)  # code points, line ends counted once
    assert counts.hashtags == tags(plain, "#")
    # A mention may start with a full stop after the @ (Instagram usernames contain them).
    assert counts.mentions == tags(plain, "@", allowed=".")


@checked
@given(caption_text, caption_text)
def test_counts_of_two_captions_separated_by_a_space_add_up(first: str, second: str) -> None:
    both = captions.count(f"{first} {second}")
    one, two = captions.count(first), captions.count(second)
    assert both.characters == one.characters + two.characters + 1
    assert both.hashtags == one.hashtags + two.hashtags
    assert both.mentions == one.mentions + two.mentions


@checked
@given(caption_text)
def test_line_ends_of_any_kind_count_the_same(text: str) -> None:
    as_lf = captions.count(text.replace("\r\n", "\n").replace("\r", "\n"))
    as_crlf = captions.count(text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n"))
    assert as_lf == as_crlf


@checked
@given(
    st.integers(0, 2400),
    st.integers(0, 35),
    st.integers(0, 25),
)
def test_a_caption_fits_exactly_when_it_is_within_every_limit(characters: int, hashtags: int, mentions: int) -> None:
    body = " ".join([*(f"#t{n}" for n in range(hashtags)), *(f"@u{n}" for n in range(mentions))])
    text = (body + " " + "x" * max(0, characters - len(body) - 1)).strip() if characters > len(body) else body
    counts = captions.count(text)
    within = (
        counts.characters <= captions.MAX_CHARACTERS
        and counts.hashtags <= captions.MAX_HASHTAGS
        and counts.mentions <= captions.MAX_MENTIONS
    )
    assert counts.fits is within
    over = [
        counts.characters > captions.MAX_CHARACTERS,
        counts.hashtags > captions.MAX_HASHTAGS,
        counts.mentions > captions.MAX_MENTIONS,
    ]
    assert len(counts.problems) == sum(over)  # one sentence per limit that is passed


@checked
@given(caption_text, caption_text)
def test_the_published_caption_has_no_carriage_returns_and_ends_with_the_credit(caption: str, credit: str) -> None:
    full = captions.full_caption(caption, credit)
    assert "\r" not in full
    assert full == full.strip()
    normalised_credit = credit.replace("\r\n", "\n").replace("\r", "\n").strip()
    if normalised_credit:
        assert full.endswith(normalised_credit)
    else:
        assert full == caption.replace("\r\n", "\n").replace("\r", "\n").strip()


# --- Cadences ---

weekdays = st.sampled_from(cadence.WEEKDAY_CODES)
ordinals = st.sampled_from([1, 2, 3, 4, -1])
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31))
windows = st.tuples(days, st.integers(0, 400))


def _weekday_index(code: str) -> int:
    return cadence.WEEKDAY_CODES.index(code)


def _nth_weekday(year: int, month: int, weekday: int, ordinal: int) -> date:
    """The oracle for monthly rules: from the calendar module's month table, not from RRULE."""
    dates = [day for week in calendar.Calendar().monthdatescalendar(year, month) for day in week if day.month == month]
    matching = [day for day in dates if day.weekday() == weekday]
    return matching[ordinal - 1] if ordinal > 0 else matching[-1]


@checked
@given(weekdays, days, windows)
def test_weekly_cadence_gives_every_matching_weekday_in_the_window_and_nothing_else(
    code: str, anchor: date, window: tuple[date, int]
) -> None:
    start, length = window
    end = start + timedelta(days=length)
    found = cadence.occurrences(cadence.Cadence(cadence.WEEKLY, code).rule, anchor=anchor, start=start, end=end)
    first = max(start, anchor)
    expected = [
        first + timedelta(days=n)
        for n in range((end - first).days + 1)
        if (first + timedelta(days=n)).weekday() == _weekday_index(code)
    ]
    assert found == expected


@checked
@given(weekdays, ordinals, days, windows)
@example("TU", -1, date(2024, 1, 1), (date(2024, 2, 1), 30))  # the last Tuesday of a leap February
@example("FR", 4, date(2025, 12, 1), (date(2025, 12, 20), 40))  # across a year end
def test_monthly_cadence_gives_the_nth_or_last_weekday_of_each_month(
    code: str, ordinal: int, anchor: date, window: tuple[date, int]
) -> None:
    start, length = window
    end = start + timedelta(days=length)
    rule = cadence.Cadence(cadence.MONTHLY, code, ordinal).rule
    found = cadence.occurrences(rule, anchor=anchor, start=start, end=end)
    first = max(start, anchor)
    expected = []
    year, month = first.year, first.month
    while date(year, month, 1) <= end:
        candidate = _nth_weekday(year, month, _weekday_index(code), ordinal)
        if first <= candidate <= end:
            expected.append(candidate)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    assert found == expected


@checked
@given(
    st.one_of(
        st.builds(cadence.Cadence, st.just(cadence.WEEKLY), weekdays),
        st.builds(cadence.Cadence, st.just(cadence.MONTHLY), weekdays, ordinals),
        st.just(cadence.Cadence(cadence.AD_HOC)),
    )
)
def test_a_cadence_reads_back_from_its_rule_and_is_described_in_words(choice: cadence.Cadence) -> None:
    assert cadence.parse(choice.rule) == choice
    assert cadence.describe(choice.rule)


@checked
@given(st.text(max_size=60))
def test_a_rule_the_forms_cannot_build_is_refused_not_guessed(rule: str) -> None:
    buildable = {cadence.Cadence(cadence.WEEKLY, code).rule for code in cadence.WEEKDAY_CODES} | {
        cadence.Cadence(cadence.MONTHLY, code, n).rule for code in cadence.WEEKDAY_CODES for n in (1, 2, 3, 4, -1)
    }
    if rule in buildable or rule == "":
        assert cadence.parse(rule).rule == rule
    else:
        try:
            cadence.parse(rule)
        except ValueError:
            return
        raise AssertionError(f"{rule!r} was accepted")


@checked
@given(weekdays, days, st.times(), st.integers(0, 120))
@example("SU", date(2025, 3, 1), time(2, 30), 60)  # the spring-forward night in Oslo: 02:30 does not exist
@example("SU", date(2025, 10, 1), time(2, 30), 60)  # the autumn night: 02:30 happens twice
def test_occurrence_times_keep_the_wall_clock_time_across_daylight_saving(
    code: str, anchor: date, at: time, length: int
) -> None:
    rule = cadence.Cadence(cadence.WEEKLY, code).rule
    start, end = anchor, anchor + timedelta(days=length)
    moments = cadence.occurrence_times(rule, anchor=anchor, at=at, zone=OSLO, start=start, end=end)
    assert [moment.date() for moment in moments] == cadence.occurrences(rule, anchor=anchor, start=start, end=end)
    for moment in moments:
        assert moment.tzinfo is not None
        wall = datetime.combine(moment.date(), at)
        exists = wall.replace(tzinfo=OSLO).astimezone(UTC).astimezone(OSLO).replace(tzinfo=None) == wall
        if exists:
            assert moment.timetz().replace(tzinfo=None) == at
        else:  # inside the spring-forward gap: moved forward by the gap (one hour)
            assert moment.replace(tzinfo=None) == wall + timedelta(hours=1)


def test_a_time_in_the_spring_forward_gap_moves_forward_even_when_it_carries_fold_1() -> None:
    """Found by the property above: 02:00 with fold=1 on the spring-forward night came out as 01:00."""
    [moment] = cadence.occurrence_times(
        "FREQ=WEEKLY;BYDAY=SU",
        anchor=date(2000, 3, 26),
        at=time(2, 0, fold=1),
        zone=OSLO,
        start=date(2000, 3, 26),
        end=date(2000, 3, 26),
    )
    assert moment == datetime(2000, 3, 26, 3, 0, tzinfo=OSLO)
