"""Signed, expiring addresses for Instagram to fetch the one file being published (DESIGN.md §4).

Instagram downloads a post's media from a public URL while the container is
made (photos at once, videos while Instagram processes them). Everything
else under media is private, so the publisher asks for an address that
works for that one asset's rendition, for a limited time, and for nobody
who could not have guessed the signature: `public_rendition_url()`. The view
(`production.views.media_files.public_rendition`) answers only while the
signature is valid and unexpired.

The token is made with Django's TimestampSigner (the SECRET_KEY and a salt of
its own) over the asset's uid and how long the address may live, so the
address needs no database row, and rotating SECRET_KEY revokes them all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from production.models import Asset

SALT = "innspill.production.public-rendition"
# Separator inside the token; with the base62 time stamp and the url-safe base64
# signature, every character of the token is unreserved in a URL.
SEPARATOR = "."
DEFAULT_EXPIRES_IN = timedelta(hours=6)
MAX_EXPIRES_IN = timedelta(days=7)


class _Signer(signing.TimestampSigner):
    """A TimestampSigner whose clock can be set, so that a test can sign at a moment in the past."""

    def __init__(self, *, at: float | None = None) -> None:
        super().__init__(salt=SALT, sep=SEPARATOR)
        self._at = at

    def timestamp(self) -> str:
        if self._at is None:
            return super().timestamp()
        return signing.b62_encode(int(self._at))


@dataclass(frozen=True)
class PublicFile:
    """What Instagram fetches for an asset: the JPEG rendition of a photo, the MP4 reel rendition of a video."""

    extension: str
    content_type: str


def public_file(asset: Asset) -> PublicFile:
    if asset.is_image:
        return PublicFile(extension="jpg", content_type="image/jpeg")
    if asset.rendition and asset.rendition.name != asset.original.name:
        return PublicFile(extension="mp4", content_type="video/mp4")
    # Made before reel renditions: the video as it was recorded (until it is processed again).
    extension = "mov" if asset.mime_type == "video/quicktime" else "mp4"
    return PublicFile(extension=extension, content_type=asset.mime_type or "video/mp4")


def _seconds(expires_in: timedelta | int) -> int:
    seconds = int(expires_in.total_seconds()) if isinstance(expires_in, timedelta) else int(expires_in)
    if not 0 < seconds <= MAX_EXPIRES_IN.total_seconds():
        raise ValueError(f"A public address lives between 1 second and {MAX_EXPIRES_IN}, not {seconds} seconds.")
    return seconds


def rendition_token(
    asset: Asset, *, expires_in: timedelta | int = DEFAULT_EXPIRES_IN, signed_at: float | None = None
) -> str:
    """The signed part of the address; `signed_at` (a Unix time) is for tests that need an old one."""
    value = f"{asset.uid.hex}-{_seconds(expires_in)}"
    return _Signer(at=signed_at).sign(value)


def _ascii_base_url() -> str:
    """PUBLIC_BASE_URL in US-ASCII, as Meta requires for media URLs (an international domain in punycode)."""
    parts = urlsplit(settings.PUBLIC_BASE_URL)
    host = parts.hostname or ""
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise ImproperlyConfigured("PUBLIC_BASE_URL has a host name that cannot be written in ASCII.") from error
    netloc = ascii_host + (f":{parts.port}" if parts.port else "")
    url = urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/")
    if not url.isascii():
        raise ImproperlyConfigured("PUBLIC_BASE_URL must be US-ASCII (percent-encode the path).")
    return url


def public_rendition_url(asset: Asset, *, expires_in: timedelta | int = DEFAULT_EXPIRES_IN) -> str:
    """An absolute, US-ASCII address of the asset's Instagram rendition that works for `expires_in`.

    It ends in .jpg for a photo and .mp4 (or .mov for a QuickTime video) and
    supports HTTP Range requests. Only a ready asset has one: ValueError otherwise.
    """
    if asset.status != Asset.Status.READY or not asset.rendition:
        raise ValueError(f"Asset {asset.pk} has no rendition to publish yet (status {asset.status}).")
    path = reverse(
        "production:public_rendition",
        kwargs={"token": rendition_token(asset, expires_in=expires_in), "extension": public_file(asset).extension},
    )
    return _ascii_base_url() + path


def public_cover_url(asset: Asset, *, expires_in: timedelta | int = DEFAULT_EXPIRES_IN) -> str:
    """The signed address of a reel's uploaded cover (a JPEG, sent as `cover_url`); ValueError when it has none."""
    if asset.status != Asset.Status.READY or not asset.cover:
        raise ValueError(f"Asset {asset.pk} has no cover image to publish.")
    path = reverse("production:public_cover", kwargs={"token": rendition_token(asset, expires_in=expires_in)})
    return _ascii_base_url() + path


def asset_uid_from_token(token: str) -> uuid.UUID:
    """The uid a token was signed for.

    Raises `signing.SignatureExpired` when the signature is genuine but older
    than the lifetime it was signed with, and `signing.BadSignature` when it
    is not genuine.
    """
    signer = _Signer()
    value = signer.unsign(token)  # the signature only; the lifetime is inside the signed value
    uid_hex, _dash, seconds = value.partition("-")
    if not seconds.isdigit():
        raise signing.BadSignature("Malformed value")
    signer.unsign(token, max_age=int(seconds))
    try:
        return uuid.UUID(hex=uid_hex)
    except ValueError as error:
        raise signing.BadSignature("Malformed uid") from error
