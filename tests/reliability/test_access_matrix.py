"""Every URL pattern, for every role, in both counties, as DESIGN.md §2 says; CSRF on every unsafe method.

The matrix walks Django's URL resolver, so a page added without an
expectation here fails `test_every_url_pattern_has_an_expectation`: new pages
cannot slip through unchecked. Each row names the URL pattern (as the
resolver spells it), the method, and what each of six people gets:

    anonymous        not logged in
    librarian        Sandnes bibliotek (the library the objects belong to)
    other_librarian  Sola bibliotek, a library of the same county
    editor           the county library's editor
    coordinator      the county's coordinator
    outsider         Agder's coordinator (another county)

The objects in the URLs are real ones of Rogaland (the librarian's library).
Outcomes: `OK` (the gate let the request through: 2xx, a redirect other
than to the login page, or a form error), `LOGIN` (a redirect to the login
page), `DENIED` (403), `MISSING` (404), `GONE` (410), `NOT_ALLOWED` (405).
Each request runs inside a savepoint that is rolled back, so one person's
POST (a deletion, say) never changes what the next person sees.

`test_another_countys_objects_are_missing_for_everyone_in_this_county` builds
the same objects in Agder and asks each object URL again as Rogaland's
people: every one is 404 (DESIGN.md §2: nobody sees another county's data).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.crypto import get_random_string

from libraries.access import CountyAccess, county_accesses, invitation_actions
from libraries.models import County, Invitation, Library, Membership, Role, User, hash_token
from production.access import idea_actions, recording_day_actions
from production.models import Concept, Idea, IdeaAttachment, Person, RecordingDay
from production.services import people as people_services
from production.services import planning as production_services
from production.signed_urls import public_cover_url, public_rendition_url
from production.uploads import PendingUpload
from publishing.access import pool_actions, post_actions, sharing_actions
from publishing.archive import filing as archive
from publishing.archive import network
from publishing.models import ArchiveItem, InstagramComment, Outcome, Post, SharedItem
from tests.conftest import World, client_for, enable_mfa
from tests.factories.libraries import CountyFactory, InvitationFactory, LibraryFactory, MembershipFactory, UserFactory
from tests.factories.production import ConceptFactory, IdeaFactory, RecordingDayFactory, SignupFactory, SlotFactory
from tests.factories.publishing import ChannelFactory, jpeg, make_asset, make_post, show_person

pytestmark = pytest.mark.django_db

OK, LOGIN, DENIED, MISSING, GONE, NOT_ALLOWED = "ok", "login", 403, 404, 410, 405
ROLES = ("anonymous", "librarian", "other_librarian", "editor", "coordinator", "outsider")
type Result = str | int
type Expect = dict[str, Result]


def everyone(*, obj: bool) -> Expect:
    """Anyone of the county (DESIGN.md §2: everyone sees the plan, ideas, days, media, the archive)."""
    return {
        "anonymous": LOGIN,
        "librarian": OK,
        "other_librarian": OK,
        "editor": OK,
        "coordinator": OK,
        "outsider": MISSING if obj else OK,  # their own county's page; never our object
    }


def editors(*, obj: bool) -> Expect:
    return everyone(obj=obj) | {"librarian": DENIED, "other_librarian": DENIED}


def coordinators(*, obj: bool) -> Expect:
    return editors(obj=obj) | {"editor": DENIED}


def own_library(*, editors_too: bool = True) -> Expect:
    """The object's own library (Sandnes) and the county's staff; not another library of the county."""
    return everyone(obj=True) | {"other_librarian": DENIED, "editor": OK if editors_too else DENIED}


def not_allowed(*, login_first: bool = True) -> Expect:
    """The method is not one the view takes; login comes first for views behind login_required."""
    return dict.fromkeys(ROLES, NOT_ALLOWED) | ({"anonymous": LOGIN} if login_first else {})


def anyone(outcome: Result = OK) -> Expect:
    """Pages outside the login (the login itself, capability URLs with a secret token)."""
    return dict.fromkeys(ROLES, outcome)


def logged_in() -> Expect:
    """allauth's own account pages: any logged-in person, whatever their county or role."""
    return anyone(OK) | {"anonymous": LOGIN}


@dataclass(frozen=True)
class Row:
    """One URL pattern and method: what each role gets."""

    method: str
    expect: Expect
    kwargs: Callable[[Things], dict[str, Any]] = lambda things: {}
    data: Callable[[Things], dict[str, Any]] = lambda things: {}
    headers: dict[str, str] = field(default_factory=dict)
    note: str = ""
    query: Callable[[Things], dict[str, Any]] | None = None


def get(expect: Expect, **options: Any) -> Row:
    return Row("get", expect, **options)


def post(expect: Expect, **options: Any) -> Row:
    return Row("post", expect, **options)


def pk(name: str) -> Callable[[Things], dict[str, Any]]:
    return lambda things: {"pk": getattr(things, name).pk}


TUS = {"Tus-Resumable": "1.0.0"}

# The matrix: every URL pattern of config/urls.py (admin/ has one rule for all of it, below).
MATRIX: dict[str, list[Row]] = {
    # --- Homes and the county switch ---
    "": [get(everyone(obj=False)), post(not_allowed())],
    "county/": [
        get(not_allowed()),
        # Switching to Rogaland: its people may; Agder's coordinator does not belong there (404).
        post(everyone(obj=True), data=lambda things: {"county": things.county.pk}),
    ],
    # --- Libraries, people, invitations: the coordinator's ---
    "libraries/": [get(coordinators(obj=False)), post(not_allowed())],
    "libraries/new/": [get(coordinators(obj=False)), post(coordinators(obj=False))],
    # The county's own settings (Agder's coordinator gets Agder's page, never Rogaland's).
    "libraries/settings/": [get(coordinators(obj=False)), post(coordinators(obj=False))],
    "libraries/<int:pk>/": [
        get(coordinators(obj=True), kwargs=pk("library")),
        post(not_allowed(), kwargs=pk("library")),
    ],
    "libraries/<int:pk>/edit/": [
        get(coordinators(obj=True), kwargs=pk("library")),
        post(coordinators(obj=True), kwargs=pk("library")),
    ],
    "libraries/members/<int:pk>/role/": [
        get(not_allowed(), kwargs=pk("membership")),
        post(coordinators(obj=True), kwargs=pk("membership")),
    ],
    "libraries/members/<int:pk>/remove/": [
        get(not_allowed(), kwargs=pk("membership")),
        post(coordinators(obj=True), kwargs=pk("membership")),
    ],
    "libraries/invitations/": [get(coordinators(obj=False)), post(coordinators(obj=False))],
    "libraries/invitations/<int:pk>/resend/": [
        get(not_allowed(), kwargs=pk("invitation")),
        post(coordinators(obj=True), kwargs=pk("invitation")),
    ],
    "libraries/invitations/<int:pk>/revoke/": [
        get(not_allowed(), kwargs=pk("invitation")),
        post(coordinators(obj=True), kwargs=pk("invitation")),
    ],
    # --- Ideas: everyone pitches and reads; the own library changes while it waits; editors review ---
    "ideas/": [get(everyone(obj=False)), post(not_allowed())],
    "ideas/new/": [get(everyone(obj=False)), post(everyone(obj=False))],
    "ideas/<int:pk>/": [get(everyone(obj=True), kwargs=pk("idea")), post(not_allowed(), kwargs=pk("idea"))],
    "ideas/<int:pk>/edit/": [
        # A librarian changes only their own library's ideas; editors review, they do not rewrite.
        get(own_library(editors_too=False), kwargs=pk("idea")),
        post(own_library(editors_too=False), kwargs=pk("idea")),
    ],
    "ideas/<int:pk>/accept/": [get(not_allowed(), kwargs=pk("idea")), post(editors(obj=True), kwargs=pk("idea"))],
    "ideas/<int:pk>/decline/": [get(not_allowed(), kwargs=pk("idea")), post(editors(obj=True), kwargs=pk("idea"))],
    "ideas/<int:pk>/plan/": [
        get(not_allowed(), kwargs=pk("idea")),
        post(coordinators(obj=True), kwargs=pk("idea")),
    ],
    "ideas/<int:pk>/used/": [
        get(not_allowed(), kwargs=pk("idea")),
        post(coordinators(obj=True), kwargs=pk("idea")),
    ],
    "ideas/<int:pk>/comments/": [
        get(not_allowed(), kwargs=pk("idea")),
        post(everyone(obj=True), kwargs=pk("idea"), data=lambda things: {"text": "Fint!"}),
    ],
    "ideas/attachments/<int:pk>/": [
        get(everyone(obj=True), kwargs=pk("attachment")),
        post(not_allowed(), kwargs=pk("attachment")),
    ],
    # --- Concepts: everyone reads, coordinators manage ---
    "concepts/": [get(everyone(obj=False)), post(not_allowed())],
    "concepts/new/": [get(coordinators(obj=False)), post(coordinators(obj=False))],
    "concepts/<int:pk>/": [get(everyone(obj=True), kwargs=pk("concept")), post(not_allowed(), kwargs=pk("concept"))],
    "concepts/<int:pk>/edit/": [
        get(coordinators(obj=True), kwargs=pk("concept")),
        post(coordinators(obj=True), kwargs=pk("concept")),
    ],
    # --- Recording days: everyone sees announced days (drafts are the county staff's); coordinators run them ---
    "recording-days/": [get(everyone(obj=False)), post(not_allowed())],
    "recording-days/new/": [get(coordinators(obj=False)), post(coordinators(obj=False))],
    "recording-days/<int:pk>/": [
        get(everyone(obj=True), kwargs=pk("day")),
        get(
            editors(obj=True) | {"librarian": MISSING, "other_librarian": MISSING},
            kwargs=pk("draft_day"),
            note="a draft day does not exist for librarians",
        ),
        post(not_allowed(), kwargs=pk("day")),
    ],
    "recording-days/<int:pk>/edit/": [
        get(coordinators(obj=True), kwargs=pk("day")),
        post(coordinators(obj=True), kwargs=pk("day")),
    ],
    "recording-days/<int:pk>/run-sheet/": [
        get(everyone(obj=True), kwargs=pk("day")),
        post(not_allowed(), kwargs=pk("day")),
    ],
    "recording-days/<int:pk>/announce/": [
        get(not_allowed(), kwargs=pk("draft_day")),
        post(coordinators(obj=True), kwargs=pk("draft_day")),
    ],
    "recording-days/<int:pk>/done/": [
        get(not_allowed(), kwargs=pk("day")),
        post(coordinators(obj=True), kwargs=pk("day")),
    ],
    "recording-days/<int:pk>/signups/": [
        get(not_allowed(), kwargs=pk("day")),
        post(everyone(obj=True), kwargs=pk("day")),
    ],
    "recording-days/<int:pk>/slots/": [
        get(not_allowed(), kwargs=pk("day")),
        post(coordinators(obj=True), kwargs=pk("day")),
    ],
    "recording-days/signups/<int:pk>/withdraw/": [
        get(not_allowed(), kwargs=pk("signup")),
        # The library that signed up withdraws (and the coordinator); editors run no sign-ups.
        post(own_library(editors_too=False), kwargs=pk("signup")),
    ],
    "recording-days/slots/<int:pk>/edit/": [
        get(coordinators(obj=True), kwargs=pk("slot")),
        post(coordinators(obj=True), kwargs=pk("slot")),
    ],
    "recording-days/slots/<int:pk>/remove/": [
        get(not_allowed(), kwargs=pk("slot")),
        post(coordinators(obj=True), kwargs=pk("slot")),
    ],
    "recording-days/slots/<int:pk>/move/": [
        get(not_allowed(), kwargs=pk("slot")),
        post(coordinators(obj=True), kwargs=pk("slot")),
    ],
    "recording-days/slots/<int:pk>/recorded/": [
        get(not_allowed(), kwargs=pk("slot")),
        post(coordinators(obj=True), kwargs=pk("slot")),
    ],
    # --- Calendars and their feeds (a secret address per person, no login: calendar apps cannot log in) ---
    "calendar/": [get(everyone(obj=False)), post(not_allowed())],
    "calendar/agenda/": [get(everyone(obj=False)), post(not_allowed())],
    "calendar/subscription/": [get(everyone(obj=False)), post(everyone(obj=False))],
    "calendar/feed/<str:token>.ics": [
        get(anyone(OK), kwargs=lambda things: {"token": things.feed_token}),
        get(anyone(MISSING), kwargs=lambda things: {"token": "not-a-feed"}, note="an unknown token"),
        post(not_allowed(login_first=False), kwargs=lambda things: {"token": things.feed_token}),
    ],
    # --- Media: everyone of the county sees them; editors and the own library change them ---
    "ideas/<int:pk>/media/": [get(everyone(obj=True), kwargs=pk("idea")), post(not_allowed(), kwargs=pk("idea"))],
    "ideas/<int:pk>/media/uploads/": [
        get(not_allowed(login_first=False), kwargs=pk("idea")),
        # tus answers in JSON: a logged-out person gets 403 with a message, not the login page.
        post(own_library() | {"anonymous": DENIED}, kwargs=pk("idea"), headers=TUS),
    ],
    "ideas/<int:pk>/media/upload/": [
        get(not_allowed(), kwargs=pk("idea")),
        post(own_library(), kwargs=pk("idea")),
    ],
    "recording-days/<int:pk>/media/": [
        get(everyone(obj=True), kwargs=pk("day")),
        post(not_allowed(), kwargs=pk("day")),
    ],
    "recording-days/<int:pk>/media/uploads/": [
        get(not_allowed(login_first=False), kwargs=pk("day")),
        post(editors(obj=True) | {"anonymous": DENIED}, kwargs=pk("day"), headers=TUS),
    ],
    "recording-days/<int:pk>/media/upload/": [
        get(not_allowed(), kwargs=pk("day")),
        post(editors(obj=True), kwargs=pk("day")),
    ],
    "media/uploads/county/": [
        get(not_allowed(login_first=False)),
        # The compose form's upload with no idea chosen: filed to the county; editors only.
        post(editors(obj=False) | {"anonymous": DENIED}, headers=TUS),
    ],
    "media/uploads/<str:upload_id>/": [
        # An upload is its uploader's alone: anyone else is told it does not exist.
        Row(
            "head",
            anyone(MISSING) | {"anonymous": DENIED, "librarian": OK},
            kwargs=lambda things: {"upload_id": things.upload_id},
            headers=TUS,
        ),
        Row(
            "delete",
            anyone(MISSING) | {"anonymous": DENIED, "librarian": OK},
            kwargs=lambda things: {"upload_id": things.upload_id},
            headers=TUS,
        ),
        get(not_allowed(login_first=False), kwargs=lambda things: {"upload_id": things.upload_id}),
        post(not_allowed(login_first=False), kwargs=lambda things: {"upload_id": things.upload_id}),
    ],
    "media/<int:pk>/": [get(everyone(obj=True), kwargs=pk("asset")), post(own_library(), kwargs=pk("asset"))],
    "media/<int:pk>/card/": [get(everyone(obj=True), kwargs=pk("asset")), post(not_allowed(), kwargs=pk("asset"))],
    "media/<int:pk>/status/": [get(everyone(obj=True), kwargs=pk("asset")), post(not_allowed(), kwargs=pk("asset"))],
    "media/<int:pk>/upload-state/": [
        get(everyone(obj=True), kwargs=pk("asset")),
        post(not_allowed(), kwargs=pk("asset")),
    ],
    "media/<int:pk>/crop/": [get(not_allowed(), kwargs=pk("asset")), post(own_library(), kwargs=pk("asset"))],
    # A video's rendition in the making: its progress for all who see the asset, cancel and cover for who changes it.
    "media/<int:pk>/progress/": [
        get(everyone(obj=True), kwargs=pk("asset")),
        post(not_allowed(), kwargs=pk("asset")),
    ],
    "media/<int:pk>/cancel/": [get(not_allowed(), kwargs=pk("asset")), post(own_library(), kwargs=pk("asset"))],
    "media/<int:pk>/cover/": [get(not_allowed(), kwargs=pk("asset")), post(own_library(), kwargs=pk("asset"))],
    "media/<int:pk>/subtitles/": [get(not_allowed(), kwargs=pk("asset")), post(own_library(), kwargs=pk("asset"))],
    "media/<int:pk>/subtitles/remove/": [
        get(not_allowed(), kwargs=pk("asset")),
        post(own_library(), kwargs=pk("asset")),
    ],
    "media/<int:pk>/retry/": [get(not_allowed(), kwargs=pk("asset")), post(own_library(), kwargs=pk("asset"))],
    "media/<int:pk>/delete/": [get(not_allowed(), kwargs=pk("asset")), post(own_library(), kwargs=pk("asset"))],
    "media/<int:pk>/people/": [get(not_allowed(), kwargs=pk("asset")), post(own_library(), kwargs=pk("asset"))],
    # Confirming that nobody in it can be recognised is an editor's call (DESIGN.md §3).
    "media/<int:pk>/no-people/": [
        get(not_allowed(), kwargs=pk("unreviewed_asset")),
        post(editors(obj=True), kwargs=pk("unreviewed_asset")),
    ],
    "media/people/<int:pk>/remove/": [
        get(not_allowed(), kwargs=pk("person")),
        post(own_library(), kwargs=pk("person")),
    ],
    # A suggested tag (a recording day's presenter) is confirmed by whoever may change who is shown.
    "media/people/<int:pk>/confirm/": [
        get(not_allowed(), kwargs=pk("person")),
        post(own_library(), kwargs=pk("person")),
    ],
    "media/people/<int:pk>/consent/": [
        get(own_library(), kwargs=pk("person")),
        post(own_library(), kwargs=pk("person")),
    ],
    "media/consents/<int:pk>/withdraw/": [
        get(own_library(), kwargs=pk("consent")),
        post(own_library(), kwargs=pk("consent")),
    ],
    # Tagging from the county's register is for editors and coordinators (the register is theirs);
    # a new person with their consent in one step is for whoever may change the asset.
    "media/<int:pk>/people/search/": [
        get(editors(obj=True), kwargs=pk("asset"), query=lambda things: {"q": "Kari"}),
        post(not_allowed(), kwargs=pk("asset")),
    ],
    "media/<int:pk>/people/tag/": [
        get(not_allowed(), kwargs=pk("asset")),
        post(editors(obj=True), kwargs=pk("asset"), data=lambda things: {"person": things.register_twin.pk}),
    ],
    "media/<int:pk>/people/new/": [get(own_library(), kwargs=pk("asset")), post(own_library(), kwargs=pk("asset"))],
    # The register of people: editors and coordinators only (DESIGN.md §3).
    "people/": [get(editors(obj=False)), post(not_allowed())],
    "people/new/": [get(editors(obj=False)), post(editors(obj=False))],
    "people/merge/": [get(editors(obj=False)), post(not_allowed())],
    "people/merge/confirm/": [
        get(
            editors(obj=True),
            query=lambda things: {"keep": things.register_person.pk, "other": things.register_twin.pk},
        ),
        post(
            editors(obj=True),
            data=lambda things: {"keep": things.register_person.pk, "other": things.register_twin.pk},
        ),
    ],
    "people/<int:pk>/": [
        get(editors(obj=True), kwargs=pk("register_person")),
        post(not_allowed(), kwargs=pk("register_person")),
    ],
    "people/<int:pk>/edit/": [
        get(editors(obj=True), kwargs=pk("register_person")),
        post(
            editors(obj=True),
            kwargs=pk("register_person"),
            data=lambda things: {"name": "Kari N.", "category": "patron"},
        ),
    ],
    "people/<int:pk>/consent/": [
        get(editors(obj=True), kwargs=pk("register_person")),
        post(editors(obj=True), kwargs=pk("register_person")),
    ],
    "people/<int:pk>/link/": [
        get(not_allowed(), kwargs=pk("register_person")),
        post(editors(obj=True), kwargs=pk("register_person"), data=lambda things: {"email": "kari@example.org"}),
    ],
    "people/<int:pk>/export/": [
        get(editors(obj=True), kwargs=pk("register_person")),
        post(not_allowed(), kwargs=pk("register_person")),
    ],
    "people/<int:pk>/erase/": [
        get(editors(obj=True), kwargs=pk("register_person")),
        post(editors(obj=True), kwargs=pk("register_person")),
    ],
    # The person's own consent page: the token is the permission, whoever opens it and whatever county
    # they are logged in to. Answered, the same page stays (it shows the answer and lets them withdraw);
    # an unknown token is gone.
    "consent/<str:token>/": [
        get(anyone(OK), kwargs=lambda things: {"token": things.consent_token}),
        post(anyone(OK), kwargs=lambda things: {"token": things.consent_token}),
        get(anyone(OK), kwargs=lambda things: {"token": things.used_consent_token}, note="answered already"),
        post(
            anyone(OK),
            kwargs=lambda things: {"token": things.used_consent_token},
            data=lambda things: {"action": "confirm", "email": "kari@example.org"},
            note="answered already: refused with the reason, nothing changes",
        ),
        get(anyone(OK), kwargs=lambda things: {"token": things.away_consent_token}, note="another county's"),
        get(anyone(GONE), kwargs=lambda things: {"token": "not-a-token"}, note="unknown"),
    ],
    # The files as production/release.py allows them (every consent state: tests/reliability/test_media_release.py).
    "media/<int:pk>/files/<str:which>": [
        get(everyone(obj=True), kwargs=lambda things: {"pk": things.asset.pk, "which": "rendition"}),
        get(
            everyone(obj=True),
            kwargs=lambda things: {"pk": things.asset.pk, "which": "rendition"},
            query=lambda things: {"download": "1"},
            note="the Instagram version taken away",
        ),
        # Originals are for editors and coordinators (DESIGN.md §2).
        get(editors(obj=True), kwargs=lambda things: {"pk": things.asset.pk, "which": "original"}),
        get(
            own_library() | {"other_librarian": DENIED},
            kwargs=lambda things: {"pk": things.unreviewed_asset.pk, "which": "rendition"},
            note="not reviewed: seen only by those who sort it out",
        ),
        post(not_allowed(), kwargs=lambda things: {"pk": things.asset.pk, "which": "original"}),
    ],
    "media/consents/<int:pk>/evidence": [
        # A signed consent form (often a child's guardian's) is shown only to those who may change the asset.
        get(own_library(), kwargs=pk("consent")),
        post(not_allowed(), kwargs=pk("consent")),
    ],
    "public/media/<str:token>.<str:extension>": [
        # The signed address Instagram fetches a rendition from: the signature is the permission.
        get(anyone(OK), kwargs=lambda things: things.public_rendition),
        get(
            anyone(DENIED),
            kwargs=lambda things: things.public_rendition | {"token": "forged"},
            note="a forged signature",
        ),
        post(not_allowed(login_first=False), kwargs=lambda things: things.public_rendition),
    ],
    "public/cover/<str:token>.jpg": [
        # A reel's uploaded cover, fetched by Instagram (cover_url): the same signature and rule.
        get(anyone(OK), kwargs=lambda things: things.public_cover),
        get(anyone(DENIED), kwargs=lambda things: {"token": "forged"}, note="a forged signature"),
        post(not_allowed(login_first=False), kwargs=lambda things: things.public_cover),
    ],
    # --- Posts: editors compose, review and schedule; librarians see the plan, never drafts ---
    "posts/": [get(everyone(obj=False)), post(not_allowed())],
    "posts/new/": [get(editors(obj=False)), post(editors(obj=False))],
    "posts/<int:pk>/": [
        get(everyone(obj=True), kwargs=pk("scheduled_post")),
        get(
            editors(obj=True) | {"librarian": MISSING, "other_librarian": MISSING},
            kwargs=pk("draft_post"),
            note="a draft does not exist for librarians",
        ),
        post(not_allowed(), kwargs=pk("scheduled_post")),
    ],
    # The post page's status part, asked for again while the worker may move the post: the page's own gate.
    "posts/<int:pk>/status/": [
        get(everyone(obj=True), kwargs=pk("scheduled_post")),
        get(
            editors(obj=True) | {"librarian": MISSING, "other_librarian": MISSING},
            kwargs=pk("draft_post"),
            note="a draft does not exist for librarians",
        ),
        post(not_allowed(), kwargs=pk("scheduled_post")),
    ],
    "posts/<int:pk>/edit/": [
        get(editors(obj=True), kwargs=pk("draft_post")),
        post(editors(obj=True), kwargs=pk("draft_post")),
    ],
    "posts/preview/": [get(not_allowed()), post(editors(obj=False))],
    "posts/<int:pk>/preview/": [
        get(not_allowed(), kwargs=pk("draft_post")),
        post(editors(obj=True), kwargs=pk("draft_post")),
    ],
    **{
        f"posts/<int:pk>/{action}/": [
            get(not_allowed(), kwargs=pk("draft_post")),
            post(editors(obj=True), kwargs=pk("draft_post")),
        ]
        for action in (
            "submit",
            "approve",
            "approve-alone",
            "mark-reviewed",
            "return",
            "schedule",
            "unschedule",
            "cancel",
            "move",
        )
    },
    # --- The plan ---
    "plan/": [get(everyone(obj=False)), post(not_allowed())],
    "plan/week/": [get(everyone(obj=False)), post(not_allowed())],
    "plan/subscription/": [get(everyone(obj=False)), post(everyone(obj=False))],
    "plan/feed/<str:token>.ics": [
        get(anyone(OK), kwargs=lambda things: {"token": things.feed_token}),
        get(anyone(MISSING), kwargs=lambda things: {"token": "not-a-feed"}, note="an unknown token"),
        post(not_allowed(login_first=False), kwargs=lambda things: {"token": things.feed_token}),
    ],
    # --- The shared archive: every library searches and downloads; editors reuse and archive ---
    "archive/": [get(everyone(obj=False)), post(not_allowed())],
    "archive/<int:pk>/": [
        get(everyone(obj=True), kwargs=pk("archive_item")),
        post(not_allowed(), kwargs=pk("archive_item")),
    ],
    "archive/<int:pk>/download/<str:version>/": [
        get(everyone(obj=True), kwargs=lambda things: {"pk": things.archive_item.pk, "version": "instagram"}),
        # Originals are for editors and coordinators (DESIGN.md §2).
        get(editors(obj=True), kwargs=lambda things: {"pk": things.archive_item.pk, "version": "original"}),
        post(not_allowed(), kwargs=lambda things: {"pk": things.archive_item.pk, "version": "original"}),
    ],
    "archive/selection/": [
        get(everyone(obj=True), query=lambda things: {"item": [things.archive_item.pk]}),
        post(not_allowed()),
    ],
    "archive/selection/download/": [
        get(everyone(obj=True), query=lambda things: {"item": [things.archive_item.pk], "version": "instagram"}),
        get(editors(obj=True), query=lambda things: {"item": [things.archive_item.pk], "version": "original"}),
        post(not_allowed()),
    ],
    "archive/reuse/": [
        get(not_allowed()),
        post(editors(obj=True), data=lambda things: {"item": [things.archive_item.pk]}),
    ],
    "archive/media/<int:pk>/": [get(not_allowed(), kwargs=pk("asset")), post(editors(obj=True), kwargs=pk("asset"))],
    # The network of counties (DESIGN.md §8): editors offer and un-share, the coordinator approves what leaves.
    "archive/<int:pk>/share/": [
        get(not_allowed(), kwargs=pk("network_item")),
        post(editors(obj=True), kwargs=pk("network_item"), data=lambda things: {"credit": "Foto: Sandnes bibliotek"}),
    ],
    "archive/<int:pk>/share/approve/": [
        get(not_allowed(), kwargs=pk("offered_item")),
        post(coordinators(obj=True), kwargs=pk("offered_item")),
    ],
    "archive/<int:pk>/share/stop/": [
        get(not_allowed(), kwargs=pk("offered_item")),
        post(editors(obj=True), kwargs=pk("offered_item")),
    ],
    # Concepts and ideas travel the same way (DESIGN.md §8): editors offer and un-share, the coordinator approves.
    **{
        route: rows
        for kind in ("concept", "idea")
        for route, rows in {
            f"network/{kind}s/<int:pk>/share/": [
                get(not_allowed(), kwargs=pk(f"network_{kind}")),
                post(editors(obj=True), kwargs=pk(f"network_{kind}"), data=lambda things: {"credit": "Sandnes"}),
            ],
            f"network/{kind}s/<int:pk>/share/approve/": [
                get(not_allowed(), kwargs=pk(f"offered_{kind}")),
                post(coordinators(obj=True), kwargs=pk(f"offered_{kind}")),
            ],
            f"network/{kind}s/<int:pk>/share/stop/": [
                get(not_allowed(), kwargs=pk(f"offered_{kind}")),
                post(editors(obj=True), kwargs=pk(f"offered_{kind}")),
            ],
        }.items()
    },
    # The shared pool (DESIGN.md §8): other counties' shared items, for everyone of a county that takes part
    # (Agder's coordinator, outside the network, gets their own empty pool, and none of these items);
    # editors borrow; only a network moderator (set in the admin; none of these six) hides.
    "network/": [get(everyone(obj=False)), post(not_allowed())],
    "network/<int:pk>/": [get(everyone(obj=True), kwargs=pk("pool_item")), post(not_allowed(), kwargs=pk("pool_item"))],
    "network/<int:pk>/borrow/": [
        get(not_allowed(), kwargs=pk("pool_item")),
        post(editors(obj=True), kwargs=pk("pool_item")),
        # A borrowed concept becomes one of the county's concepts, which its coordinators keep.
        post(coordinators(obj=True), kwargs=pk("pool_concept"), note="a concept"),
        post(editors(obj=True), kwargs=pk("pool_idea"), note="an idea"),
    ],
    "network/<int:pk>/hide/": [
        get(not_allowed(), kwargs=pk("pool_item")),
        post(
            everyone(obj=True) | dict.fromkeys(("librarian", "other_librarian", "editor", "coordinator"), DENIED),
            kwargs=pk("pool_item"),
            data=lambda things: {"reason": "Feil bilde"},
        ),
    ],
    # --- After publishing: the comments inbox is the editors'; everyone logs outcomes and reads the report ---
    "inbox/": [get(editors(obj=False)), post(not_allowed())],
    "inbox/count/": [get(editors(obj=False)), post(not_allowed())],
    **{
        f"inbox/<int:pk>/{action}/": [
            get(not_allowed(), kwargs=pk("comment")),
            post(editors(obj=True), kwargs=pk("comment")),
        ]
        for action in ("reply", "handled", "reopen")
    },
    "posts/<int:pk>/insights/": [
        get(not_allowed(), kwargs=pk("published_post")),
        post(editors(obj=True), kwargs=pk("published_post")),
    ],
    # Meta's webhook: no login and no CSRF token (it cannot send one); without the signature it is refused.
    "webhooks/instagram/": [get(anyone(DENIED)), post(anyone(DENIED))],
    "posts/<int:pk>/outcomes/": [
        get(everyone(obj=True), kwargs=pk("published_post")),
        post(everyone(obj=True), kwargs=pk("published_post")),
    ],
    "outcomes/<int:pk>/edit/": [get(own_library(), kwargs=pk("outcome")), post(own_library(), kwargs=pk("outcome"))],
    "outcomes/<int:pk>/delete/": [get(not_allowed(), kwargs=pk("outcome")), post(own_library(), kwargs=pk("outcome"))],
    "reports/": [
        get(everyone(obj=False)),
        # One library's report: that library's people and the county staff.
        get(own_library(), query=lambda things: {"library": things.library.pk}, note="one library's report"),
        post(not_allowed()),
    ],
    "reports/print/": [get(everyone(obj=False)), post(not_allowed())],
    "reports/send/": [get(coordinators(obj=False)), post(coordinators(obj=False))],
    # --- The Instagram connection: coordinators only ---
    "channel/": [get(coordinators(obj=False)), post(not_allowed())],
    "channel/connect/": [get(not_allowed()), post(coordinators(obj=False))],
    "channel/callback/": [get(coordinators(obj=False)), post(not_allowed())],
    "channel/token/": [get(not_allowed()), post(coordinators(obj=False))],
    "channel/choose/": [get(coordinators(obj=False)), post(coordinators(obj=False))],
    "channel/disconnect/": [get(not_allowed()), post(coordinators(obj=False))],
    "channel/refresh/": [get(not_allowed()), post(coordinators(obj=False))],
    "channel/settings/": [get(not_allowed()), post(coordinators(obj=False))],
    # --- Accounts (invitations, allauth) and the rest ---
    "invitation/<str:token>/": [
        get(anyone(OK), kwargs=lambda things: {"token": things.invitation_token}),
        post(anyone(OK), kwargs=lambda things: {"token": things.invitation_token}),
        get(anyone(GONE), kwargs=lambda things: {"token": things.used_invitation_token}, note="used once already"),
        post(anyone(GONE), kwargs=lambda things: {"token": things.used_invitation_token}, note="used once already"),
    ],
    # The outbox exists only in development (DEBUG with EMAIL_BACKEND=outbox; settings refuse
    # outbox otherwise): 404 for everyone here. In development, see test_the_development_outbox_….
    "outbox/": [get(anyone(MISSING)), post(not_allowed(login_first=False))],
    "healthz": [get(anyone(OK)), post(not_allowed(login_first=False))],
    "i18n/setlang/": [post(anyone(OK), data=lambda things: {"language": "nb", "next": "/"})],
    "accounts/login/": [get(anyone(OK)), post(anyone(OK))],
    "accounts/logout/": [get(anyone(OK)), post(anyone(OK))],
    "accounts/inactive/": [get(anyone(OK))],
    # Invitation only: the sign-up page says so to everyone.
    "accounts/signup/": [get(anyone(OK)), post(anyone(OK))],
    "accounts/reauthenticate/": [get(logged_in())],
    "accounts/email/": [get(logged_in())],
    "accounts/confirm-email/": [get(anyone(OK))],
    "accounts/password/change/": [get(logged_in()), post(logged_in())],
    "accounts/password/set/": [get(logged_in())],
    "accounts/password/reset/": [get(anyone(OK)), post(anyone(OK))],
    # Login by e-mailed code is off: nothing to confirm, so the login page (or home, when logged in).
    "accounts/login/code/confirm/": [get(logged_in())],
    r"accounts/^confirm-email/(?P<key>[-:\w]+)/$": [get(anyone(OK), kwargs=lambda things: {"key": "no-such-key"})],
    "accounts/password/reset/key/done/": [get(anyone(OK))],
    "accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$": [
        get(anyone(OK), kwargs=lambda things: {"uidb36": "1", "key": "set-password"})
    ],
    "accounts/password/reset/done/": [get(anyone(OK))],
    "accounts/2fa/": [get(logged_in())],
    # The second step of a login in progress; without one, the login page.
    "accounts/2fa/authenticate/": [get(logged_in())],
    "accounts/2fa/reauthenticate/": [get(logged_in())],
    "accounts/2fa/totp/activate/": [get(logged_in())],
    # Librarians have no authenticator to deactivate; the staff's TOTP has no recovery codes made yet.
    "accounts/2fa/totp/deactivate/": [get(logged_in() | {"librarian": MISSING, "other_librarian": MISSING})],
    "accounts/2fa/recovery-codes/": [get(anyone(MISSING) | {"anonymous": LOGIN})],
    "accounts/2fa/recovery-codes/generate/": [get(logged_in())],
    "accounts/2fa/recovery-codes/download/": [get(anyone(MISSING) | {"anonymous": LOGIN})],
}

# The admin has one rule for all its pages (test_admin_is_for_staff_only).
ADMIN_PREFIX = "admin/"


# --- Walking the resolver ---


@dataclass(frozen=True)
class Pattern:
    route: str  # the full pattern, as the resolver spells it (the matrix's key)
    name: str | None  # namespaced, for reverse()


def url_patterns(resolver: URLResolver | None = None, prefix: str = "", namespace: str = "") -> Iterator[Pattern]:
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace + (f"{entry.namespace}:" if entry.namespace else "")
            yield from url_patterns(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield Pattern(prefix + str(entry.pattern), f"{namespace}{entry.name}" if entry.name else None)


def concrete(pattern: Pattern, kwargs: dict[str, Any]) -> str:
    if pattern.name:
        return reverse(pattern.name, kwargs=kwargs or None)
    # Unnamed (the admin's object redirect): fill the converters in by hand.
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(kwargs[match[1]]), pattern.route)


PATTERNS = {pattern.route: pattern for pattern in url_patterns()}


def url_for(route: str, row: Row, things: Things) -> str:
    url = concrete(PATTERNS[route], row.kwargs(things))
    return f"{url}?{urlencode(row.query(things), doseq=True)}" if row.query else url


# --- The people and the objects ---


@dataclass
class Things:
    """Real objects of one county, made when a row first needs them."""

    county: County
    library: Library  # the librarian's (Sandnes in Rogaland)
    librarian: User
    editor: User
    coordinator: User

    @cached_property
    def membership(self) -> Membership:
        return self.librarian.memberships.get(library=self.library)

    @cached_property
    def invitation(self) -> Invitation:
        return InvitationFactory(library=self.library, invited_by=self.coordinator)

    def _invitation_token(self, token: str, *, used: bool) -> str:
        Invitation.objects.create(
            email=f"{token}@example.org",
            library=self.library,
            role=Role.LIBRARIAN,
            token_hash=hash_token(token),
            sent_at=timezone.now(),
            expires_at=timezone.now() + timedelta(days=14),
            accepted_at=timezone.now() if used else None,
        )
        return token

    @cached_property
    def invitation_token(self) -> str:
        return self._invitation_token(f"matrix-{self.county.slug}", used=False)

    @cached_property
    def used_invitation_token(self) -> str:
        return self._invitation_token(f"matrix-used-{self.county.slug}", used=True)

    @cached_property
    def idea(self) -> Any:
        return IdeaFactory(library=self.library, submitted_by=self.librarian)

    @cached_property
    def attachment(self) -> IdeaAttachment:
        attachment = IdeaAttachment(idea=self.idea, name="manus.txt", uploaded_by=self.librarian)
        attachment.file.save("manus.txt", ContentFile(b"Manus for filmen."), save=True)
        return attachment

    @cached_property
    def concept(self) -> Any:
        return ConceptFactory(county=self.county)

    @cached_property
    def day(self) -> RecordingDay:
        return RecordingDayFactory(county=self.county, host_library=self.library)

    @cached_property
    def draft_day(self) -> RecordingDay:
        return RecordingDayFactory(county=self.county, host_library=self.library, status=RecordingDay.Status.DRAFT)

    @cached_property
    def slot(self) -> Any:
        return SlotFactory(recording_day=self.day)

    @cached_property
    def signup(self) -> Any:
        return SignupFactory(recording_day=self.day, library=self.library, person=self.librarian)

    @cached_property
    def asset(self) -> Any:
        return make_asset(county=self.county, library=self.library, uploaded_by=self.librarian)

    @cached_property
    def unreviewed_asset(self) -> Any:
        """Nobody registered as shown, and nobody confirmed that nobody can be recognised."""
        return make_asset(
            county=self.county, library=self.library, uploaded_by=self.librarian, no_people_confirmed=False
        )

    @cached_property
    def person(self) -> Any:
        return show_person(self.asset, name="Kari Nordmann")

    @cached_property
    def register_person(self) -> Person:
        """The person shown in `asset`, as the county's register holds them."""
        return self.person.person

    @cached_property
    def register_twin(self) -> Person:
        """Another register entry with the same name: a merge proposal."""
        return Person.objects.create(county=self.county, name="Kari Nordmann", category=Person.Category.PATRON)

    def _consent_token(self, person: Person, *, answered: bool) -> str:
        _link, token = people_services.send_consent_link(by=self.editor, person=person, email="kari@example.org")
        if answered:
            people_services.answer_consent_link(
                token=token, confirm=True, email="kari@example.org", ip="127.0.0.1", text_seen="…"
            )
        return token

    @cached_property
    def consent_token(self) -> str:
        return self._consent_token(self.register_person, answered=False)

    @cached_property
    def used_consent_token(self) -> str:
        return self._consent_token(self.register_person, answered=True)

    @cached_property
    def away_consent_token(self) -> str:
        away = County.objects.exclude(pk=self.county.pk).order_by("pk").first()
        person = Person.objects.create(county=away, name="Ola Nordmann", category=Person.Category.STAFF)
        return self._consent_token(person, answered=False)

    @cached_property
    def consent(self) -> Any:
        consent = self.person.consents.order_by("pk").first()  # the one recorded with the person, before any link
        assert consent is not None
        consent.evidence.save("skjema.pdf", ContentFile(b"%PDF-1.4 signed form"), save=True)
        return consent

    @cached_property
    def public_rendition(self) -> dict[str, str]:
        token, extension = public_rendition_url(self.asset).rsplit("/", 1)[-1].rsplit(".", 1)
        return {"token": token, "extension": extension}

    @cached_property
    def public_cover(self) -> dict[str, str]:
        self.asset.cover.save("cover.jpg", ContentFile(jpeg(64, 64)), save=True)
        return {"token": public_cover_url(self.asset).rsplit("/", 1)[-1].removesuffix(".jpg")}

    @cached_property
    def upload_id(self) -> str:
        upload = PendingUpload.start(
            user_id=self.librarian.pk,
            target="idea",
            target_id=self.idea.pk,
            length=10,
            filename="bilde.jpg",
            filetype="image/jpeg",
        )
        return upload.id

    @cached_property
    def feed_token(self) -> str:
        return production_services.create_calendar_feed(by=self.librarian, county=self.county)

    @cached_property
    def published_post(self) -> Post:
        return make_post(
            county=self.county,
            author=self.editor,
            status=Post.Status.PUBLISHED,
            scheduled_at=timezone.now() - timedelta(days=2),
            published_at=timezone.now() - timedelta(days=2),
            assets=[self.asset],
            collaborators=[self.library],
            media_id=f"1790000000{self.county.pk:06d}",
            permalink="https://www.instagram.com/p/matrix/",
        )

    @cached_property
    def archive_item(self) -> ArchiveItem:
        self.person  # noqa: B018 - shown with a consent, so that the item may be reused and downloaded
        [item] = archive.file_published_post(post=self.published_post, assets=[self.asset], libraries=[self.library])
        return item

    def join_network(self) -> None:
        self.county.in_network = True  # as the county settings form saves it
        self.county.save(update_fields=["in_network"])

    @cached_property
    def network_item(self) -> ArchiveItem:
        """An item of the county, which takes part in the network, whose people all consent to sharing."""
        self.join_network()
        asset = make_asset(county=self.county, library=self.library, uploaded_by=self.librarian)
        show_person(asset, name="Ola Nordmann", covers_sharing=True)
        return archive.archive_asset(by=self.editor, asset=asset)

    @cached_property
    def offered_item(self) -> ArchiveItem:
        """An item an editor offered to the network, waiting for the coordinator."""
        asset = make_asset(county=self.county, library=self.library, uploaded_by=self.librarian)
        show_person(asset, name="Per Nordmann", covers_sharing=True)
        self.join_network()
        item = archive.archive_asset(by=self.editor, asset=asset)
        access = next(access for access in county_accesses(self.editor) if access.county.pk == self.county.pk)
        network.offer(by=self.editor, access=access, item=item)
        return item

    @cached_property
    def network_concept(self) -> Concept:
        """A concept of the county, which takes part in the network."""
        self.join_network()
        return ConceptFactory(county=self.county, name="Fredagstipset")

    @cached_property
    def offered_concept(self) -> Concept:
        """A concept an editor offered to the network, waiting for the coordinator."""
        concept = ConceptFactory(county=self.county, name="Lørdagsquiz")
        self.join_network()
        network.offer(by=self.editor, access=self._editor_access, item=concept)
        return concept

    @cached_property
    def network_idea(self) -> Idea:
        """An accepted idea of the county, which takes part in the network."""
        self.join_network()
        return IdeaFactory(library=self.library, submitted_by=self.librarian, status=Idea.Status.ACCEPTED)

    @cached_property
    def offered_idea(self) -> Idea:
        """An accepted idea an editor offered to the network, waiting for the coordinator."""
        idea = IdeaFactory(library=self.library, submitted_by=self.librarian, status=Idea.Status.ACCEPTED)
        self.join_network()
        network.offer(by=self.editor, access=self._editor_access, item=idea)
        return idea

    @property
    def _editor_access(self) -> CountyAccess:
        return next(access for access in county_accesses(self.editor) if access.county.pk == self.county.pk)

    @cached_property
    def _third_county(self) -> tuple[County, Library, User]:
        """Vestland, in the network, with its county library and coordinator."""
        third = CountyFactory(name=f"Vestland {self.county.slug}", slug=f"vestland-{self.county.slug}", in_network=True)
        library = LibraryFactory(county=third, kind=Library.Kind.COUNTY, name=f"Vestland fylkesbibliotek {third.pk}")
        return third, library, MembershipFactory(library=library, role=Role.COORDINATOR).user

    def _shared_by_third(self, thing: Concept | Idea) -> SharedItem:
        self.join_network()
        _third, _library, coordinator = self._third_county
        [access] = county_accesses(coordinator)
        shared = network.offer(by=coordinator, access=access, item=thing, credit="@vestlandbibliotek")
        return network.approve(by=coordinator, access=access, shared=shared)

    @cached_property
    def pool_concept(self) -> SharedItem:
        """A concept a third county (Vestland) shares with the network, seen from this county."""
        third, _library, _coordinator = self._third_county
        return self._shared_by_third(ConceptFactory(county=third, name="Vestlandsvers"))

    @cached_property
    def pool_idea(self) -> SharedItem:
        """An accepted idea a third county (Vestland) shares with the network, seen from this county."""
        _third, library, coordinator = self._third_county
        return self._shared_by_third(
            IdeaFactory(library=library, submitted_by=coordinator, status=Idea.Status.ACCEPTED)
        )

    @cached_property
    def pool_item(self) -> SharedItem:
        """An item a third county (Vestland) shares with the network, seen from this county, which takes part."""
        self.join_network()
        third, library, coordinator = self._third_county
        asset = make_asset(county=third, library=library, uploaded_by=coordinator)
        show_person(asset, name="Siri Nordmann", covers_sharing=True)
        item = archive.archive_asset(by=coordinator, asset=asset)
        [access] = county_accesses(coordinator)
        # A credit of their own words: a translated default would be another language on some pages.
        shared = network.offer(by=coordinator, access=access, item=item, credit="@vestlandbibliotek")
        return network.approve(by=coordinator, access=access, shared=shared)

    @cached_property
    def comment(self) -> InstagramComment:
        return InstagramComment.objects.create(
            county=self.county,
            post=self.published_post,
            comment_id=f"1800000000{self.county.pk:06d}",
            username="leser",
            text="Når er neste pappatreff?",
            commented_at=timezone.now() - timedelta(hours=3),
        )

    @cached_property
    def outcome(self) -> Result:
        return Outcome.objects.create(
            post=self.published_post,
            library=self.library,
            kind=Outcome.Kind.LOANS,
            quantity=4,
            logged_by=self.librarian,
        )

    @cached_property
    def draft_post(self) -> Post:
        return make_post(county=self.county, author=self.editor, title="Utkast")

    @cached_property
    def scheduled_post(self) -> Post:
        ChannelFactory(county=self.county)
        return make_post(
            county=self.county,
            author=self.editor,
            status=Post.Status.SCHEDULED,
            scheduled_at=timezone.now() + timedelta(days=3),
            assets=[self.asset],
        )


def home_things(world: World) -> Things:
    return Things(world.county, world.library, world.librarian, world.editor, world.coordinator)


def away_things(world: World) -> Things:
    """The same objects in Agder, with a member library and a librarian and an editor of its own."""
    library = LibraryFactory(county=world.other_county, name="Arendal bibliotek")
    librarian = MembershipFactory(library=library, role=Role.LIBRARIAN).user
    editor = MembershipFactory(library=world.other_county_library, role=Role.EDITOR).user
    enable_mfa(editor)
    return Things(world.other_county, library, librarian, editor, world.outsider)


@pytest.fixture
def clients(world: World) -> dict[str, Client]:
    people = {
        "librarian": world.librarian,
        "other_librarian": world.other_librarian,
        "editor": world.editor,
        "coordinator": world.coordinator,
        "outsider": world.outsider,
    }
    return {"anonymous": Client()} | {role: client_for(user) for role, user in people.items()}


def outcome_of(response: HttpResponse) -> Result:
    login_pages = (reverse("account_login"), reverse("admin:login"))
    if response.status_code == 302 and response["Location"].split("?")[0].endswith(login_pages):
        return LOGIN
    if response.status_code in (403, 404, 405, 410):
        return response.status_code
    if response.status_code >= 500:
        return f"server error {response.status_code}"
    return OK


def ask(client: Client, method: str, url: str, row: Row, things: Things) -> Result:
    """One request, rolled back afterwards: nothing it changes reaches the next person's request."""
    data = row.data(things)  # objects it names are made before the savepoint, so that they stay
    with transaction.atomic():
        if method in ("get", "head"):
            response = getattr(client, method)(url, headers=row.headers)
        else:
            response = getattr(client, method)(url, data, headers=row.headers)
        transaction.set_rollback(True)
    return outcome_of(response)


# --- The tests ---


def test_every_url_pattern_has_an_expectation() -> None:
    """A new page must be added to MATRIX (with what each role gets) before this passes."""
    missing = [route for route in PATTERNS if route not in MATRIX and not route.startswith(ADMIN_PREFIX)]
    stale = [route for route in MATRIX if route not in PATTERNS]
    assert not missing, f"URL patterns without an expectation in the access matrix: {missing}"
    assert not stale, f"Expectations for URL patterns that no longer exist: {stale}"
    for route, rows in MATRIX.items():
        for row in rows:
            assert set(row.expect) == set(ROLES), (route, row)


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_each_role_gets_what_design_section_2_says(route: str, world: World, clients: dict[str, Client]) -> None:
    things = home_things(world)
    wrong = []
    for row in MATRIX[route]:
        url = url_for(route, row, things)
        for role in ROLES:
            got = ask(clients[role], row.method, url, row, things)
            if got != row.expect[role]:
                wrong.append(f"{row.method.upper()} {url} {row.note} as {role}: got {got}, expected {row.expect[role]}")
    assert not wrong, "\n".join(wrong)


def admin_urls(things: Things, *, skip: tuple[str, ...]) -> list[str]:
    """One concrete address for each admin URL pattern, but those named in `skip`."""
    kwargs = {
        "object_id": things.library.pk,
        "content_type_id": 1,
        "id": things.librarian.pk,
        "app_label": "libraries",
        "url": "nothing-here/",
    }
    urls = []
    for route, pattern in PATTERNS.items():
        if not route.startswith(ADMIN_PREFIX) or pattern.name in skip:
            continue
        needed = set(re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route))
        names = {name for pair in needed for name in pair if name}
        urls.append(concrete(pattern, {name: kwargs[name] for name in names}))
    assert len(urls) > 50
    return urls


def test_admin_is_for_staff_only(world: World, clients: dict[str, Client]) -> None:
    """Every page under /admin/: none of the six people is staff, so each is sent to log in."""
    # The admin's login (allauth's, see config/urls.py), logout and its translations are open.
    wrong = []
    for url in admin_urls(home_things(world), skip=("admin:login", "admin:logout", "admin:jsi18n")):
        for role, client in clients.items():
            with transaction.atomic():
                response = client.get(url)
                transaction.set_rollback(True)
            if response.status_code != 302 or "login" not in response["Location"]:
                wrong.append(f"GET {url} as {role}: {response.status_code}")
    assert not wrong, "\n".join(wrong)


def test_admin_staff_without_a_second_factor_set_it_up_before_every_admin_page(world: World) -> None:
    """Staff reach every county's data through the admin: a password alone opens none of it (REQUIRE_MFA)."""
    for flags in ({"is_staff": True}, {"is_staff": True, "is_superuser": True}):
        client = client_for(UserFactory(**flags))
        wrong = []
        for url in admin_urls(home_things(world), skip=("admin:login", "admin:logout")):
            with transaction.atomic():
                response = client.get(url)
                transaction.set_rollback(True)
            if response.status_code != 302 or response["Location"] != reverse("mfa_activate_totp"):
                wrong.append(f"GET {url} as {flags}: {response.status_code} {response.get('Location', '')}")
        assert not wrong, "\n".join(wrong)


def test_a_superuser_reaches_the_admin(world: World) -> None:
    """The other side of the rule above, so that it cannot pass by the admin being broken."""
    admin = UserFactory(email="admin@rogaland.example", is_staff=True, is_superuser=True)
    enable_mfa(admin)
    client = client_for(admin)
    assert client.get("/admin/").status_code == 200
    assert client.get(f"/admin/libraries/library/{world.library.pk}/change/").status_code == 200


def test_the_development_outbox_is_for_coordinators_and_staff(clients: dict[str, Client], settings) -> None:  # type: ignore[no-untyped-def]
    """It holds every county's invitation and password-reset links, so even in development: logged in,
    a coordinator (they send the invitations) or staff; never without DEBUG, whatever the backend."""
    settings.EMAIL_BACKEND_NAME = "outbox"
    settings.DEBUG = False
    assert {role: outcome_of(client.get("/outbox/")) for role, client in clients.items()} == anyone(MISSING)
    settings.DEBUG = True
    expected = everyone(obj=False) | {"librarian": DENIED, "other_librarian": DENIED, "editor": DENIED}
    assert {role: outcome_of(client.get("/outbox/")) for role, client in clients.items()} == expected
    staff = UserFactory(email="drift@innspill.example", is_staff=True)
    enable_mfa(staff)
    assert client_for(staff).get("/outbox/").status_code == 200


OBJECT_ROUTES = sorted(
    route
    for route, rows in MATRIX.items()
    if any(row.expect["outsider"] == MISSING and row.expect["coordinator"] == OK for row in rows)
)


@pytest.mark.parametrize("route", OBJECT_ROUTES)
def test_another_countys_objects_are_missing_for_everyone_in_this_county(
    route: str, world: World, clients: dict[str, Client]
) -> None:
    """Agder's objects, asked for by each of Rogaland's people: 404, whatever their role (DESIGN.md §2)."""
    things = away_things(world)
    wrong = []
    for row in MATRIX[route]:
        if row.expect["outsider"] != MISSING or row.expect["coordinator"] != OK:
            continue  # a method the view does not take, or a page with no object of a county
        url = url_for(route, row, things)
        for role in ("librarian", "other_librarian", "editor", "coordinator"):
            got = ask(clients[role], row.method, url, row, things)
            # A role too low for the page may be told so (403) before the object is looked up.
            allowed = {MISSING, DENIED} if row.expect[role] == DENIED else {MISSING}
            if got not in allowed:
                wrong.append(f"{row.method.upper()} {url} {row.note} as {role}: got {got}, expected 404")
    assert not wrong, "\n".join(wrong)
    # Agder's own coordinator does reach them (the objects are real, the 404s are the county's doing).
    agder = client_for(world.outsider)
    row = next(row for row in MATRIX[route] if row.expect["coordinator"] == OK and row.expect["outsider"] == MISSING)
    assert ask(agder, row.method, url_for(route, row, things), row, things) == OK


UNSAFE = ("post", "put", "patch", "delete")
CSRF_ROUTES = sorted(
    route for route, rows in MATRIX.items() if any(row.method in UNSAFE and OK in row.expect.values() for row in rows)
)


@pytest.mark.parametrize("route", CSRF_ROUTES)
def test_every_unsafe_request_needs_the_csrf_token(route: str, world: World) -> None:
    """With CSRF checks on (as browsers get them), an unsafe request without the token is refused, for every
    pattern and method someone may use; the same request with the token goes through."""
    things = home_things(world)
    people = {"librarian": world.librarian, "editor": world.editor, "coordinator": world.coordinator}
    for row in MATRIX[route]:
        role = next((role for role in ("anonymous", *people) if row.expect[role] == OK), None)
        if row.method not in UNSAFE or role is None:
            continue
        client = Client(enforce_csrf_checks=True)
        if role != "anonymous":
            client.force_login(people[role])
        url, data = url_for(route, row, things), row.data(things)
        with transaction.atomic():
            response = getattr(client, row.method)(url, data, headers=row.headers)
            transaction.set_rollback(True)
        assert response.status_code == 403, (route, row.method, role, response.status_code)
        assert b"CSRF" in response.content, (route, row.method, role)
        # The same request with the token (the cookie's secret, sent back in the header as htmx does) goes through.
        secret = get_random_string(32)
        client.cookies[settings.CSRF_COOKIE_NAME] = secret
        with transaction.atomic():
            response = getattr(client, row.method)(url, data, headers={**row.headers, "X-CSRFToken": secret})
            transaction.set_rollback(True)
        assert outcome_of(response) == OK, (route, row.method, role, response.status_code)


# What a page offers is data (STYLE.md convention 3): for the matrix's own objects, each action flag is
# true for exactly the people the matrix lets through that action's URL.
ACTIONS: list[tuple[str, str, Callable[[CountyAccess, Any], bool]]] = [
    ("ideas/<int:pk>/edit/", "idea", lambda access, idea: idea_actions(access, idea).can_edit),
    ("ideas/<int:pk>/accept/", "idea", lambda access, idea: idea_actions(access, idea).can_review),
    ("recording-days/<int:pk>/edit/", "day", lambda access, day: recording_day_actions(access, day).can_manage),
    (
        "recording-days/<int:pk>/announce/",
        "draft_day",
        lambda a, day: recording_day_actions(a, day).can_announce,
    ),
    ("posts/<int:pk>/edit/", "draft_post", lambda access, post: post_actions(access, post).can_edit),
    (
        "archive/<int:pk>/share/",
        "network_item",
        lambda a, item: sharing_actions(a, item, SharedItem.objects.filter(item=item).first()).can_offer,
    ),
    (
        "archive/<int:pk>/share/approve/",
        "offered_item",
        lambda a, item: sharing_actions(a, item, SharedItem.objects.filter(item=item).first()).can_approve,
    ),
    (
        "archive/<int:pk>/share/stop/",
        "offered_item",
        lambda a, item: sharing_actions(a, item, SharedItem.objects.filter(item=item).first()).can_unshare,
    ),
    (
        "network/<int:pk>/borrow/",
        "pool_item",
        lambda a, shared: pool_actions(a, has_copy=False, moderator=False).can_borrow,
    ),
    (
        "network/<int:pk>/borrow/",
        "pool_concept",
        lambda a, shared: pool_actions(a, has_copy=False, moderator=False, kind=shared.kind).can_borrow,
    ),
    (
        "network/<int:pk>/borrow/",
        "pool_idea",
        lambda a, shared: pool_actions(a, has_copy=False, moderator=False, kind=shared.kind).can_borrow,
    ),
    *(
        (
            f"network/{kind}s/<int:pk>/share/{action}",
            f"{thing}_{kind}",
            lambda a, obj, flag=flag: getattr(sharing_actions(a, obj, network.shared_of(obj)), flag),
        )
        for kind in ("concept", "idea")
        for action, thing, flag in (
            ("", "network", "can_offer"),
            ("approve/", "offered", "can_approve"),
            ("stop/", "offered", "can_unshare"),
        )
    ),
    (
        "libraries/invitations/<int:pk>/resend/",
        "invitation",
        lambda a, inv: invitation_actions(a, inv).can_resend,
    ),
    (
        "libraries/invitations/<int:pk>/revoke/",
        "invitation",
        lambda a, inv: invitation_actions(a, inv).can_revoke,
    ),
]


@pytest.mark.parametrize(
    ("route", "thing", "flag"), ACTIONS, ids=[f"{route} {thing}" for route, thing, _flag in ACTIONS]
)
def test_the_actions_a_page_offers_are_what_the_gate_lets_through(
    route: str, thing: str, flag: Callable[[CountyAccess, Any], bool], world: World
) -> None:
    things = home_things(world)
    obj = getattr(things, thing)
    # The route's POST row for this object (a route may have one per kind of object it takes).
    (row,) = [row for row in MATRIX[route] if row.method == "post" and row.kwargs(things).get("pk") in (None, obj.pk)]
    people = {
        "librarian": world.librarian,
        "other_librarian": world.other_librarian,
        "editor": world.editor,
        "coordinator": world.coordinator,
    }
    for role, user in people.items():
        access = next(access for access in county_accesses(user) if access.county == things.county)
        assert flag(access, obj) == (row.expect[role] == OK), f"{route} as {role}"


# --- The network of counties: a county sees another's item only while it is shared (DESIGN.md §8) ---


def _thumbnailed(item: ArchiveItem) -> ArchiveItem:
    item.asset.thumbnail.save("thumbnail.webp", ContentFile(jpeg(32, 32)), save=True)
    return item


def _network_items(things: Things) -> dict[str, ArchiveItem]:
    """Items of `things.county` (in the network) in every state of sharing: approved, offered, un-shared, hidden."""
    things.join_network()
    coordinator = next(access for access in county_accesses(things.coordinator) if access.county == things.county)
    # A moderator from another county in the network (moderation comes from outside the item's county).
    moderator = UserFactory(is_network_moderator=True)
    elsewhere = CountyFactory(
        name=f"Nordland {things.county.slug}", slug=f"nordland-{things.county.slug}", in_network=True
    )
    moderator_access = CountyAccess(elsewhere, Role.LIBRARIAN, frozenset(), moderator.pk)
    items = {}
    for state in ("shared", "offered", "unshared", "hidden"):
        asset = make_asset(county=things.county, library=things.library, uploaded_by=things.librarian)
        show_person(asset, name=f"Ola {state}", covers_sharing=True)
        item = _thumbnailed(archive.archive_asset(by=things.coordinator, asset=asset))
        shared = network.offer(by=things.coordinator, access=coordinator, item=item)
        if state != "offered":
            network.approve(by=things.coordinator, access=coordinator, shared=shared)
        if state == "unshared":
            network.unshare(by=things.coordinator, access=coordinator, shared=shared)
        if state == "hidden":
            network.hide(by=moderator, access=moderator_access, shared=shared, reason="Feil bilde")
        items[state] = item
    return items


def test_the_pool_shows_only_what_other_participating_counties_shared_and_nothing_else_of_theirs(
    world: World, clients: dict[str, Client]
) -> None:
    """Rogaland (in the network) looks at Agder (in the network) and Vestland (shared an item, then left):
    only Agder's approved, not hidden item is in the pool and its picture served; Agder's other items, its
    drafts, people, consent forms and reports, and everything of Vestland's, stay 404."""
    home = home_things(world)
    home.join_network()
    agder = away_things(world)
    agder_items = _network_items(agder)
    third = CountyFactory(name="Vestland", slug="vestland")
    vestland = Things(
        third,
        LibraryFactory(county=third, name="Bergen bibliotek"),
        *(MembershipFactory(library__county=third, role=role).user for role in (Role.LIBRARIAN, Role.EDITOR)),
        MembershipFactory(library=LibraryFactory(county=third, kind=Library.Kind.COUNTY), role=Role.COORDINATOR).user,
    )
    vestland_items = _network_items(vestland)
    third.in_network = False  # left the network: nothing of it is shared now
    third.save(update_fields=["in_network"])

    visible = agder_items["shared"]
    missing = [item for state, item in agder_items.items() if state != "shared"] + list(vestland_items.values())
    for role in ("librarian", "other_librarian", "editor", "coordinator"):
        client = clients[role]
        pool = client.get(reverse("publishing:pool"))
        assert [item.pk for item, *_rest in pool.context["cards"]] == [visible.pk], role
        assert client.get(reverse("publishing:pool_item", args=[visible.shared.pk])).status_code == 200, role
        assert client.get(visible.asset.thumbnail_url).status_code == 200, role
        wrong = []
        urls = [
            visible.get_absolute_url(),  # their archive's page of it: the pool's page is the one to see
            visible.asset.get_absolute_url(),
            visible.asset.file_url("original"),
            f"{visible.asset.thumbnail_url}&download=1",  # the address carries its version (?v=)
            reverse("production:person_detail", args=[agder.register_person.pk]),
            reverse("production:consent_evidence", args=[agder.consent.pk]),
            reverse("publishing:post_detail", args=[agder.draft_post.pk]),
            f"{reverse('publishing:report')}?library={agder.library.pk}",
        ]
        for item in missing:
            urls += [
                reverse("publishing:pool_item", args=[item.shared.pk]),
                item.get_absolute_url(),
                item.asset.thumbnail_url,
            ]
        for url in urls:
            got = outcome_of(client.get(url))
            # A role too low for the page may be told so (403) before the object is looked up.
            if got not in (MISSING, DENIED) or (got == DENIED and role in ("editor", "coordinator")):
                wrong.append(f"GET {url} as {role}: {got}")
        for item in missing:
            got = outcome_of(client.post(reverse("publishing:pool_borrow", args=[item.shared.pk])))
            if got not in (MISSING, DENIED):
                wrong.append(f"borrow {item} as {role}: {got}")
        assert not wrong, "\n".join(wrong)
