"""The permission gate for media (libraries/access.py), function by function and role by role, and every
media page checked for another county (404) and a role that is too low (403)."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.cache import SessionStore
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from libraries.models import User
from production.access import (
    assets_for_user,
    get_asset_for_user,
    get_asset_person_for_user,
    get_consent_for_user,
    get_idea_for_upload,
    get_recording_day_for_upload,
)
from production.models import Asset, AssetPerson, Consent
from tests.conftest import World, client_for
from tests.factories.media import make_asset
from tests.factories.production import IdeaFactory, RecordingDayFactory
from tests.factories.publishing import show_person

pytestmark = pytest.mark.django_db


def request_for(rf, user: User):  # type: ignore[no-untyped-def]
    request = rf.get("/")
    request.user = user
    request.session = SessionStore()
    return request


@pytest.fixture
def media(world: World) -> dict[str, object]:
    """Sandnes's photo (the librarian's library) and Sola's, each with a person and a consent."""
    own = make_asset(IdeaFactory(library=world.library), by=world.librarian, name="sandnes.jpg")
    other = make_asset(IdeaFactory(library=world.other_library), by=world.other_librarian, name="sola.jpg")
    found: dict[str, object] = {"own": own, "other": other}
    for key, asset in (("own", own), ("other", other)):
        person = show_person(asset, name="Kari", category=AssetPerson.Category.STAFF, consent=False)
        found[f"{key}_person"] = person
        found[f"{key}_consent"] = Consent.objects.create(
            person=person.person, given_at=timezone.localdate(), evidence_note="Skjema"
        )
    return found


ROLES = ["coordinator", "editor", "librarian", "other_librarian"]


@pytest.mark.parametrize("role", ROLES)
def test_everyone_in_the_county_sees_its_media_and_editors_or_the_library_change_them(
    rf, world: World, media: dict, role: str
) -> None:  # type: ignore[no-untyped-def]
    request = request_for(rf, getattr(world, role))
    own: Asset = media["own"]
    assert get_asset_for_user(request, own.pk) == own
    may_change = role in ("coordinator", "editor", "librarian")
    if may_change:
        assert get_asset_for_user(request, own.pk, for_change=True) == own
        assert get_asset_person_for_user(request, media["own_person"].pk) == media["own_person"]
        assert get_consent_for_user(request, media["own_consent"].pk) == media["own_consent"]
    else:
        with pytest.raises(PermissionDenied):
            get_asset_for_user(request, own.pk, for_change=True)
        with pytest.raises(PermissionDenied):
            get_asset_person_for_user(request, media["own_person"].pk)
        with pytest.raises(PermissionDenied):
            get_consent_for_user(request, media["own_consent"].pk)


def test_another_countys_media_people_and_consents_are_not_found(rf, world: World, media: dict) -> None:  # type: ignore[no-untyped-def]
    request = request_for(rf, world.outsider)
    for lookup, pk in (
        (get_asset_for_user, media["own"].pk),
        (get_asset_person_for_user, media["own_person"].pk),
        (get_consent_for_user, media["own_consent"].pk),
    ):
        with pytest.raises(Http404):
            lookup(request, pk)
    _access, assets = assets_for_user(request)
    assert not assets.exists()


def test_who_may_upload_where(rf, world: World) -> None:  # type: ignore[no-untyped-def]
    own_idea = IdeaFactory(library=world.library)
    other_idea = IdeaFactory(library=world.other_library)
    day = RecordingDayFactory(county=world.county, host_library=world.library)
    librarian = request_for(rf, world.librarian)
    assert get_idea_for_upload(librarian, own_idea.pk) == own_idea
    with pytest.raises(PermissionDenied):
        get_idea_for_upload(librarian, other_idea.pk)
    with pytest.raises(PermissionDenied):
        get_recording_day_for_upload(librarian, day.pk)
    editor = request_for(rf, world.editor)
    assert get_idea_for_upload(editor, other_idea.pk) == other_idea
    assert get_recording_day_for_upload(editor, day.pk) == day
    outsider = request_for(rf, world.outsider)
    with pytest.raises(Http404):
        get_idea_for_upload(outsider, own_idea.pk)
    with pytest.raises(Http404):
        get_recording_day_for_upload(outsider, day.pk)


def change_pages(media: dict) -> list[tuple[str, str]]:
    own: Asset = media["own"]
    return [
        ("post", reverse("production:asset_detail", args=[own.pk])),
        ("post", reverse("production:asset_crop", args=[own.pk])),
        ("post", reverse("production:asset_subtitles", args=[own.pk])),
        ("post", reverse("production:asset_subtitles_remove", args=[own.pk])),
        ("post", reverse("production:asset_retry", args=[own.pk])),
        ("post", reverse("production:asset_delete", args=[own.pk])),
        ("post", reverse("production:asset_person_add", args=[own.pk])),
        ("post", reverse("production:asset_person_remove", args=[media["own_person"].pk])),
        ("get", reverse("production:consent_create", args=[media["own_person"].pk])),
        ("post", reverse("production:consent_create", args=[media["own_person"].pk])),
        ("get", reverse("production:consent_withdraw", args=[media["own_consent"].pk])),
        ("post", reverse("production:consent_withdraw", args=[media["own_consent"].pk])),
        ("get", reverse("production:consent_evidence", args=[media["own_consent"].pk])),
    ]


def view_pages(media: dict) -> list[tuple[str, str]]:
    own: Asset = media["own"]
    return [
        ("get", reverse("production:asset_detail", args=[own.pk])),
        ("get", reverse("production:asset_card", args=[own.pk])),
        ("get", reverse("production:asset_status", args=[own.pk])),
        ("get", reverse("production:asset_file", args=[own.pk, "thumbnail"])),
        ("get", reverse("production:idea_assets", args=[own.idea_id])),
    ]


def test_every_media_page_is_404_for_another_county(media: dict, outsider_client: Client) -> None:
    for method, url in change_pages(media) + view_pages(media):
        assert getattr(outsider_client, method)(url).status_code == 404, url


def test_every_changing_media_page_is_403_for_another_librarys_librarian(world: World, media: dict) -> None:
    client = client_for(world.other_librarian)
    for method, url in change_pages(media):
        assert getattr(client, method)(url).status_code == 403, url
    for method, url in view_pages(media):
        assert getattr(client, method)(url).status_code in (200, 302), url


def test_logged_out_visitors_are_sent_to_log_in(media: dict) -> None:
    for method, url in change_pages(media) + view_pages(media):
        response = getattr(Client(), method)(url)
        assert response.status_code == 302, url
        assert "/accounts/login/" in response["Location"]
