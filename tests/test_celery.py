"""config/celery.py: what a worker keeps between tasks."""

from collections.abc import Iterator
from typing import Any

import pytest
from celery import signals, states
from celery.fixups.django import DjangoWorkerFixup
from django.db import connection

from config.celery import app, heartbeat


@pytest.fixture
def worker_connection() -> Iterator[Any]:
    """The database connection as a worker holds it: Celery's Django fixup installed (as a worker's start
    does), and the connection kept for a while (DATABASE_CONN_MAX_AGE; the tests' own is 0)."""
    fixup = DjangoWorkerFixup(app)
    fixup.install()
    previous = connection.settings_dict["CONN_MAX_AGE"]
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = 60
    connection.ensure_connection()
    try:
        yield connection.connection
    finally:
        connection.settings_dict["CONN_MAX_AGE"] = previous
        connection.close()
        signals.task_prerun.disconnect(fixup.on_task_prerun)
        signals.task_postrun.disconnect(fixup.on_task_postrun)
        signals.worker_process_init.disconnect(fixup.on_worker_process_init)
        signals.beat_embedded_init.disconnect(fixup.close_database)


def run_task(state: str, *, soft_time_limit: float | None = None) -> None:
    """The signals a worker sends around one task (the heartbeat's), which ended in `state`."""
    heartbeat.push_request(id="task-1", timelimit=(None, soft_time_limit), is_eager=False)
    try:
        signals.task_prerun.send(sender=heartbeat, task_id="task-1", task=heartbeat, args=(), kwargs={})
        with connection.cursor() as cursor:  # the task's own work
            cursor.execute("SELECT 1")
        signals.task_postrun.send(
            sender=heartbeat, task_id="task-1", task=heartbeat, args=(), kwargs={}, retval=None, state=state
        )
    finally:
        heartbeat.pop_request()


@pytest.mark.django_db(transaction=True)
def test_the_worker_keeps_its_database_connection_for_the_next_task_after_one_that_succeeded(
    worker_connection: Any,
) -> None:
    """A new PostgreSQL backend for every task (Celery's default) cost a publish more than its Graph calls."""
    run_task(states.SUCCESS)
    run_task(states.RETRY)  # a later try asked for by the task itself, after its work
    assert connection.connection is worker_connection


@pytest.mark.django_db(transaction=True)
def test_a_task_that_failed_leaves_no_connection_to_the_next(worker_connection: Any) -> None:
    """It may have stopped inside a query: the connection could be in a state Django cannot see."""
    run_task(states.FAILURE)
    assert connection.connection is None


@pytest.mark.django_db(transaction=True)
def test_a_task_that_ran_into_its_soft_time_limit_leaves_no_connection_even_when_it_ended_well(
    worker_connection: Any,
) -> None:
    """The soft limit's exception may come in the middle of a query, and a task may catch it and return
    (production.process_asset marks the asset failed)."""
    run_task(states.SUCCESS, soft_time_limit=1e-9)
    assert connection.connection is None
