"""Coordinators manage their member libraries and who belongs to them."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from libraries.models import AuditEntry, Library, Membership, Role
from tests.conftest import World

pytestmark = pytest.mark.django_db


def test_coordinator_adds_a_member_library(world: World, coordinator_client: Client) -> None:
    response = coordinator_client.post(
        reverse("libraries:create"),
        {
            "name": "Klepp bibliotek",
            "municipality": "Klepp",
            "instagram_username": "@kleppbibliotek",
            "is_active": "on",
        },
    )
    library = Library.objects.get(name="Klepp bibliotek")
    assert response.status_code == 302
    assert library.county == world.county
    assert library.kind == Library.Kind.MEMBER
    assert library.instagram_username == "kleppbibliotek"  # the @ is dropped
    assert AuditEntry.objects.filter(action="library.created", object_id=str(library.pk)).exists()


@pytest.mark.parametrize(
    ("username", "ok"),
    [
        ("sandnes.bibliotek", True),
        ("https://www.instagram.com/sola_bibliotek/", True),
        ("a" * 31, False),
        (".startsdot", False),
        ("two..dots", False),
        ("endsdot.", False),
        ("has space", False),
        ("bøker", False),
    ],
)
def test_instagram_username_follows_instagrams_rules(
    world: World, coordinator_client: Client, username: str, ok: bool
) -> None:
    response = coordinator_client.post(
        reverse("libraries:edit", args=[world.library.pk]),
        {"name": world.library.name, "municipality": "Sandnes", "instagram_username": username, "is_active": "on"},
    )
    assert (response.status_code == 302) is ok, response.content[:300]
    if not ok:
        assert "Instagram username" in response.text
        assert username in response.text  # what was typed is kept


def test_duplicate_names_and_handles_are_refused_with_a_message(world: World, coordinator_client: Client) -> None:
    response = coordinator_client.post(
        reverse("libraries:create"),
        {
            "name": "sandnes bibliotek",
            "municipality": "Sandnes",
            "instagram_username": world.other_library.instagram_username,
        },
    )
    assert response.status_code == 200
    assert "already has a library with this name" in response.text
    assert "already uses this Instagram username" in response.text


def test_coordinator_changes_a_role_with_htmx(world: World, coordinator_client: Client) -> None:
    membership = world.librarian.memberships.get()
    response = coordinator_client.post(
        reverse("libraries:membership_role", args=[membership.pk]), {"role": Role.EDITOR}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response.text.strip().startswith(f'<tr id="membership-{membership.pk}">')
    membership.refresh_from_db()
    assert membership.role == Role.EDITOR


def test_the_last_coordinator_cannot_be_removed_or_demoted(world: World, coordinator_client: Client) -> None:
    membership = world.coordinator.memberships.get()
    response = coordinator_client.post(
        reverse("libraries:membership_role", args=[membership.pk]), {"role": Role.EDITOR}
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.COORDINATOR
    coordinator_client.post(reverse("libraries:membership_remove", args=[membership.pk]))
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_removing_a_member_is_audited(world: World, coordinator_client: Client) -> None:
    membership = world.librarian.memberships.get()
    coordinator_client.post(reverse("libraries:membership_remove", args=[membership.pk]))
    assert not Membership.objects.filter(pk=membership.pk).exists()
    entry = AuditEntry.objects.get(action="membership.removed")
    assert entry.actor == world.coordinator
    assert entry.county == world.county


def test_coordinator_home_shows_what_needs_them(world: World, coordinator_client: Client) -> None:
    Library.objects.filter(pk=world.other_library.pk).update(instagram_username="")
    response = coordinator_client.get(reverse("home"))
    assert response.status_code == 200
    assert "Sola bibliotek" in response.text  # no Instagram username yet


def test_pages_are_translated(world: World, coordinator_client: Client) -> None:
    norwegian = coordinator_client.get(reverse("libraries:list"), HTTP_ACCEPT_LANGUAGE="nb")
    assert '<html lang="nb">' in norwegian.text
    assert "Bibliotek" in norwegian.text
    coordinator_client.post(reverse("set_language"), {"language": "da"})
    danish = coordinator_client.get(reverse("libraries:list"))
    assert '<html lang="da">' in danish.text
    coordinator_client.post(reverse("set_language"), {"language": "en"})
    english = coordinator_client.get(reverse("libraries:list"))
    assert "Add a member library" in english.text


def test_the_language_choice_marks_the_language_the_page_is_in(world: World, coordinator_client: Client) -> None:
    """The header's choice of language is rendered once per language and process, then kept."""
    for language in ["nb", "da", "en", "nb"]:
        coordinator_client.post(reverse("set_language"), {"language": language})
        page = coordinator_client.get(reverse("libraries:list")).text
        assert f'<html lang="{language}">' in page
        selected = re.findall(r'<option value="(\w+)" lang="\w+" selected>', page)
        assert selected == [language]
