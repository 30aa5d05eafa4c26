"""The small world the ingest, upload and publishing measures work in (database innspill_bench_work).

A county with its county library and three member libraries, a coordinator
and an editor, an idea to upload media to, and the county's Instagram
channel. `reset()` empties the work database and its media first, so every
run starts from the same state; `work_world()` finds the world again in a
child process.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from bench.data import BENCH_PASSWORD, ensure_second_factors, wipe
from libraries.models import County, Library, Membership, Role, User
from production.models import ContentType, Idea
from publishing.models import Channel

COORDINATOR = "koordinator@work.bench.example"
EDITOR = "redaktor@work.bench.example"
IG_USER_ID = "17841400000000001"  # the account the fake Graph API starts with (publishing/fake_graph)


@dataclass(frozen=True)
class WorkWorld:
    county: County
    county_library: Library
    members: list[Library]
    coordinator: User
    editor: User
    idea: Idea
    channel: Channel


def reset(*, token: str = "") -> WorkWorld:
    """Empty the work database, the bench's asset files and its Celery queue; then make the world.

    The queue holds what an earlier measure enqueued and no worker took (the
    upload measure's processing tasks); the publishing measure's worker must
    not spend its time on those.
    """
    from config.celery import app

    app.control.purge()
    for directory in ("assets", "ideas", "consents"):
        shutil.rmtree(Path(settings.MEDIA_ROOT) / directory, ignore_errors=True)
    shutil.rmtree(Path(settings.UPLOAD_TEMP_DIR), ignore_errors=True)
    Path(settings.UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
    with transaction.atomic():
        wipe()
        county = County.objects.create(name="Rogaland", slug="rogaland")
        county_library = Library.objects.create(
            county=county,
            kind=Library.Kind.COUNTY,
            name="Rogaland fylkesbibliotek",
            municipality="Stavanger",
            instagram_username="rogalandfylkesbibliotek",
        )
        members = [
            Library.objects.create(
                county=county, name=f"{name} bibliotek", municipality=name, instagram_username=f"{handle}bibliotek"
            )
            for name, handle in (("Sandnes", "sandnes"), ("Sola", "sola"), ("Karmøy", "karmoy"))
        ]
        password = make_password(BENCH_PASSWORD)
        coordinator = User.objects.create(email=COORDINATOR, name="Kari Nordmann", password=password)
        editor = User.objects.create(email=EDITOR, name="Ola Hansen", password=password)
        Membership.objects.create(user=coordinator, library=county_library, role=Role.COORDINATOR)
        Membership.objects.create(user=editor, library=county_library, role=Role.EDITOR)
        Idea.objects.create(
            library=members[0],
            submitted_by=coordinator,
            title="Fem bøker for regnværsdager",
            pitch="Bibliotekaren viser fem bøker fra krimhylla.",
            content_type=ContentType.LITERATURE,
            status=Idea.Status.RECORDED,
        )
        channel = Channel(
            county=county,
            status=Channel.Status.CONNECTED,
            account_id=IG_USER_ID,
            username="fake_library",
            token_expires_at=timezone.now() + timedelta(days=50),
            connected_by=coordinator,
            connected_at=timezone.now(),
        )
        channel.set_access_token(token)
        channel.save()
        ensure_second_factors()
    return work_world()


def work_world() -> WorkWorld:
    county = County.objects.get(slug="rogaland")
    return WorkWorld(
        county=county,
        county_library=Library.objects.get(county=county, kind=Library.Kind.COUNTY),
        members=list(Library.objects.for_county(county).members().order_by("name")),
        coordinator=User.objects.get(email=COORDINATOR),
        editor=User.objects.get(email=EDITOR),
        idea=Idea.objects.get(library__county=county),
        channel=Channel.objects.get(county=county),
    )
