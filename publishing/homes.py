"""What publishing adds to each role's home page (libraries/views.py `home`)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from libraries.access import CountyAccess
from publishing.followup.insights import humanised_duration
from publishing.instagram import channels
from publishing.models import InstagramComment, Post

HOME_LIST_LENGTH = 8
UNANSWERED_ON_HOME = 5


def home_context(access: CountyAccess) -> dict[str, Any]:
    county = access.county
    now = timezone.now()
    posts = Post.objects.for_county(county)
    context: dict[str, Any] = {}
    if access.is_editor:
        waiting = posts.awaiting_approval()
        context["posts_awaiting_approval"] = waiting.select_related("created_by").order_by("status_changed_at", "pk")[
            :HOME_LIST_LENGTH
        ]
        context["posts_awaiting_approval_count"] = waiting.count()
        context["failed_posts"] = posts.filter(status=Post.Status.FAILED).order_by("-status_changed_at")[
            :HOME_LIST_LENGTH
        ]
        # "Don't post and ghost": who has waited longest for an answer (DESIGN.md §7).
        unanswered = InstagramComment.objects.for_county(county).from_followers().unanswered()
        oldest = list(unanswered.select_related("post")[:UNANSWERED_ON_HOME])
        context["unanswered_comments"] = [(c, humanised_duration(c.age(now), now=now)) for c in oldest]
        context["unanswered_comments_count"] = unanswered.count() if len(oldest) == UNANSWERED_ON_HOME else len(oldest)
        # Posts the worker holds, with why (the daily limit, the connection, Instagram's processing).
        held = posts.filter(status=Post.Status.PUBLISHING, media_id="").exclude(waiting_for=Post.Waiting.NOTHING)
        context["waiting_posts"] = held.order_by("scheduled_at", "pk")[:HOME_LIST_LENGTH]
        context["waiting_posts_count"] = held.count()
    if access.is_coordinator:
        # The gaps in the plan are production's concept gaps, which count posts (production/homes.py).
        context["channel"] = channels.county_channel(county)
        if context["channel"] is not None and not context["channel"].is_connected:
            # Everything the stopped channel holds back: scheduled posts and those the worker holds.
            context["posts_waiting_for_channel"] = posts.filter(channel=context["channel"]).not_out_yet().count()
    else:
        context["upcoming_posts"] = (
            posts.filter(status=Post.Status.SCHEDULED, scheduled_at__gte=now)
            .order_by("scheduled_at", "pk")
            .only("pk", "title", "scheduled_at", "status")[:HOME_LIST_LENGTH]
        )
    return context
