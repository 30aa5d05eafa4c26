"""People shown and their consent: recording it, the derived state, withdrawal and the nightly expiry."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from libraries.models import AuditEntry
from production import tasks
from production.models import Asset, AssetPerson, Consent, ConsentState, Idea, Person
from production.services import media as asset_services
from tests.conftest import World, client_for
from tests.factories.media import make_asset
from tests.factories.production import IdeaFactory
from tests.factories.publishing import show_person, tag_person

pytestmark = pytest.mark.django_db


def today() -> date:
    return timezone.localdate()


@pytest.fixture
def idea(world: World) -> Idea:
    return IdeaFactory(library=world.library, status=Idea.Status.RECORDED)


@pytest.fixture
def asset(world: World, idea: Idea) -> Asset:
    return make_asset(idea, by=world.editor, name="Eventyrstund.jpg")


def person_in(asset: Asset, name: str = "Kari Nordmann", category: str = AssetPerson.Category.STAFF) -> AssetPerson:
    return show_person(asset, name=name, category=category, consent=False)


def consent_for(person: AssetPerson, **fields: object) -> Consent:
    values: dict[str, object] = {"given_at": today() - timedelta(days=10), "evidence_note": "Signert skjema i permen"}
    values.update(fields)
    return Consent.objects.create(person=person.person, **values)


def fresh(asset: Asset) -> Asset:
    return Asset.objects.for_list().get(pk=asset.pk)


# --- Recording consent ---


def test_a_person_is_added_and_their_consent_recorded(world: World, asset: Asset, librarian_client: Client) -> None:
    response = librarian_client.post(
        reverse("production:asset_person_add", args=[asset.pk]),
        {"person-name": "Per Olsen", "person-category": "staff"},
    )
    person = AssetPerson.objects.get()
    assert response["Location"] == reverse("production:consent_create", args=[person.pk])
    assert fresh(asset).consent_state() == ConsentState.MISSING
    response = librarian_client.post(
        reverse("production:consent_create", args=[person.pk]),
        {
            "covers_publishing": "on",
            "covers_archive_reuse": "on",
            "given_at": today().isoformat(),
            "valid_until": (today() + timedelta(days=365)).isoformat(),
            "evidence_note": "Muntlig samtykke på opptaksdagen, notert av Per.",
        },
    )
    assert response.status_code == 302
    consent = Consent.objects.get()
    assert (consent.recorded_by, consent.person_is_minor, consent.covers_publishing) == (world.librarian, False, True)
    assert fresh(asset).consent_state() == ConsentState.OK
    assert AuditEntry.objects.filter(action="consent.recorded", object_id=str(consent.pk)).exists()


def test_a_childs_consent_needs_a_guardian(asset: Asset, editor_client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CONSENT_MINOR_AGE = 16
    child = person_in(asset, "Gutt med rød lue", AssetPerson.Category.CHILD)
    url = reverse("production:consent_create", args=[child.pk])
    form = editor_client.get(url).text
    assert "The person is under 16" in form
    assert re.search(r'<input type="checkbox" name="person_is_minor"[^>]* checked>', form)  # a child: ticked at first
    data = {
        "covers_publishing": "on",
        "given_at": today().isoformat(),
        "person_is_minor": "on",
        "evidence": ContentFile(b"%PDF-1.7 signert", name="samtykke.pdf"),
    }
    refused = editor_client.post(url, data)
    assert refused.status_code == 400
    assert "People under 16 need a guardian&#x27;s consent" in refused.text
    assert not Consent.objects.exists()
    data["evidence"] = ContentFile(b"%PDF-1.7 signert", name="samtykke.pdf")
    assert editor_client.post(url, {**data, "given_by": "Kari Nordmann (mor)"}).status_code == 302
    consent = Consent.objects.get()
    assert (consent.given_by, consent.person_is_minor, consent.covers_archive_reuse) == (
        "Kari Nordmann (mor)",
        True,
        False,
    )
    assert consent.evidence.name.endswith(".pdf")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"given_at": (timezone.localdate() + timedelta(days=3)).isoformat()}, "cannot be given in the future"),
        ({"valid_until": (timezone.localdate() - timedelta(days=1)).isoformat()}, "already expired"),
        ({"covers_publishing": "", "covers_archive_reuse": ""}, "Choose what the consent covers"),
        ({"evidence_note": ""}, "Upload the signed form, or write a note"),
        ({"evidence": ContentFile(b"<html>not a form</html>", name="skjema.pdf")}, "must be a PDF or a photo"),
    ],
    ids=["future", "expired", "no-scope", "no-evidence", "html-as-evidence"],
)
def test_consent_that_cannot_be_recorded_is_refused_with_a_reason(
    asset: Asset, editor_client: Client, fields: dict[str, object], message: str
) -> None:
    person = person_in(asset)
    data: dict[str, object] = {
        "covers_publishing": "on",
        "covers_archive_reuse": "on",
        "given_at": (today() - timedelta(days=2)).isoformat(),
        "evidence_note": "Notat",
    }
    data.update(fields)
    response = editor_client.post(
        reverse("production:consent_create", args=[person.pk]), {k: v for k, v in data.items() if v != ""}
    )
    assert response.status_code == 400
    assert message in response.text
    assert not Consent.objects.exists()


def test_only_editors_and_the_assets_library_record_consent(
    world: World, asset: Asset, outsider_client: Client
) -> None:
    person = person_in(asset)
    url = reverse("production:consent_create", args=[person.pk])
    assert client_for(world.other_librarian).get(url).status_code == 403
    assert outsider_client.get(url).status_code == 404
    assert client_for(world.librarian).get(url).status_code == 200


def test_a_tag_added_by_mistake_comes_off_but_a_withdrawal_keeps_its_tag(
    world: World, asset: Asset, editor_client: Client
) -> None:
    added_by_mistake = person_in(asset, "Feil person")
    consent_for(added_by_mistake)
    withdrawn = person_in(asset, "Kari")
    consent_for(withdrawn, withdrawn_at=timezone.now())
    editor_client.post(reverse("production:asset_person_remove", args=[added_by_mistake.pk]))
    response = editor_client.post(reverse("production:asset_person_remove", args=[withdrawn.pk]), follow=True)
    assert "the tag stays and keeps the media blocked" in response.text
    assert list(AssetPerson.objects.values_list("person__name", flat=True)) == ["Kari"]
    # The register entry of the one taken off stays, with their consent: it covers their other media.
    assert Person.objects.get(name="Feil person").consents.count() == 1


# --- The derived state ---


def test_the_assets_consent_state_is_the_worst_of_its_people(world: World, asset: Asset) -> None:
    # Nobody registered is not "in order": not reviewed, until an editor confirms nobody can be recognised.
    assert fresh(asset).consent_state() == ConsentState.NOT_REVIEWED
    asset_services.confirm_no_people(by=world.editor, asset=asset)
    assert fresh(asset).consent_state() == ConsentState.NO_PEOPLE
    consent_for(person_in(asset, "A"))
    assert fresh(asset).consent_state() == ConsentState.OK
    consent_for(person_in(asset, "B"), valid_until=today() + timedelta(days=10))
    assert fresh(asset).consent_state() == ConsentState.EXPIRING
    person_in(asset, "C")
    assert fresh(asset).consent_state() == ConsentState.MISSING
    consent_for(person_in(asset, "D"), withdrawn_at=timezone.now())
    assert fresh(asset).consent_state() == ConsentState.WITHDRAWN


@pytest.mark.parametrize(
    ("fields", "reusable"),
    [
        ({}, True),
        ({"covers_archive_reuse": False}, False),
        ({"valid_until": timezone.localdate() - timedelta(days=1)}, False),
        ({"withdrawn_at": timezone.now()}, False),
        ({"person_is_minor": True, "given_by": "Mor"}, True),
        (None, False),  # nobody recorded a consent
        ({"category": AssetPerson.Category.CHILD}, False),  # a child, and no guardian named
        ({"category": AssetPerson.Category.CHILD, "given_by": "Far"}, True),
    ],
    ids=[
        "valid",
        "publishing-only",
        "expired",
        "withdrawn",
        "minor-with-guardian",
        "missing",
        "child-without-guardian",
        "child-with-guardian",
    ],
)
def test_archive_reuse_is_derived_the_same_in_python_and_in_sql(
    asset: Asset, fields: dict[str, object] | None, reusable: bool
) -> None:
    fields = dict(fields) if fields is not None else None
    category = str(fields.pop("category", AssetPerson.Category.STAFF)) if fields is not None else "staff"
    person = person_in(asset, category=category)
    if fields is not None:
        consent_for(person, given_at=today() - timedelta(days=400), **fields)
    assert fresh(asset).allows_archive_reuse() is reusable
    assert Asset.objects.reusable_from_archive().filter(pk=asset.pk).exists() is reusable


def test_nobody_registered_is_not_reusable_until_confirmed_in_python_and_in_sql(world: World, asset: Asset) -> None:
    assert not fresh(asset).allows_archive_reuse()
    assert not fresh(asset).allows_publishing()
    assert not Asset.objects.reusable_from_archive().filter(pk=asset.pk).exists()
    asset_services.confirm_no_people(by=world.editor, asset=asset)
    assert fresh(asset).allows_archive_reuse()
    assert fresh(asset).allows_publishing()
    assert Asset.objects.reusable_from_archive().filter(pk=asset.pk).exists()


# --- Confirming that nobody can be recognised ---


def test_an_editor_confirms_no_identifiable_people_on_the_asset_page_and_it_is_audited(
    world: World, asset: Asset, editor_client: Client
) -> None:
    page = editor_client.get(asset.get_absolute_url()).text
    assert "Not reviewed: who is shown?" in page
    assert "Confirm: no identifiable people" in page
    url = reverse("production:asset_confirm_no_people", args=[asset.pk])
    response = editor_client.post(url, follow=True)
    assert response.redirect_chain == [(asset.get_absolute_url() + "#people", 302)]
    assert "is confirmed to show no identifiable people" in response.text
    assert "confirmed on" in response.text
    assert "Confirm: no identifiable people" not in response.text
    asset.refresh_from_db()
    assert (asset.no_people_confirmed_by, fresh(asset).consent_state()) == (world.editor, ConsentState.NO_PEOPLE)
    entry = AuditEntry.objects.get(action="asset.no_people_confirmed")
    assert (entry.actor, entry.object_id) == (world.editor, str(asset.pk))
    # Confirming again changes nothing more.
    editor_client.post(url)
    assert AuditEntry.objects.filter(action="asset.no_people_confirmed").count() == 1


def test_librarian_cannot_confirm_no_identifiable_people_even_for_their_own_library(
    asset: Asset, librarian_client: Client
) -> None:
    page = librarian_client.get(asset.get_absolute_url()).text
    assert "Not reviewed." in page
    assert "ask an editor to confirm that nobody can be" in page
    assert "Confirm: no identifiable people" not in page
    assert librarian_client.post(reverse("production:asset_confirm_no_people", args=[asset.pk])).status_code == 403
    assert fresh(asset).consent_state() == ConsentState.NOT_REVIEWED


def test_adding_a_person_undoes_the_confirmation_for_good(world: World, asset: Asset, editor_client: Client) -> None:
    asset_services.confirm_no_people(by=world.editor, asset=asset)
    editor_client.post(
        reverse("production:asset_person_add", args=[asset.pk]),
        {"person-name": "Gutt i rød jakke", "person-category": "child"},
    )
    assert fresh(asset).consent_state() == ConsentState.MISSING
    added = AuditEntry.objects.get(action="asset.person_added")
    assert added.data["no_people_confirmation_undone"] is True
    # Taken off again (added by mistake): not reviewed, not confirmed, until an editor looks again.
    asset_services.remove_person(by=world.editor, person=AssetPerson.objects.get())
    assert fresh(asset).consent_state() == ConsentState.NOT_REVIEWED


def test_an_asset_with_people_cannot_be_confirmed_to_show_nobody(
    world: World, asset: Asset, editor_client: Client
) -> None:
    person_in(asset)
    response = editor_client.post(reverse("production:asset_confirm_no_people", args=[asset.pk]), follow=True)
    assert "so it cannot be confirmed to show nobody" in response.text
    assert fresh(asset).no_people_confirmed_at is None
    assert not AuditEntry.objects.filter(action="asset.no_people_confirmed").exists()


def test_a_child_needs_a_guardians_consent_even_when_under_the_age_limit_is_unticked(
    asset: Asset, editor_client: Client
) -> None:
    child = person_in(asset, "Jente (7 år)", AssetPerson.Category.CHILD)
    url = reverse("production:consent_create", args=[child.pk])
    data = {"covers_publishing": "on", "given_at": today().isoformat(), "evidence_note": "Muntlig"}
    refused = editor_client.post(url, data)
    assert refused.status_code == 400
    assert "need a guardian&#x27;s consent" in refused.text
    assert not Consent.objects.exists()
    # One recorded without a guardian before this rule counts as missing, for publishing and reuse alike.
    consent_for(child)
    assert fresh(asset).consent_state() == ConsentState.MISSING
    assert not fresh(asset).allows_publishing()
    assert editor_client.post(url, {**data, "given_by": "Mor, Hanne Lie"}).status_code == 302
    assert fresh(asset).consent_state() == ConsentState.OK


def test_a_newer_consent_replaces_an_older_one_in_both_derivations(asset: Asset) -> None:
    person = person_in(asset)
    consent_for(person, given_at=today() - timedelta(days=30), covers_archive_reuse=False)
    consent_for(person, given_at=today() - timedelta(days=5))
    assert fresh(asset).allows_archive_reuse()
    assert Asset.objects.reusable_from_archive().filter(pk=asset.pk).exists()


# --- Withdrawal ---


def test_withdrawing_consent_once_blocks_every_asset_the_person_is_in_and_sends_one_email(
    world: World, idea: Idea, asset: Asset, editor_client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    kari = person_in(asset, "Kari Nordmann")
    consent = consent_for(kari)
    # The same register person tagged in another photo, and someone else with a valid consent.
    other_photo = make_asset(idea, by=world.editor, name="Andre.jpg")
    tag_person(other_photo, kari.person)
    unrelated = make_asset(idea, by=world.editor, name="Tredje.jpg")
    consent_for(person_in(unrelated, "Per"))
    assert all(fresh(a).allows_archive_reuse() for a in (asset, other_photo, unrelated))

    url = reverse("production:consent_withdraw", args=[consent.pk])
    page = editor_client.get(url).text
    assert "Andre.jpg" in page  # says what the withdrawal covers
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(f"{url}?asset={asset.pk}", {"note": "Ringte og trakk samtykket 12. mai."})
    assert response.status_code == 302
    assert response.url == asset.get_absolute_url() + "#people"

    for blocked in (asset, other_photo):
        blocked = fresh(blocked)
        assert blocked.consent_state() == ConsentState.WITHDRAWN
        assert not blocked.allows_archive_reuse()
        assert not blocked.allows_publishing()
        assert blocked.consent_lapsed_at is not None
    assert set(Asset.objects.reusable_from_archive().values_list("pk", flat=True)) == {unrelated.pk}
    assert fresh(unrelated).consent_lapsed_at is None
    withdrawn = Consent.objects.filter(withdrawn_at__isnull=False)
    assert list(withdrawn.values_list("person__name", "withdrawal_note")) == [
        ("Kari Nordmann", "Ringte og trakk samtykket 12. mai.")
    ]

    [entry] = AuditEntry.objects.filter(action="consent.withdrawn")
    assert entry.actor == world.editor
    assert sorted(entry.data["assets"]) == sorted([asset.pk, other_photo.pk])
    assert [message.to for message in mail.outbox] == [[world.coordinator.email]]
    message = mail.outbox[0]
    assert "Kari Nordmann" in message.subject
    assert "Ringte og trakk samtykket" in message.body
    assert f"http://testserver{asset.get_absolute_url()}" in message.body
    assert f"http://testserver{other_photo.get_absolute_url()}" in message.body

    page = editor_client.get(asset.get_absolute_url()).text
    assert "Consent withdrawn or expired." in page


def test_withdrawing_twice_changes_nothing_more(world: World, asset: Asset, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    consent = consent_for(person_in(asset))
    with django_capture_on_commit_callbacks(execute=True):
        asset_services.withdraw_consent(by=world.editor, consent=consent)
    with pytest.raises(Exception, match="already withdrawn"):
        asset_services.withdraw_consent(by=world.editor, consent=consent)
    assert AuditEntry.objects.filter(action="consent.withdrawn").count() == 1
    assert len(mail.outbox) == 1


def test_a_new_consent_after_a_withdrawal_lifts_the_block(world: World, asset: Asset) -> None:
    person = person_in(asset)
    asset_services.withdraw_consent(by=world.editor, consent=consent_for(person))
    assert fresh(asset).consent_lapsed_at is not None
    asset_services.record_consent(
        by=world.editor,
        person=person,
        covers_publishing=True,
        covers_archive_reuse=True,
        given_at=today(),
        valid_until=None,
        person_is_minor=False,
        evidence_note="Ny avtale, signert skjema",
    )
    asset = fresh(asset)
    assert asset.consent_state() == ConsentState.OK
    assert asset.consent_lapsed_at is None
    assert asset.allows_archive_reuse()


# --- The nightly expiry ---


def test_the_nightly_task_expires_consents_once_however_often_it_runs(
    world: World, idea: Idea, asset: Asset, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    lapsed = consent_for(
        person_in(asset, "Liv"), given_at=today() - timedelta(days=400), valid_until=today() - timedelta(days=1)
    )
    valid = consent_for(person_in(make_asset(idea, by=world.editor), "Nils"), valid_until=today())
    # An old consent that a newer one replaced expires quietly.
    replaced = person_in(make_asset(idea, by=world.editor), "Amir")
    consent_for(replaced, given_at=today() - timedelta(days=800), valid_until=today() - timedelta(days=30))
    consent_for(replaced, given_at=today() - timedelta(days=20))

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.expire_consents() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.expire_consents() == 0  # beat ticks twice, or the task is delivered again

    asset = fresh(asset)
    assert asset.consent_state() == ConsentState.WITHDRAWN
    assert asset.consent_lapsed_at is not None
    assert not Asset.objects.reusable_from_archive().filter(pk=asset.pk).exists()
    lapsed.refresh_from_db()
    assert lapsed.lapse_handled_at is not None
    assert lapsed.withdrawn_at is None
    valid.refresh_from_db()
    assert valid.lapse_handled_at is None
    entries = AuditEntry.objects.filter(action="consent.expired")
    assert [(entry.object_id, entry.actor) for entry in entries] == [(str(lapsed.pk), None)]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [world.coordinator.email]
    assert "The consent of Liv has expired." in mail.outbox[0].body


def test_expiry_and_cleanup_tasks_are_scheduled() -> None:
    from config.celery import app

    schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"production.expire_consents", "production.clean_abandoned_uploads"} <= schedule
    assert {"production.expire_consents", "production.clean_abandoned_uploads", "production.process_asset"} <= set(
        app.tasks
    )
