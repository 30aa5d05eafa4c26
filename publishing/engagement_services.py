"""Workflows after publishing: reading insights and followers, the comments inbox, the webhook.

Models: publishing/engagement.py.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Aggregate, DurationField, ExpressionWrapper, F, FloatField
from django.db.models.functions import Extract

from libraries.access import CountyAccess
from publishing.engagement import InstagramCommentQuerySet
from publishing.models import Post


class Median(Aggregate):
    """PostgreSQL's continuous median of an expression."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def median_reply_seconds(comments: InstagramCommentQuerySet) -> float | None:
    """The median time from a follower's comment to the account's first reply, in seconds (the inbox
    and the monthly report both show it); comments not replied to yet do not count."""
    waited = ExpressionWrapper(F("first_reply_at") - F("commented_at"), output_field=DurationField())
    answered = comments.from_followers().filter(first_reply_at__isnull=False)
    result = answered.aggregate(median=Median(Extract(waited, "epoch")))["median"]
    return float(result) if result is not None else None


def post_panel(access: CountyAccess, post: Post) -> dict[str, Any]:
    """What the post page shows of its insights and comments (templates/publishing/_post_engagement.html)."""
    return {}
