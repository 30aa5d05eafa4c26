"""Consent holds on every path that serves media bytes: every path, every consent state, every role.

production/release.py is the one rule (DESIGN.md §5). This file walks every
path that sends an asset's bytes (its files in the app, the archive's
downloads and zips, the signed address for Instagram) for every consent
state and every one of the access matrix's six people, and checks what each
gets against the table written down in README.md ("Media and consent"), here
as `expected`, independent of the code under test.

No path can slip past: `test_every_view_marked_as_serving_media_is_walked`
holds the walk to the views marked `@serves_media`, and
`test_every_url_that_sends_media_bytes_is_marked` asks every GET row of the
access matrix (every URL pattern of the site) and fails for one that sends
media bytes without the mark.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from libraries.access import county_accesses
from libraries.models import AuditEntry, User
from production import release
from production.models import Asset, AssetPerson
from production.signed_urls import public_cover_url, public_rendition_url
from publishing.archive import filing as archive
from publishing.models import ArchiveItem
from tests.conftest import World, client_for
from tests.factories.publishing import jpeg, make_asset, show_person
from tests.reliability.test_access_matrix import MATRIX, ROLES, home_things, url_for

pytestmark = pytest.mark.django_db

# --- The consent states, and what each allows (README.md, "Media and consent") ---

VIEW, TAKE_AWAY, PUBLISH = "view", "take_away", "publish"


def _yesterday() -> Any:
    return timezone.localdate() - timedelta(days=1)


STATES: dict[str, tuple[Callable[[Asset], object], frozenset[str]]] = {
    # Everyone shown consented to publishing and to reuse from the archive.
    "valid": (lambda asset: show_person(asset), frozenset({VIEW, TAKE_AWAY, PUBLISH})),
    "withdrawn": (lambda asset: show_person(asset, withdrawn=True), frozenset()),
    "expired": (lambda asset: show_person(asset, valid_until=_yesterday()), frozenset()),
    "missing": (lambda asset: show_person(asset, consent=False), frozenset()),
    # Registered as a child, and the consent names no guardian.
    "minor_without_guardian": (
        lambda asset: show_person(asset, name="Gutt", category=AssetPerson.Category.CHILD),
        frozenset(),
    ),
    # Published with consent, but not to be taken away: a download is reuse.
    "publishing_only": (
        lambda asset: show_person(asset, covers_archive_reuse=False),
        frozenset({VIEW, PUBLISH}),
    ),
    # Nobody registered, nobody confirmed: not reviewed.
    "no_people": (lambda asset: None, frozenset()),
    # Nobody registered, and an editor confirmed that nobody can be recognised.
    "confirmed_no_people": (lambda asset: None, frozenset({VIEW, TAKE_AWAY, PUBLISH})),
}

# Who sorts a consent out (sees the asset whatever its state): its own library, editors, coordinators.
SORTS_IT_OUT = {"librarian", "editor", "coordinator"}
STAFF = {"editor", "coordinator"}

# --- The paths ---

SENT, LOGIN, MISSING, BACK = "sent", "login", 404, "back"  # BACK: sent back to a page with the reason
DENIED, GONE = 403, 410


@dataclass(frozen=True)
class Path:
    """One way of asking for an asset's bytes."""

    route: str  # the URL name, for the completeness check
    purpose: str  # VIEW, TAKE_AWAY, "original" or PUBLISH
    url: Callable[[Walk], str]


@dataclass
class Walk:
    """One asset in one consent state, with every file and an archive item."""

    asset: Asset
    item: ArchiveItem

    def file(self, which: str, **query: str) -> str:
        url = reverse("production:asset_file", args=[self.asset.pk, which])
        return f"{url}?{urlencode(query)}" if query else url

    def archive(self, version: str) -> str:
        return reverse("publishing:archive_download", args=[self.item.pk, version])

    def zip(self, version: str) -> str:
        return f"{reverse('publishing:archive_zip')}?{urlencode({'item': self.item.pk, 'version': version})}"

    def signed(self) -> str:
        return "/" + public_rendition_url(self.asset).split("/", 3)[3]

    def signed_cover(self) -> str:
        return "/" + public_cover_url(self.asset).split("/", 3)[3]


PATHS: dict[str, Path] = {
    "the original in the app": Path("production:asset_file", "original", lambda w: w.file("original")),
    "the original downloaded": Path("production:asset_file", "original", lambda w: w.file("original", download="1")),
    "the Instagram version shown": Path("production:asset_file", VIEW, lambda w: w.file("rendition")),
    "the Instagram version downloaded": Path(
        "production:asset_file", TAKE_AWAY, lambda w: w.file("rendition", download="1")
    ),
    "the thumbnail": Path("production:asset_file", VIEW, lambda w: w.file("thumbnail")),
    "the poster frame": Path("production:asset_file", VIEW, lambda w: w.file("poster")),
    "the subtitles shown": Path("production:asset_file", VIEW, lambda w: w.file("subtitles")),
    "the subtitles downloaded": Path("production:asset_file", TAKE_AWAY, lambda w: w.file("subtitles", download="1")),
    "the archive's original": Path("publishing:archive_download", "original", lambda w: w.archive("original")),
    "the archive's Instagram version": Path("publishing:archive_download", TAKE_AWAY, lambda w: w.archive("instagram")),
    "a zip of originals": Path("publishing:archive_zip", "original", lambda w: w.zip("original")),
    "a zip of Instagram versions": Path("publishing:archive_zip", TAKE_AWAY, lambda w: w.zip("instagram")),
    "the signed address for Instagram": Path("production:public_rendition", PUBLISH, lambda w: w.signed()),
    # A reel's cover image (sent as cover_url when it is published).
    "the cover shown": Path("production:asset_file", VIEW, lambda w: w.file("cover")),
    "the cover downloaded": Path("production:asset_file", TAKE_AWAY, lambda w: w.file("cover", download="1")),
    "the signed cover address for Instagram": Path("production:public_cover", PUBLISH, lambda w: w.signed_cover()),
}


def expected(path: Path, state: str, role: str) -> str | int:
    """What `role` gets from `path` for an asset in `state`: the table in README.md, spelt out."""
    allows = STATES[state][1]
    if path.purpose == PUBLISH:  # Instagram fetches without a login: the signature is the permission
        return SENT if PUBLISH in allows else GONE
    if role == "anonymous":
        return LOGIN
    if role == "outsider":
        return MISSING  # another county's asset does not exist for them
    if path.purpose == VIEW:
        if VIEW in allows or role in SORTS_IT_OUT:
            return SENT
        return DENIED  # the picture is not shown (a 403 with the reason)
    if path.purpose == "original" and role not in STAFF:
        return DENIED  # originals are for editors and coordinators, whatever the consent
    return SENT if TAKE_AWAY in allows else BACK


def walk_for(world: World, state: str) -> Walk:
    asset = make_asset(
        county=world.county,
        library=world.library,
        uploaded_by=world.librarian,
        no_people_confirmed=state == "confirmed_no_people",
    )
    asset.thumbnail.save("thumbnail.webp", ContentFile(jpeg(64, 64)), save=False)
    asset.poster.save("poster.jpg", ContentFile(jpeg(64, 64)), save=False)
    asset.subtitles.save("subtitles.vtt", ContentFile(b"WEBVTT\n\n00:00.000 --> 00:01.000\nHei!\n"), save=False)
    asset.cover.save("cover.jpg", ContentFile(jpeg(64, 64)), save=False)
    asset.save(update_fields=["thumbnail", "poster", "subtitles", "cover"])
    item = archive.archive_asset(by=world.editor, asset=asset)
    STATES[state][0](asset)
    archive.refresh_for_assets([asset.pk])
    return Walk(Asset.objects.get(pk=asset.pk), ArchiveItem.objects.get(pk=item.pk))


def people(world: World) -> dict[str, User | None]:
    return {
        "anonymous": None,
        "librarian": world.librarian,
        "other_librarian": world.other_librarian,
        "editor": world.editor,
        "coordinator": world.coordinator,
        "outsider": world.outsider,
    }


def sends_media(response: HttpResponse) -> bool:
    """Whether the response carries a file's bytes (streamed, handed to nginx, or a file type)."""
    kind = response.get("Content-Type", "").split(";")[0]
    return (
        response.streaming
        or response.has_header("X-Accel-Redirect")
        or response.get("Content-Disposition", "").startswith("attachment")
        or kind.startswith(("image/", "video/", "audio/"))
        or kind in ("application/zip", "application/octet-stream", "application/pdf", "text/vtt")
    )


def outcome_of(response: HttpResponse) -> str | int:
    if response.status_code == 302:
        return LOGIN if response["Location"].startswith(reverse("account_login")) else BACK
    if response.status_code in (200, 206) and sends_media(response):
        return SENT
    if response.status_code >= 500:
        return f"server error {response.status_code}"
    return response.status_code


# --- The walk ---


@pytest.mark.parametrize("state", sorted(STATES))
def test_every_media_path_gives_each_role_what_the_consent_allows(state: str, world: World) -> None:
    walk = walk_for(world, state)
    users = people(world)
    clients = {role: client_for(user) if user else Client() for role, user in users.items()}
    wrong = []
    for name, path in PATHS.items():
        url = path.url(walk)
        for role in ROLES:
            audited = AuditEntry.objects.count()
            response = clients[role].get(url)
            got, want = outcome_of(response), expected(path, state, role)
            if got != want:
                wrong.append(f"{name} ({url}) as {role}: got {got}, expected {want}")
                continue
            if got == SENT:
                b"".join(response.streaming_content)  # type: ignore[attr-defined]  # the whole file goes
                cache = "no-store" if path.purpose == PUBLISH else "private, no-store"
                if response["Cache-Control"] != cache:
                    wrong.append(f"{name} as {role}: Cache-Control {response['Cache-Control']!r}")
            if path.purpose == "original" and got == SENT:
                entry = AuditEntry.objects.order_by("-pk").first()
                if AuditEntry.objects.count() == audited or entry is None or entry.actor != users[role]:
                    wrong.append(f"{name} as {role}: the original's download was not audited")
            if got == BACK and AuditEntry.objects.count() == audited:
                wrong.append(f"{name} as {role}: the refusal was not audited")
    assert not wrong, f"{state}:\n" + "\n".join(wrong)


def test_a_refusal_says_why_in_words(world: World) -> None:
    walk = walk_for(world, "publishing_only")
    response = client_for(world.librarian).get(walk.file("rendition", download="1"), follow=True)
    assert response.redirect_chain == [(walk.asset.get_absolute_url(), 302)]
    assert (
        "cannot be downloaded: the consent of someone shown does not cover reuse from the archive."
        in response.content.decode()
    )
    hidden = client_for(world.other_librarian).get(walk_for(world, "no_people").file("thumbnail"))
    assert hidden.status_code == 403
    assert "no editor has confirmed that it shows no identifiable people" in hidden.content.decode()


# --- The rule and the archive's copy say the same ---


@pytest.mark.parametrize("state", sorted(STATES))
def test_the_archive_search_and_the_rule_agree_for_every_state(state: str, world: World) -> None:
    walk = walk_for(world, state)
    librarian = county_accesses(world.librarian)[0]
    for today in (timezone.localdate(), timezone.localdate() + timedelta(days=400)):
        asset = Asset.objects.prefetch_related("people__person__consents").get(pk=walk.asset.pk)
        item = archive.with_consents(ArchiveItem.objects.filter(pk=walk.item.pk)).get()
        rule = release.media_release(asset, purpose=release.Purpose.TAKE_AWAY, access=librarian, today=today)
        in_search = ArchiveItem.objects.reusable(today).filter(pk=item.pk).exists()
        in_sql = Asset.objects.reusable_from_archive(today).filter(pk=asset.pk).exists()
        assert rule.allowed == in_search == in_sql == asset.allows_archive_reuse(today=today), (state, today)
        assert rule.allowed == (not archive.blocked_reason(item, today=today)), (state, today)
    assert rule.allowed == (TAKE_AWAY in STATES[state][1])


# --- Nothing slips past ---


def media_views() -> set[str]:
    """The URL names whose views are marked as serving media (`production.release.serves_media`)."""

    def walk(resolver: URLResolver, namespace: str = "") -> set[str]:
        found = set()
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                found |= walk(entry, namespace + (f"{entry.namespace}:" if entry.namespace else ""))
            elif isinstance(entry, URLPattern) and getattr(entry.callback, "serves_media", False):
                found.add(f"{namespace}{entry.name}")
        return found

    return walk(get_resolver())


def test_every_view_marked_as_serving_media_is_walked() -> None:
    walked = {path.route for path in PATHS.values()}
    assert media_views() == walked


# Patterns that send files which are not media showing people; each one a decision, with its reason.
NOT_MEDIA = {
    # The signed consent form: only for those who may change the asset (the access matrix checks it).
    "media/consents/<int:pk>/evidence",
    # A pitch's attachment (a script, a sketch), not a recording: seen by the county like the idea itself.
    "ideas/attachments/<int:pk>/",
    # Everything held about a person from the register, as JSON (names and dates, no media bytes): editors only.
    "people/<int:pk>/export/",
}


def test_every_url_that_sends_media_bytes_is_marked(world: World) -> None:
    """Every GET row of the access matrix (every URL pattern of the site), asked by the coordinator, who may
    reach the most, and by a stranger (for the public ones): one that sends a file must be walked above."""
    things = home_things(world)
    names = {entry.route: entry.name for entry in _patterns()}
    marked = media_views()
    asked = [client_for(world.coordinator), Client()]
    sending = set()
    for route, rows in MATRIX.items():
        for row in rows:
            if row.method != "get":
                continue
            url = url_for(route, row, things)
            for client in asked:
                with transaction.atomic():
                    response = client.get(url, headers=row.headers)
                    transaction.set_rollback(True)
                if response.status_code in (200, 206) and sends_media(response):
                    sending.add(route)
    unmarked = sorted(route for route in sending - NOT_MEDIA if names[route] not in marked)
    assert not unmarked, f"URL patterns that send media bytes outside the consent rule: {unmarked}"
    # The check sees a file when one is sent: every marked pattern, and every exemption, was caught sending.
    assert {route for route in sending if names[route] in marked} == {
        route for route, name in names.items() if name in marked
    }
    assert sending >= NOT_MEDIA


@dataclass(frozen=True)
class _Route:
    route: str
    name: str


def _patterns(resolver: URLResolver | None = None, prefix: str = "", namespace: str = "") -> list[_Route]:
    found = []
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace + (f"{entry.namespace}:" if entry.namespace else "")
            found += _patterns(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            found.append(_Route(prefix + str(entry.pattern), f"{namespace}{entry.name}"))
    return found
