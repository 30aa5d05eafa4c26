"""The county's register of people: tagging, consent once, digital consent links, the person's rights, merging."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from libraries.models import AuditEntry
from production.models import Asset, AssetPerson, Consent, ConsentLink, ConsentState, Idea, Person
from production.services import media as asset_services
from production.services import people as people_services
from tests.conftest import World
from tests.factories.media import make_asset
from tests.factories.production import IdeaFactory
from tests.factories.publishing import register_person, show_person, tag_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def idea(world: World) -> Idea:
    return IdeaFactory(library=world.library, status=Idea.Status.RECORDED)


@pytest.fixture
def asset(world: World, idea: Idea) -> Asset:
    return make_asset(idea, by=world.editor, name="Eventyrstund.jpg")


def fresh(asset: Asset) -> Asset:
    return Asset.objects.for_list().get(pk=asset.pk)


def consent(person: Person, **fields: object) -> Consent:
    values: dict[str, object] = {"given_at": timezone.localdate() - timedelta(days=10), "evidence_note": "Skjema"}
    return Consent.objects.create(person=person, **(values | fields))


# --- Tagging ---


def test_an_editor_finds_people_as_they_type_and_tags_them(world: World, asset: Asset, editor_client: Client) -> None:
    kari = register_person(world.county, "Kari Nordmann")
    consent(kari)
    register_person(world.county, "Per Olsen")
    register_person(world.other_county, "Kari Andersen")  # another county's register is never searched
    url = reverse("production:asset_people_search", args=[asset.pk])
    page = editor_client.get(url, {"q": "kar"}, headers={"HX-Request": "true"}).text
    assert "Tag Kari Nordmann" in page
    assert "Per Olsen" not in page
    assert "Kari Andersen" not in page

    response = editor_client.post(reverse("production:asset_person_tag", args=[asset.pk]), {"person": kari.pk})
    assert response.status_code == 302
    assert fresh(asset).consent_state() == ConsentState.OK  # the consent recorded once covers this asset

    # Tagged twice in one asset: refused with the reason, and nothing changes.
    again = editor_client.post(
        reverse("production:asset_person_tag", args=[asset.pk]), {"person": kari.pk}, follow=True
    )
    assert "Kari Nordmann is already tagged in" in again.text
    assert AssetPerson.objects.filter(asset=asset).count() == 1
    assert "already tagged" in editor_client.get(url, {"q": "kari"}, headers={"HX-Request": "true"}).text


def test_librarians_do_not_search_the_register(world: World, asset: Asset, librarian_client: Client) -> None:
    url = reverse("production:asset_people_search", args=[asset.pk])
    assert librarian_client.get(url, {"q": "kari"}).status_code == 403
    assert "Tag someone from the register" not in librarian_client.get(asset.get_absolute_url()).text


def test_a_new_person_with_their_consent_in_one_step(world: World, asset: Asset, librarian_client: Client) -> None:
    url = reverse("production:asset_person_register", args=[asset.pk])
    assert librarian_client.get(url, {"name": "Ola"}).status_code == 200
    response = librarian_client.post(
        url,
        {
            "new-name": "Ola Hansen",
            "new-category": Person.Category.PATRON,
            "consent-covers_publishing": "on",
            "consent-covers_archive_reuse": "on",
            "consent-given_at": timezone.localdate().isoformat(),
            "consent-evidence_note": "Signerte skjema ved disken",
        },
    )
    assert response.status_code == 302
    person = Person.objects.get(name="Ola Hansen")
    assert person.county == world.county
    assert person.consents.count() == 1
    assert fresh(asset).allows_publishing()

    # Without evidence, neither the person nor the tag is kept: one step, all or nothing.
    refused = librarian_client.post(
        url,
        {
            "new-name": "Kari Hansen",
            "new-category": Person.Category.PATRON,
            "consent-covers_publishing": "on",
            "consent-given_at": timezone.localdate().isoformat(),
        },
    )
    assert refused.status_code == 400
    assert not Person.objects.filter(name="Kari Hansen").exists()


# --- Withdrawal once ---


def test_withdrawing_blocks_every_asset_pulls_nothing_twice_and_tells_once(
    world: World, idea: Idea, asset: Asset, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    kari = show_person(asset, name="Kari").person
    assert kari is not None
    clips = [make_asset(idea, by=world.editor, name=f"Klipp {n}.jpg") for n in range(3)]
    for clip in clips:
        tag_person(clip, kari)
    with django_capture_on_commit_callbacks(execute=True):
        asset_services.withdraw_consent(by=world.editor, consent=kari.consents.get(), note="Ba oss slutte")
    assert all(fresh(a).consent_state() == ConsentState.WITHDRAWN for a in [asset, *clips])
    assert len(mail.outbox) == 1
    assert all(f"http://testserver{a.get_absolute_url()}" in mail.outbox[0].body for a in [asset, *clips])


# --- Digital consent ---


def _send(world: World, person: Person, **options: object) -> str:
    _link, token = people_services.send_consent_link(
        by=world.editor, person=person, email="kari@example.org", **options
    )
    return token


def test_a_person_consents_through_their_link_and_the_evidence_is_kept(
    world: World, asset: Asset, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    kari = show_person(asset, name="Kari Nordmann", consent=False).person
    assert kari is not None
    with django_capture_on_commit_callbacks(execute=True):
        token = _send(world, kari, language="en", valid_until=timezone.localdate() + timedelta(days=365))
    [message] = mail.outbox
    assert message.to == ["kari@example.org"]
    url = reverse("production:consent_link", args=[token])
    assert url in message.body
    assert token not in ConsentLink.objects.get().token_hash  # only the hash is stored

    anonymous = Client()
    page = anonymous.get(url)
    assert page.status_code == 200
    assert "social media (Instagram)" in page.text
    assert "withdrawn at any time on this same page" in page.text
    assert "no-store" in page["Cache-Control"]

    # A forwarded link: someone else's address is refused, and nothing is recorded.
    forwarded = anonymous.post(url, {"action": "confirm", "email": "someone@example.org"})
    assert forwarded.status_code == 400
    assert "not the address the link was sent to" in forwarded.text
    assert not kari.consents.exists()

    assert anonymous.post(url, {"action": "confirm", "email": "KARI@example.org"}).status_code == 302
    recorded = kari.consents.get()
    assert recorded.is_digital
    assert recorded.digital_record["email"] == "kari@example.org"
    assert recorded.digital_record["ip"] == "127.0.0.1"
    assert "published on the libraries' social media" in recorded.digital_record["text"]
    assert recorded.valid_until == timezone.localdate() + timedelta(days=365)
    assert fresh(asset).allows_publishing()

    # Used twice: the answer stands, the page says so and offers withdrawal instead.
    twice = anonymous.post(url, {"action": "decline", "email": "kari@example.org"})
    assert "already been answered" in twice.text
    assert kari.consents.count() == 1

    # The same link withdraws, for every asset the person is in.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert anonymous.post(url, {"action": "withdraw"}).status_code == 302
    assert fresh(asset).consent_state() == ConsentState.WITHDRAWN
    assert [m.to for m in mail.outbox] == [[world.coordinator.email]]


def test_an_expired_or_unknown_link_says_why(world: World) -> None:
    kari = register_person(world.county, "Kari")
    token = _send(world, kari, language="en")
    ConsentLink.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    client = Client()
    page = client.post(
        reverse("production:consent_link", args=[token]), {"action": "confirm", "email": "kari@example.org"}
    )
    assert "This link has expired" in page.text
    assert not kari.consents.exists()
    assert client.get(reverse("production:consent_link", args=["nope"])).status_code == 410


def test_a_childs_link_goes_to_the_guardian_and_names_only_that_child(world: World) -> None:
    no_guardian = register_person(world.county, "Ola (8)", Person.Category.CHILD)
    with pytest.raises(ValidationError, match="guardian"):
        _send(world, no_guardian)
    ola = register_person(world.county, "Ola (8)", Person.Category.CHILD, guardian="Hanne Lie")
    sister = register_person(world.county, "Ida (6)", Person.Category.CHILD, guardian="Hanne Lie")
    token_ola, token_ida = _send(world, ola, language="en"), _send(world, sister, language="en")
    page = Client().get(reverse("production:consent_link", args=[token_ola])).text
    assert "as guardian of Ola (8)" in page
    assert "Ida" not in page
    people_services.answer_consent_link(
        token=token_ola, confirm=True, email="kari@example.org", ip="10.0.0.1", text_seen="…"
    )
    assert ola.consents.get().given_by == "Hanne Lie"
    assert not sister.consents.exists()  # each child answers on their own link
    assert token_ida


def test_consents_expiring_within_30_days_are_listed(world: World) -> None:
    today = timezone.localdate()
    soon = register_person(world.county, "Snart")
    consent(soon, valid_until=today + timedelta(days=10))
    later = register_person(world.county, "Senere")
    consent(later, valid_until=today + timedelta(days=200))
    renewed = register_person(world.county, "Fornyet")
    consent(renewed, valid_until=today + timedelta(days=5), given_at=today - timedelta(days=300))
    consent(renewed, valid_until=today + timedelta(days=400), given_at=today - timedelta(days=1))
    assert [person.name for person, _c in people_services.expiring_consents(world.county)] == ["Snart"]


def test_the_expiring_consents_cost_one_query_however_many(world: World, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    for n in range(3):
        consent(register_person(world.county, f"Snart {n}"), valid_until=today + timedelta(days=10 + n))
    with django_assert_num_queries(1):
        rows = people_services.expiring_consents(world.county)
        assert [person.name for person, _c in rows] == ["Snart 0", "Snart 1", "Snart 2"]


# --- The person's rights ---


def test_an_editor_exports_everything_held_about_a_person(world: World, asset: Asset, editor_client: Client) -> None:
    kari = show_person(asset, name="Kari Nordmann").person
    assert kari is not None
    response = editor_client.get(reverse("production:person_export", args=[kari.pk]))
    assert response["Content-Disposition"].startswith("attachment")
    data = json.loads(response.content)
    assert data["person"]["name"] == "Kari Nordmann"
    assert len(data["consents"]) == 1
    assert [media["id"] for media in data["media"]] == [asset.pk]
    assert AuditEntry.objects.filter(action="person.exported", summary=f"person #{kari.pk}").exists()


def test_erasing_a_person_blocks_their_media_for_good_and_the_audit_forgets_the_name(
    world: World, asset: Asset, editor_client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    kari = show_person(asset, name="Kari Nordmann").person
    assert kari is not None
    assert fresh(asset).allows_publishing()
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(reverse("production:person_erase", args=[kari.pk]))
    assert response.status_code == 302
    assert not Person.objects.filter(pk=kari.pk).exists()
    assert not Consent.objects.exists()
    erased = fresh(asset)
    assert erased.consent_state() == ConsentState.WITHDRAWN
    assert not erased.allows_publishing()
    assert not erased.allows_archive_reuse()
    assert not Asset.objects.reusable_from_archive().filter(pk=asset.pk).exists()
    with pytest.raises(ValidationError):  # nor can the asset now be "confirmed" to show nobody
        asset_services.confirm_no_people(by=world.editor, asset=asset)
    assert not AuditEntry.objects.filter(summary__icontains="Kari").exists()
    assert AuditEntry.objects.filter(action="person.erased", data__assets=[asset.pk]).exists()
    assert "erased from the register" in editor_client.get(asset.get_absolute_url()).text


# --- Merging ---


def test_merging_two_entries_the_narrower_consent_and_earlier_expiry_win(
    world: World, idea: Idea, asset: Asset, editor_client: Client
) -> None:
    today = timezone.localdate()
    first = show_person(asset, name="Kari Nordmann", valid_until=today + timedelta(days=300)).person
    other_photo = make_asset(idea, by=world.editor, name="Andre.jpg")
    second = show_person(
        other_photo, name="kari nordmann", covers_archive_reuse=False, valid_until=today + timedelta(days=100)
    ).person
    assert first is not None
    assert second is not None
    proposals = editor_client.get(reverse("production:merge_proposals")).text
    assert "Compare and merge" in proposals

    url = reverse("production:person_merge")
    page = editor_client.get(url, {"keep": first.pk, "other": second.pk}).text
    assert "only what both cover" in page
    assert "the earlier end wins" in page
    assert Person.objects.count() == 2  # looking merges nothing

    editor_client.post(url, {"keep": first.pk, "other": second.pk})
    assert list(Person.objects.values_list("pk", flat=True)) == [first.pk]
    merged = Person.objects.with_consents().get().current_consent()
    assert merged is not None
    assert merged.covers_publishing
    assert not merged.covers_archive_reuse
    assert merged.valid_until == today + timedelta(days=100)
    assert not fresh(asset).allows_archive_reuse()  # the narrower consent now covers both photos
    assert fresh(other_photo).allows_publishing()
    entry = AuditEntry.objects.get(action="person.merged")
    assert entry.actor == world.editor
    assert entry.data["merged"] == second.pk


def test_the_register_is_for_editors_only(world: World, librarian_client: Client, editor_client: Client) -> None:
    assert librarian_client.get(reverse("production:person_list")).status_code == 403
    register_person(world.county, "Kari Nordmann")
    assert "Kari Nordmann" in editor_client.get(reverse("production:person_list")).text


def test_the_coordinators_home_lists_expiring_consents_with_a_renewal_link(world: World) -> None:
    from tests.conftest import client_for

    soon = register_person(world.county, "Snart Utløper")
    consent(soon, valid_until=timezone.localdate() + timedelta(days=10))
    page = client_for(world.coordinator).get(reverse("home")).text
    assert "Snart Utløper" in page
    assert f"{reverse('production:person_detail', args=[soon.pk])}#link-heading" in page


# --- Correcting a register entry ---


def test_an_editor_corrects_a_register_entry_and_the_audit_keeps_which_fields(
    world: World, editor_client: Client
) -> None:
    kari = register_person(world.county, "Kari Nordman", contact_email="kari@example.org")
    consent(kari)
    url = reverse("production:person_edit", args=[kari.pk])
    page = editor_client.get(url).text
    assert 'value="Kari Nordman"' in page
    response = editor_client.post(
        url,
        {
            "name": "  Kari   Nordmann ",
            "category": Person.Category.STAFF,
            "contact_email": "kari.nordmann@example.org",
            "guardian": "",
            "language": "en",
        },
        follow=True,
    )
    assert "The register entry of Kari Nordmann was saved." in response.text
    kari.refresh_from_db()
    assert (kari.name, kari.category, kari.contact_email, kari.language) == (
        "Kari Nordmann",
        Person.Category.STAFF,
        "kari.nordmann@example.org",
        "en",
    )
    entry = AuditEntry.objects.get(action="person.changed")
    assert (entry.actor, entry.data["fields"]) == (world.editor, ["name", "category", "contact_email", "language"])
    assert "kari.nordmann@example.org" not in str(entry.data)  # which fields, not what they hold
    assert kari.consents.count() == 1  # the consent on record stays as it is

    # Saving without a change writes nothing.
    editor_client.post(
        url,
        {"name": kari.name, "category": kari.category, "contact_email": kari.contact_email, "language": "en"},
    )
    assert AuditEntry.objects.filter(action="person.changed").count() == 1


def test_a_correction_to_child_blocks_media_whose_consent_no_guardian_gave(
    world: World, asset: Asset, editor_client: Client
) -> None:
    ola = register_person(world.county, "Ola")
    consent(ola)
    asset_services.tag_person(by=world.editor, asset=asset, person=ola)
    assert fresh(asset).allows_publishing()
    response = editor_client.post(
        reverse("production:person_edit", args=[ola.pk]), {"name": "Ola (9)", "category": Person.Category.CHILD}
    )
    assert response.status_code == 302
    assert not fresh(asset).allows_publishing()  # a child's consent counts only from a guardian
    assert fresh(asset).consent_state() == ConsentState.MISSING


def test_a_correction_is_checked_like_a_new_entry(world: World, editor_client: Client) -> None:
    kari = register_person(world.county, "Kari")
    response = editor_client.post(
        reverse("production:person_edit", args=[kari.pk]),
        {"name": "  ", "category": "robot", "contact_email": "not an address"},
    )
    assert response.status_code == 400
    kari.refresh_from_db()
    assert kari.name == "Kari"
    assert not AuditEntry.objects.filter(action="person.changed").exists()


def test_only_editors_of_the_county_correct_the_register(world: World, librarian_client: Client) -> None:
    kari = register_person(world.county, "Kari")
    away = register_person(world.other_county, "Ola")
    assert librarian_client.post(reverse("production:person_edit", args=[kari.pk]), {"name": "X"}).status_code == 403
    editor = Client()
    editor.force_login(world.editor)
    assert editor.get(reverse("production:person_edit", args=[away.pk])).status_code == 404
