"""Personas, settings for tests, and the real services they run against."""

import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.db import connection
from django.test import Client

from libraries.models import County, Library, Role, User
from tests.factories.libraries import CountyFactory, LibraryFactory, MembershipFactory, UserFactory


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):  # type: ignore[no-untyped-def]
    # Uploads and media files of a test stay in its own directory, never in var/.
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.UPLOAD_TEMP_DIR = tmp_path / "uploads"
    # collectstatic does not run for tests: plain storage instead of the manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Assertions read English messages; tests of the other languages ask for them.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """A test database of this process's own (test_innspill_<pid>), so that two runs on one
    machine (a developer's and CI's, or parallel sessions) and the processes of one run
    (pytest-xdist's, `make test`) never drop each other's."""
    from pytest_django.fixtures import _set_suffix_to_test_databases

    _set_suffix_to_test_databases(suffix=str(os.getpid()))


@pytest.fixture(autouse=True)
def _live_server_done_before_the_flush(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test with the live server may end while the browser still has requests in flight (thumbnails still
    loading). The server answers them in threads of its own, each with its own database connection, and the
    flush that empties the database after the test (a TRUNCATE of every table) deadlocked with one. The flush
    waits until no other connection to the test database is busy (ten seconds at most)."""
    if "live_server" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("transactional_db")  # set up before this fixture: flushed after the wait below
    yield
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND state <> 'idle'"
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.05)


@pytest.fixture(autouse=True)
def _fresh_cache(settings) -> None:  # type: ignore[no-untyped-def]
    """Each test starts with an empty cache (rate limits, sessions): a key prefix of its
    own, rather than flushing a Redis database that another run may be using."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"innspill-test-{uuid.uuid4().hex}"},
    }


@dataclass
class World:
    """Two counties: Rogaland with its libraries and people, and an outsider's county."""

    county: County
    county_library: Library
    library: Library
    other_library: Library
    coordinator: User
    editor: User
    librarian: User
    other_librarian: User
    other_county: County
    other_county_library: Library
    outsider: User


def enable_mfa(user: User) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    county = CountyFactory(name="Rogaland", slug="rogaland")
    county_library = LibraryFactory(county=county, kind=Library.Kind.COUNTY, name="Rogaland fylkesbibliotek")
    library = LibraryFactory(county=county, name="Sandnes bibliotek", municipality="Sandnes")
    other_library = LibraryFactory(county=county, name="Sola bibliotek", municipality="Sola")
    other_county = CountyFactory(name="Agder", slug="agder")
    other_county_library = LibraryFactory(county=other_county, kind=Library.Kind.COUNTY, name="Agder fylkesbibliotek")

    def person(email: str, library: Library, role: Role) -> User:
        return MembershipFactory(user=UserFactory(email=email), library=library, role=role).user

    coordinator = person("koordinator@rogaland.example", county_library, Role.COORDINATOR)
    editor = person("redaktor@rogaland.example", county_library, Role.EDITOR)
    outsider = person("koordinator@agder.example", other_county_library, Role.COORDINATOR)
    for staff in (coordinator, editor, outsider):
        enable_mfa(staff)
    return World(
        county=county,
        county_library=county_library,
        library=library,
        other_library=other_library,
        coordinator=coordinator,
        editor=editor,
        librarian=person("bibliotekar@sandnes.example", library, Role.LIBRARIAN),
        other_librarian=person("bibliotekar@sola.example", other_library, Role.LIBRARIAN),
        other_county=other_county,
        other_county_library=other_county_library,
        outsider=outsider,
    )


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def coordinator_client(world: World) -> Client:
    return client_for(world.coordinator)


@pytest.fixture
def editor_client(world: World) -> Client:
    return client_for(world.editor)


@pytest.fixture
def librarian_client(world: World) -> Client:
    return client_for(world.librarian)


@pytest.fixture
def outsider_client(world: World) -> Client:
    return client_for(world.outsider)
