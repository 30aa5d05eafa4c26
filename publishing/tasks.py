"""Celery tasks for publishing: thin, ids in, idempotent in the database (see publish.py and services.py)."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.conf import settings

from publishing import channels, publish, services


@shared_task(name="publishing.enqueue_due_posts", acks_late=True, time_limit=120, soft_time_limit=100)
def enqueue_due_posts() -> list[int]:
    """The beat tick (every minute): one publish task for each due post, enqueued after the commit."""
    return services.enqueue_due_posts()


@shared_task(
    name="publishing.publish_post",
    bind=True,
    acks_late=True,
    max_retries=None,  # publish.py counts attempts itself and fails the post with the reason
    time_limit=settings.PUBLISH_TASK_TIME_LIMIT,
    soft_time_limit=max(settings.PUBLISH_TASK_TIME_LIMIT - 30, settings.PUBLISH_TASK_TIME_LIMIT * 4 // 5),
)
def publish_post(self: Task[Any, Any], post_id: int) -> str:
    """Carry one post on from its stored step; a later try when Instagram asks us to wait."""
    outcome = publish.run(post_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.state


@shared_task(name="publishing.look_after_tokens", acks_late=True, time_limit=300, soft_time_limit=240)
def look_after_tokens() -> dict[str, int]:
    """Daily: refresh tokens before they lapse, stop expired channels, warn the coordinator a week ahead."""
    return channels.look_after_tokens()


@shared_task(name="publishing.refresh_collaborator_invites", acks_late=True, time_limit=600, soft_time_limit=540)
def refresh_collaborator_invites() -> int:
    """Hourly: read pending collaborator invitations of recent posts again."""
    return services.refresh_collaborator_invites()


# --- The archive ---


# --- After publishing: insights, followers, comments ---


# --- The monthly report ---
