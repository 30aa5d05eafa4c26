"""Location and personal metadata leave the original at upload, losslessly, unless the county keeps them (issue 12).

Phone-like files carrying a GPS position, the camera's make, model and serial
numbers, XMP, IPTC and comments go through the real uploads (the tus
endpoint, the plain form); the stored original has none of it, and the
picture (the JPEG's coded scans, the PNG's pixels, the HEIC's pixels, the
video's packets and frames) is what was uploaded, orientation and rotation
included. With the county's setting on, the bytes are the upload's.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import av
import pillow_heif
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from libraries.models import AuditEntry, County
from production.models import Asset, Idea
from production.processing import metadata
from production.processing.files import MediaFormat
from production.processing.inspection import inspect_upload
from production.processing.video import probe_video
from production.services import media as asset_services
from tests.conftest import World, client_for
from tests.factories.media import jpeg_scan, make_asset
from tests.factories.production import IdeaFactory
from tests.production.test_uploads import upload_whole

pytestmark = pytest.mark.django_db

# What the phone put in the files; none of it may be found in a stored original.
SECRETS = (
    b"Testcam",
    b"Pixel 9 Pro",
    b"SN-4711",
    b"LENS-0815",
    b"Kari Nordmann",
    b"UNIQUE-ID-42",
    b"MakerNoteData",
    b"Stavanger",
    b"hemmelig kommentar",
    b"rdf:RDF",
    b"+58.9700+005.7331",
    b"ISO6709",
)
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def found_secrets(data: bytes) -> list[bytes]:
    return [secret for secret in SECRETS if secret in data]


def phone_exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Testcam"
    exif[ExifTags.Base.Model] = "Pixel 9 Pro"
    exif[ExifTags.Base.Artist] = "Kari Nordmann"
    exif[ExifTags.Base.DateTime] = "2026:03:14 10:15:00"
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.DateTimeOriginal] = "2026:03:14 10:15:00"
    details[ExifTags.Base.ColorSpace] = 1
    details[ExifTags.Base.BodySerialNumber] = "SN-4711"
    details[ExifTags.Base.LensSerialNumber] = "LENS-0815"
    details[ExifTags.Base.CameraOwnerName] = "Kari Nordmann"
    details[ExifTags.Base.ImageUniqueID] = "UNIQUE-ID-42"
    details[ExifTags.Base.MakerNote] = b"MakerNoteData" * 4
    details[ExifTags.Base.UserComment] = b"ASCII\0\0\0hemmelig kommentar"
    location = exif.get_ifd(ExifTags.IFD.GPSInfo)
    location[ExifTags.GPS.GPSLatitudeRef], location[ExifTags.GPS.GPSLatitude] = "N", (58.0, 58.0, 12.0)
    location[ExifTags.GPS.GPSLongitudeRef], location[ExifTags.GPS.GPSLongitude] = "E", (5.0, 43.0, 59.0)
    return exif


XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:City="Stavanger"/>'
    b"</rdf:RDF></x:xmpmeta>"
)


def segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(body) + 2).to_bytes(2, "big") + body


def picture(size: tuple[int, int] = (640, 480)) -> Image.Image:
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    image.paste((40, 40, 200), (size[0] // 2, 0, size[0], size[1] // 3))
    return image


def phone_jpeg(*, trailer: bool = True) -> bytes:
    """A camera JPEG with everything a phone or an editor leaves in it, and a motion-photo video after it."""
    buffer = io.BytesIO()
    picture().save(
        buffer, "JPEG", quality=90, exif=phone_exif(), icc_profile=SRGB, xmp=XMP, comment=b"hemmelig kommentar"
    )
    data = buffer.getvalue()
    iptc = b"Photoshop 3.0\0" + b"8BIM\x04\x04\0\0" + struct.pack(">I", 14) + b"\x1c\x02\x5a\x00\x09Stavanger\0"
    extended = b"http://ns.adobe.com/xmp/extension/\0" + b"0" * 32 + struct.pack(">II", len(XMP), 0) + XMP
    data = data[:2] + segment(0xED, iptc) + segment(0xE1, extended) + data[2:]
    return data + (b"MotionPhoto_Data" + b"\0\0\0\x18ftypmp42" + b"+58.9700+005.7331/" if trailer else b"")


def phone_png() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    info.add_text("Comment", "hemmelig kommentar")
    info.add_text("Author", "Kari Nordmann", zip=True)
    buffer = io.BytesIO()
    image = picture((300, 200)).convert("RGBA")
    image.save(buffer, "PNG", pnginfo=info, exif=phone_exif(6).tobytes())
    return buffer.getvalue()


def png_chunks(data: bytes) -> list[tuple[bytes, bytes, int]]:
    """(type, data, stored CRC) of every chunk."""
    chunks, pos = [], 8
    while pos < len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        chunks.append((kind, data[pos + 8 : pos + 8 + length], struct.unpack_from(">I", data, pos + 8 + length)[0]))
        pos += 12 + length
    return chunks


def phone_video(path: Path, media_format: MediaFormat) -> Path:
    """A short rotated clip with sound, a location, Apple's camera keys and an XMP box, as phones write them."""
    tags = {"location": "+58.9700+005.7331/"}
    options = {}
    if media_format == "mov":
        tags |= {
            "com.apple.quicktime.location.ISO6709": "+58.9700+005.7331+012.000/",
            "com.apple.quicktime.make": "Testcam",
            "com.apple.quicktime.model": "Pixel 9 Pro",
        }
        options = {"movflags": "use_metadata_tags"}
    with av.open(str(path), "w", format=media_format, options=options) as container:
        container.metadata.update(tags)
        video = container.add_stream("libx264", rate=30)
        video.width, video.height, video.pix_fmt = 160, 96, "yuv420p"
        video.set_display_rotation(90)
        sound = container.add_stream("aac", rate=44100, layout="mono")
        for index in range(20):
            frame = av.VideoFrame.from_image(Image.new("RGB", (160, 96), (index * 12, 90, 40)))
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        for index in range(10):
            samples = av.AudioFrame(format="fltp", layout="mono", samples=1024)
            samples.planes[0].update(bytes(4 * 1024))
            samples.sample_rate, samples.pts = 44100, index * 1024
            for packet in sound.encode(samples):
                container.mux(packet)
        for packet in sound.encode():
            container.mux(packet)
    # Adobe's XMP as a top-level uuid box (after the index, which FFmpeg writes last).
    xmp_box = b"uuid" + bytes.fromhex("be7acfcb97a942e89c71999491e3afac") + XMP
    with path.open("ab") as file:
        file.write(struct.pack(">I", 4 + len(xmp_box)) + xmp_box)
    return path


def packets_and_frames(data: bytes) -> tuple[list[bytes], list[bytes]]:
    with av.open(io.BytesIO(data), format="mov") as container:
        packets = [bytes(packet) for packet in container.demux() if packet.size]
    with av.open(io.BytesIO(data), format="mov") as container:
        frames = [b"".join(bytes(plane) for plane in frame.planes) for frame in container.decode(video=0)]
    return packets, frames


def container_tags(data: bytes) -> dict[str, str]:
    with av.open(io.BytesIO(data), format="mov") as container:
        tags = dict(container.metadata)
        for stream in container.streams:
            tags |= dict(stream.metadata)
        return tags


def heic_with_metadata() -> bytes:
    buffer = io.BytesIO()
    image = picture((320, 240))
    pillow_heif.from_pillow(image).save(buffer, quality=90, exif=phone_exif(1).tobytes(), xmp=XMP)
    return buffer.getvalue()


def stored(asset: Asset) -> bytes:
    with asset.original.open("rb") as file:
        return file.read()


def pixels(data: bytes, frame: int = 0) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        image.seek(frame)
        return image.convert("RGBA").tobytes()


@pytest.fixture
def idea(world: World) -> Idea:
    return IdeaFactory(library=world.library, status=Idea.Status.ACCEPTED)


@pytest.fixture
def upload_url(idea: Idea) -> str:
    return reverse("production:idea_upload_create", args=[idea.pk])


# --- Through the resumable upload ---


def test_location_camera_serials_xmp_iptc_and_comments_leave_a_jpeg_whose_picture_stays_byte_identical(
    librarian_client: Client, upload_url: str, editor_client: Client
) -> None:
    data = phone_jpeg()
    assert len(found_secrets(data)) >= 10

    response = upload_whole(librarian_client, upload_url, data, filename="IMG_0001.JPG")

    assert response.status_code == 204, response.content
    asset = Asset.objects.get()
    original = stored(asset)
    assert found_secrets(original) == []
    assert b"MotionPhoto_Data" not in original
    # The coded picture is the upload's, up to its end marker; the motion photo's video after it is gone.
    assert jpeg_scan(data).startswith(jpeg_scan(original))
    assert original.endswith(b"\xff\xd9")
    assert pixels(original) == pixels(data)
    with Image.open(io.BytesIO(original)) as image:
        exif = image.getexif()
        assert exif[ExifTags.Base.Orientation] == 6  # still shown upright
        assert exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] == "2026:03:14 10:15:00"
        assert exif.get_ifd(ExifTags.IFD.GPSInfo) == {}
        assert ExifTags.Base.Make not in exif
        assert image.info["icc_profile"] == SRGB  # the colours stay as they were
        assert "xmp" not in image.info
        assert "comment" not in image.info
    assert (asset.file_size, asset.width, asset.height) == (len(original), 480, 640)
    assert asset.info["metadata_removed"] == ["location", "camera", "xmp", "iptc", "comments", "other"]

    page = editor_client.get(asset.get_absolute_url())
    assert "Removed from the original when it was uploaded: the location (GPS), camera details" in page.text
    assert "will be removed" not in page.text


def test_the_picture_bytes_of_a_jpeg_are_copied_exactly(librarian_client: Client, upload_url: str) -> None:
    data = phone_jpeg(trailer=False)

    upload_whole(librarian_client, upload_url, data)

    original = stored(Asset.objects.get())
    # From the first scan to the end marker: every byte of the coded picture is the upload's.
    assert jpeg_scan(original) == jpeg_scan(data)
    assert len(original) < len(data)


def test_a_png_keeps_only_the_chunks_that_draw_it_with_its_orientation_and_valid_checksums(
    librarian_client: Client, upload_url: str
) -> None:
    data = phone_png()
    assert {b"eXIf", b"iTXt", b"tEXt", b"zTXt"} <= {kind for kind, _data, _crc in png_chunks(data)}

    response = upload_whole(librarian_client, upload_url, data, filename="skjerm.png", filetype="image/png")

    assert response.status_code == 204, response.content
    asset = Asset.objects.get()
    original = stored(asset)
    assert found_secrets(original) == []
    chunks = png_chunks(original)
    assert [kind for kind, _data, _crc in chunks] == [b"IHDR", b"eXIf", b"IDAT", b"IEND"]
    assert all(zlib.crc32(kind + body) == crc for kind, body, crc in chunks)
    assert pixels(original) == pixels(data)
    with Image.open(io.BytesIO(original)) as image:
        image.verify()
    with Image.open(io.BytesIO(original)) as image:
        assert image.getexif()[ExifTags.Base.Orientation] == 6
    assert asset.info["metadata_removed"] == ["location", "camera", "xmp", "comments"]


@pytest.mark.parametrize(("media_format", "name"), [("mov", "IMG_0002.MOV"), ("mp4", "VID_0002.mp4")])
def test_a_phone_video_loses_its_location_and_camera_boxes_in_place_and_plays_the_same(
    media_format: MediaFormat, name: str, librarian_client: Client, upload_url: str, tmp_path: Path
) -> None:
    data = phone_video(tmp_path / name, media_format).read_bytes()
    assert "location" in container_tags(data)
    assert b"\xa9xyz" in data or b"loci" in data  # QuickTime's text position, or 3GPP's binary one

    response = upload_whole(librarian_client, upload_url, data, filename=name, filetype="video/quicktime")

    assert response.status_code == 204, response.content
    asset = Asset.objects.get()
    original = stored(asset)
    assert found_secrets(original) == []
    assert b"\xa9xyz" not in original
    assert b"loci" not in original
    assert not {"location", "location-eng", "make", "model"} & set(container_tags(original))
    assert not any(key.startswith("com.apple.quicktime") for key in container_tags(original))
    assert len(original) == len(data)  # blanked where it lay: every offset in the index still points right
    assert packets_and_frames(original) == packets_and_frames(data)
    assert (asset.info["rotation"], asset.width, asset.height) == (90, 96, 160)
    assert probe_video(io.BytesIO(original)).rotation == 90  # the track header's matrix stays
    expected = ["location", "camera", "xmp"] if media_format == "mov" else ["location", "xmp"]
    assert asset.info["metadata_removed"] == expected


def test_with_the_county_keeping_them_originals_are_stored_byte_for_byte(
    world: World, coordinator_client: Client, librarian_client: Client, upload_url: str, tmp_path: Path
) -> None:
    response = coordinator_client.post(
        reverse("libraries:county_settings"), {"country": "NO", "keep_original_metadata": "on"}
    )
    assert response.status_code == 302
    photo, video = phone_jpeg(), phone_video(tmp_path / "clip.mov", "mov").read_bytes()

    upload_whole(librarian_client, upload_url, photo)
    upload_whole(librarian_client, upload_url, video, filename="clip.mov", filetype="video/quicktime")

    first, second = Asset.objects.order_by("pk")
    assert (stored(first), stored(second)) == (photo, video)
    asset_services.process_asset(asset_id=first.pk)
    assert first.info["metadata_kept"]
    assert first.info["metadata_removed"] is None
    page = client_for(world.editor).get(first.get_absolute_url())
    assert "Your county keeps location and camera details in originals" in page.text
    # The Instagram version never carries them; the check says so.
    assert "The Instagram version leaves out the location (GPS) that the original keeps." in page.text


@pytest.mark.parametrize("in_memory", [True, False], ids=["in-memory", "temporary-file"])
def test_the_plain_upload_form_removes_them_too(
    in_memory: bool, idea: Idea, librarian_client: Client, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024 if in_memory else 0
    data = phone_jpeg()

    response = librarian_client.post(
        reverse("production:idea_upload_form", args=[idea.pk]),
        {"uploads": [SimpleUploadedFile("IMG_0003.JPG", data, content_type="image/jpeg")]},
    )

    assert response.status_code == 302
    original = stored(Asset.objects.get())
    assert found_secrets(original) == []
    assert pixels(original) == pixels(data)


# --- Other kinds of photo, through the same ingest ---


def test_a_heic_loses_its_gps_and_xmp_in_place_and_decodes_the_same(world: World, idea: Idea) -> None:
    data = heic_with_metadata()
    with Image.open(io.BytesIO(data)) as image:
        assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert image.info["xmp"]

    asset = make_asset(idea, by=world.editor, data=data, name="IMG_0004.HEIC")

    original = stored(asset)
    assert found_secrets(original) == []
    assert len(original) == len(data)
    assert pixels(original) == pixels(data)
    with Image.open(io.BytesIO(original)) as image:
        assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
        assert ExifTags.Base.Make not in image.getexif()
    assert asset.status == Asset.Status.READY
    assert asset.info["metadata_removed"] == ["location", "camera", "xmp", "comments"]


def test_a_multi_picture_jpeg_keeps_every_picture_linked_without_their_metadata(world: World, idea: Idea) -> None:
    buffer = io.BytesIO()
    left, right = picture((320, 240)), picture((320, 240)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    left.save(
        buffer, "MPO", save_all=True, append_images=[right], exif=phone_exif(1), xmp=XMP, comment=b"hemmelig kommentar"
    )
    data = buffer.getvalue()

    asset = make_asset(idea, by=world.editor, data=data, name="stereo.mpo")

    original = stored(asset)
    assert found_secrets(original) == []
    with Image.open(io.BytesIO(original)) as image:
        assert (image.format, image.n_frames) == ("MPO", 2)
        entries = image.mpinfo[0xB002]
        assert entries[0]["Size"] + entries[1]["Size"] == len(original)
    assert pixels(original, 0) == pixels(data, 0)
    assert pixels(original, 1) == pixels(data, 1)  # the second picture is found where the index says


# --- Hostile and damaged metadata: never a failed upload, never a 500 ---


def exif_jpeg(tiff: bytes) -> bytes:
    buffer = io.BytesIO()
    picture((64, 48)).save(buffer, "JPEG")
    data = buffer.getvalue()
    return data[:2] + segment(0xE1, b"Exif\0\0" + tiff) + data[2:]


def ifd(order: str, entries: list[tuple[int, int, int, bytes]], next_ifd: int = 0) -> bytes:
    rows = b"".join(
        struct.pack(order + "HHI", tag, kind, count) + value.ljust(4, b"\0") for tag, kind, count, value in entries
    )
    return struct.pack(order + "H", len(entries)) + rows + struct.pack(order + "I", next_ifd)


HOSTILE_EXIF = {
    # IFD0 claims 200 entries; the block ends after two.
    "truncated-directory": b"MM\0*" + struct.pack(">I", 8) + struct.pack(">H", 200) + b"\0" * 24,
    # The camera's name and the GPS directory point far outside the block.
    "offsets-outside": b"MM\0*"
    + struct.pack(">I", 8)
    + ifd(
        ">",
        [
            (0x010F, 2, 20, struct.pack(">I", 99_999)),
            (0x0112, 3, 1, b"\0\x06"),
            (0x8825, 4, 1, struct.pack(">I", 99_999)),
        ],
    ),
    # The first directory is beyond the end.
    "first-directory-outside": b"II*\0" + struct.pack("<I", 0xFFFF_FF00),
    # The Exif directory is IFD0 itself, and IFD0's next is IFD0: a loop.
    "loop": b"II*\0"
    + struct.pack("<I", 8)
    + ifd("<", [(0x0112, 3, 1, b"\x03\0"), (0x8769, 4, 1, struct.pack("<I", 8))], 8),
    "not-tiff": b"garbage" * 10,
}


@pytest.mark.parametrize("what", list(HOSTILE_EXIF))
@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")  # Pillow reads the damage at inspection
def test_damaged_exif_never_breaks_an_upload_and_what_cannot_be_read_goes_whole(
    what: str, librarian_client: Client, upload_url: str
) -> None:
    data = exif_jpeg(HOSTILE_EXIF[what])

    response = upload_whole(librarian_client, upload_url, data)

    assert response.status_code == 204, response.content
    original = stored(Asset.objects.get())
    assert jpeg_scan(original) == jpeg_scan(data)
    assert pixels(original) == pixels(data)
    with Image.open(io.BytesIO(original)) as image:
        exif = image.getexif()
        assert dict(exif) in ({}, {ExifTags.Base.Orientation: 3})  # only the loop's orientation could be read
        assert "exif" not in image.info or what == "loop"


def test_a_multi_picture_index_pointing_outside_the_file_drops_the_extra_pictures(world: World, idea: Idea) -> None:
    buffer = io.BytesIO()
    picture((64, 48)).save(
        buffer, "MPO", save_all=True, append_images=[picture((64, 48))], comment=b"hemmelig kommentar"
    )
    data = bytearray(buffer.getvalue())
    # The second MP entry's offset: past the end of the file.
    header = data.index(b"MPF\0") + 4
    order = "<" if data[header : header + 2] == b"II" else ">"
    (directory,) = struct.unpack_from(order + "I", data, header + 4)
    (count,) = struct.unpack_from(order + "H", data, header + directory)
    rows = [struct.unpack_from(order + "HHII", data, header + directory + 2 + 12 * index) for index in range(count)]
    entries = next(at for tag, _kind, _count, at in rows if tag == 0xB002)
    struct.pack_into(order + "I", data, header + entries + 16 + 8, 10**6)

    asset = make_asset(idea, by=world.editor, data=bytes(data), name="broken.mpo")

    original = stored(asset)
    assert b"MPF\0" not in original
    assert pixels(original) == pixels(bytes(data))
    assert asset.status == Asset.Status.READY


def test_a_video_box_running_past_its_parent_is_blanked_as_players_read_it(
    librarian_client: Client, upload_url: str, tmp_path: Path
) -> None:
    data = bytearray(phone_video(tmp_path / "clip.mov", "mov").read_bytes())
    moov = data.index(b"moov") - 4
    udta = data.index(b"udta", moov) - 4
    data[udta : udta + 4] = (2**31).to_bytes(4, "big")  # claims 2 GB inside a moov of a few KB

    response = upload_whole(librarian_client, upload_url, bytes(data), filename="clip.mov", filetype="video/quicktime")

    assert response.status_code == 204, response.content
    original = stored(Asset.objects.get())
    assert b"+58.9700+005.7331+012.000" not in original
    assert packets_and_frames(original) == packets_and_frames(bytes(data))


def test_cleaning_a_clean_file_again_changes_nothing(tmp_path: Path) -> None:
    files: list[tuple[str, MediaFormat, bytes]] = [
        ("a.jpg", "jpeg", phone_jpeg()),
        ("a.png", "png", phone_png()),
        ("a.heic", "heif", heic_with_metadata()),
        ("a.mov", "mov", phone_video(tmp_path / "v.mov", "mov").read_bytes()),
    ]
    for name, media_format, data in files:
        path = tmp_path / name
        path.write_bytes(data)
        assert metadata.remove_personal_metadata(path, media_format), name
        once = path.read_bytes()
        assert metadata.remove_personal_metadata(path, media_format) == [], name
        assert path.read_bytes() == once, name


# --- The county's setting ---


def test_only_the_coordinator_changes_the_setting_and_it_is_audited(world: World, coordinator_client: Client) -> None:
    url = reverse("libraries:county_settings")
    page = coordinator_client.get(url)
    assert "Keep location and camera details in originals" in page.text

    assert client_for(world.editor).post(url, {"country": "NO", "keep_original_metadata": "on"}).status_code == 403
    assert coordinator_client.post(url, {"country": "NO", "keep_original_metadata": "on"}).status_code == 302

    world.county.refresh_from_db()
    assert world.county.keep_original_metadata
    assert not County.objects.get(pk=world.other_county.pk).keep_original_metadata
    entry = AuditEntry.objects.get(action="county.settings_changed")
    assert (entry.actor, entry.data) == (world.coordinator, {"keep_original_metadata": True})


# --- Originals uploaded before this change ---


def as_uploaded_before(asset: Asset) -> None:
    """The row as it was before metadata was removed at upload: no word on it in the info."""
    info = {key: value for key, value in asset.info.items() if not key.startswith("metadata_")}
    Asset.objects.filter(pk=asset.pk).update(info=info)


def test_the_upgrade_command_cleans_existing_originals_once(
    world: World, idea: Idea, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    County.objects.filter(pk=world.county.pk).update(keep_original_metadata=True)
    world.county.refresh_from_db()
    photo = make_asset(idea, by=world.editor, data=phone_jpeg(), name="old.jpg")
    video = make_asset(
        idea, by=world.editor, data=phone_video(tmp_path / "old.mov", "mov").read_bytes(), name="old.mov"
    )
    as_uploaded_before(photo)
    as_uploaded_before(video)
    other_idea = IdeaFactory(library=world.other_county_library, status=Idea.Status.ACCEPTED)
    County.objects.filter(pk=world.other_county.pk).update(keep_original_metadata=True)
    world.other_county.refresh_from_db()
    kept = make_asset(other_idea, by=world.outsider, data=phone_jpeg(), name="kept.jpg")
    County.objects.filter(pk=world.county.pk).update(keep_original_metadata=False)
    old_photo_path = Path(photo.original.path)
    assert found_secrets(stored(photo))
    assert found_secrets(stored(video))
    output = io.StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("remove_original_metadata", stdout=output)

    assert "2 original(s) cleaned" in output.getvalue()
    photo.refresh_from_db()
    video.refresh_from_db()
    assert found_secrets(stored(photo)) == []
    assert found_secrets(stored(video)) == []
    assert photo.info["metadata_removed"][:2] == ["location", "camera"]
    assert photo.file_size == len(stored(photo))
    assert not old_photo_path.exists()  # the old copy is gone once the row points at the new one
    assert video.rendition.name != video.original.name  # a video's Instagram file is its own rendition
    assert stored(Asset.objects.get(pk=kept.pk)) == phone_jpeg()  # Agder keeps them
    assert AuditEntry.objects.filter(action="asset.metadata_removed").count() == 2
    state = [(asset.original.name, stored(asset)) for asset in (photo, video)]

    output = io.StringIO()
    call_command("remove_original_metadata", stdout=output)

    assert "0 original(s) cleaned, 0 had nothing to remove" in output.getvalue()
    assert [
        (asset.original.name, stored(asset))
        for asset in Asset.objects.filter(pk__in=[photo.pk, video.pk]).order_by("pk")
    ] == state


def test_a_file_held_in_memory_is_cleaned_on_a_copy_and_the_callers_file_is_left_alone(
    world: World, idea: Idea
) -> None:
    """The demo loader and the small form uploads hand add_asset a Django file in memory."""
    data = phone_jpeg()
    upload = ContentFile(data, name="demo.jpg")

    asset = asset_services.add_asset(
        by=world.editor,
        target=idea,
        source=upload,
        original_name="demo.jpg",
        info=inspect_upload(upload),
        enqueue=False,
    )

    assert found_secrets(stored(asset)) == []
    upload.seek(0)
    assert upload.read() == data
