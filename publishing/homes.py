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
    if access.is_coordinator:
        # The gaps in the plan are production's concept gaps, which count posts (production/homes.py).
        context["channel"] = channels.county_channel(county)
    else:
        context["upcoming_posts"] = (
            posts.filter(status=Post.Status.SCHEDULED, scheduled_at__gte=now)
            .order_by("scheduled_at", "pk")
            .only("pk", "title", "scheduled_at", "status")[:HOME_LIST_LENGTH]
        )
    return context
