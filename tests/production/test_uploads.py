"""Uploads: the tus protocol (creation, resume, termination), refusals that leave nothing behind, and access."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from libraries.models import AuditEntry
from production import tasks
from production.models import Asset, Idea
from tests.conftest import World, client_for
from tests.factories.libraries import LibraryFactory, MembershipFactory, UserFactory
from tests.factories.media import (
    has_location_or_camera,
    html_renamed,
    jpeg_bytes,
    jpeg_scan,
    png_bomb,
    truncated_jpeg,
    video_bytes,
)
from tests.factories.production import IdeaFactory, RecordingDayFactory

pytestmark = pytest.mark.django_db

TUS = {"Tus-Resumable": "1.0.0"}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def create(client: Client, url: str, length: int, *, filename: str = "photo.jpg", filetype: str = "image/jpeg"):  # type: ignore[no-untyped-def]
    metadata = f"filename {b64(filename)},filetype {b64(filetype)}"
    return client.post(url, headers={**TUS, "Upload-Length": str(length), "Upload-Metadata": metadata})


def patch(client: Client, location: str, offset: int, chunk: bytes):  # type: ignore[no-untyped-def]
    return client.generic(
        "PATCH",
        location,
        data=chunk,
        content_type="application/offset+octet-stream",
        headers={**TUS, "Upload-Offset": str(offset)},
    )


def upload_whole(client: Client, url: str, data: bytes, *, filename: str = "photo.jpg", filetype: str = "image/jpeg"):  # type: ignore[no-untyped-def]
    created = create(client, url, len(data), filename=filename, filetype=filetype)
    if created.status_code != 201:
        return created
    return patch(client, created["Location"], 0, data)


def leftovers() -> list[str]:
    """What is left in the upload directory and under media (both must be empty after a refusal)."""
    found = []
    for root in (Path(settings.UPLOAD_TEMP_DIR), Path(settings.MEDIA_ROOT)):
        if root.exists():
            found += [str(path) for path in root.rglob("*") if path.is_file()]
    return found


@pytest.fixture
def idea(world: World) -> Idea:
    return IdeaFactory(library=world.library, status=Idea.Status.ACCEPTED)


@pytest.fixture
def upload_url(idea: Idea) -> str:
    return reverse("production:idea_upload_create", args=[idea.pk])


def test_options_tell_the_tus_version_extensions_and_largest_size(editor_client: Client, upload_url: str) -> None:
    response = editor_client.options(upload_url)
    assert response.status_code == 204
    assert response["Tus-Resumable"] == "1.0.0"
    assert response["Tus-Version"] == "1.0.0"
    assert set(response["Tus-Extension"].split(",")) == {"creation", "termination"}
    assert int(response["Tus-Max-Size"]) == 1024 * 1024 * 1024


def test_interrupted_upload_resumes_where_it_stopped_and_becomes_an_asset(
    world: World, idea: Idea, librarian_client: Client, upload_url: str, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the rendition task runs in this process after commit
    data = jpeg_bytes((1600, 1200))
    created = create(librarian_client, upload_url, len(data), filename="Lesesirkel.JPG")
    assert created.status_code == 201
    location = created["Location"]
    assert location.startswith("http://testserver/media/uploads/")

    first = len(data) * 2 // 5
    response = patch(librarian_client, location, 0, data[:first])
    assert response.status_code == 204
    assert response["Upload-Offset"] == str(first)
    assert not Asset.objects.exists()

    # The connection dropped; the browser asks how much arrived, then sends the rest.
    head = librarian_client.head(location, headers=TUS)
    assert head.status_code == 200
    assert head["Upload-Offset"] == str(first)
    assert head["Upload-Length"] == str(len(data))
    assert head["Cache-Control"] == "no-store"
    with django_capture_on_commit_callbacks(execute=True):
        response = patch(librarian_client, location, first, data[first:])
    assert response.status_code == 204
    assert response["Upload-Offset"] == str(len(data))

    asset = Asset.objects.get()
    assert response["Asset-Location"] == asset.get_absolute_url()
    # The row in the browser follows the file's state from here (production/views/assets.py).
    assert response["Asset-State-Location"] == reverse("production:asset_upload_state", args=[asset.pk])
    assert (asset.idea, asset.library, asset.county, asset.uploaded_by) == (
        idea,
        world.library,
        world.county,
        world.librarian,
    )
    assert (asset.kind, asset.mime_type, asset.original_name) == ("image", "image/jpeg", "Lesesirkel.JPG")
    assert asset.original.name.endswith("/original.jpg")
    with asset.original.open("rb") as stored:
        stored_bytes = stored.read()
    # Every byte of the picture arrived; only its location and camera details were taken out.
    assert jpeg_scan(stored_bytes) == jpeg_scan(data)
    assert has_location_or_camera(data)
    assert not has_location_or_camera(stored_bytes)
    asset.refresh_from_db()
    assert asset.status == Asset.Status.READY
    assert AuditEntry.objects.filter(action="asset.uploaded", object_id=str(asset.pk)).exists()
    assert not list(Path(settings.UPLOAD_TEMP_DIR).rglob("*.part"))
    # The browser that missed the last answer learns that the upload is complete.
    head = librarian_client.head(location, headers=TUS)
    assert head["Upload-Offset"] == str(len(data))


def test_the_last_chunk_sent_twice_makes_one_asset(editor_client: Client, upload_url: str) -> None:
    data = jpeg_bytes((640, 480))
    created = create(editor_client, upload_url, len(data))
    assert patch(editor_client, created["Location"], 0, data).status_code == 204
    # The answer was lost on the way, and the browser sends the last chunk again.
    again = patch(editor_client, created["Location"], 0, data)
    assert again.status_code == 204
    assert again["Upload-Offset"] == str(len(data))
    assert Asset.objects.count() == 1


def test_a_video_uploads_to_a_recording_day(world: World, editor_client: Client, tmp_path: Path) -> None:
    day = RecordingDayFactory(county=world.county, host_library=world.other_library)
    data = video_bytes(tmp_path)
    url = reverse("production:recording_day_upload_create", args=[day.pk])
    created = create(editor_client, url, len(data), filename="opptak.mp4", filetype="video/mp4")
    location = created["Location"]
    half = len(data) // 2
    assert patch(editor_client, location, 0, data[:half]).status_code == 204
    assert patch(editor_client, location, half, data[half:]).status_code == 204
    asset = Asset.objects.get()
    assert (asset.kind, asset.recording_day, asset.library) == ("video", day, world.other_library)
    assert asset.duration == pytest.approx(3.5, abs=0.2)


@pytest.mark.parametrize(
    ("make", "filename", "status", "message"),
    [
        (png_bomb, "bomb.png", 422, "megapixels"),
        (html_renamed, "photo.jpg", 422, "This file is not a photo or video we can use."),
        (truncated_jpeg, "half.jpg", 422, "This photo is damaged or incomplete"),
        (lambda: b"", "empty.jpg", 422, "The file is empty (0 bytes)."),
        (lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>', "logo.png", 422, "SVG"),
    ],
    ids=["png-decompression-bomb", "html-renamed-jpg", "truncated-jpeg", "zero-bytes", "svg"],
)
def test_refused_files_get_a_clear_message_and_leave_nothing_behind(
    editor_client: Client, upload_url: str, make, filename: str, status: int, message: str
) -> None:  # type: ignore[no-untyped-def]
    response = upload_whole(editor_client, upload_url, make(), filename=filename)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert response["Tus-Resumable"] == "1.0.0"
    assert not Asset.objects.exists()
    assert leftovers() == []


def test_refusals_are_translated(editor_client: Client, upload_url: str) -> None:
    response = upload_whole(editor_client, upload_url, truncated_jpeg(), filename="halv.jpg")
    editor_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nb"
    nb = upload_whole(editor_client, upload_url, truncated_jpeg(), filename="halv.jpg")
    assert response.json()["code"] == nb.json()["code"] == "corrupt"
    assert nb.json()["error"] != response.json()["error"]


@pytest.mark.parametrize(
    ("length", "filename", "filetype", "message"),
    [
        (2 * 1024**3, "film.mp4", "video/mp4", "videos can be at most 1.0"),
        (60 * 1024**2, "bilde.jpg", "image/jpeg", "photos can be at most 50.0"),
        (2 * 1024**3, "noe.bin", "", "photos can be at most 50.0"),
    ],
)
def test_an_upload_length_over_the_limit_is_refused_before_any_byte(
    editor_client: Client, upload_url: str, length: int, filename: str, filetype: str, message: str
) -> None:
    response = create(editor_client, upload_url, length, filename=filename, filetype=filetype)
    assert response.status_code == 413
    assert message in response.json()["error"]
    assert leftovers() == []


def test_a_photo_over_the_photo_limit_is_refused_by_its_first_bytes_whatever_its_name(
    editor_client: Client, upload_url: str, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.UPLOAD_IMAGE_MAX_BYTES = 20_000
    data = jpeg_bytes((1600, 1200))
    assert len(data) > 20_000
    created = create(editor_client, upload_url, len(data), filename="clip.mp4", filetype="video/mp4")
    assert created.status_code == 201
    response = patch(editor_client, created["Location"], 0, data[:4096])
    assert response.status_code == 413
    assert "photos can be at most" in response.json()["error"]
    assert leftovers() == []
    assert editor_client.head(created["Location"], headers=TUS).status_code == 404


def test_protocol_mistakes_are_answered_as_tus_says(editor_client: Client, upload_url: str) -> None:
    assert editor_client.post(upload_url, headers={"Upload-Length": "10"}).status_code == 412
    assert editor_client.post(upload_url, headers=TUS).status_code == 400  # no Upload-Length
    assert (
        editor_client.post(upload_url, headers={**TUS, "Upload-Length": "10", "Upload-Defer-Length": "1"}).status_code
        == 400
    )
    data = jpeg_bytes((640, 480))
    location = create(editor_client, upload_url, len(data))["Location"]
    assert patch(editor_client, location, 0, data[:2000]).status_code == 204
    conflict = patch(editor_client, location, 1000, data[1000:3000])
    assert conflict.status_code == 409
    assert conflict["Upload-Offset"] == "2000"
    wrong_type = editor_client.generic(
        "PATCH",
        location,
        data=data[2000:],
        content_type="application/octet-stream",
        headers={**TUS, "Upload-Offset": "2000"},
    )
    assert wrong_type.status_code == 415
    past_end = patch(editor_client, location, 2000, data[2000:] + b"more")
    assert past_end.status_code == 400
    assert editor_client.head(location, headers=TUS)["Upload-Offset"] == "2000"


# Digits of other scripts: str.isdigit() takes them all, int() the Arabic-Indic and full-width ones
# but not the superscripts (which made a 500); only ASCII 0-9 are a byte count in tus.
NOT_ASCII_DIGITS = [
    "\u0661\u0662\u0663",
    "\uff11\uff12",
    "\u00b2",
    "1\u00b3",
    "\u09e7\u09e8",
    "12\n",
    " 12",
    "-1",
    "1e3",
    "9" * 5000,
]


@pytest.mark.parametrize("value", NOT_ASCII_DIGITS)
def test_upload_length_in_anything_but_ascii_digits_is_refused_with_a_message(
    editor_client: Client, upload_url: str, value: str
) -> None:
    response = editor_client.post(upload_url, headers={**TUS, "Upload-Length": value})
    assert response.status_code == 400
    assert response.json()["code"] == "bad_length"
    assert "digits 0-9" in response.json()["error"]
    assert leftovers() == []


@pytest.mark.parametrize("value", NOT_ASCII_DIGITS)
def test_upload_offset_in_anything_but_ascii_digits_is_refused_and_keeps_what_arrived(
    editor_client: Client, upload_url: str, value: str
) -> None:
    data = jpeg_bytes((640, 480))
    location = create(editor_client, upload_url, len(data))["Location"]
    assert patch(editor_client, location, 0, data[:2000]).status_code == 204
    response = editor_client.generic(
        "PATCH",
        location,
        data=data[2000:],
        content_type="application/offset+octet-stream",
        headers={**TUS, "Upload-Offset": value},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_offset"
    assert "digits 0-9" in response.json()["error"]
    assert editor_client.head(location, headers=TUS)["Upload-Offset"] == "2000"


def test_a_removed_members_unfinished_uploads_are_deleted_at_once(
    world: World, idea: Idea, coordinator_client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    data = jpeg_bytes((640, 480))
    librarian = client_for(world.librarian)
    theirs = create(librarian, reverse("production:idea_upload_create", args=[idea.pk]), len(data))["Location"]
    assert patch(librarian, theirs, 0, data[:3000]).status_code == 204
    # The editor's upload to the same idea is not theirs and stays.
    editor = client_for(world.editor)
    kept = create(editor, reverse("production:idea_upload_create", args=[idea.pk]), len(data))["Location"]
    assert patch(editor, kept, 0, data[:3000]).status_code == 204
    membership = world.librarian.memberships.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(reverse("libraries:membership_remove", args=[membership.pk]))

    assert response.status_code == 302
    assert [Path(path).parent.name for path in leftovers()] == [str(world.editor.pk)] * 2  # .part and .json
    assert editor.head(kept, headers=TUS)["Upload-Offset"] == "3000"


def test_a_member_removed_from_one_library_keeps_the_uploads_another_membership_allows(
    world: World, idea: Idea, coordinator_client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    MembershipFactory(user=world.librarian, library=world.other_library, role="librarian")
    other_idea = IdeaFactory(library=world.other_library, status=Idea.Status.ACCEPTED)
    data = jpeg_bytes((640, 480))
    librarian = client_for(world.librarian)
    to_sandnes = create(librarian, reverse("production:idea_upload_create", args=[idea.pk]), len(data))["Location"]
    to_sola = create(librarian, reverse("production:idea_upload_create", args=[other_idea.pk]), len(data))["Location"]
    for location in (to_sandnes, to_sola):
        assert patch(librarian, location, 0, data[:3000]).status_code == 204

    with django_capture_on_commit_callbacks(execute=True):
        coordinator_client.post(
            reverse("libraries:membership_remove", args=[world.librarian.memberships.get(library=world.library).pk])
        )

    assert librarian.head(to_sandnes, headers=TUS).status_code == 404
    assert librarian.head(to_sola, headers=TUS)["Upload-Offset"] == "3000"
    assert patch(librarian, to_sola, 3000, data[3000:]).status_code == 204
    assert Asset.objects.get().idea == other_idea


def test_terminating_an_upload_deletes_what_arrived(editor_client: Client, upload_url: str) -> None:
    data = jpeg_bytes((640, 480))
    location = create(editor_client, upload_url, len(data))["Location"]
    patch(editor_client, location, 0, data[:3000])
    assert editor_client.delete(location, headers=TUS).status_code == 204
    assert editor_client.head(location, headers=TUS).status_code == 404
    assert leftovers() == []


def test_nobody_else_sees_or_continues_someone_elses_upload(
    world: World, editor_client: Client, upload_url: str
) -> None:
    data = jpeg_bytes((640, 480))
    location = create(editor_client, upload_url, len(data))["Location"]
    colleague = UserFactory()
    MembershipFactory(user=colleague, library=world.library)
    other = client_for(colleague)
    assert other.head(location, headers=TUS).status_code == 404
    assert patch(other, location, 0, data).status_code == 404
    assert other.delete(location, headers=TUS).status_code == 404
    assert editor_client.head(location, headers=TUS)["Upload-Offset"] == "0"


def test_librarian_uploads_to_their_own_librarys_idea_only(world: World, librarian_client: Client) -> None:
    own = IdeaFactory(library=world.library)
    others = IdeaFactory(library=world.other_library)
    other_county = IdeaFactory(library=world.other_county_library)
    day = RecordingDayFactory(county=world.county, host_library=world.library)
    assert create(librarian_client, reverse("production:idea_upload_create", args=[own.pk]), 1000).status_code == 201
    refused = create(librarian_client, reverse("production:idea_upload_create", args=[others.pk]), 1000)
    assert refused.status_code == 403
    assert "their own library" in refused.json()["error"]
    assert (
        create(librarian_client, reverse("production:idea_upload_create", args=[other_county.pk]), 1000).status_code
        == 404
    )
    assert (
        create(librarian_client, reverse("production:recording_day_upload_create", args=[day.pk]), 1000).status_code
        == 403
    )


def test_editor_uploads_to_any_idea_in_the_county_but_not_another_countys(world: World, editor_client: Client) -> None:
    assert (
        create(
            editor_client,
            reverse("production:idea_upload_create", args=[IdeaFactory(library=world.other_library).pk]),
            10,
        ).status_code
        == 201
    )
    elsewhere = IdeaFactory(library=LibraryFactory(county=world.other_county))
    assert create(editor_client, reverse("production:idea_upload_create", args=[elsewhere.pk]), 10).status_code == 404


def test_logged_out_uploads_are_refused_with_a_message(upload_url: str) -> None:
    response = create(Client(), upload_url, 1000)
    assert response.status_code == 403
    assert "logged out" in response.json()["error"]


def test_plain_form_adds_the_good_files_and_names_the_refused_ones(
    world: World, idea: Idea, librarian_client: Client
) -> None:
    response = librarian_client.post(
        reverse("production:idea_upload_form", args=[idea.pk]),
        {
            "uploads": [
                SimpleUploadedFile("god.jpg", jpeg_bytes((640, 480)), content_type="image/jpeg"),
                SimpleUploadedFile("side.jpg", html_renamed(), content_type="image/jpeg"),
            ]
        },
        follow=True,
    )
    assert response.status_code == 200
    page = response.text
    assert "1 file was uploaded" in page
    assert "side.jpg: This file is not a photo or video we can use." in page
    assert list(Asset.objects.values_list("original_name", flat=True)) == ["god.jpg"]


def test_abandoned_uploads_are_cleaned_and_recent_ones_kept(editor_client: Client, upload_url: str) -> None:
    data = jpeg_bytes((640, 480))
    old = create(editor_client, upload_url, len(data))["Location"]
    patch(editor_client, old, 0, data[:1000])
    recent = create(editor_client, upload_url, len(data))["Location"]
    two_days_ago = time.time() - 48 * 3600
    for path in Path(settings.UPLOAD_TEMP_DIR).rglob(f"{old.rstrip('/').rsplit('/', 1)[-1]}.*"):
        os.utime(path, (two_days_ago, two_days_ago))
    assert tasks.clean_abandoned_uploads() == 1
    assert tasks.clean_abandoned_uploads() == 0  # run again: nothing more to do
    assert editor_client.head(old, headers=TUS).status_code == 404
    assert editor_client.head(recent, headers=TUS).status_code == 200


def test_metadata_is_parsed_as_tus_writes_it() -> None:
    from production.views.uploads import parse_metadata

    assert parse_metadata(f"filename {b64('bok.jpg')},is_confidential, filetype {b64('image/jpeg')}") == {
        "filename": "bok.jpg",
        "is_confidential": "",
        "filetype": "image/jpeg",
    }
    with pytest.raises(ValueError, match="Bad metadata"):
        parse_metadata("filename not-base64!")


def test_upload_description_on_disk_names_no_more_than_it_needs(editor_client: Client, upload_url: str) -> None:
    location = create(editor_client, upload_url, 1234, filename="../../etc/passwd")["Location"]
    upload_id = location.rstrip("/").rsplit("/", 1)[-1]
    (info_path,) = Path(settings.UPLOAD_TEMP_DIR).rglob(f"{upload_id}.json")
    description = json.loads(info_path.read_text())
    assert description["filename"] == "passwd"
    assert description["length"] == 1234


def test_an_upload_whose_finishing_request_died_is_finished_when_the_browser_asks(
    world: World, idea: Idea, librarian_client: Client, upload_url: str
) -> None:
    data = jpeg_bytes((640, 480))
    location = create(librarian_client, upload_url, len(data))["Location"]
    upload_id = location.rstrip("/").rsplit("/", 1)[-1]
    # Every byte was written, then the worker was killed before the file became an asset.
    (part,) = Path(settings.UPLOAD_TEMP_DIR).rglob(f"{upload_id}.part")
    part.write_bytes(data)
    head = librarian_client.head(location, headers=TUS)
    assert head.status_code == 200
    assert head["Upload-Offset"] == str(len(data))
    asset = Asset.objects.get()
    assert (asset.idea, asset.uploaded_by) == (idea, world.librarian)
    assert librarian_client.head(location, headers=TUS)["Upload-Offset"] == str(len(data))
    assert Asset.objects.count() == 1


def test_chunks_are_streamed_to_disk_not_read_into_memory(editor_client: Client, upload_url: str, settings) -> None:  # type: ignore[no-untyped-def]
    # Django refuses request.body above this size; a chunk far bigger still goes through,
    # because the view reads the body piece by piece and nothing before it reads it whole.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    data = jpeg_bytes((1600, 1200))
    assert len(data) > 20 * 1024
    response = upload_whole(editor_client, upload_url, data)
    assert response.status_code == 204
    assert Asset.objects.count() == 1


# --- Uploading from the compose form: to the idea chosen, else to the county ---


def test_an_editor_uploads_to_the_county_when_no_idea_is_chosen_and_librarians_cannot(
    world: World, editor_client: Client, librarian_client: Client
) -> None:
    url = reverse("production:county_upload_create")
    refused = create(librarian_client, url, 100)
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"

    response = upload_whole(editor_client, url, jpeg_bytes((1080, 1350)), filename="Lesekrok.jpg")

    assert response.status_code == 204
    asset = Asset.objects.get()
    assert (asset.county, asset.library, asset.idea, asset.recording_day) == (
        world.county,
        world.county_library,
        None,
        None,
    )
    assert response["Asset-Location"] == asset.get_absolute_url()
    assert AuditEntry.objects.filter(action="asset.uploaded", object_id=str(asset.pk), actor=world.editor).exists()


def test_the_compose_form_offers_the_upload_filed_to_the_chosen_idea_or_the_county(
    world: World, idea: Idea, editor_client: Client
) -> None:
    county_url = reverse("production:county_upload_create")
    idea_url = reverse("production:idea_upload_create", args=[idea.pk])
    blank = editor_client.get("/posts/new/")
    assert blank.context["upload"]["endpoint"] == county_url
    assert f'data-endpoint="{county_url}"' in blank.content.decode()
    chosen = editor_client.get(f"/posts/new/?idea={idea.pk}")
    assert chosen.context["upload"]["endpoint"] == idea_url
    assert chosen.context["upload"]["default_endpoint"] == county_url
    page = chosen.content.decode()
    assert f"They are filed to “{idea.title}”" in page

    # The upload finished: the form is drawn again as the editor left it, the new media among the choices.
    upload_whole(editor_client, idea_url, jpeg_bytes((1080, 1080)), filename="Ny.jpg")
    asset = Asset.objects.get()
    redrawn = editor_client.post(
        "/posts/new/", {"redraw_media": "1", "title": "Halvferdig", "idea": idea.pk, "media_kind": "image"}
    )
    assert redrawn.status_code == 200
    assert redrawn.context["fill"] is None
    assert redrawn.context["form"].initial["title"] == "Halvferdig"
    assert asset in [row[1] for row in redrawn.context["asset_rows"]]
    assert not Asset.objects.exclude(pk=asset.pk).exists()
