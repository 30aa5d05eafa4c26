"""Sessions rotate at every way in (password, invitation, two-factor step), and an invitation link works once,
even when it is opened twice at the same moment (two browsers, over a real server)."""

from __future__ import annotations

import threading

import httpx
import pytest
from allauth.mfa.totp.internal.auth import hotp_value, yield_hotp_counters_from_time
from django.conf import settings
from django.test import Client
from django.urls import reverse

from libraries.models import AuditEntry, Invitation, Membership, Role, User, hash_token
from tests.conftest import World, enable_mfa
from tests.factories.libraries import PASSWORD, InvitationFactory, MembershipFactory, UserFactory


def session_key(client: Client) -> str | None:
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return cookie.value if cookie else None


def anonymous_session(client: Client) -> str:
    """A session the visitor had before logging in (a fixation attempt would plant one like it)."""
    client.get(reverse("account_login"))
    session = client.session
    session["planted"] = "before login"
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return str(session.session_key)


@pytest.mark.django_db
def test_the_session_key_changes_when_a_password_login_succeeds(world: World) -> None:
    client = Client()
    before = anonymous_session(client)

    response = client.post(reverse("account_login"), {"login": world.librarian.email, "password": PASSWORD})

    assert response.status_code == 302
    assert session_key(client) not in (None, before)
    # The old key no longer opens anything.
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = before
    assert stale.get(reverse("home"))["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
def test_the_session_key_changes_again_at_the_second_factor(db) -> None:  # type: ignore[no-untyped-def]
    coordinator = MembershipFactory(user=UserFactory(email="k@rogaland.example"), role=Role.COORDINATOR).user
    secret = enable_mfa(coordinator)
    client = Client()
    before = anonymous_session(client)

    client.post(reverse("account_login"), {"login": coordinator.email, "password": PASSWORD})
    halfway = session_key(client)
    code = f"{hotp_value(secret, next(yield_hotp_counters_from_time())):06d}"
    response = client.post(reverse("mfa_authenticate"), {"code": code})

    assert response.status_code == 302
    assert "_auth_user_id" in client.session
    assert session_key(client) not in (None, before, halfway)


@pytest.mark.django_db
def test_the_session_key_changes_when_an_invitation_logs_the_new_person_in(world: World) -> None:
    InvitationFactory(library=world.library, email="ny@sandnes.example", token_hash=hash_token("invite-once"))
    client = Client()
    before = anonymous_session(client)

    response = client.post(
        reverse("invitation_accept", args=["invite-once"]),
        {"name": "Nina Ny", "password1": "en-god-frase-42", "password2": "en-god-frase-42"},
    )

    assert response.status_code == 302
    assert session_key(client) not in (None, before)
    assert client.session["_auth_user_id"] == str(User.objects.get(email="ny@sandnes.example").pk)


@pytest.mark.django_db(transaction=True)
def test_an_invitation_opened_twice_at_the_same_moment_is_used_once(world: World, live_server) -> None:  # type: ignore[no-untyped-def]
    """Two browsers submit the same link at once (a double click, a forwarded e-mail): one account, one membership."""
    invitation = InvitationFactory(
        library=world.library, email="samtidig@sandnes.example", token_hash=hash_token("twice-at-once")
    )
    url = f"{live_server.url}{reverse('invitation_accept', args=['twice-at-once'])}"
    start = threading.Barrier(4)
    answers: list[int] = []

    def accept() -> None:
        with httpx.Client(timeout=30) as browser:
            page = browser.get(url)
            token = browser.cookies.get(settings.CSRF_COOKIE_NAME) or page.headers.get("x-csrf", "")
            start.wait(10)
            response = browser.post(
                url,
                data={
                    "name": "Sam Tidig",
                    "password1": "en-god-frase-42",
                    "password2": "en-god-frase-42",
                    "csrfmiddlewaretoken": token,
                },
                headers={"Referer": url},
            )
            answers.append(response.status_code)

    browsers = [threading.Thread(target=accept) for _ in range(4)]
    for browser in browsers:
        browser.start()
    for browser in browsers:
        browser.join(60)

    assert sorted(answers) == [302, 410, 410, 410]
    assert User.objects.filter(email="samtidig@sandnes.example").count() == 1
    assert Membership.objects.filter(user__email="samtidig@sandnes.example").count() == 1
    assert AuditEntry.objects.filter(action="invitation.accepted").count() == 1
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED
