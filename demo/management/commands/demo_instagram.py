"""Put the demo's published posts, their comments and readings on the local fake Graph API (`make run`).

load_demo files its published posts as if they went out before Instagram's
(the fake's) memory began: they have permalinks but no media id. This gives
each of them a media on the fake, with its comments and latest insights, so
that in the demo the inbox's replies, the insights task and the comments
task work on them as on any post the worker publishes. Run again after the
fake lost its state (var/fake_graph.json deleted): what the fake no longer
knows is made again and the ids are updated. With a real Graph API
configured it does nothing.
"""

from __future__ import annotations

from typing import Any

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from publishing.models import AccountSnapshot, InstagramComment, Post

# load_demo's permalinks (libraries/management/commands/load_demo.py): only those posts are the demo's.
DEMO_PERMALINK = "https://www.instagram.com/p/DEMO"
MEDIA_TYPES: dict[str, tuple[str, str]] = {
    Post.MediaKind.IMAGE: ("IMAGE", "FEED"),
    Post.MediaKind.CAROUSEL: ("CAROUSEL_ALBUM", "FEED"),
    Post.MediaKind.REEL: ("VIDEO", "REELS"),
}


class Command(BaseCommand):
    help = "Give the demo's published posts (and their comments) a media on the local fake Graph API."

    def handle(self, *args: Any, **options: Any) -> None:
        base = settings.GRAPH_API_URL
        try:
            with httpx.Client(base_url=base, timeout=10) as fake:
                state = fake.get("/_fake/state").raise_for_status().json()
                made = self._seed(fake, state)
        except (httpx.HTTPError, ValueError, KeyError) as error:
            # A real Graph API has no control routes: nothing to do.
            self.stdout.write(f"No fake Graph API at {base} ({type(error).__name__}): the demo posts stay as they are.")
            return
        self.stdout.write(f"The demo's posts are on the fake Graph API ({made} made again).")

    def _post(self, fake: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = fake.post(path, json=body).raise_for_status().json()
        return answer

    def _seed(self, fake: httpx.Client, state: dict[str, Any]) -> int:
        known_media = {media["id"] for media in state["media"]}
        accounts = {account["ig_user_id"] for account in state["accounts"]}
        posts = (
            Post.objects.filter(status=Post.Status.PUBLISHED, permalink__startswith=DEMO_PERMALINK)
            .select_related("channel")
            .order_by("published_at", "pk")
        )
        made = 0
        for post in posts:
            channel = post.channel
            if channel is None or channel.account_id not in accounts or post.published_at is None:
                continue
            if post.media_id in known_media:
                continue
            media_type, product = MEDIA_TYPES.get(post.media_kind, ("IMAGE", "FEED"))
            media = self._post(
                fake,
                "/_fake/media",
                {
                    "ig_user_id": channel.account_id,
                    "caption": post.full_caption,
                    "published_at": post.published_at.timestamp(),
                    "media_type": media_type,
                    "media_product_type": product,
                    "shortcode": post.permalink.rstrip("/").rsplit("/", 1)[-1],
                },
            )
            with transaction.atomic():
                Post.objects.filter(pk=post.pk).update(media_id=media["id"])
                self._comments(fake, post, media["id"])
            if post.insights:
                values = {name: value for name, value in post.insights.items() if isinstance(value, int)}
                self._post(fake, "/_fake/insights", {"media_id": media["id"], "values": values})
            made += 1
        for account_id in accounts:
            latest = AccountSnapshot.objects.filter(channel__account_id=account_id).order_by("-day").first()
            if latest is not None:
                # The daily reading then carries on the demo's curve.
                self._post(
                    fake, "/_fake/followers", {"ig_user_id": account_id, "followers_count": latest.followers_count}
                )
        return made

    def _comments(self, fake: httpx.Client, post: Post, media_id: str) -> None:
        """The post's comments on the fake, threads kept, each with the id the fake gave it."""
        new_ids: dict[int, str] = {}
        comments = InstagramComment.objects.filter(post=post).order_by("commented_at", "pk")
        # Top-level comments first, so that each reply finds its parent's new id.
        for comment in sorted(comments, key=lambda c: c.parent_id is not None):
            if comment.parent_id is not None and comment.parent_id not in new_ids:
                continue
            answer = self._post(
                fake,
                "/_fake/comments",
                {
                    "media_id": media_id,
                    "text": comment.text,
                    "username": comment.username,
                    "parent_id": new_ids.get(comment.parent_id) if comment.parent_id is not None else None,
                    "created_at": comment.commented_at.timestamp(),
                },
            )
            new_ids[comment.pk] = str(answer["ids"][0])
            InstagramComment.objects.filter(pk=comment.pk).update(comment_id=new_ids[comment.pk])
