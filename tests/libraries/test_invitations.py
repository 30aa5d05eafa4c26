"""Inviting people: the only way into Innspill."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from libraries.models import AuditEntry, Invitation, Membership, Role, User
from tests.conftest import World, client_for
from tests.factories.libraries import PASSWORD

pytestmark = pytest.mark.django_db


def invite(client: Client, world: World, email: str = "ny@sandnes.example", role: Role = Role.LIBRARIAN):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("libraries:invitations"),
        {"email": email, "name": "Nina Ny", "library": world.library.pk, "role": role},
    )


def link_from_last_mail() -> str:
    match = re.search(r"http://testserver(/invitation/[^/\s]+/)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_invited_person_creates_account_and_joins_library(
    world: World, coordinator_client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(coordinator_client, world)
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ny@sandnes.example"]
    assert "Sandnes bibliotek" in mail.outbox[0].subject
    link = link_from_last_mail()

    visitor = Client()
    page = visitor.get(link)
    assert page.status_code == 200
    assert "ny@sandnes.example" in page.text
    response = visitor.post(link, {"name": "Nina Ny", "password1": "en-god-frase-42", "password2": "en-god-frase-42"})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")

    user = User.objects.get(email="ny@sandnes.example")
    assert user.name == "Nina Ny"
    assert Membership.objects.get(user=user).library == world.library
    assert Membership.objects.get(user=user).role == Role.LIBRARIAN
    # Logged in straight away, and the home page says where they belong.
    assert "Sandnes bibliotek" in visitor.get(reverse("home")).text
    assert AuditEntry.objects.filter(action="invitation.accepted", actor=user).exists()


def test_invitation_link_works_only_once(
    world: World, coordinator_client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        invite(coordinator_client, world)
    link = link_from_last_mail()
    data = {"name": "Nina Ny", "password1": "en-god-frase-42", "password2": "en-god-frase-42"}
    assert Client().post(link, data).status_code == 302

    again = Client().post(link, data)
    assert again.status_code == 410
    assert "already been used" in again.text
    assert Client().get(link).status_code == 410
    assert User.objects.filter(email="ny@sandnes.example").count() == 1


def test_expired_invitation_is_refused_and_can_be_sent_again(
    world: World, coordinator_client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        invite(coordinator_client, world)
    old_link = link_from_last_mail()
    invitation = Invitation.objects.get(email="ny@sandnes.example")
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    response = Client().get(old_link)
    assert response.status_code == 410
    assert "expired" in response.text

    with django_capture_on_commit_callbacks(execute=True):
        resent = coordinator_client.post(reverse("libraries:invitation_resend", args=[invitation.pk]))
    assert resent.status_code == 302
    new_link = link_from_last_mail()
    assert new_link != old_link
    assert Client().get(old_link).status_code == 410  # the old link stays dead
    assert Client().get(new_link).status_code == 200


def test_revoked_invitation_cannot_be_used(
    world: World, coordinator_client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        invite(coordinator_client, world)
    link = link_from_last_mail()
    invitation = Invitation.objects.get()
    assert coordinator_client.post(reverse("libraries:invitation_revoke", args=[invitation.pk])).status_code == 302
    response = Client().get(link)
    assert response.status_code == 410
    assert "withdrawn" in response.text


def test_rejected_account_form_keeps_what_was_typed(
    world: World, coordinator_client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        invite(coordinator_client, world)
    link = link_from_last_mail()
    response = Client().post(link, {"name": "Nina Ny", "password1": "en-god-frase-42", "password2": "noe-annet"})
    assert response.status_code == 400
    assert 'value="Nina Ny"' in response.text
    assert "not the same" in response.text
    assert not User.objects.filter(email="ny@sandnes.example").exists()
    # The link was not spent by the failed attempt.
    assert Client().get(link).status_code == 200


def test_existing_user_accepts_after_logging_in(
    world: World, coordinator_client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        coordinator_client.post(
            reverse("libraries:invitations"),
            {"email": world.other_librarian.email, "library": world.library.pk, "role": Role.LIBRARIAN},
        )
    link = link_from_last_mail()
    anonymous = Client().get(link)
    assert "Log in" in anonymous.text
    client = client_for(world.other_librarian)
    assert client.post(link).status_code == 302
    assert set(world.other_librarian.memberships.values_list("library", flat=True)) == {
        world.library.pk,
        world.other_library.pk,
    }


def test_cannot_invite_an_existing_member_twice(world: World, coordinator_client: Client) -> None:
    response = coordinator_client.post(
        reverse("libraries:invitations"),
        {"email": world.librarian.email, "library": world.library.pk, "role": Role.LIBRARIAN},
    )
    assert response.status_code == 400
    assert "already a member" in response.text
    assert world.librarian.email in response.text  # the form keeps the address


def test_second_open_invitation_to_same_person_is_refused(world: World, coordinator_client: Client) -> None:
    assert invite(coordinator_client, world).status_code == 302
    response = invite(coordinator_client, world, email="NY@sandnes.example")
    assert response.status_code == 400
    assert "already has an open invitation" in response.text
    assert Invitation.objects.count() == 1


def test_coordinator_role_only_at_the_county_library(world: World, coordinator_client: Client) -> None:
    response = invite(coordinator_client, world, role=Role.COORDINATOR)
    assert response.status_code == 400
    assert "county library" in response.text


def test_open_sign_up_is_closed(db) -> None:  # type: ignore[no-untyped-def]
    response = Client().post(
        reverse("account_signup"), {"email": "a@example.org", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert not User.objects.filter(email="a@example.org").exists()
    assert response.status_code in {200, 302}


def test_invitation_list_is_paginated_and_queries_stay_constant(
    world: World, coordinator_client: Client, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    from tests.factories.libraries import InvitationFactory

    InvitationFactory.create_batch(3, library=world.library)
    # session, user, memberships (county access) with the MFA check, libraries for the form, count, page
    with django_assert_max_num_queries(8) as few:
        coordinator_client.get(reverse("libraries:invitations"))
    InvitationFactory.create_batch(60, library=world.other_library)
    with django_assert_max_num_queries(len(few.captured_queries)):
        first = coordinator_client.get(reverse("libraries:invitations"))
    assert first.text.count("@example.org</th>") == 50
    assert "Page 1 of 2" in first.text
    second = coordinator_client.get(reverse("libraries:invitations") + "?page=2")
    assert second.text.count("@example.org</th>") == 13
