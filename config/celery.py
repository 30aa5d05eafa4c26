"""The Celery app and its beat schedule (in code, so every deploy agrees)."""

import gc
import os
import sys
import time
from typing import Any

from celery import Celery, Task, signals, states
from celery.schedules import crontab
from django.db import connections
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("innspill")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

HEARTBEAT_KEY = "innspill:worker-heartbeat"


@signals.worker_init.connect
def _freeze_what_the_worker_loaded(**_: Any) -> None:
    """As config/wsgi.py does for the web: once Django and the task modules are loaded (and every view,
    which the first reverse() of an e-mail or a post's address would import), what the worker holds is
    frozen out of the cyclic garbage collector's full walks (gc.freeze), some 170,000 objects that live as
    long as the process. Before a prefork worker starts its children, so they share it too."""
    get_resolver().url_patterns  # noqa: B018 - imports every view now, before the freeze
    gc.freeze()


# The database connection between tasks. Celery's Django fixup closes it before and after every task
# (unless CELERY_DB_REUSE_MAX is set, then every that many tasks), so each task paid for a new
# PostgreSQL backend (a fork, authentication, the time zone set, and catalog caches cold for every
# query the task made): in the publishing bench a post's tasks waited some 42 ms for PostgreSQL,
# 28 ms with the connection kept. The fixup's closing is put off for good
# here, and the handlers below keep the connection as a web request does (DATABASE_CONN_MAX_AGE,
# health-checked on first use) after a task that ended as it meant to. One that ended otherwise may
# have been interrupted inside a query (an error, or the soft time limit's signal, which a task may
# catch and finish normally: production.process_asset does), leaving a connection Django cannot
# tell is broken; that one is closed, as Celery does.
app.conf["CELERY_DB_REUSE_MAX"] = sys.maxsize
KEEPS_CONNECTION = frozenset({states.SUCCESS, states.RETRY})
_task_started: dict[str, float] = {}


@signals.task_prerun.connect
def _connections_before_task(task_id: str, task: Task[Any, Any], **_: Any) -> None:
    if task.request.is_eager:  # run inside the caller (tests): its connection, and its transaction, are its own
        return
    _task_started[task_id] = time.monotonic()
    for connection in connections.all(initialized_only=True):
        connection.close_if_unusable_or_obsolete()


@signals.task_postrun.connect
def _connections_after_task(task_id: str, task: Task[Any, Any], state: str | None = None, **_: Any) -> None:
    if task.request.is_eager:
        return
    started = _task_started.pop(task_id, None)
    soft_limit = (task.request.timelimit or (None, None))[1] or task.soft_time_limit or app.conf.task_soft_time_limit
    ran_out = started is None or (soft_limit is not None and time.monotonic() - started >= float(soft_limit))
    for connection in connections.all(initialized_only=True):
        if state in KEEPS_CONNECTION and not ran_out:
            connection.close_if_unusable_or_obsolete()
        else:
            connection.close()


# Three queues, each consumed by workers of its own (config/embedded.py, docker-compose.yml), so
# that a photo or video being processed (minutes, in the worst case) never holds up a post that is
# due: a worker takes one task at a time (prefetch 1, late acknowledgement), and one consuming both
# queues would make a due post wait behind every media task it had already taken.
# "publish": what makes a post go out (the minute tick and each post's publishing);
# "media": making renditions; "celery", the default: everything else (mail, insights, comments,
# the nightly and hourly jobs, the heartbeat).
PUBLISH_QUEUE = "publish"
MEDIA_QUEUE = "media"
DEFAULT_QUEUE = "celery"
QUEUES = (DEFAULT_QUEUE, MEDIA_QUEUE, PUBLISH_QUEUE)
app.conf.task_default_queue = DEFAULT_QUEUE
app.conf.task_routes = {
    "publishing.enqueue_due_posts": {"queue": PUBLISH_QUEUE},
    "publishing.publish_post": {"queue": PUBLISH_QUEUE},
    "production.process_asset": {"queue": MEDIA_QUEUE},
}

app.conf.beat_schedule = {
    # Beat enqueues and a worker runs it, so a fresh heartbeat proves the
    # broker, beat and at least one worker are alive (see /healthz).
    "worker-heartbeat": {"task": "innspill.heartbeat", "schedule": 30.0},
    "clear-expired-sessions": {
        "task": "libraries.clear_expired_sessions",
        "schedule": crontab(minute=17, hour=3),
    },
    # Two days before each recording day, in working hours; hourly so that a
    # missed tick catches up. Each day is reminded once (claimed in the database).
    "recording-day-reminders": {
        "task": "production.send_recording_day_reminders",
        "schedule": crontab(minute=5, hour="7-20"),
    },
    # Consents past their last valid day lapse in the night (each once, claimed in the database).
    "expire-consents": {"task": "production.expire_consents", "schedule": crontab(minute=40, hour=2)},
    # Resumable uploads nobody finished (UPLOAD_ABANDONED_AFTER_HOURS) free their disk space.
    "clean-abandoned-uploads": {"task": "production.clean_abandoned_uploads", "schedule": crontab(minute=25)},
    # Due posts to the worker; posts a dead worker left behind are taken up again.
    # SKIP LOCKED in the tick makes an overlapping tick harmless.
    "publish-due-posts": {"task": "publishing.enqueue_due_posts", "schedule": 60.0},
    # Tokens: refreshed before they lapse, the coordinator warned a week ahead (once).
    "instagram-tokens": {"task": "publishing.look_after_tokens", "schedule": crontab(minute=15, hour=6)},
    "collaborator-invites": {"task": "publishing.refresh_collaborator_invites", "schedule": crontab(minute=40)},
    # Concepts' re-posts drafted from the archive, ahead of their slots; each slot claimed once.
    "concept-reposts": {"task": "publishing.draft_concept_reposts", "schedule": crontab(minute=20, hour=6)},
    # After publishing: insights, followers and comments. Each reading is claimed in the database
    # (a run that overlaps skips it), and readings are unique per round.
    "insights": {"task": "publishing.read_due_insights", "schedule": crontab(minute="*/10")},
    "followers": {"task": "publishing.read_followers", "schedule": crontab(minute=50, hour=5)},
    "comments": {"task": "publishing.pull_comments", "schedule": crontab(minute="3-59/15")},
}


@app.task(name="innspill.heartbeat", acks_late=True, time_limit=30, soft_time_limit=20)
def heartbeat() -> float:
    """Record that a worker is processing tasks."""
    from django.core.cache import cache

    now = time.time()
    cache.set(HEARTBEAT_KEY, now, timeout=None)
    return now
