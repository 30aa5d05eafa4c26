"""Each person's e-mails are written in the language they use the site in, worker's mails included."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from libraries.models import User
from production import tasks as production_tasks
from publishing.models import Post
from publishing.posts import services as post_services
from tests.conftest import World, client_for
from tests.factories.production import RecordingDayFactory
from tests.factories.publishing import make_asset, make_post

pytestmark = pytest.mark.django_db


def speaks(user: User, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


def subjects_by_recipient() -> dict[str, str]:
    return {address: message.subject for message in mail.outbox for address in message.to}


def test_a_librarian_who_reads_english_gets_the_workers_announcement_in_english(world: World) -> None:
    """The coordinator announced in Bokmål; each person reads the worker's mail in their own language."""
    speaks(world.librarian, "en")
    speaks(world.other_librarian, "da")
    day = RecordingDayFactory(county=world.county, host_library=world.library)

    production_tasks.send_recording_day_announcement(day.pk, "nb")

    subjects = subjects_by_recipient()
    assert subjects[world.librarian.email].startswith("Recording day ")
    assert subjects[world.other_librarian.email].startswith("Optagedag ")
    # No language of their own yet: the announcer's.
    assert subjects[world.editor.email].startswith("Opptaksdag ")
    english = next(message for message in mail.outbox if message.to == [world.librarian.email])
    assert "sign up" in english.body.lower()


def test_a_published_post_is_announced_to_each_library_member_in_their_language(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """send_templated_mail_on_commit from the worker (Bokmål there): one message per language."""
    speaks(world.librarian, "en")
    world.library.email = "post@sandnes.example"
    world.library.save(update_fields=["email"])
    post = make_post(
        county=world.county,
        author=world.editor,
        status=Post.Status.PUBLISHED,
        assets=[make_asset(county=world.county, library=world.library)],
        title="Bøker på bordet",
    )
    with translation.override("nb"), django_capture_on_commit_callbacks(execute=True):
        post_services.notify_libraries_on_commit(post)

    subjects = subjects_by_recipient()
    assert subjects[world.librarian.email] == "On Instagram now: “Bøker på bordet”"
    # The library's own address has no person behind it: the worker's language.
    assert subjects["post@sandnes.example"] == "Nå på Instagram: «Bøker på bordet»"
    assert all(world.librarian.email not in message.to or len(message.to) == 1 for message in mail.outbox)


def test_choosing_a_language_keeps_it_on_the_account_and_the_next_browser_uses_it(world: World) -> None:
    client = client_for(world.librarian)
    client.post(reverse("set_language"), {"language": "da", "next": "/"})
    world.librarian.refresh_from_db()
    assert world.librarian.language == "da"

    fresh = Client(headers={"accept-language": "nb"})
    fresh.force_login(world.librarian)
    page = fresh.get(reverse("home"))
    assert '<html lang="da">' in page.text
    # A choice made on this browser wins over the stored one.
    fresh.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert '<html lang="en">' in fresh.get(reverse("home")).text
    world.librarian.refresh_from_db()
    assert world.librarian.language == "en"


def test_logging_in_keeps_the_language_the_person_uses(world: World) -> None:
    world.librarian.set_password("et langt passord 123")
    world.librarian.save()
    client = Client(headers={"accept-language": "da"})
    response = client.post(
        reverse("account_login"), {"login": world.librarian.email, "password": "et langt passord 123"}
    )
    assert response.status_code == 302
    world.librarian.refresh_from_db()
    assert world.librarian.language == "da"


def test_an_unknown_language_is_not_kept(world: World) -> None:
    client = client_for(world.librarian)
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    world.librarian.refresh_from_db()
    assert world.librarian.language == ""
