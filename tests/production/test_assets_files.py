"""Private media for the county's people (nginx, the object store or Django sends the bytes), and the
signed, expiring address Instagram fetches the one rendition from."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from libraries.models import AuditEntry
from production import signed_urls
from production.models import Asset, AssetPerson, Consent, Idea
from production.services import media as asset_services
from tests.conftest import World, client_for
from tests.factories.media import make_asset, video_bytes
from tests.factories.production import IdeaFactory
from tests.factories.publishing import show_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def idea(world: World) -> Idea:
    return IdeaFactory(library=world.library, status=Idea.Status.RECORDED)


def reviewed(asset: Asset, world: World) -> Asset:
    """An editor looked: nobody in it can be recognised, so its consent is in order."""
    return asset_services.confirm_no_people(by=world.editor, asset=asset)


@pytest.fixture
def photo(world: World, idea: Idea) -> Asset:
    return reviewed(make_asset(idea, by=world.editor, name="Bokbad.jpg"), world)


@pytest.fixture
def video(world: World, idea: Idea, tmp_path: Path) -> Asset:
    return reviewed(make_asset(idea, by=world.editor, data=video_bytes(tmp_path), name="film.mp4"), world)


def body(response) -> bytes:  # type: ignore[no-untyped-def]
    return b"".join(response.streaming_content) if response.streaming else response.content


def stored(field) -> bytes:  # type: ignore[no-untyped-def]
    with field.open("rb") as handle:
        return handle.read()


# --- Private media ---


def test_people_of_the_county_get_the_files_with_their_type_and_no_sniffing(
    photo: Asset, librarian_client: Client
) -> None:
    response = librarian_client.get(photo.thumbnail_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["X-Content-Type-Options"] == "nosniff"
    # Never kept by a browser or a proxy: a withdrawal stops the very next look.
    assert response["Cache-Control"] == "private, no-store"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Accept-Ranges"] == "bytes"
    assert body(response) == stored(photo.thumbnail)
    rendition = librarian_client.get(photo.rendition_url)
    assert (rendition["Content-Type"], body(rendition)) == ("image/jpeg", stored(photo.rendition))


def test_the_original_downloads_under_its_uploaded_name_and_is_audited(
    world: World, photo: Asset, editor_client: Client
) -> None:
    response = editor_client.get(photo.original_url + "&download=1")
    assert response["Content-Disposition"] == 'attachment; filename="Bokbad.jpg"'
    assert response["Cache-Control"] == "private, no-store"
    assert body(response) == stored(photo.original)
    # Without ?download=1 it is a download all the same, and audited all the same.
    assert editor_client.get(photo.original_url)["Content-Disposition"] == 'attachment; filename="Bokbad.jpg"'
    downloads = AuditEntry.objects.filter(action="asset.original_downloaded", object_id=str(photo.pk))
    assert [entry.actor for entry in downloads] == [world.editor, world.editor]


def test_librarian_cannot_download_original_even_of_their_own_librarys_asset(
    world: World, photo: Asset, librarian_client: Client
) -> None:
    assert photo.library == world.library
    for url in (photo.original_url, photo.original_url + "&download=1"):
        assert librarian_client.get(url).status_code == 403
    assert not AuditEntry.objects.filter(action="asset.original_downloaded").exists()
    # The Instagram version is theirs to take away, and the page offers it, not the original.
    rendition = librarian_client.get(photo.rendition_url + "&download=1")
    assert rendition["Content-Disposition"] == 'attachment; filename="Bokbad-instagram.jpg"'
    page = librarian_client.get(photo.get_absolute_url()).text
    assert "Download the Instagram version" in page
    assert "Download the original" not in page


def test_nobody_downloads_an_asset_whose_person_withdrew_consent_but_it_still_shows_on_its_page(
    world: World, photo: Asset, editor_client: Client
) -> None:
    person = show_person(photo, name="Kari", category=AssetPerson.Category.PATRON, consent=False)
    consent = Consent.objects.create(
        person=person.person, given_at=timezone.localdate(), evidence_note="Skjema i arkivet"
    )
    asset_services.withdraw_consent(by=world.editor, consent=consent)
    for which in ("original", "rendition"):
        response = editor_client.get(photo.file_url(which) + "&download=1", follow=True)
        assert response.redirect_chain[-1][0] == photo.get_absolute_url()
        assert "cannot be downloaded: someone shown has withdrawn their consent" in response.text
        assert "Download the original" not in response.text
    # Still seen (to sort the consent out), only not handed out.
    assert editor_client.get(photo.rendition_url).status_code == 200


def test_another_countys_files_are_404_and_logged_out_people_log_in(photo: Asset, outsider_client: Client) -> None:
    assert outsider_client.get(photo.thumbnail_url).status_code == 404
    response = Client().get(photo.thumbnail_url)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_unknown_or_missing_files_are_404(photo: Asset, editor_client: Client) -> None:
    assert editor_client.get(reverse("production:asset_file", args=[photo.pk, "info"])).status_code == 404
    assert editor_client.get(reverse("production:asset_file", args=[photo.pk, "poster"])).status_code == 404
    assert editor_client.get(reverse("production:asset_file", args=[photo.pk + 1000, "original"])).status_code == 404


def test_video_answers_range_requests(video: Asset, editor_client: Client) -> None:
    data = stored(video.original)
    size = len(data)
    part = editor_client.get(video.original_url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 0-99/{size}"
    assert part["Content-Length"] == "100"
    assert body(part) == data[:100]
    tail = editor_client.get(video.original_url, headers={"Range": "bytes=-10"})
    assert (tail.status_code, body(tail)) == (206, data[-10:])
    rest = editor_client.get(video.original_url, headers={"Range": f"bytes={size - 5}-"})
    assert body(rest) == data[-5:]
    beyond = editor_client.get(video.original_url, headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416
    assert beyond["Content-Range"] == f"bytes */{size}"
    several = editor_client.get(video.original_url, headers={"Range": "bytes=0-1,5-6"})
    assert (several.status_code, len(body(several))) == (200, size)
    head = editor_client.head(video.original_url)
    assert (head.status_code, head["Content-Length"], head.content) == (200, str(size), b"")


def test_behind_nginx_django_checks_and_nginx_sends_the_bytes(photo: Asset, editor_client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    response = editor_client.get(photo.thumbnail_url)
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected-media/{photo.thumbnail.name}"
    assert response["Content-Type"] == "image/webp"
    assert response.content == b""


def test_consent_evidence_is_for_those_who_may_change_the_asset(
    world: World, photo: Asset, editor_client: Client
) -> None:
    person = show_person(photo, name="Ola (8)", category=AssetPerson.Category.CHILD, consent=False)
    consent = asset_services.record_consent(
        by=world.editor,
        person=person,
        covers_publishing=True,
        covers_archive_reuse=True,
        given_at=timezone.localdate(),
        valid_until=None,
        person_is_minor=True,
        given_by="Kari Nordmann",
        evidence=ContentFile(b"%PDF-1.4\n% signert skjema\n", name="skjema.pdf"),
    )
    url = reverse("production:consent_evidence", args=[consent.pk])
    response = editor_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="consent-{consent.pk}.pdf"'
    assert response["Cache-Control"] == "private, no-store"
    assert "skjema" not in consent.evidence.name  # stored under an unguessable name
    # The photo belongs to Sandnes: Sola's librarian sees the photo but not the signed form.
    assert client_for(world.other_librarian).get(url).status_code == 403
    assert client_for(world.librarian).get(url).status_code == 200
    assert client_for(world.outsider).get(url).status_code == 404


# --- The signed address for Instagram ---


def test_public_url_is_absolute_ascii_and_serves_the_rendition_without_login(photo: Asset, settings) -> None:  # type: ignore[no-untyped-def]
    url = signed_urls.public_rendition_url(photo)
    assert url.startswith(settings.PUBLIC_BASE_URL + "/public/media/")
    assert url.endswith(".jpg")
    assert url.isascii()
    response = Client().get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "no-store"
    assert body(response) == stored(photo.rendition)


def test_a_signed_url_stops_working_after_it_expires(photo: Asset) -> None:
    def url_signed(seconds_ago: int) -> str:
        token = signed_urls.rendition_token(photo, expires_in=60, signed_at=time.time() - seconds_ago)
        return reverse("production:public_rendition", kwargs={"token": token, "extension": "jpg"})

    assert Client().get(url_signed(30)).status_code == 200
    expired = Client().get(url_signed(61))
    assert expired.status_code == 410
    assert "expired" in expired.text


def test_a_forged_or_borrowed_signature_is_refused(world: World, idea: Idea, photo: Asset) -> None:
    token = signed_urls.rendition_token(photo)
    value, timestamp, signature = token.split(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    forged = reverse(
        "production:public_rendition", kwargs={"token": f"{value}.{timestamp}.{flipped}", "extension": "jpg"}
    )
    assert Client().get(forged).status_code == 403
    other = make_asset(idea, by=world.editor)
    borrowed = f"{other.uid.hex}-{value.split('-')[1]}.{timestamp}.{signature}"
    assert (
        Client().get(reverse("production:public_rendition", kwargs={"token": borrowed, "extension": "jpg"})).status_code
        == 403
    )
    longer = f"{photo.uid.hex}-604800.{timestamp}.{signature}"
    assert (
        Client().get(reverse("production:public_rendition", kwargs={"token": longer, "extension": "jpg"})).status_code
        == 403
    )
    wrong_kind = reverse("production:public_rendition", kwargs={"token": token, "extension": "mp4"})
    assert Client().get(wrong_kind).status_code == 404


def test_a_video_public_url_ends_in_mp4_and_answers_range_requests(video: Asset) -> None:
    url = signed_urls.public_rendition_url(video, expires_in=3600)
    assert url.endswith(".mp4")
    data = stored(video.rendition)  # the reel rendition, not the original
    response = Client().get(url, headers={"Range": "bytes=0-1023"})
    assert response.status_code == 206
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Range"] == f"bytes 0-1023/{len(data)}"
    assert body(response) == data[:1024]


def test_a_withdrawal_stops_an_address_already_handed_out(world: World, photo: Asset) -> None:
    url = signed_urls.public_rendition_url(photo)
    person = show_person(photo, name="Kari", category=AssetPerson.Category.STAFF, consent=False)
    consent = Consent.objects.create(
        person=person.person, given_at=timezone.localdate(), evidence_note="Skjema i arkivet"
    )
    assert Client().get(url).status_code == 200
    asset_services.withdraw_consent(by=world.editor, consent=consent)
    assert Client().get(url).status_code == 410


def test_only_a_ready_asset_has_a_public_url(world: World, idea: Idea) -> None:
    processing = make_asset(idea, by=world.editor, processed=False)
    with pytest.raises(ValueError, match="no rendition to publish"):
        signed_urls.public_rendition_url(processing)
    token = signed_urls.rendition_token(processing)
    assert (
        Client().get(reverse("production:public_rendition", kwargs={"token": token, "extension": "jpg"})).status_code
        == 404
    )


def test_an_international_domain_is_written_in_ascii(photo: Asset, settings) -> None:  # type: ignore[no-untyped-def]
    settings.PUBLIC_BASE_URL = "https://bibliotek.tromsø.no"
    url = signed_urls.public_rendition_url(photo)
    assert url.startswith("https://bibliotek.xn--troms-zua.no/public/media/")
    assert url.isascii()
