"""Workflows after publishing: reading insights and followers, the comments inbox, the webhook.

Models: publishing/engagement.py.
"""

from __future__ import annotations

from typing import Any

from libraries.access import CountyAccess
from publishing.models import Post


def post_panel(access: CountyAccess, post: Post) -> dict[str, Any]:
    """What the post page shows of its insights and comments (templates/publishing/_post_engagement.html)."""
    return {}
