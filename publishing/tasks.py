"""Celery tasks for publishing: thin, ids in, idempotent in the database (see publish.py and services.py)."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.conf import settings

from publishing.archive import filing as archive
from publishing.followup import comments, insights
from publishing.instagram import channels
from publishing.posts import publish, services


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
    result = publish.run(post_id)
    if result.retry_in is not None:
        raise self.retry(countdown=result.retry_in)
    return result.state


@shared_task(name="publishing.look_after_tokens", acks_late=True, time_limit=300, soft_time_limit=240)
def look_after_tokens() -> dict[str, int]:
    """Daily: refresh tokens before they lapse, stop expired channels, warn the coordinator a week ahead."""
    return channels.look_after_tokens()


@shared_task(name="publishing.refresh_collaborator_invites", acks_late=True, time_limit=600, soft_time_limit=540)
def refresh_collaborator_invites() -> int:
    """Hourly: read pending collaborator invitations of recent posts again."""
    return publish.refresh_collaborator_invites()


# --- The archive ---


@shared_task(name="publishing.draft_concept_reposts", acks_late=True, time_limit=600, soft_time_limit=540)
def draft_concept_reposts() -> list[int]:
    """Daily: a draft from the archive for each coming slot of a re-posting concept that has no post.

    Each slot is claimed once in the database (ConceptRepost), so a second
    delivery, or a second run the same day, drafts nothing more.
    """
    return [repost.post.pk for repost in archive.draft_concept_reposts()]


# --- After publishing: insights, followers, comments ---


@shared_task(name="publishing.read_due_insights", acks_late=True, time_limit=600, soft_time_limit=540)
def read_due_insights() -> int:
    """Every 10 minutes: the insights readings that have come (about 1 h, 1 day, 7 and 28 days after publishing)."""
    return insights.read_due_insights()


@shared_task(name="publishing.read_followers", acks_late=True, time_limit=300, soft_time_limit=240)
def read_followers() -> int:
    """Daily: each connected account's followers (once a day however often it runs)."""
    return insights.read_followers()


@shared_task(name="publishing.pull_comments", acks_late=True, time_limit=600, soft_time_limit=540)
def pull_comments() -> int:
    """Every 15 minutes: new comments and replies on the recent posts, newest activity first."""
    return comments.pull_comments()
