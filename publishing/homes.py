"""What publishing adds to each role's home page (libraries/views.py `home`)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from libraries.access import CountyAccess
from publishing import channels
from publishing.models import Post

HOME_LIST_LENGTH = 8


def home_context(access: CountyAccess) -> dict[str, Any]:
    county = access.county
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
    if access.is_coordinator:
        # The gaps in the plan are production's concept gaps, which count posts (production/homes.py).
        context["channel"] = channels.county_channel(county)
    else:
        context["upcoming_posts"] = (
            posts.filter(status=Post.Status.SCHEDULED, scheduled_at__gte=timezone.now())
            .order_by("scheduled_at", "pk")
            .only("pk", "title", "scheduled_at", "status")[:HOME_LIST_LENGTH]
        )
    return context
