"""Bench data at a scale factor: counties, libraries and people, and five years of one county's history.

Scale N means:

* N counties, each with a county library and 25 member libraries named after
  real Norwegian municipalities (a real county has about that many, so the
  number of libraries per county stays fixed), 3·N staff per library and
  200·N invitations per county;
* county 1 (the one every page is requested as) with N times the history of
  a busy county over five years: 3,000·N ideas with comments, 250·N recording
  days with run sheets and sign-ups, 2,500·N posts (published, and a few
  weeks of planned ones), 20,000·N photos and videos with the people shown
  and their consent, and one archive item per asset. Scale 1 is one county
  with 20,000 archive items; scale 5 reaches 100,000.

County 1 thus grows with the scale, so a page whose query count grows
between scales has an N+1 problem. The text is Norwegian (bench/text.py),
so the archive's search works on what it will meet in production. Archive
items get their copied fields and search documents from the real
`publishing.archive.filing.refresh_items`, not from a second way of writing them.

Rows are bulk-inserted; asset rows point at a few shared small files (under
the bench's own MEDIA_ROOT) rather than 100,000 files of their own. Each
scale has a database of its own (bench/environment.py), and a load is kept
while it matches DATA_VERSION, the scale and the migrations and is less than
MAX_AGE old (the history is relative to the day it was made).

    python -m config.embedded exec -- python -m bench.run data --scale 5
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.db import connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from bench import text
from libraries.models import County, Invitation, Library, Membership, Role, User, hash_token
from production.models import (
    Asset,
    AssetPerson,
    Concept,
    Consent,
    ContentType,
    Idea,
    IdeaComment,
    Person,
    PersonCategory,
    PresenterSignup,
    RecordingDay,
    RunSheetSlot,
)
from production.processing.inspection import inspect_upload
from publishing.archive.filing import orientation_of, refresh_items
from publishing.models import (
    Approval,
    ArchiveItem,
    ArchiveReuse,
    Channel,
    InstagramComment,
    Post,
    PostAsset,
    PostCollaborator,
)

# Bump when the generator changes: a database loaded by an older version is loaded again.
DATA_VERSION = 5  # 5: follower comments and the account's replies on published posts
MAX_AGE = timedelta(days=7)

BENCH_PASSWORD = "bench-innspill-password"  # noqa: S105 - the bench database only
MEMBER_LIBRARIES_PER_COUNTY = 25
STAFF_PER_LIBRARY = 3
INVITATIONS_PER_COUNTY = 200
# County 1's history per unit of scale (the issue's figures for one busy county over five years).
IDEAS = 3000
RECORDING_DAYS = 250
POSTS = 2500
ASSETS = 20_000
HISTORY_DAYS = 5 * 365
PLANNED_AHEAD_DAYS = 56  # posts and recording days already planned for the next eight weeks
BATCH = 2000

COUNTIES = [
    "Rogaland", "Agder", "Vestland", "Innlandet", "Trøndelag", "Nordland", "Akershus", "Buskerud",
    "Østfold", "Vestfold", "Telemark", "Møre og Romsdal", "Troms", "Finnmark", "Oslo",
]  # fmt: skip
MUNICIPALITIES = [
    "Bjerkreim", "Bokn", "Eigersund", "Gjesdal", "Haugesund", "Hjelmeland", "Hå", "Karmøy", "Klepp",
    "Kvitsøy", "Lund", "Randaberg", "Sandnes", "Sauda", "Sokndal", "Sola", "Stavanger", "Strand",
    "Suldal", "Time", "Tysvær", "Utsira", "Vindafjord", "Arendal", "Grimstad", "Kristiansand",
    "Lillesand", "Lindesnes", "Farsund", "Flekkefjord", "Risør", "Tvedestrand", "Vennesla", "Bergen",
    "Voss", "Stord", "Førde", "Sogndal", "Lillehammer", "Hamar", "Gjøvik", "Elverum", "Kongsvinger",
    "Trondheim", "Steinkjer", "Levanger", "Bodø", "Narvik", "Mo i Rana", "Tromsø",
]  # fmt: skip
WITHOUT_INSTAGRAM = 3  # a few member libraries per county have no Instagram account yet

# The county's concepts: (name, content type, cadence, time of day, description).
CONCEPTS = [
    ("Fredagstipset", ContentType.LITERATURE, "FREQ=WEEKLY;BYDAY=FR", clock(12), "En ansatt anbefaler en bok."),
    ("Møt bibliotekaren", ContentType.RELATIONSHIP, "FREQ=WEEKLY;BYDAY=TU", clock(15), "Folka bak skranken."),
    ("Pappatreff", ContentType.OFFERS, "FREQ=MONTHLY;BYDAY=-1TU", clock(18), "Påminnelse om pappatreffet."),
    ("Månedens anbefaling", ContentType.LITERATURE, "FREQ=MONTHLY;BYDAY=1MO", clock(10), "En film om en bok."),
    ("Strikkekafé", ContentType.OFFERS, "FREQ=MONTHLY;BYDAY=2TH", clock(17), "Strikking og prat."),
    ("Bak kulissene", ContentType.RELATIONSHIP, "FREQ=MONTHLY;BYDAY=3WE", clock(14), "Humor og hverdag."),
    ("Sommerles", ContentType.LITERATURE, "", clock(12), "Lesekampanjen for barn om sommeren."),
    ("Avstemning", ContentType.RELATIONSHIP, "", clock(19), "Papir eller skjerm? Spør følgerne."),
]
SHARED_FILES = "bench-shared"


@dataclass(frozen=True)
class Counts:
    """How many rows a scale produces; also how an existing load is recognised."""

    counties: int
    libraries: int
    users: int
    invitations: int
    ideas: int
    recording_days: int
    posts: int
    assets: int
    archive_items: int


def expected_counts(scale: int) -> Counts:
    libraries_per_county = MEMBER_LIBRARIES_PER_COUNTY + 1
    return Counts(
        counties=scale,
        libraries=scale * libraries_per_county,
        users=scale * libraries_per_county * STAFF_PER_LIBRARY * scale,
        invitations=scale * INVITATIONS_PER_COUNTY * scale,
        ideas=IDEAS * scale,
        recording_days=RECORDING_DAYS * scale,
        posts=POSTS * scale,
        assets=ASSETS * scale,
        archive_items=ASSETS * scale,
    )


def current_counts() -> Counts:
    return Counts(
        counties=County.objects.count(),
        libraries=Library.objects.count(),
        users=User.objects.count(),
        invitations=Invitation.objects.count(),
        ideas=Idea.objects.count(),
        recording_days=RecordingDay.objects.count(),
        posts=Post.objects.count(),
        assets=Asset.objects.count(),
        archive_items=ArchiveItem.objects.count(),
    )


def coordinator_email(county_number: int) -> str:
    """The login of county N's coordinator; county 1's is the bench's logged-in user."""
    return f"koordinator.{county_number}@bench.example"


def bench_county_slug() -> str:
    """County 1, the one with the history."""
    return _ascii(COUNTIES[0])


def bench_user() -> User:
    """The user every page is requested as: the coordinator of county 1."""
    return User.objects.get(email=coordinator_email(1))


def asset_with_most_people_path() -> str:
    """The page of county 1's asset that shows the most people from the register (the asset page's worst case)."""
    most = (
        AssetPerson.objects.filter(asset__county__slug=bench_county_slug())
        .values("asset_id")
        .annotate(tagged=models.Count("pk"))
        .order_by("-tagged", "asset_id")
        .first()
    )
    if most is None:
        raise RuntimeError("The bench data tags no people; load it first.")
    return reverse("production:asset_detail", args=[most["asset_id"]])


def busiest_planned_post_path() -> str:
    """The page of county 1's planned post with the most media and collaborators (the post page's worst case)."""
    most = (
        Post.objects.filter(county__slug=bench_county_slug(), published_at__isnull=True)
        .annotate(media=models.Count("assets", distinct=True), libraries=models.Count("collaborators", distinct=True))
        .order_by("-media", "-libraries", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    if most is None:
        raise RuntimeError("The bench data plans no posts; load it first.")
    return reverse("publishing:post_detail", args=[most])


def _ascii(text_: str) -> str:
    table = str.maketrans({"å": "aa", "ø": "o", "æ": "ae", " ": ""})
    return text_.lower().translate(table)


# --- Keeping a load ---

_META_TABLE = "bench_meta"


def _fingerprint(scale: int) -> dict[str, object]:
    applied = sorted(f"{app}.{name}" for app, name in MigrationRecorder(connection).applied_migrations())
    return {"version": DATA_VERSION, "scale": scale, "migrations": applied}


def _stored_meta() -> dict[str, object] | None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {_META_TABLE} (key text PRIMARY KEY, value jsonb NOT NULL)")
        cursor.execute(f"SELECT value FROM {_META_TABLE} WHERE key = 'load'")  # noqa: S608 - a fixed name
        row = cursor.fetchone()
    if row is None:
        return None
    value = row[0]
    return json.loads(value) if isinstance(value, str) else dict(value)


def _store_meta(scale: int, seconds: float) -> None:
    meta = {**_fingerprint(scale), "loaded_at": timezone.now().isoformat(), "seconds": round(seconds, 1)}
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_META_TABLE} (key, value) VALUES ('load', %s) "  # noqa: S608 - a fixed name
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [json.dumps(meta)],
        )


def is_loaded(scale: int) -> bool:
    """The database holds this scale, made by this generator on these migrations, recently enough."""
    meta = _stored_meta()
    if meta is None or {key: meta.get(key) for key in ("version", "scale", "migrations")} != _fingerprint(scale):
        return False
    loaded_at = datetime.fromisoformat(str(meta["loaded_at"]))
    return timezone.now() - loaded_at < MAX_AGE and current_counts() == expected_counts(scale)


def wipe() -> None:
    """Empty every table of the project's apps (and allauth's, and the sessions) in the bench database."""
    keep = {"django_migrations", "django_content_type", "auth_permission", "auth_group", "auth_group_permissions"}
    tables = [t for t in connection.introspection.django_table_names(only_existing=True) if t not in keep]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(connection.ops.quote_name(t) for t in tables)} RESTART IDENTITY CASCADE")


@contextlib.contextmanager
def _history_timestamps() -> Iterator[None]:
    """Let the generator write created_at and updated_at itself (five years back) instead of now()."""
    fields = [
        field
        for model in (
            Idea,
            IdeaComment,
            RecordingDay,
            Post,
            Asset,
            ArchiveItem,
            Invitation,
            Consent,
            AssetPerson,
            Person,
        )
        for field in model._meta.concrete_fields
        if isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add)
    ]
    saved = [(field, field.auto_now, field.auto_now_add) for field in fields]
    for field in fields:
        field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, auto_now, auto_now_add in saved:
            field.auto_now, field.auto_now_add = auto_now, auto_now_add


def load(scale: int, *, verbose: bool = True) -> Counts:
    """Make the bench database hold exactly this scale; returns the row counts.

    ANALYZE follows every load: right after a bulk insert PostgreSQL has no
    statistics for the new rows and may pick plans production never would,
    which showed up as pages several times slower until autovacuum caught up.
    """
    if scale < 1:
        raise ValueError("The scale must be at least 1.")
    if is_loaded(scale):
        ensure_second_factors()
        return expected_counts(scale)
    started = time.monotonic()
    generator = _Generator(scale, verbose=verbose)
    with transaction.atomic(), _history_timestamps():
        wipe()
        generator.run()
        # Sessions and cached objects of the previous load refer to rows that are gone.
        transaction.on_commit(cache.clear)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    loaded = current_counts()
    if loaded != expected_counts(scale):
        raise RuntimeError(f"The bench data does not add up: expected {expected_counts(scale)}, loaded {loaded}.")
    ensure_second_factors()
    _store_meta(scale, time.monotonic() - started)
    generator.say(f"loaded in {time.monotonic() - started:.0f} s")
    return loaded


def ensure_second_factors() -> None:
    """Every coordinator and editor has an authenticator, as production requires (REQUIRE_MFA, the default).

    The bench runs with REQUIRE_MFA on, like production, so the middleware's
    check costs the pages what it costs there; a logged-in session (made with
    force_login) then reaches the pages as one that passed the second step does.
    """
    from allauth.mfa.models import Authenticator

    needing = (
        User.objects.filter(memberships__role__in=[Role.COORDINATOR, Role.EDITOR])
        .exclude(authenticator__type=Authenticator.Type.TOTP)
        .distinct()
    )
    Authenticator.objects.bulk_create(
        # A placeholder secret: nobody logs in with it, the middleware only asks whether there is one.
        Authenticator(user=user, type=Authenticator.Type.TOTP, data={"secret": "bench-placeholder"})
        for user in needing
    )


# --- The shared files every asset row points at ---


def _jpeg(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def shared_files() -> dict[str, str]:
    """Small real files under MEDIA_ROOT that all asset rows share; returns their storage names."""
    root = Path(settings.MEDIA_ROOT) / SHARED_FILES
    root.mkdir(parents=True, exist_ok=True)
    files = {
        "photo": ("original.jpg", lambda: _jpeg((1600, 1200), (40, 90, 120))),
        "rendition": ("rendition.jpg", lambda: _jpeg((1080, 1080), (40, 90, 120))),
        "poster": ("poster.jpg", lambda: _jpeg((1080, 1920), (120, 60, 40))),
        "thumbnail": ("thumbnail.webp", None),
    }
    names: dict[str, str] = {}
    for key, (name, make) in files.items():
        path = root / name
        if make is not None and not path.exists():
            path.write_bytes(make())
        names[key] = f"{SHARED_FILES}/{name}"
    thumbnail = root / "thumbnail.webp"
    if not thumbnail.exists():
        Image.new("RGB", (480, 360), (40, 90, 120)).save(thumbnail, "WEBP", quality=80)
    return names


# --- The generator ---


class _Generator:
    """One load: every step bulk-inserts one kind of row, in dependency order."""

    def __init__(self, scale: int, *, verbose: bool) -> None:
        self.scale = scale
        self.verbose = verbose
        self.rng = random.Random(20261122 + scale)  # the same data every run
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.start = self.now - timedelta(days=HISTORY_DAYS)
        self.step_started = time.monotonic()

    def say(self, message: str) -> None:
        if self.verbose:
            print(f"   data: {message} ({time.monotonic() - self.step_started:.1f} s)", flush=True)
        self.step_started = time.monotonic()

    def moment(self, start: datetime, end: datetime) -> datetime:
        return start + timedelta(seconds=self.rng.uniform(0, (end - start).total_seconds()))

    def run(self) -> None:
        self.people()
        self.say("counties, libraries, people, invitations")
        self.production()
        self.say(f"{len(self.ideas)} ideas, {len(self.days)} recording days")
        self.assets()
        self.say(f"{len(self.asset_rows)} assets and the people shown")
        self.posts()
        self.say(f"{len(self.post_rows)} posts")
        comments = self.comments()
        self.say(f"{comments} Instagram comments and replies")
        self.archive()
        self.say(f"{len(self.asset_rows)} archive items")

    # --- Counties, libraries, people, invitations ---

    def people(self) -> None:
        scale = self.scale
        password = make_password(BENCH_PASSWORD)
        counties = County.objects.bulk_create(
            County(
                name=COUNTIES[i] if i < len(COUNTIES) else f"Fylke {i + 1}",
                slug=_ascii(COUNTIES[i]) if i < len(COUNTIES) else f"fylke-{i + 1}",
            )
            for i in range(scale)
        )
        libraries_by_county = {
            number: Library.objects.bulk_create(self._county_libraries(number, county))
            for number, county in enumerate(counties, start=1)
        }
        people = [
            (library, user, role)
            for number, libraries in libraries_by_county.items()
            for library_index, library in enumerate(libraries)
            for user, role in self._staff(number, library_index, library)
        ]
        for _library, user, _role in people:
            user.password = password
        User.objects.bulk_create([user for _library, user, _role in people], batch_size=BATCH)
        Membership.objects.bulk_create(
            [Membership(user=user, library=library, role=role) for library, user, role in people], batch_size=BATCH
        )
        staff: dict[int, list[User]] = {}
        for library, user, _role in people:
            staff.setdefault(library.pk, []).append(user)
        invitations: list[Invitation] = []
        for number, libraries in libraries_by_county.items():
            coordinator = staff[libraries[0].pk][0]
            invitations += self._invitations(number, libraries, staff, coordinator)
        Invitation.objects.bulk_create(invitations, batch_size=BATCH)

        self.county = counties[0]
        self.libraries = libraries_by_county[1]
        self.county_library, self.members = self.libraries[0], self.libraries[1:]
        self.staff = staff
        county_staff = staff[self.county_library.pk]
        self.coordinator, self.editors = county_staff[0], county_staff[1:STAFF_PER_LIBRARY]

    def _county_libraries(self, number: int, county: County) -> list[Library]:
        slug = _ascii(county.name)
        offset = (number - 1) * 7 % len(MUNICIPALITIES)
        names = (MUNICIPALITIES[offset:] + MUNICIPALITIES[:offset])[:MEMBER_LIBRARIES_PER_COUNTY]
        libraries = [
            Library(
                county=county,
                kind=Library.Kind.COUNTY,
                name=f"{county.name} fylkesbibliotek",
                municipality=names[0],
                instagram_username=f"{slug}fylkesbibliotek{number}"[:30],
                email=f"post@{slug}.bench.example",
                address=f"Kongsgata {number}, {names[0]}",
            )
        ]
        for index, municipality in enumerate(names):
            handle = _ascii(municipality)
            libraries.append(
                Library(
                    county=county,
                    kind=Library.Kind.MEMBER,
                    name=f"{municipality} bibliotek",
                    municipality=municipality,
                    instagram_username="" if index < WITHOUT_INSTAGRAM else f"{handle}bibliotek{number}"[:30],
                    email=f"bibliotek@{handle}.{number}.bench.example",
                    address=f"Torget {index + 1}, {municipality}",
                )
            )
        return libraries

    def _staff(self, number: int, library_index: int, library: Library) -> list[tuple[User, Role]]:
        """3·scale people per library; the county library has the coordinator and two editors first."""
        people: list[tuple[User, Role]] = []
        for person in range(STAFF_PER_LIBRARY * self.scale):
            if library.kind == Library.Kind.COUNTY and person == 0:
                email, role = coordinator_email(number), Role.COORDINATOR
            elif library.kind == Library.Kind.COUNTY and person < STAFF_PER_LIBRARY:
                email, role = f"redaktor.{number}.{person}@bench.example", Role.EDITOR
            else:
                email, role = f"bibliotekar.{number}.{library_index}.{person}@bench.example", Role.LIBRARIAN
            name = f"{text.STAFF[(library_index + person) % len(text.STAFF)]} {library.municipality} {person + 1}"
            people.append((User(email=email, name=name), role))
        return people

    def _invitations(
        self, number: int, libraries: list[Library], staff: dict[int, list[User]], coordinator: User
    ) -> list[Invitation]:
        """200·scale invitations: about half open, a quarter accepted, the rest revoked or expired."""
        rng = random.Random(number)
        invitations = []
        for index in range(INVITATIONS_PER_COUNTY * self.scale):
            library = libraries[index % len(libraries)]
            sent_at = self.now - timedelta(days=rng.randint(0, 30), minutes=rng.randint(0, 1440))
            invitation = Invitation(
                email=f"invitert.{number}.{index}@bench.example",
                name=f"Invitert {index}" if index % 3 else "",
                library=library,
                role=Role.EDITOR if index % 10 == 0 else Role.LIBRARIAN,
                invited_by=coordinator,
                token_hash=hash_token(f"bench-{number}-{index}"),
                created_at=sent_at,
                sent_at=sent_at,
                expires_at=sent_at + timedelta(days=14),
            )
            kind = index % 8
            if kind in (0, 1):
                invitation.accepted_at = sent_at + timedelta(hours=rng.randint(1, 48))
                invitation.accepted_by = rng.choice(staff[library.pk])
            elif kind == 2:
                invitation.revoked_at = sent_at + timedelta(hours=rng.randint(1, 48))
            elif kind == 3:
                invitation.sent_at = invitation.sent_at - timedelta(days=20)  # expired, never accepted
                invitation.expires_at = invitation.sent_at + timedelta(days=14)
            invitations.append(invitation)
        return invitations

    # --- Production: concepts, ideas, recording days ---

    def production(self) -> None:
        rng, scale = self.rng, self.scale
        self.concepts = Concept.objects.bulk_create(
            Concept(
                county=self.county,
                name=name,
                description=description,
                content_type=content_type,
                cadence_rule=rule,
                starts_on=self.start.date(),
                time_of_day=at,
                owner=rng.choice(self.editors),
                created_at=self.start,
            )
            for name, content_type, rule, at, description in CONCEPTS
        )
        self.ideas = self._ideas(IDEAS * scale)
        Idea.objects.bulk_create(self.ideas, batch_size=BATCH)
        links = [
            Idea.libraries.through(idea_id=idea.pk, library_id=library.pk)
            for idea in self.ideas
            for library in rng.sample(self.members, rng.choice([0, 0, 1, 1, 2, 3]))
            if library.pk != idea.library_id
        ]
        Idea.libraries.through.objects.bulk_create(links, batch_size=BATCH, ignore_conflicts=True)
        comments = [
            IdeaComment(
                idea=idea,
                author=rng.choice([self.coordinator, *self.editors, idea.submitted_by]),
                body=text.comment(rng),
                created_at=idea.created_at + timedelta(hours=rng.randint(1, 200)),
            )
            for idea in self.ideas
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 4]))
        ]
        IdeaComment.objects.bulk_create(comments, batch_size=BATCH)
        self.days = self._recording_days(RECORDING_DAYS * scale)

    def _ideas(self, count: int) -> list[Idea]:
        rng, S = self.rng, Idea.Status
        ideas = []
        for _ in range(count):
            created = self.moment(self.start, self.now - timedelta(hours=1))
            age = (self.now - created).days
            if age < 21:
                status = rng.choices([S.SUBMITTED, S.ACCEPTED, S.DECLINED], weights=[6, 3, 1])[0]
            elif age < 120:
                recent = [S.ACCEPTED, S.PLANNED, S.RECORDED, S.DECLINED, S.USED]
                status = rng.choices(recent, weights=[2, 3, 2, 1, 2])[0]
            else:
                status = rng.choices([S.USED, S.DECLINED, S.RECORDED, S.ACCEPTED], weights=[6, 2, 1, 1])[0]
            library = rng.choice(self.members) if rng.random() < 0.9 else self.county_library
            concept = rng.choice(self.concepts) if rng.random() < 0.55 else None
            content_type = concept.content_type if concept else rng.choice(ContentType.values)
            borrowed = rng.random() < 0.2
            ideas.append(
                Idea(
                    library=library,
                    submitted_by=rng.choice(self.staff[library.pk]),
                    title=text.idea_title(rng),
                    pitch=text.pitch(rng, library.name),
                    content_type=content_type,
                    concept=concept,
                    audiences=rng.sample(["children", "youth", "adults", "everyone"], rng.randint(1, 2)),
                    credit_name="@deichman" if borrowed else "",
                    credit_url="https://www.instagram.com/deichman/" if borrowed else "",
                    status=status,
                    decline_reason="Vi har en lignende video fra i fjor." if status == S.DECLINED else "",
                    reviewed_by=None if status == S.SUBMITTED else rng.choice(self.editors),
                    reviewed_at=None if status == S.SUBMITTED else created + timedelta(days=rng.randint(1, 10)),
                    created_at=created,
                    updated_at=created + timedelta(days=rng.randint(0, 30)),
                )
            )
        return ideas

    def _recording_days(self, count: int) -> list[RecordingDay]:
        rng = self.rng
        first, last = self.today - timedelta(days=HISTORY_DAYS), self.today + timedelta(days=PLANNED_AHEAD_DAYS)
        span = (last - first).days
        days = []
        for index in range(count):
            day = first + timedelta(days=round(index * span / count) + rng.randint(0, 2))
            status = (
                RecordingDay.Status.DONE
                if day < self.today
                else rng.choice([RecordingDay.Status.ANNOUNCED, RecordingDay.Status.DRAFT])
            )
            created = datetime.combine(day - timedelta(days=40), clock(9), tzinfo=self.now.tzinfo)
            days.append(
                RecordingDay(
                    county=self.county,
                    date=day,
                    host_library=rng.choice(self.members),
                    capacity=8,
                    notes="Ta med lånekort og favorittboka. Parkering bak biblioteket.",
                    status=status,
                    announced_at=created if status != RecordingDay.Status.DRAFT else None,
                    announcement_sent_at=created if status != RecordingDay.Status.DRAFT else None,
                    done_at=created + timedelta(days=41) if status == RecordingDay.Status.DONE else None,
                    created_by=self.coordinator,
                    created_at=created,
                    updated_at=created,
                )
            )
        RecordingDay.objects.bulk_create(days, batch_size=BATCH)
        RecordingDay.participating_libraries.through.objects.bulk_create(
            [
                RecordingDay.participating_libraries.through(recordingday_id=day.pk, library_id=library.pk)
                for day in days
                for library in rng.sample(self.members, rng.randint(2, 5))
            ],
            batch_size=BATCH,
            ignore_conflicts=True,
        )
        RecordingDay.responsible.through.objects.bulk_create(
            [RecordingDay.responsible.through(recordingday_id=day.pk, user_id=self.coordinator.pk) for day in days],
            batch_size=BATCH,
        )
        # Run sheets: up to six ideas a day (those planned, recorded or used), a break, and the sign-ups.
        placed = [i for i in self.ideas if i.status in (Idea.Status.PLANNED, Idea.Status.RECORDED, Idea.Status.USED)]
        rng.shuffle(placed)
        slots, signups = [], []
        for day in days:
            chosen = [placed.pop() for _ in range(min(rng.randint(2, 6), len(placed)))]
            for position, idea in enumerate(chosen, start=1):
                slots.append(RunSheetSlot(recording_day=day, position=position, idea=idea, duration_minutes=30))
            slots.append(RunSheetSlot(recording_day=day, position=len(chosen) + 1, title="Lunsj", duration_minutes=45))
            people = {idea.submitted_by_id: idea.library_id for idea in chosen if idea.submitted_by_id}
            for person_id, library_id in people.items():
                signups.append(
                    PresenterSignup(
                        recording_day=day, library_id=library_id, person_id=person_id, signed_up_by_id=person_id
                    )
                )
        RunSheetSlot.objects.bulk_create(slots, batch_size=BATCH)
        PresenterSignup.objects.bulk_create(signups, batch_size=BATCH, ignore_conflicts=True)
        self.slots = slots
        return days

    # --- Media: assets, the people shown, their consent ---

    def assets(self) -> None:
        rng = self.rng
        files = shared_files()
        photo_info = inspect_upload(Path(settings.MEDIA_ROOT) / files["photo"]).as_json()
        video_info = {**photo_info, "kind": "video", "mime_type": "video/mp4", "format": "mp4", "duration": 24.0}
        done_days = [day for day in self.days if day.status == RecordingDay.Status.DONE]
        ideas_with_media = [i for i in self.ideas if i.status in (Idea.Status.RECORDED, Idea.Status.USED)]
        rows: list[Asset] = []
        for _ in range(ASSETS * self.scale):
            is_video = rng.random() < 0.1
            if rng.random() < 0.6 and done_days:
                day = rng.choice(done_days)
                idea, library = None, day.host_library
                created = datetime.combine(day.date, clock(15), tzinfo=self.now.tzinfo)
            else:
                day, idea = None, rng.choice(ideas_with_media)
                library = idea.library
                created = idea.created_at + timedelta(days=rng.randint(5, 60))
            created = min(created, self.now - timedelta(hours=2))
            width, height = rng.choice([(4000, 3000), (3000, 4000), (1080, 1350), (1920, 1080), (1080, 1080)])
            if is_video:
                width, height = 1080, 1920
            rows.append(
                Asset(
                    uid=uuid.UUID(int=rng.getrandbits(128), version=4),
                    county=self.county,
                    library=library,
                    idea=idea,
                    recording_day=day,
                    uploaded_by=rng.choice(self.staff[library.pk]),
                    title=text.post_title(rng) if rng.random() < 0.4 else "",
                    original=files["photo"],
                    original_name=f"IMG_{rng.randint(1000, 9999)}.{'mp4' if is_video else 'jpg'}",
                    kind=Asset.Kind.VIDEO if is_video else Asset.Kind.IMAGE,
                    mime_type="video/mp4" if is_video else "image/jpeg",
                    file_size=rng.randint(2_000_000, 90_000_000 if is_video else 9_000_000),
                    width=width,
                    height=height,
                    duration=rng.uniform(8, 90) if is_video else None,
                    info=video_info if is_video else photo_info,
                    status=Asset.Status.READY,
                    thumbnail=files["thumbnail"],
                    rendition=files["photo"] if is_video else files["rendition"],
                    poster=files["poster"] if is_video else "",
                    instagram_check={"use": "reel" if is_video else "feed", "verdict": "ok", "reasons": []},
                    renditions={"crop": "" if is_video else "auto@0.500,0.500", "thumbnail": {}, "rendition": {}},
                    alt_text=text.alt_text(rng) if (not is_video and rng.random() < 0.93) else "",
                    subtitles_burned_in=is_video,
                    credit_line=f"Foto: {library.name}" if rng.random() < 0.5 else "",
                    tags=text.tags(rng),
                    created_at=created,
                    updated_at=created,
                )
            )
        Asset.objects.bulk_create(rows, batch_size=BATCH)
        self.asset_rows = rows
        self._people_and_consent(rows)

    def _people_and_consent(self, assets: list[Asset]) -> None:
        """A third of the media show people from the county's register, each person with one consent:
        most valid, some expiring, a few withdrawn. The same person appears in many media."""
        rng = self.rng
        register: dict[tuple[int, str], Person] = {}
        tagged: list[tuple[Asset, tuple[int, str]]] = []
        for asset in assets:
            keys: set[tuple[int, str]] = set()
            for _ in range(rng.choice([0, 0, 0, 0, 1, 1, 2])):
                category = rng.choices(list(PersonCategory), weights=[5, 3, 2])[0]
                key = (asset.county_id, f"{rng.choice(text.STAFF)} ({category})")
                if key not in register:
                    register[key] = Person(
                        county_id=asset.county_id, name=key[1], category=category, created_at=asset.created_at
                    )
                if key not in keys:
                    keys.add(key)
                    tagged.append((asset, key))
        people = list(register.values())
        Person.objects.bulk_create(people, batch_size=BATCH)
        AssetPerson.objects.bulk_create(
            [AssetPerson(asset=asset, person=register[key], created_at=asset.created_at) for asset, key in tagged],
            batch_size=BATCH,
        )
        consents = []
        for person in people:
            given = person.created_at.date()
            minor = person.category == PersonCategory.CHILD
            roll = rng.random()
            valid_until = None if roll < 0.6 else given + timedelta(days=rng.choice([365, 730, 1095]))
            withdrawn = person.created_at + timedelta(days=rng.randint(10, 400)) if roll > 0.97 else None
            consents.append(
                Consent(
                    person=person,
                    covers_publishing=True,
                    covers_archive_reuse=rng.random() < 0.92,
                    given_at=given,
                    valid_until=valid_until,
                    given_by="Foresatt" if minor else "",
                    person_is_minor=minor,
                    recorded_by=self.editors[0],
                    withdrawn_at=min(withdrawn, self.now) if withdrawn else None,
                    lapse_handled_at=min(withdrawn, self.now) if withdrawn else None,
                    created_at=person.created_at,
                )
            )
        Consent.objects.bulk_create(consents, batch_size=BATCH)

    # --- Publishing: the channel, posts with their media, collaborators and approval ---

    def posts(self) -> None:
        rng = self.rng
        self.channel = Channel.objects.create(
            county=self.county,
            status=Channel.Status.CONNECTED,
            account_id="17841400000000001",
            username=self.county_library.instagram_username,
            token_expires_at=self.now + timedelta(days=50),
            connected_by=self.coordinator,
            connected_at=self.start,
        )
        count = POSTS * self.scale
        planned = max(1, round(count * PLANNED_AHEAD_DAYS / (HISTORY_DAYS + PLANNED_AHEAD_DAYS)))
        images = [a for a in self.asset_rows if a.kind == Asset.Kind.IMAGE]
        videos = [a for a in self.asset_rows if a.kind == Asset.Kind.VIDEO]
        rng.shuffle(images)
        rng.shuffle(videos)
        posts: list[Post] = []
        media: list[list[Asset]] = []
        for index in range(count):
            past = index < count - planned
            if past:
                moment = self.moment(self.start, self.now - timedelta(hours=1))
            else:
                moment = self.moment(self.now + timedelta(hours=1), self.now + timedelta(days=PLANNED_AHEAD_DAYS))
            kind = rng.choices(list(Post.MediaKind), weights=[35, 55, 10])[0]
            if kind == Post.MediaKind.REEL and videos:
                chosen = [videos.pop()]
            elif kind == Post.MediaKind.CAROUSEL and len(images) > 10:
                chosen = [images.pop() for _ in range(rng.randint(2, 10))]
            else:
                kind, chosen = Post.MediaKind.IMAGE, [images.pop()]
            posts.append(self._post(moment, past=past, kind=kind))
            media.append(chosen)
        Post.objects.bulk_create(posts, batch_size=BATCH)
        self.post_rows = posts
        PostAsset.objects.bulk_create(
            [
                PostAsset(post=post, asset=asset, position=position)
                for post, chosen in zip(posts, media, strict=True)
                for position, asset in enumerate(chosen, start=1)
            ],
            batch_size=BATCH,
        )
        self.post_media = {post.pk: chosen for post, chosen in zip(posts, media, strict=True)}
        with_instagram = [library for library in self.members if library.instagram_username]
        collaborators = []
        for post in posts:
            for library in rng.sample(with_instagram, rng.choice([0, 1, 1, 2, 3])):
                published = post.status == Post.Status.PUBLISHED
                Invite = PostCollaborator.Invite
                collaborators.append(
                    PostCollaborator(
                        post=post,
                        library=library,
                        username=library.instagram_username if published else "",
                        invite_status=Invite.ACCEPTED if published else Invite.NOT_SENT,
                        checked_at=post.published_at,
                    )
                )
        PostCollaborator.objects.bulk_create(collaborators, batch_size=BATCH)
        self.collaborators: dict[int, list[int]] = {}
        for link in collaborators:
            self.collaborators.setdefault(link.post_id, []).append(link.library_id)
        approved = {Post.Status.APPROVED, Post.Status.SCHEDULED, Post.Status.PUBLISHED}
        Approval.objects.bulk_create(
            [
                Approval(post=post, by=self.editors[1], at=post.created_at + timedelta(hours=3))
                for post in posts
                if post.status in approved
            ],
            batch_size=BATCH,
        )

    def comments(self) -> int:
        """Followers' comments on the published posts, as the pulls store them: most answered (by a reply from
        the account) or handled long ago, the last week's half still waiting (the comment inbox)."""
        rng, S = self.rng, InstagramComment.Status
        comments: list[InstagramComment] = []
        for post in self.post_rows:
            if post.status != Post.Status.PUBLISHED or post.published_at is None:
                continue
            recent = self.now - post.published_at < timedelta(days=7)
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 5])):
                written = post.published_at + timedelta(minutes=rng.randint(5, 3 * 24 * 60))
                written = min(written, self.now - timedelta(minutes=1))
                weights = [50, 40, 10] if recent else [3, 75, 22]
                status = rng.choices([S.UNANSWERED, S.REPLIED, S.HANDLED], weights=weights)[0]
                comments.append(
                    InstagramComment(
                        county=self.county,
                        post=post,
                        comment_id=str(18_100_000_000_000_000 + len(comments)),
                        username=f"leser{rng.randint(1, 5000)}",
                        text=text.follower_comment(rng),
                        commented_at=written,
                        status=status,
                        first_reply_at=written + timedelta(minutes=rng.randint(10, 2 * 24 * 60))
                        if status == S.REPLIED
                        else None,
                        handled_by=self.editors[0] if status == S.HANDLED else None,
                        handled_at=written + timedelta(hours=rng.randint(1, 48)) if status == S.HANDLED else None,
                    )
                )
        InstagramComment.objects.bulk_create(comments, batch_size=BATCH)
        replies = [
            InstagramComment(
                county=self.county,
                post_id=comment.post_id,
                parent=comment,
                comment_id=str(18_200_000_000_000_000 + n),
                username=self.county_library.instagram_username,
                text=text.reply(rng),
                commented_at=comment.first_reply_at,
                from_account=True,
                status=S.NOT_NEEDED,
            )
            for n, comment in enumerate(c for c in comments if c.first_reply_at is not None)
        ]
        InstagramComment.objects.bulk_create(replies, batch_size=BATCH)
        return len(comments) + len(replies)

    def _post(self, moment: datetime, *, past: bool, kind: str) -> Post:
        rng, S = self.rng, Post.Status
        concept = rng.choice(self.concepts) if rng.random() < 0.6 else None
        if concept is not None and concept.cadence_rule:
            # On one of the concept's own dates, as the plan suggests.
            day = moment.date()
            dates = concept.occurrence_times(day, day + timedelta(days=35))
            moment = dates[0] if dates and (past or dates[0] > self.now) else moment
            if past and moment >= self.now:
                moment = self.moment(self.start, self.now - timedelta(hours=1))
        if past:
            status = rng.choices([S.PUBLISHED, S.CANCELLED, S.FAILED], weights=[96, 3, 1])[0]
        else:
            status = rng.choices([S.SCHEDULED, S.APPROVED, S.IN_REVIEW, S.DRAFT], weights=[5, 2, 3, 2])[0]
        author = rng.choice(self.editors)
        created = moment - timedelta(days=rng.randint(2, 20))
        libraries = rng.sample(self.members, 2)
        post = Post(
            county=self.county,
            channel=self.channel,
            title=text.post_title(rng),
            caption=text.caption(rng, [lib.name for lib in libraries], [lib.instagram_username for lib in libraries]),
            credit="Inspirert av @deichman" if rng.random() < 0.1 else "",
            media_kind=kind,
            concept=concept,
            content_type=concept.content_type if concept else rng.choice(ContentType.values),
            responsible=author,
            scheduled_at=moment,
            status=status,
            status_changed_at=moment if past else created,
            created_by=author,
            last_edited_by=author,
            created_at=created,
            updated_at=moment if past else created,
        )
        if status == S.PUBLISHED:
            media_id = str(18_000_000_000_000_000 + rng.getrandbits(48))
            post.publish_step = Post.Step.NOTIFIED
            post.container_id = str(17_000_000_000_000_000 + rng.getrandbits(48))
            post.media_id = media_id
            post.permalink = f"https://www.instagram.com/p/{media_id[-11:]}/"
            post.published_at = moment + timedelta(seconds=rng.randint(5, 90))
            post.insights = {"reach": rng.randint(50, 4000), "likes": rng.randint(0, 300), "saved": rng.randint(0, 40)}
            post.insights_round = 4
            post.insights_read_at = post.published_at + timedelta(days=28)
        elif status == S.FAILED:
            post.failure_reason = "Instagram refused the post: the image could not be fetched."
        return post

    # --- The archive: one item per asset, its search fields written by publishing.archive.filing ---

    def archive(self) -> None:
        rng = self.rng
        first_post: dict[int, Post] = {}
        reused: list[tuple[int, Post]] = []
        for post in self.post_rows:
            for asset in self.post_media[post.pk]:
                if post.status == Post.Status.PUBLISHED and asset.pk not in first_post:
                    first_post[asset.pk] = post
        days = {day.pk: day for day in self.days}
        day_libraries: dict[int, list[int]] = {}
        for link in RecordingDay.participating_libraries.through.objects.values_list("recordingday_id", "library_id"):
            day_libraries.setdefault(link[0], []).append(link[1])
        items: list[ArchiveItem] = []
        libraries: list[tuple[ArchiveItem, set[int]]] = []
        for asset in self.asset_rows:
            post = first_post.get(asset.pk)
            concept = post.concept if post else (asset.idea.concept if asset.idea else None)
            involved = {asset.library_id}
            if asset.recording_day_id:
                day_id = asset.recording_day_id
                involved |= {days[day_id].host_library_id, *day_libraries.get(day_id, [])}
            if post is not None:
                involved |= set(self.collaborators.get(post.pk, []))
            item = ArchiveItem(
                county=self.county,
                asset=asset,
                post=post,
                source=ArchiveItem.Source.PUBLISHED if post else ArchiveItem.Source.ARCHIVED,
                archived_by=None if post else self.editors[0],
                content_type=post.content_type if post else (asset.idea.content_type if asset.idea else ""),
                concept=concept,
                orientation=orientation_of(asset.width, asset.height),
                permalink=post.permalink if post else "",
                published_at=post.published_at if post else asset.created_at,
                created_at=post.published_at if post and post.published_at else asset.created_at,
                updated_at=self.now,
            )
            items.append(item)
            libraries.append((item, involved))
        ArchiveItem.objects.bulk_create(items, batch_size=BATCH)
        ArchiveItem.libraries.through.objects.bulk_create(
            [
                ArchiveItem.libraries.through(archiveitem_id=item.pk, library_id=library_id)
                for item, involved in libraries
                for library_id in involved
            ],
            batch_size=BATCH,
        )
        # Planned posts re-use archive media, as the concepts' re-posts do.
        by_asset = {item.asset_id: item for item in items}
        for post in self.post_rows:
            if post.status != Post.Status.PUBLISHED:
                for asset in self.post_media[post.pk]:
                    if rng.random() < 0.3:
                        reused.append((by_asset[asset.pk].pk, post))
        ArchiveReuse.objects.bulk_create(
            [ArchiveReuse(item_id=item, post=post, by=post.created_by, at=post.created_at) for item, post in reused],
            batch_size=BATCH,
            ignore_conflicts=True,
        )
        self.say(f"{len(items)} archive items inserted; writing their search fields")
        ids = [item.pk for item in items]
        step = 10_000
        for start in range(0, len(ids), step):
            refresh_items(ids[start : start + step], today=self.today)
            self.say(f"search fields of {min(start + step, len(ids))} of {len(ids)} items")


def measure(scale: int) -> dict[str, object]:
    """`python -m bench.run data --scale N`: load (or keep) scale N and say what it holds."""
    return asdict(load(scale))
