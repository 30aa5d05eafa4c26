"""Every page of the access matrix and every e-mail, in each language, holds no text of another language.

For each language the test knows the sentences that belong only to the others: the
translations in the other catalogues (locale/*/LC_MESSAGES/django.po) that this
language does not share, cut at their placeholders and markup, at least
MIN_LENGTH characters long. A page or an e-mail in Bokmål that shows "Libraries
invited to the post" (a string translated too early, in the wrong language, or
never marked for translation) fails, as does an English page that shows a Danish
help text. Dates are checked too: Norwegian and Danish write month names in lower
case, and English dates are European ("4 December 2026", 14:30), not American.

The pages are the GET rows of tests/reliability/test_access_matrix.py, each asked by
one person the row lets in; the e-mails are every template under templates/emails/.
"""

from __future__ import annotations

import html
import re
from functools import cache
from gettext import GNUTranslations
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone, translation

from libraries.models import Role
from libraries.services import recipients_by_language
from publishing.followup.reports import Month, build_report
from tests.conftest import World, client_for
from tests.factories.libraries import UserFactory
from tests.reliability.test_access_matrix import MATRIX, OK, Things, home_things, url_for

pytestmark = pytest.mark.django_db

LANGUAGES = [code for code, _name in settings.LANGUAGES]
MIN_LENGTH = 12
# Who asks for a page: the first of these the row lets in (coordinators see the most).
ASKERS = ("coordinator", "editor", "librarian", "anonymous")
# Names, not sentences: the languages' own names in the language menu are the same in every language.
NAMES = {"Norwegian Bokmål", "Norsk bokmål", "Dansk", "English", "Engelsk", "Danish"}
# Pieces of a sentence a placeholder or a tag cuts apart.
CUT = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\{.*?\}\}|\{%.*?%\}|<[^>]*>|\n|\[|\]|“|”|\"|«|»")
EMAIL_TEMPLATES = sorted(
    path.name.removesuffix(".txt") for path in (settings.BASE_DIR / "templates" / "emails").glob("*.txt")
)


class Readable(HTMLParser):
    """What a person reads or hears of a page: its text and the attributes read out, not names and ids."""

    SPOKEN = frozenset({"title", "alt", "placeholder", "aria-label", "aria-description", "aria-valuetext"})
    SILENT = frozenset({"script", "style", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.silent = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SILENT:
            self.silent += 1
        values = dict(attrs)
        self.parts += [value for name, value in attrs if name in self.SPOKEN and value]
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SILENT and self.silent:
            self.silent -= 1

    def handle_data(self, data: str) -> None:
        if not self.silent:
            self.parts.append(data)


def readable(page: str) -> str:
    parser = Readable()
    parser.feed(page)
    parser.close()
    return "\n".join(parser.parts)


def normalise(text: str) -> str:
    return " ".join(html.unescape(text).split())


@cache
def catalogue(language: str) -> dict[str, str]:
    """msgid → msgstr (the first form of a plural; the context dropped) of our catalogue."""
    path = Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES" / "django.mo"
    with path.open("rb") as file:
        raw: dict[Any, str] = GNUTranslations(file)._catalog  # type: ignore[attr-defined]
    entries = {}
    for key, value in raw.items():
        msgid, form = (key[0], key[1]) if isinstance(key, tuple) else (key, 0)
        if not msgid or form != 0:
            continue
        entries[msgid.split("\x04")[-1]] = value
    return entries


def pieces(text: str) -> set[str]:
    return {normalise(piece) for piece in CUT.split(text) if len(normalise(piece)) >= MIN_LENGTH}


@cache
def foreign(language: str) -> frozenset[str]:
    """The sentences of the other languages that `language` does not have (by id, nor anywhere in its own text)."""
    own = catalogue(language)
    own_text = "\n".join(normalise(text) for text in own.values())
    found = set()
    for other in LANGUAGES:
        if other == language:
            continue
        for msgid, text in catalogue(other).items():
            if own.get(msgid) == text:
                continue
            found |= {piece for piece in pieces(text) if piece not in own_text and piece not in NAMES}
    return frozenset(found)


@cache
def untranslated(language: str) -> frozenset[str]:
    """For Bokmål and Danish: the English source sentences they translate differently (so must not show)."""
    if language == "en":
        return frozenset()
    own_text = "\n".join(normalise(text) for text in catalogue(language).values())
    return frozenset(
        piece
        for msgid, text in catalogue(language).items()
        if text != msgid
        for piece in pieces(msgid)
        if piece not in own_text and piece not in NAMES
    )


MONTHS = {
    "nb": "Januar|Februar|Mars|April|Mai|Juni|Juli|August|September|Oktober|November|Desember",
    "da": "Januar|Februar|Marts|April|Maj|Juni|Juli|August|September|Oktober|November|December",
}
ABBREVIATED = {
    "nb": "Jan|Feb|Mar|Apr|Mai|Jun|Jul|Aug|Sep|Okt|Nov|Des",
    "da": "Jan|Feb|Mar|Apr|Maj|Jun|Jul|Aug|Sep|Okt|Nov|Dec",
}
ENGLISH_MONTHS = (
    "January|February|March|April|June|July|August|September|October|November|December"
    "|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
)


def wrong_dates(language: str, text: str) -> list[str]:
    """Dates as the language does not write them."""
    if language == "en":
        american = [
            rf"\b(?:{ENGLISH_MONTHS})\.? \d{{1,2}}, \d{{4}}",  # Dec. 4, 2026
            r"\b\d{1,2}:\d{2} ?[ap]\.m\.",  # 2:30 p.m.
            r"\b\d{1,2} ?[ap]\.m\.",
            r"\bmidnight\b|\bnoon\b",
        ]
        return [match for pattern in american for match in re.findall(pattern, text)]
    capitalised = [
        rf"\b(?:{MONTHS[language]}) \d{{4}}\b",  # November 2026
        rf"\d\.? (?:{MONTHS[language]}|{ABBREVIATED[language]})\b",  # 30 Nov, 30. November
    ]
    return [match for pattern in capitalised for match in re.findall(pattern, text)]


def other_language_text(language: str, text: str) -> list[str]:
    text = normalise(text)
    found = sorted(piece for piece in foreign(language) | untranslated(language) if piece in text)
    return found + wrong_dates(language, text)


# --- The pages ---

PAGE_ROWS = [
    (route, row)
    for route, rows in sorted(MATRIX.items())
    for row in rows
    if row.method == "get" and any(row.expect[role] == OK for role in ASKERS)
]


def ask_page(clients: dict[str, Client], route: str, row: Any, things: Things) -> tuple[str, str] | None:
    """The page's HTML as the first person the row lets in gets it, or None when it is no HTML page."""
    role = next(role for role in ASKERS if row.expect[role] == OK)
    url = url_for(route, row, things)
    with transaction.atomic():
        response = clients[role].get(url, headers=row.headers)
        transaction.set_rollback(True)
    if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
        return None
    return url, response.content.decode()


# A consent link's page speaks the link's language (the person's, chosen when it was sent; DESIGN.md §3),
# whatever language the browser that opens it has chosen. The matrix's links are sent in the person's, Bokmål.
IN_THE_LINKS_LANGUAGE = {"consent/<str:token>/": "nb"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_is_in_one_language(language: str, world: World) -> None:
    things = home_things(world)
    people = {"coordinator": world.coordinator, "editor": world.editor, "librarian": world.librarian}
    clients = {"anonymous": Client()} | {role: client_for(user) for role, user in people.items()}
    for client in clients.values():
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    wrong, seen = [], 0
    for route, row in PAGE_ROWS:
        page = ask_page(clients, route, row, things)
        if page is None:
            continue
        url, content = page
        seen += 1
        page_language = IN_THE_LINKS_LANGUAGE.get(route, language)
        if "<html" in content:  # not a fragment for htmx
            assert f'<html lang="{page_language}"' in content, url
        found = other_language_text(page_language, readable(content))
        if found:
            wrong.append(f"{url}: {found}")
    assert seen > 60, seen  # the walk reached the pages, not only redirects
    assert not wrong, f"Pages in {language} with text of another language:\n" + "\n".join(wrong)


# --- The e-mails ---


def email_context(world: World) -> dict[str, Any]:
    """Everything the e-mail templates name, from real objects (a name a template does not use is ignored)."""
    things = home_things(world)
    post = things.scheduled_post
    day = things.day
    month = Month.of(timezone.localdate())
    report = build_report(county=world.county, month=month, library=world.library)
    return {
        "invitation": things.invitation,
        "library": world.library,
        "county": world.county,
        "role": Role.LIBRARIAN.label,
        "invited_by": world.coordinator,
        "inviter": world.coordinator,
        "valid_days": settings.INVITATION_VALID_DAYS,
        "post": post,
        "posts": [(post, "https://innspill.example/posts/1/")],
        "by": world.editor,
        "reviewer": world.editor,
        "note": "Fint!",
        "reason": "Fint!",
        "permalink": "https://www.instagram.com/p/abc/",
        "channel": post.channel,
        "waiting": 2,
        "expires_at": timezone.now(),
        "concept": things.concept,
        "item": things.archive_item,
        "at": timezone.now(),
        "idea": things.idea,
        "withdrawn": True,
        "people": ["Kari Nordmann"],
        "assets": [(str(things.asset), "https://innspill.example/media/1/")],
        "day": day,
        "host": day.host_library,
        "place": day.place,
        "slot": things.slot,
        "days_left": 2,
        "run_sheet": day.run_sheet(),
        "report": report,
        "county_report": build_report(county=world.county, month=month),
        "month": month,
        "url": "https://innspill.example/",
        "county_url": "https://innspill.example/reports/",
        "calendar_url": "https://innspill.example/calendar/",
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_email_is_in_one_language(language: str, world: World) -> None:
    assert len(EMAIL_TEMPLATES) > 20
    context = email_context(world)
    wrong = []
    with translation.override(language):
        for template in EMAIL_TEMPLATES:
            text = render_to_string(f"emails/{template}.txt", context)
            assert text.strip(), template
            found = other_language_text(language, text)
            if found:
                wrong.append(f"{template}: {found}")
    assert not wrong, f"E-mails in {language} with text of another language:\n" + "\n".join(wrong)


def test_the_check_finds_a_sentence_of_another_language() -> None:
    """The test above cannot pass by knowing no sentences."""
    with translation.override("en"):
        english = translation.gettext("The county needs at least one coordinator.")
    with translation.override("nb"):
        bokmål = translation.gettext("The county needs at least one coordinator.")
    assert english != bokmål
    assert other_language_text("nb", readable(f"<p>{english}</p>"))
    assert other_language_text("en", readable(f'<button aria-label="{bokmål}">x</button>'))
    assert not other_language_text("nb", readable(f"<p>{bokmål}</p>"))
    assert other_language_text("nb", "<h2>November 2026</h2>")
    assert not other_language_text("nb", "<h2>november 2026</h2>")
    assert other_language_text("en", "Dec. 4, 2026, 2:30 p.m.")


def test_recipients_are_grouped_by_their_language(world: World) -> None:
    world.librarian.language = "en"
    world.librarian.save(update_fields=["language"])
    UserFactory(email="dansk@example.org", language="da")
    groups = recipients_by_language(
        [world.librarian.email.upper(), world.editor.email, "dansk@example.org", "kontakt@bibliotek.example"],
        fallback="nb",
    )
    assert groups == {
        "en": [world.librarian.email.upper()],
        "nb": [world.editor.email, "kontakt@bibliotek.example"],
        "da": ["dansk@example.org"],
    }
