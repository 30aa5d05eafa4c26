"""The network of counties at scale: searching the shared pool, borrowing, and a withdrawal across counties.

`python -m bench.run network` (its own database, innspill_bench_network,
kept between runs like the scales' databases) holds NETWORK_COUNTIES
counties of 26 libraries, all in the network, each sharing
ITEMS_PER_COUNTY archive items (110,000 in the pool). Only what the
network needs is made, in bulk: assets with Norwegian titles, alt texts
and tags (bench/text.py), most confirmed as showing nobody and some showing
people whose consent covers sharing; one archive item and one approved
`SharedItem` each; the search fields written by
`publishing.archive.filing.refresh_items`, as bench/data.py does.

Measured, in-process:

* the pool search (`publishing.archive.network.search_pool`, as the pool
  page runs it: facets, then the first page) from the last county, for
  bench/search.py's queries: p50/p90 over `--searches` calls each, the
  queries taking turns, and the database's own time (EXPLAIN ANALYZE);
* `borrow`: `--borrows` different items borrowed by the last county, p50/p90
  (each in a transaction rolled back, so re-runs find the same pool);
* the withdrawal cascade: one person shown in an item of county 1 that the
  ten other counties borrowed, each with a scheduled post using its copy,
  withdraws consent (`production.services.media.withdraw_consent`, which runs
  `consent_lapsed`): the whole run, rolled back afterwards, `--repeat` times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from bench import data, text
from bench.data import inspect_upload
from bench.search import _percentile, measure_queries
from libraries.access import CountyAccess, county_accesses
from libraries.models import County, Library, Membership, Role, User
from production.models import Asset, AssetPerson, Consent, Person, PersonCategory
from publishing.archive.filing import orientation_of, refresh_items
from publishing.archive.search import ArchiveFilters
from publishing.models import ArchiveItem, Post, PostAsset, SharedItem

DATA_VERSION = 2  # 2: the items carry in_pool
NETWORK_COUNTIES = 11
ITEMS_PER_COUNTY = 10_000
SHOWING_PEOPLE = 0.2  # the share of items showing someone (consent covering sharing)
REGISTER_PER_COUNTY = 200
_META_KEY = "network"


def _fingerprint(items_per_county: int) -> dict[str, object]:
    applied = sorted(f"{app}.{name}" for app, name in MigrationRecorder(connection).applied_migrations())
    return {"version": DATA_VERSION, "items_per_county": items_per_county, "migrations": applied}


def _stored() -> dict[str, Any] | None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value jsonb NOT NULL)")
        cursor.execute("SELECT value FROM bench_meta WHERE key = %s", [_META_KEY])
        row = cursor.fetchone()
    if row is None:
        return None
    return json.loads(row[0]) if isinstance(row[0], str) else dict(row[0])


def is_loaded(items_per_county: int) -> bool:
    meta = _stored()
    if meta is None or {key: meta.get(key) for key in ("version", "items_per_county", "migrations")} != _fingerprint(
        items_per_county
    ):
        return False
    loaded_at = timezone.datetime.fromisoformat(str(meta["loaded_at"]))
    in_pool = SharedItem.objects.filter(status=SharedItem.Status.SHARED).count()
    return timezone.now() - loaded_at < data.MAX_AGE and in_pool == NETWORK_COUNTIES * items_per_county


def load(items_per_county: int = ITEMS_PER_COUNTY, *, verbose: bool = True) -> float:
    """Make the database hold the network (or keep it); the seconds the generation took (0 when kept)."""
    if is_loaded(items_per_county):
        data.ensure_second_factors()
        return 0.0
    started = time.monotonic()
    generator = _NetworkGenerator(items_per_county, verbose=verbose)
    with transaction.atomic(), data._history_timestamps():
        data.wipe()
        generator.run()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    data.ensure_second_factors()
    seconds = time.monotonic() - started
    meta = {**_fingerprint(items_per_county), "loaded_at": timezone.now().isoformat(), "seconds": round(seconds, 1)}
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_meta (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [_META_KEY, json.dumps(meta)],
        )
    generator.say(f"network loaded in {seconds:.0f} s")
    return seconds


class _NetworkGenerator(data._Generator):
    """Counties with their libraries, an editor and a coordinator each, and their shared archives."""

    def __init__(self, items_per_county: int, *, verbose: bool) -> None:
        super().__init__(NETWORK_COUNTIES, verbose=verbose)
        self.items_per_county = items_per_county

    def run(self) -> None:
        self.network_people()
        self.say(f"{NETWORK_COUNTIES} counties in the network, their libraries and staff")
        for county in self.counties:
            self.shared_archive(county)
            self.say(f"{county.name}: {self.items_per_county} items shared")
        ids = list(ArchiveItem.objects.order_by("pk").values_list("pk", flat=True))
        step = 10_000
        for start in range(0, len(ids), step):
            refresh_items(ids[start : start + step], today=self.today)
            self.say(f"search fields of {min(start + step, len(ids))} of {len(ids)} items")

    def network_people(self) -> None:
        password = make_password(data.BENCH_PASSWORD)
        self.counties = County.objects.bulk_create(
            County(name=data.COUNTIES[i], slug=data._ascii(data.COUNTIES[i]), in_network=True)
            for i in range(NETWORK_COUNTIES)
        )
        self.libraries: dict[int, list[Library]] = {}
        self.editor: dict[int, User] = {}
        memberships = []
        for number, county in enumerate(self.counties, start=1):
            libraries = Library.objects.bulk_create(self._county_libraries(number, county))
            self.libraries[county.pk] = libraries
            coordinator = User(email=data.coordinator_email(number), name=f"Koordinator {county.name}")
            editor = User(email=f"redaktor.{number}.1@bench.example", name=f"Redaktør {county.name}")
            for user in (coordinator, editor):
                user.password = password
            User.objects.bulk_create([coordinator, editor])
            memberships += [
                Membership(user=coordinator, library=libraries[0], role=Role.COORDINATOR),
                Membership(user=editor, library=libraries[0], role=Role.EDITOR),
            ]
            self.editor[county.pk] = editor
        Membership.objects.bulk_create(memberships)

    def shared_archive(self, county: County) -> None:
        rng = self.rng
        files = data.shared_files()
        photo_info = inspect_upload(Path(settings.MEDIA_ROOT) / files["photo"]).as_json()
        libraries = self.libraries[county.pk]
        editor = self.editor[county.pk]
        assets = []
        for _ in range(self.items_per_county):
            library = rng.choice(libraries)
            created = self.moment(self.start, self.now - timedelta(hours=2))
            width, height = rng.choice([(4000, 3000), (3000, 4000), (1080, 1350), (1920, 1080), (1080, 1080)])
            assets.append(
                Asset(
                    uid=uuid.UUID(int=rng.getrandbits(128), version=4),
                    county=county,
                    library=library,
                    uploaded_by=editor,
                    title=text.post_title(rng),
                    original=files["photo"],
                    original_name=f"IMG_{rng.randint(1000, 9999)}.jpg",
                    kind=Asset.Kind.IMAGE,
                    mime_type="image/jpeg",
                    file_size=rng.randint(2_000_000, 9_000_000),
                    width=width,
                    height=height,
                    info=photo_info,
                    status=Asset.Status.READY,
                    thumbnail=files["thumbnail"],
                    rendition=files["rendition"],
                    instagram_check={"use": "feed", "verdict": "ok", "reasons": []},
                    renditions={"crop": "auto@0.500,0.500", "thumbnail": {}, "rendition": {}},
                    alt_text=text.alt_text(rng),
                    credit_line=f"Foto: {library.name}",
                    tags=text.tags(rng),
                    created_at=created,
                    updated_at=created,
                )
            )
        showing = set(rng.sample(range(len(assets)), round(len(assets) * SHOWING_PEOPLE)))
        for index, asset in enumerate(assets):
            if index not in showing:
                asset.no_people_confirmed_at, asset.no_people_confirmed_by = asset.created_at, editor
        Asset.objects.bulk_create(assets, batch_size=data.BATCH)
        people = Person.objects.bulk_create(
            [
                Person(
                    county=county,
                    name=f"{rng.choice(text.STAFF)} {n}",
                    category=PersonCategory.PATRON,
                    created_at=self.start,
                )
                for n in range(REGISTER_PER_COUNTY)
            ]
        )
        Consent.objects.bulk_create(
            Consent(
                person=person,
                covers_publishing=True,
                covers_archive_reuse=True,
                covers_sharing=True,
                given_at=self.start.date(),
                recorded_by=editor,
                created_at=self.start,
            )
            for person in people
        )
        AssetPerson.objects.bulk_create(
            [
                AssetPerson(asset=assets[index], person=rng.choice(people), created_at=assets[index].created_at)
                for index in sorted(showing)
            ],
            batch_size=data.BATCH,
        )
        items = [
            ArchiveItem(
                county=county,
                asset=asset,
                source=ArchiveItem.Source.ARCHIVED,
                archived_by=editor,
                content_type=rng.choice(data.ContentType.values),
                orientation=orientation_of(asset.width, asset.height),
                published_at=asset.created_at,
                created_at=asset.created_at,
                updated_at=self.now,
            )
            for asset in assets
        ]
        ArchiveItem.objects.bulk_create(items, batch_size=data.BATCH)
        ArchiveItem.libraries.through.objects.bulk_create(
            [ArchiveItem.libraries.through(archiveitem_id=item.pk, library_id=item.asset.library_id) for item in items],
            batch_size=data.BATCH,
        )
        SharedItem.objects.bulk_create(
            [
                SharedItem(
                    item=item,
                    county=county,
                    status=SharedItem.Status.SHARED,
                    credit=f"Idé og foto: {item.asset.library.name}",
                    offered_by=editor,
                    offered_at=item.created_at,
                    approved_by=editor,
                    approved_at=item.created_at,
                )
                for item in items
            ],
            batch_size=data.BATCH,
        )
        # As network.approve leaves it: the item's own copy of being in the pool.
        ArchiveItem.objects.filter(pk__in=[item.pk for item in items]).update(in_pool=True)


# --- Measuring ---


def _access(county: County) -> tuple[User, CountyAccess]:
    """The county's editor and their access, as a request of theirs would have it."""
    user = User.objects.get(email=f"redaktor.{_number(county)}.1@bench.example")
    return user, next(access for access in county_accesses(user) if access.county.pk == county.pk)


def _number(county: County) -> int:
    return data.COUNTIES.index(county.name) + 1


class _Rollback(Exception):
    pass


def _timed_and_rolled_back(work: Any) -> float:
    started = time.perf_counter()
    try:
        with transaction.atomic():
            work()
            elapsed = (time.perf_counter() - started) * 1000
            raise _Rollback
    except _Rollback:
        pass
    return elapsed


def _figures(timings: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(timings), 2),
        "p90_ms": round(_percentile(timings, 0.9), 2),
        "max_ms": round(max(timings), 2),
    }


def measure_search(county: County, searches: int) -> list[dict[str, Any]]:
    from publishing.archive.network import pool_search
    from publishing.archive.search import archive_changed

    def run(q: str) -> int:
        found = pool_search(county, ArchiveFilters(q=q)).run(1, per_page=settings.ARCHIVE_PAGE_SIZE)
        return int(found.facets.total)

    def count(q: str) -> int:
        return pool_search(county, ArchiveFilters(q=q)).facets().total

    def forget() -> None:  # the pool's version alone, as a change to a shared item moves it
        archive_changed([])

    results = measure_queries(searches, run=run, count=count, forget=forget)
    for q, figures in results.items():
        print(
            f"   pool {q!r:<24} {figures['matches']:6d} matches  p50 {figures['function_p50_ms']:6.1f} ms "
            f"(first {figures['first_p50_ms']:.1f}, repeated {figures['repeated_p50_ms']:.1f})  "
            f"{figures['sql_queries']} queries, {figures['database_ms']:.1f} ms in PostgreSQL",
            flush=True,
        )
    return list(results.values())


def measure_borrow(county: County, borrows: int) -> dict[str, Any]:
    from publishing.archive.network import borrow

    user, access = _access(county)
    not_borrowed = SharedItem.objects.in_pool().exclude(county=county).filter(borrows__isnull=True)
    candidates = list(not_borrowed.order_by("?").values_list("pk", flat=True)[:borrows])
    timings = []
    for pk in candidates:
        shared = SharedItem.objects.get(pk=pk)
        timings.append(_timed_and_rolled_back(lambda shared=shared: borrow(by=user, access=access, shared=shared)))
    figures = {"borrows": len(timings), **_figures(timings)}
    print(f"   borrow: p50 {figures['p50_ms']:.1f} p90 {figures['p90_ms']:.1f} ms over {len(timings)}", flush=True)
    return figures


def _cascade_setup(counties: list[County]) -> Consent:
    """A person of county 1 shown in one shared item that the other counties borrowed, each with a scheduled
    post using its copy (made once; kept in the database for the next runs)."""
    from publishing.archive.network import borrow

    origin = counties[0]
    person, created = Person.objects.get_or_create(
        county=origin, name="Kari Nordmann (benken)", defaults={"category": PersonCategory.PATRON}
    )
    if not created:
        return Consent.objects.get(person=person)
    user, _access_unused = _access(origin)
    consent = Consent.objects.create(
        person=person,
        covers_publishing=True,
        covers_archive_reuse=True,
        covers_sharing=True,
        given_at=timezone.localdate() - timedelta(days=30),
        recorded_by=user,
    )
    shared = SharedItem.objects.filter(county=origin, item__people_count=0).order_by("pk").first()
    assert shared is not None
    asset = shared.item.asset
    asset.no_people_confirmed_at = None
    asset.save(update_fields=["no_people_confirmed_at"])
    AssetPerson.objects.create(asset=asset, person=person)
    refresh_items([shared.item_id])
    when = timezone.now() + timedelta(days=3)
    for county in counties[1:]:
        editor, access = _access(county)
        item = borrow(by=editor, access=access, shared=shared)
        post = Post.objects.create(
            county=county,
            title=item.title or "Lånt fra nettverket",
            caption=f"Fra nabofylket. {shared.credit}",
            media_kind=Post.MediaKind.IMAGE,
            responsible=editor,
            scheduled_at=when,
            status=Post.Status.SCHEDULED,
            created_by=editor,
            last_edited_by=editor,
        )
        PostAsset.objects.create(post=post, asset=item.asset, position=1)
    return consent


def measure_cascade(counties: list[County], repeat: int) -> dict[str, Any]:
    from production.services.media import withdraw_consent

    consent = _cascade_setup(counties)
    user = User.objects.get(email=data.coordinator_email(1))
    shown_in = Asset.objects.showing_people([consent.person_id])
    copies = Asset.objects.filter(borrowed_from__in=shown_in).count()
    scheduled = Post.objects.filter(post_assets__asset__borrowed_from__in=shown_in, status=Post.Status.SCHEDULED)
    posts = scheduled.distinct().count()
    checked: dict[str, int] = {}

    def run() -> None:
        withdraw_consent(by=user, consent=consent, note="Benken")
        checked["blocked"] = Asset.objects.filter(borrowed_from__in=shown_in, consent_lapsed_at__isnull=False).count()
        checked["still_scheduled"] = scheduled.distinct().count()

    timings = [_timed_and_rolled_back(run) for _ in range(repeat)]
    figures = {
        "counties": len(counties),
        "copies": copies,
        "scheduled_posts": posts,
        "copies_blocked": checked["blocked"],
        "posts_still_scheduled": checked["still_scheduled"],
        "runs": repeat,
        **_figures(timings),
    }
    print(
        f"   cascade: {copies} copies, {posts} scheduled posts → blocked {checked['blocked']}, "
        f"{checked['still_scheduled']} still scheduled; p50 {figures['p50_ms']:.1f} ms over {repeat}",
        flush=True,
    )
    return figures


def measure(args: argparse.Namespace, env: dict[str, str], port: int) -> dict[str, Any]:
    print(f"== The network: {NETWORK_COUNTIES} counties sharing {args.pool_items} items each", flush=True)
    load_at_start = [round(value, 2) for value in os.getloadavg()]
    generation_s = load(args.pool_items)
    counties = list(County.objects.filter(in_network=True).order_by("pk"))
    searcher = counties[-1]
    pool = SharedItem.objects.in_pool().exclude(county=searcher).count()
    # What earlier runs' rolled-back borrows and cascades left behind (dead rows, the GIN indexes' pending
    # entries, which every search reads) cleared away as autovacuum would have: searches measured first.
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {ArchiveItem._meta.db_table}")
    queries = measure_search(searcher, args.searches)
    borrow = measure_borrow(searcher, args.borrows)
    with transaction.atomic():
        cascade = measure_cascade(counties, repeat=args.repeat)
    return {
        "counties": len(counties),
        "items_per_county": args.pool_items,
        "pool_items": pool,
        "generation_s": round(generation_s, 1) if generation_s else _stored_seconds(),
        "generation_kept": generation_s == 0,
        "searches_per_query": args.searches,
        "per_page": settings.ARCHIVE_PAGE_SIZE,
        "queries": queries,
        "borrow": borrow,
        "cascade": cascade,
        "load_average_start": load_at_start,
        "load_average_end": [round(value, 2) for value in os.getloadavg()],
    }


def _stored_seconds() -> float | None:
    meta = _stored()
    return float(meta["seconds"]) if meta and "seconds" in meta else None
