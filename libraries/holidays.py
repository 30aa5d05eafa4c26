"""Public holidays: the one place that says which days are holidays in a county's country, and what they are called.

The dates come from the `holidays` package (its own rules for Easter, Whitsun,
Denmark's abolished Store bededag and so on), never from hand-written date
arithmetic. A year of one country is computed once per process and language.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from functools import lru_cache
from types import MappingProxyType

import holidays
from django.utils.translation import get_language

NORWAY = "NO"
DENMARK = "DK"

# What the package counts besides the public holidays, per country. Denmark's Grundlovsdag
# (5 June), 1 May, Christmas Eve and New Year's Eve are not public holidays by law, but
# the package lists them as days off most public workplaces (and libraries) take, so a
# plan marks them as Norway's plan marks 17 May.
_CATEGORIES: dict[str, tuple[str, ...]] = {
    NORWAY: (holidays.PUBLIC,),
    DENMARK: (holidays.PUBLIC, holidays.OPTIONAL),
}

# Our languages, as the package names them; a country that does not offer one shows its own names.
_PACKAGE_LANGUAGES = {"nb": "no", "da": "da", "en": "en_US"}

# The longest run of holidays and weekend days a date can move across (Easter in Norway:
# Maundy Thursday to Easter Monday is five days); used to look back before a window.
LONGEST_BREAK_DAYS = 14


@lru_cache(maxsize=128)
def _year(country: str, year: int, language: str | None) -> Mapping[date, str]:
    calendar = holidays.country_holidays(
        country, years=year, language=language, categories=_CATEGORIES.get(country, (holidays.PUBLIC,))
    )
    return MappingProxyType(dict(calendar.items()))


@lru_cache(maxsize=16)
def _supported_languages(country: str) -> tuple[str, ...]:
    return tuple(holidays.country_holidays(country).supported_languages)


def _language(country: str) -> str | None:
    """The package's language for the active one, when the country's names come in it; else None (local names)."""
    wanted = _PACKAGE_LANGUAGES.get((get_language() or "").split("-")[0])
    return wanted if wanted in _supported_languages(country) else None


def holidays_between(country: str, start: date, end: date) -> dict[date, str]:
    """The holidays from `start` to `end` (both included), named in the active language where the package can."""
    language = _language(country)
    found: dict[date, str] = {}
    for year in range(start.year, end.year + 1):
        found.update((day, name) for day, name in _year(country, year, language).items() if start <= day <= end)
    return dict(sorted(found.items()))


def holiday_name(country: str, day: date) -> str:
    """The holiday's name when `day` is one, else ""."""
    return _year(country, day.year, _language(country)).get(day, "")


def is_working_day(country: str, day: date) -> bool:
    """Neither Saturday, Sunday nor a holiday."""
    return day.weekday() < 5 and day not in _year(country, day.year, None)


def next_working_day(country: str, day: date) -> date:
    """The first working day after `day`."""
    following = day + timedelta(days=1)
    while not is_working_day(country, following):
        following += timedelta(days=1)
    return following
