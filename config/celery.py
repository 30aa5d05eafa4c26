"""The Celery app and its beat schedule (in code, so every deploy agrees)."""

import os
import time

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("innspill")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

HEARTBEAT_KEY = "innspill:worker-heartbeat"

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
