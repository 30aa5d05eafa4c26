"""Bench data: counties, libraries, staff and invitations at a scale factor.

Scale N means N counties, each with a county library and 25 member libraries
named after real Norwegian municipalities (a real county has about that many,
so the number of libraries per county stays fixed), and N times the people and
invitations per library: 3·N staff per library and 200·N invitations per county.
County 1 thus grows with the scale, so a page whose query count grows between
scales has an N+1 problem.

Loading wipes the libraries tables of the bench database and bulk-inserts
everything; when the database already holds exactly this scale it is kept.
All passwords share one hash computed once, since hashing thousands of
passwords would dominate the load time.

    python -m config.embedded exec -- python -m bench.data --scale 5
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from datetime import timedelta

if __name__ == "__main__":
    # Run as a script: settings are read once, so the bench environment comes
    # before the first model import below.
    from bench.environment import free_port, setup

    _env, _static_dir = setup(free_port())

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from libraries.models import County, Invitation, Library, Membership, Role, User, hash_token

BENCH_PASSWORD = "bench-innspill-password"  # noqa: S105 - the bench database only
MEMBER_LIBRARIES_PER_COUNTY = 25
STAFF_PER_LIBRARY = 3
INVITATIONS_PER_COUNTY = 200

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


@dataclass(frozen=True)
class Counts:
    """How many rows a scale produces; also how an existing load is recognised."""

    counties: int
    libraries: int
    users: int
    invitations: int


def expected_counts(scale: int) -> Counts:
    libraries_per_county = MEMBER_LIBRARIES_PER_COUNTY + 1
    return Counts(
        counties=scale,
        libraries=scale * libraries_per_county,
        users=scale * libraries_per_county * STAFF_PER_LIBRARY * scale,
        invitations=scale * INVITATIONS_PER_COUNTY * scale,
    )


def current_counts() -> Counts:
    return Counts(
        counties=County.objects.count(),
        libraries=Library.objects.count(),
        users=User.objects.count(),
        invitations=Invitation.objects.count(),
    )


def coordinator_email(county_number: int) -> str:
    """The login of county N's coordinator; county 1's is the bench's logged-in user."""
    return f"koordinator.{county_number}@bench.example"


def bench_user() -> User:
    """The user every page is requested as: the coordinator of county 1."""
    return User.objects.get(email=coordinator_email(1))


def _ascii(text: str) -> str:
    table = str.maketrans({"å": "aa", "ø": "o", "æ": "ae", " ": ""})
    return text.lower().translate(table)


def wipe() -> None:
    """Empty every table of the libraries app (and what references it) in the bench database."""
    tables = [model._meta.db_table for model in apps.get_app_config("libraries").get_models()]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(connection.ops.quote_name(t) for t in tables)} RESTART IDENTITY CASCADE")


def _county_libraries(number: int, county: County) -> list[Library]:
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
            )
        )
    return libraries


def _staff(number: int, library_index: int, library: Library, scale: int) -> list[tuple[User, Role]]:
    """3·scale people per library; the county library has the coordinator and two editors first."""
    people: list[tuple[User, Role]] = []
    for person in range(STAFF_PER_LIBRARY * scale):
        if library.kind == Library.Kind.COUNTY and person == 0:
            email, role = coordinator_email(number), Role.COORDINATOR
        elif library.kind == Library.Kind.COUNTY and person < STAFF_PER_LIBRARY:
            email, role = f"redaktor.{number}.{person}@bench.example", Role.EDITOR
        else:
            email, role = f"bibliotekar.{number}.{library_index}.{person}@bench.example", Role.LIBRARIAN
        people.append((User(email=email, name=f"Person {number}-{library_index}-{person}"), role))
    return people


def _invitations(
    number: int, libraries: list[Library], staff: dict[int, list[User]], coordinator: User, scale: int
) -> list[Invitation]:
    """200·scale invitations: about half open, a quarter accepted, the rest revoked or expired."""
    now = timezone.now()
    rng = random.Random(number)  # the same data every run
    invitations = []
    for index in range(INVITATIONS_PER_COUNTY * scale):
        library = libraries[index % len(libraries)]
        sent_at = now - timedelta(days=rng.randint(0, 30), minutes=rng.randint(0, 1440))
        invitation = Invitation(
            email=f"invitert.{number}.{index}@bench.example",
            name=f"Invitert {index}" if index % 3 else "",
            library=library,
            role=Role.EDITOR if index % 10 == 0 else Role.LIBRARIAN,
            invited_by=coordinator,
            token_hash=hash_token(f"bench-{number}-{index}"),
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


def load(scale: int) -> Counts:
    """Make the bench database hold exactly this scale; returns the row counts.

    ANALYZE follows every load: right after a bulk insert PostgreSQL has no
    statistics for the new rows and may pick plans production never would,
    which showed up as pages several times slower until autovacuum caught up.
    """
    if scale < 1:
        raise ValueError("The scale must be at least 1.")
    counts = _reload(scale)
    tables = [model._meta.db_table for model in apps.get_app_config("libraries").get_models()]
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(connection.ops.quote_name(t) for t in tables)}")
    return counts


@transaction.atomic
def _reload(scale: int) -> Counts:
    wanted = expected_counts(scale)
    if current_counts() == wanted and User.objects.filter(email=coordinator_email(1)).exists():
        return wanted
    wipe()
    password = make_password(BENCH_PASSWORD)
    counties = County.objects.bulk_create(
        County(
            name=COUNTIES[i] if i < len(COUNTIES) else f"Fylke {i + 1}",
            slug=_ascii(COUNTIES[i]) if i < len(COUNTIES) else f"fylke-{i + 1}",
        )
        for i in range(scale)
    )
    libraries_by_county = {
        number: Library.objects.bulk_create(_county_libraries(number, county))
        for number, county in enumerate(counties, start=1)
    }
    people = [
        (library, user, role)
        for number, libraries in libraries_by_county.items()
        for library_index, library in enumerate(libraries)
        for user, role in _staff(number, library_index, library, scale)
    ]
    for _library, user, _role in people:
        user.password = password
    User.objects.bulk_create([user for _library, user, _role in people], batch_size=2000)
    Membership.objects.bulk_create(
        [Membership(user=user, library=library, role=role) for library, user, role in people], batch_size=2000
    )
    staff: dict[int, list[User]] = {}
    for library, user, _role in people:
        staff.setdefault(library.pk, []).append(user)
    invitations: list[Invitation] = []
    for number, libraries in libraries_by_county.items():
        coordinator = staff[libraries[0].pk][0]
        invitations += _invitations(number, libraries, staff, coordinator, scale)
    Invitation.objects.bulk_create(invitations, batch_size=2000)
    # Sessions and cached objects of the previous load refer to rows that are gone.
    transaction.on_commit(cache.clear)
    loaded = current_counts()
    if loaded != wanted:
        raise RuntimeError(f"The bench data does not add up: expected {wanted}, loaded {loaded}.")
    return loaded


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.data", description="Load the bench data at a scale.")
    parser.add_argument("--scale", type=int, default=1, help="N counties, N times the people (default 1)")
    args = parser.parse_args()
    print(load(args.scale))


if __name__ == "__main__":
    main()
