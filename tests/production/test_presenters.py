"""Presenters on recording days are people in the county's register: asked for consent on sign-up,
and suggested as shown in what is uploaded for their day or their slot (issue #19)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from libraries.models import AuditEntry, Membership
from production.models import (
    AssetPerson,
    Consent,
    ConsentLink,
    ConsentState,
    Idea,
    Person,
    PresenterSignup,
    RecordingDay,
)
from production.services import people as people_services
from production.services import planning as services
from tests.conftest import World
from tests.factories.media import make_asset
from tests.factories.production import IdeaFactory, RecordingDayFactory
from tests.factories.publishing import register_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def day(world: World) -> RecordingDay:
    return RecordingDayFactory(county=world.county, host_library=world.library)


def membership(world: World) -> Membership:
    return world.librarian.memberships.get()


def sign_up(world: World, day: RecordingDay) -> PresenterSignup:
    return services.sign_up_presenter(by=world.librarian, day=day, membership=membership(world))


def test_signing_up_registers_the_presenter_and_emails_them_a_consent_link(
    world: World, day: RecordingDay, librarian_client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        response = librarian_client.post(
            reverse("production:signup_create", args=[day.pk]), {"membership": membership(world).pk}, follow=True
        )
    signup = PresenterSignup.objects.get()
    person = signup.register_person
    assert person is not None
    assert (person.county, person.name, person.category, person.contact_email) == (
        world.county,
        world.librarian.name,
        Person.Category.STAFF,
        world.librarian.email,
    )
    link = ConsentLink.objects.get(person=person)
    assert link.email == world.librarian.email
    assert link.covers_publishing
    assert [message.to for message in mail.outbox] == [[world.librarian.email]]
    # The link in the e-mail opens the consent page.
    url = re.search(r"https?://\S+/consent/\S+/", mail.outbox[0].body)
    assert url is not None
    assert Client().get(url.group(0).removeprefix("http://testserver")).status_code == 200
    assert f"a link was e-mailed to {world.librarian.email}" in response.text
    # The day page shows that consent is asked for and not answered yet, to the presenter's library.
    assert "not answered" in librarian_client.get(day.get_absolute_url()).text


def test_a_second_day_reuses_the_entry_and_does_not_ask_twice_while_a_link_is_out(
    world: World, day: RecordingDay
) -> None:
    first = sign_up(world, day)
    later = RecordingDayFactory(county=world.county, host_library=world.library, date=day.date + timedelta(days=7))
    second = sign_up(world, later)
    assert first.register_person == second.register_person
    assert Person.objects.count() == 1
    assert ConsentLink.objects.count() == 1


def test_a_presenter_whose_consent_is_in_force_is_not_asked_and_is_told_so(
    world: World, day: RecordingDay, librarian_client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    kari = register_person(
        world.county, "Kari (bibliotekar)", Person.Category.STAFF, contact_email="BIBLIOTEKAR@sandnes.example"
    )
    until = timezone.localdate() + timedelta(days=200)
    Consent.objects.create(person=kari, given_at=timezone.localdate(), valid_until=until, evidence_note="Skjema")
    with django_capture_on_commit_callbacks(execute=True):
        response = librarian_client.post(
            reverse("production:signup_create", args=[day.pk]), {"membership": membership(world).pk}, follow=True
        )
    assert PresenterSignup.objects.get().register_person == kari  # found by their address, whatever its case
    assert not ConsentLink.objects.exists()
    assert mail.outbox == []
    assert "consent to be shown in the day&#x27;s media is in force until" in response.text
    assert "Consent in force until" in librarian_client.get(day.get_absolute_url()).text


def test_a_childs_entry_with_the_same_address_is_the_guardians_and_not_the_presenter(
    world: World, day: RecordingDay
) -> None:
    child = register_person(
        world.county, "Ola (8)", Person.Category.CHILD, guardian="Kari", contact_email=world.librarian.email
    )
    signup = sign_up(world, day)
    assert signup.register_person != child
    assert signup.register_person is not None
    assert signup.register_person.category == Person.Category.STAFF


def test_a_withdrawn_consent_is_asked_for_again_on_a_new_sign_up(world: World, day: RecordingDay) -> None:
    kari = register_person(world.county, "Kari", Person.Category.STAFF, contact_email=world.librarian.email)
    Consent.objects.create(person=kari, given_at=timezone.localdate(), withdrawn_at=timezone.now(), evidence_note="x")
    sign_up(world, day)
    assert ConsentLink.objects.get().person == kari


def test_other_libraries_do_not_see_a_presenters_consent_and_editors_do(world: World, day: RecordingDay) -> None:
    sign_up(world, day)
    other = Client()
    other.force_login(world.other_librarian)
    page = other.get(day.get_absolute_url()).text
    assert world.librarian.name in page
    assert "not answered" not in page
    editor = Client()
    editor.force_login(world.editor)  # editors see it: consent is theirs to sort out
    assert "not answered" in editor.get(day.get_absolute_url()).text


# --- Media of the day, pre-tagged with its presenters ---


def test_media_uploaded_for_a_day_are_suggested_to_show_its_presenters(world: World, day: RecordingDay) -> None:
    signup = sign_up(world, day)
    asset = make_asset(day, by=world.librarian)
    tag = AssetPerson.objects.get(asset=asset)
    assert (tag.person, tag.suggested) == (signup.register_person, True)
    # Until the presenter consents, the media are not publishable: a suggested tag counts as shown.
    assert asset.consent_state() == ConsentState.MISSING
    assert AuditEntry.objects.filter(action="asset.person_suggested", object_id=str(asset.pk)).count() == 1


def test_media_for_an_idea_on_the_run_sheet_are_suggested_to_show_that_slots_presenters(
    world: World, day: RecordingDay
) -> None:
    sign_up(world, day)
    other = services.sign_up_presenter(
        by=world.other_librarian, day=day, membership=world.other_librarian.memberships.get()
    )
    idea = IdeaFactory(library=world.library, status=Idea.Status.ACCEPTED)
    slot = services.add_slot(by=world.coordinator, day=day, idea=idea, presenters=[world.other_librarian])
    asset = make_asset(idea, by=world.librarian)
    assert [(tag.person, tag.suggested) for tag in asset.people.all()] == [(other.register_person, True)]
    # An idea on no run sheet is tagged with nobody.
    unplanned = make_asset(IdeaFactory(library=world.library), by=world.librarian)
    assert not unplanned.people.exists()
    assert slot.presenters.count() == 1


def test_an_editor_confirms_or_removes_a_suggested_presenter_on_the_asset_page(
    world: World, day: RecordingDay, editor_client: Client
) -> None:
    signup = sign_up(world, day)
    assert signup.register_person is not None
    Consent.objects.create(person=signup.register_person, given_at=timezone.localdate(), evidence_note="Skjema")
    asset = make_asset(day, by=world.librarian)
    tag = AssetPerson.objects.get(asset=asset)
    page = editor_client.get(asset.get_absolute_url()).text
    assert "Suggested: a presenter on the recording day" in page
    assert reverse("production:asset_person_confirm", args=[tag.pk]) in page
    assert reverse("production:asset_person_remove", args=[tag.pk]) in page  # even with consent in force

    response = editor_client.post(reverse("production:asset_person_confirm", args=[tag.pk]), follow=True)
    assert "is confirmed as shown" in response.text
    tag.refresh_from_db()
    assert not tag.suggested
    assert "Suggested: a presenter" not in response.text
    assert AuditEntry.objects.filter(action="asset.person_confirmed").count() == 1
    # Confirming again changes nothing and writes nothing.
    editor_client.post(reverse("production:asset_person_confirm", args=[tag.pk]))
    assert AuditEntry.objects.filter(action="asset.person_confirmed").count() == 1

    second = make_asset(day, by=world.librarian)
    suggested = AssetPerson.objects.get(asset=second)
    editor_client.post(reverse("production:asset_person_remove", args=[suggested.pk]))
    assert not AssetPerson.objects.filter(pk=suggested.pk).exists()
    assert Person.objects.filter(pk=signup.register_person.pk).exists()  # the register entry stays


def test_another_library_cannot_confirm_a_suggestion(world: World, day: RecordingDay) -> None:
    sign_up(world, day)
    asset = make_asset(day, by=world.librarian)
    tag = AssetPerson.objects.get(asset=asset)
    other = Client()
    other.force_login(world.other_librarian)
    assert other.post(reverse("production:asset_person_confirm", args=[tag.pk])).status_code == 403
    tag.refresh_from_db()
    assert tag.suggested


# --- The register's rights and merges reach the sign-ups ---


def test_merging_moves_the_sign_ups_and_erasing_unlinks_them(world: World, day: RecordingDay) -> None:
    signup = sign_up(world, day)
    presenter = signup.register_person
    assert presenter is not None
    keep = register_person(world.county, presenter.name, Person.Category.STAFF)
    people_services.merge_people(by=world.editor, keep=keep, other=presenter)
    signup.refresh_from_db()
    assert signup.register_person == keep
    people_services.erase_person(by=world.editor, person=keep)
    signup.refresh_from_db()
    assert signup.register_person is None
    assert PresenterSignup.objects.filter(pk=signup.pk).exists()
