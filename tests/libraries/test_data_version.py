"""libraries.versions' data version: every write to the database moves it, whoever makes it and however.

A value kept under it (`kept_while_unchanged`: the home's county cards) is read again after any write, and
never kept from rows only one transaction sees.
"""

from __future__ import annotations

import pytest
import redis
from django.contrib.sessions.backends.cached_db import SessionStore
from django.core.cache import cache
from django.db import transaction

from libraries.models import Library
from libraries.versions import DATA_VERSION, kept_while_unchanged, writes_pending
from tests.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)


def version() -> object:
    return cache.get(DATA_VERSION)


def rename(library: Library, name: str) -> None:
    """A write the way the worker and many services make them: a QuerySet.update(), no model signal."""
    Library.objects.filter(pk=library.pk).update(name=name)


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


def test_a_value_is_kept_until_any_write_and_then_computed_again(world: World) -> None:
    compute = Counter()
    assert kept_while_unchanged("test:value", compute, seconds=60) == 1
    list(Library.objects.all())  # reading moves nothing
    assert kept_while_unchanged("test:value", compute, seconds=60) == 1

    rename(world.library, "Nytt navn")

    assert kept_while_unchanged("test:value", compute, seconds=60) == 2


def test_a_transaction_moves_it_at_its_commit_and_keeps_nothing_it_read_after_writing(world: World) -> None:
    compute = Counter()
    before = version()
    with transaction.atomic():
        rename(world.library, "Nytt navn")
        assert writes_pending()
        assert version() == before  # no one else sees the row yet
        # Its own reads see the row: computed, and kept for no one.
        assert kept_while_unchanged("test:value", compute, seconds=60) == 1
        assert cache.get("test:value") is None
    assert not writes_pending()
    assert version() != before
    assert kept_while_unchanged("test:value", compute, seconds=60) == 2


def test_a_rolled_back_transaction_moves_nothing_and_what_is_read_after_it_is_kept(world: World) -> None:
    before = version()
    with transaction.atomic():
        rename(world.library, "Aldri lagret")
        transaction.set_rollback(True)
    assert version() == before
    assert not writes_pending()
    compute = Counter()
    kept_while_unchanged("test:value", compute, seconds=60)
    kept_while_unchanged("test:value", compute, seconds=60)
    assert compute.calls == 1


def test_a_write_that_changes_no_row_moves_nothing(world: World) -> None:
    """The beat's ticks look for work every minute with statements that mostly match no row."""
    before = version()
    Library.objects.filter(name="Finnes ikke").update(name="Aldri")
    Library.objects.filter(name="Finnes ikke").delete()
    assert version() == before
    Library.objects.filter(pk=world.library.pk).update(name="Nytt navn")
    assert version() != before


def test_a_session_written_moves_nothing(world: World) -> None:
    """Sessions are written as people use the site and shown on no page."""
    before = version()
    session = SessionStore()
    session["seen"] = True
    session.save()
    assert version() == before


def test_a_write_while_the_cache_is_out_of_reach_is_made_and_the_move_is_made_before_the_next_read(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    compute = Counter()
    kept_while_unchanged("test:value", compute, seconds=60)

    def unreachable(*args: object, **kwargs: object) -> None:
        raise redis.ConnectionError("Redis restarts")

    with monkeypatch.context() as patched:
        patched.setattr(cache, "set", unreachable)
        rename(world.library, "Nytt navn")  # no error for the write

    assert Library.objects.get(pk=world.library.pk).name == "Nytt navn"
    assert kept_while_unchanged("test:value", compute, seconds=60) == 2  # not the value kept before the write
