"""Outcomes beyond likes: what a post led to, logged by editors and librarians (models: publishing/engagement.py)."""

from __future__ import annotations

from typing import Any

from libraries.access import CountyAccess
from publishing.models import Post


def post_panel(access: CountyAccess, post: Post) -> dict[str, Any]:
    """What the post page shows of its outcomes (templates/publishing/_post_outcomes.html)."""
    return {}
