"""Hostile input through every real form: never a server error, always escaped where it is shown again.

The forms are not listed by hand: every page of the access matrix
(tests/reliability/test_access_matrix.py) that the coordinator may open is
fetched, and every <form> on it is read (fields, options, hidden values) and
sent back with a hostile value in each text field, one kind of value per
test: script and markup, overlong text, right-to-left overrides, zero-width
characters, emoji sequences, combining marks, a NUL byte, line breaks that
try to start a new e-mail header or calendar line, SQL, template syntax.

Then the pages are read again (as coordinator, editor and librarian), the
calendar feeds parsed, the e-mails that went out checked: the value is
shown as text, never as markup; a refusal is a form error with the message
next to the field and what was typed kept; nothing is a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import icalendar
import pytest
from django.core import mail
from django.http import HttpResponse
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from django.utils.html import escape

from tests.conftest import World, client_for
from tests.reliability.test_access_matrix import MATRIX, OK, Things, home_things, url_for

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("innspill")</script>"><img src=x onerror=alert(1)>'
# Each kind of hostile text, grouped so that one walk of the forms tries a group at once in every text field.
PAYLOADS = {
    "markup": f"{SCRIPT} {{{{ 7|add:7 }}}} {{% now 'Y' %}} ${{7*7}} '; DROP TABLE publishing_post; --",
    "unicode": (
        "Bibliotek \u202eexe.fdp\u202c مكتبة ספרייה "  # right-to-left override and scripts
        "Bi\u200bbli\u200cotek\u200d\ufeff\u2060 "  # zero-width characters
        "👩\u200d👩\u200d👧\u200d👦📚🏳️\u200d🌈 "  # emoji sequences
        "Z\u0334\u0349\u0313a\u0338\u0356l\u0337g\u0335o\u0336 e\u0301"  # combining marks
    ),
    "line-breaks": "Tittel\r\nBcc: evil@example.org\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:Injected",
    "overlong": "Lesesirkel " * 2000,  # 22 000 characters: past every max_length
    "nul": "før\x00etter",  # PostgreSQL cannot store a NUL: the form must refuse it
}

# Forms that end the session or the whole setup rather than take text (they are covered by the matrix).
SKIPPED_VIEWS = {
    "account_logout",
    "set_language",
    "choose_county",
    "libraries:membership_remove",
    "libraries:membership_role",
    "publishing:channel_disconnect",
}


@dataclass
class Form:
    page: str
    action: str
    method: str
    enctype: str
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, name, value)
    options: dict[str, list[str]] = field(default_factory=dict)

    @property
    def text_fields(self) -> list[str]:
        kinds = {"text", "textarea", "search", "email", "url", "tel", ""}
        return [name for kind, name, _value in self.fields if kind in kinds and name != "csrfmiddlewaretoken"]

    def data(self, value: str) -> dict[str, str | list[str]]:
        """The form as a person would send it, with `value` in every text field."""
        data: dict[str, str | list[str]] = {}
        for kind, name, current in self.fields:
            if kind == "file" or not name:
                continue
            if name in self.text_fields:
                data[name] = value
            elif kind in ("checkbox", "radio"):
                data.setdefault(name, current or "on")
            elif kind == "number":
                data[name] = current or "1"
            elif kind == "date":
                data[name] = current or "2030-01-15"
            elif kind == "time":
                data[name] = current or "12:00"
            elif kind == "datetime-local":
                data[name] = current or "2030-01-15T12:00"
            elif kind == "select":
                choices = [option for option in self.options.get(name, []) if option]
                data[name] = current or (choices[0] if choices else "")
            else:
                data[name] = current
        return data


class FormParser(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.select: str | None = None
        self.selected: str | None = None

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        attrs = {name: value or "" for name, value in attributes}
        if tag == "form":
            action = urljoin(self.page, attrs.get("action") or self.page)
            self.current = Form(self.page, action, (attrs.get("method") or "get").lower(), attrs.get("enctype", ""))
            self.forms.append(self.current)
        elif self.current is None:
            return
        elif tag == "input" and attrs.get("type", "text") not in ("submit", "button", "reset", "image"):
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.current.fields.append((kind, attrs.get("name", ""), attrs.get("value", "")))
        elif tag == "textarea":
            self.current.fields.append(("textarea", attrs.get("name", ""), ""))
        elif tag == "select":
            self.select, self.selected = attrs.get("name", ""), None
            self.current.options[self.select] = []
        elif tag == "option" and self.select is not None:
            self.current.options[self.select].append(attrs.get("value", ""))
            if "selected" in attrs:
                self.selected = attrs.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self.current is not None and self.select is not None:
            self.current.fields.append(("select", self.select, self.selected or ""))
            self.select = None
        elif tag == "form":
            self.current = None


def text_of(response: HttpResponse) -> str:
    """The body as text (files are streamed: read them whole, they are small here)."""
    if response.streaming:
        return b"".join(response.streaming_content).decode(errors="replace")  # type: ignore[attr-defined]
    return response.content.decode(errors="replace")


def forms_on(response: HttpResponse, page: str) -> list[Form]:
    if "html" not in response.get("Content-Type", ""):
        return []
    parser = FormParser(page)
    parser.feed(text_of(response))
    # A <form method="dialog"> (the confirmation asked before undoing work) closes a dialog in the
    # browser and is never sent to the server.
    return [form for form in parser.forms if form.method != "dialog"]


def view_name(url: str) -> str | None:
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return None
    return match.view_name


def pages(things: Things) -> Iterator[str]:
    """Every page of the matrix a coordinator opens with GET (with the real objects in its URL)."""
    for route, rows in MATRIX.items():
        for row in rows:
            if row.method == "get" and row.expect["coordinator"] == OK and not row.note:
                yield url_for(route, row, things)


def is_refusal_shown(response: HttpResponse) -> bool:
    text = text_of(response)
    return "errorlist" in text or 'role="alert"' in text or "aria-invalid" in text


@dataclass
class Walk:
    submitted: int = 0
    refused: int = 0
    saved: int = 0
    failures: list[str] = field(default_factory=list)


def walk_forms(client: Client, things: Things, value: str, *, django_capture_on_commit_callbacks) -> Walk:  # type: ignore[no-untyped-def]
    """Send every text form of every page with `value`; then every action form (accept, announce, approve …)."""
    walk = Walk()
    seen: set[tuple[str, str, tuple[str, ...]]] = set()
    found: list[Form] = []
    for page in pages(things):
        response = client.get(page)
        if response.status_code != 200:
            continue
        for form in forms_on(response, page):
            key = (form.method, urlsplit(form.action).path, tuple(sorted(name for _k, name, _v in form.fields)))
            if key in seen or view_name(form.action) in SKIPPED_VIEWS:
                continue
            seen.add(key)
            found.append(form)
    # Forms with text first (what gets stored), then the buttons that act on what was stored (and send e-mail).
    for form in sorted(found, key=lambda form: not form.text_fields):
        target = urlsplit(form.action)
        path = target.path + (f"?{target.query}" if target.query else "")
        with django_capture_on_commit_callbacks(execute=True):
            try:
                if form.method == "get":
                    response = client.get(path, form.data(value))
                else:
                    response = client.post(path, form.data(value))
            except Exception as error:  # a crash anywhere is the finding: reported with the form
                walk.failures.append(f"{form.method.upper()} {path} (from {form.page}) raised {error!r}")
                continue
        walk.submitted += 1
        if response.status_code >= 500:
            walk.failures.append(f"{form.method.upper()} {path} (from {form.page}) answered {response.status_code}")
        elif response.status_code == 400:
            walk.refused += 1
            if not is_refusal_shown(response):
                walk.failures.append(f"POST {path}: refused (400) without a message next to the field")
            elif "\x00" not in value and escape(value.strip()) not in text_of(response):
                walk.failures.append(f"POST {path}: refused, and what was typed is gone from the form")
        elif response.status_code in (302, 303):
            walk.saved += 1
        if SCRIPT in text_of(response):
            walk.failures.append(f"{form.method.upper()} {path}: the script came back unescaped")
    return walk


@pytest.mark.parametrize("kind", sorted(PAYLOADS))
def test_every_form_takes_hostile_text_without_a_server_error_and_shows_it_as_text(
    kind: str, world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    value = PAYLOADS[kind]
    things = home_things(world)
    things.scheduled_post, things.consent, things.slot, things.signup, things.attachment  # noqa: B018 - made now
    coordinator = client_for(world.coordinator)

    walk = walk_forms(coordinator, things, value, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)

    assert not walk.failures, "\n".join(walk.failures)
    assert walk.submitted > 40, walk  # the walk reached the forms (it cannot pass by finding none)
    assert walk.saved > 10, walk
    # Shown again: every page, for every role that sees it, has the value as text.
    for persona in ("coordinator", "editor", "librarian") if kind == "markup" else ("coordinator",):
        client = client_for(getattr(world, persona))
        for page in pages(things):
            response = client.get(page)
            assert response.status_code < 500, (persona, page, response.status_code)
            assert SCRIPT not in text_of(response), (persona, page)
    if kind == "markup":
        shown = sum(escape(SCRIPT) in text_of(coordinator.get(page)) for page in pages(things))
        assert shown >= 5, "the stored payload should be on several pages, escaped"
    # The calendar feeds stay valid calendars; a line break in a title cannot start an event of its own.
    for feed in ("production:calendar_feed", "publishing:plan_feed"):
        calendar = icalendar.Calendar.from_ical(coordinator.get(reverse(feed, args=[things.feed_token])).content)
        summaries = [str(event.get("summary", "")) for event in calendar.walk("VEVENT")]
        assert "Injected" not in summaries, feed
    # E-mails are plain text with one-line subjects.
    for message in mail.outbox:
        assert "\n" not in message.subject, message.subject
        assert "\r" not in message.subject, message.subject
        assert not getattr(message, "alternatives", None)


def test_a_line_break_typed_into_a_title_cannot_break_an_e_mail_subject(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """The e-mail that names the title must still go out, with the title on one line (never a second header)."""
    from tests.factories.production import IdeaFactory

    # A crafted request (or the admin, or an import) stores a title with a line break in it.
    idea = IdeaFactory(library=world.library, submitted_by=world.librarian, title="Lesesirkel\r\nBcc: evil@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.editor).post(reverse("production:idea_accept", args=[idea.pk]))

    assert response.status_code == 302
    [message] = mail.outbox
    assert message.subject == "Your idea “Lesesirkel Bcc: evil@example.org” was accepted"
    assert "Bcc" not in message.message()
    assert message.bcc == []
