"""After publishing: media, collaborator invites, insights, comments and replies."""

from __future__ import annotations

import base64
import contextlib
import secrets
import threading
import zlib
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from fakegraph import errors, webhooks
from fakegraph.state import Comment, Core, Media, cursor, graph_time, select, split_fields, uncursor

FEED_METRICS = frozenset(
    {
        "comments",
        "likes",
        "reach",
        "saved",
        "shares",
        "views",
        "total_interactions",
        "follows",
        "profile_visits",
        "profile_activity",
        "reposts",
    }
)
REELS_METRICS = FEED_METRICS | {
    "ig_reels_avg_watch_time",
    "ig_reels_video_view_total_time",
    "reels_skip_rate",
    "crossposted_views",
    "facebook_views",
}
MEDIA_FIELDS = frozenset(
    {
        "id",
        "caption",
        "media_type",
        "media_product_type",
        "permalink",
        "shortcode",
        "timestamp",
        "like_count",
        "comments_count",
        "is_comment_enabled",
        "username",
        "media_url",
        "thumbnail_url",
        "owner",
        "alt_text",
    }
)
# What the demo's followers say about a new post (audience_after).
AUDIENCE = [
    ("lesehest_stavanger", "Så fint! Når kan jeg låne den?"),
    ("mamma_til_to", "Gjelder dette for barn også?"),
    ("bokormen88", "Elsker dette 📚"),
    ("knut.h", "Hvor lenge er det åpent i dag?"),
    ("sandnesfar", "Har dere den som lydbok?"),
]
COMMENT_FIELDS = frozenset(
    {"id", "text", "timestamp", "username", "like_count", "hidden", "parent_id", "from", "media", "replies"}
)


class EngagementRules(Core):
    """Published media and what happens to them afterwards."""

    def _media_object(self, media: Media) -> dict[str, Any]:
        account = self.state.accounts[media.ig_user_id]
        path = "reel" if media.media_product_type == "REELS" else "p"
        return {
            "id": media.id,
            "caption": media.caption,
            "media_type": media.media_type,
            "media_product_type": media.media_product_type,
            "permalink": f"https://www.instagram.com/{path}/{media.shortcode}/",
            "shortcode": media.shortcode,
            "timestamp": graph_time(media.published_at),
            "like_count": media.like_count,
            "comments_count": len(media.comment_ids),
            "is_comment_enabled": True,
            "username": account.username,
            "media_url": f"https://fake.invalid/media/{media.id}",
            "owner": {"id": media.ig_user_id},
        }

    def media(self, media_id: str, fields_param: str | None) -> dict[str, Any]:
        with self.lock:
            return select(self._media_object(self.state.media[media_id]), fields_param, MEDIA_FIELDS, "IGMedia")

    def list_media(self, ig_user_id: str, params: dict[str, Any], next_base: str) -> dict[str, Any]:
        with self.lock:
            self.account(ig_user_id, "GET")
            items = sorted(
                (m for m in self.state.media.values() if m.ig_user_id == ig_user_id),
                key=lambda m: (m.published_at, m.id),
                reverse=True,
            )
            rows = [self._media_object(m) for m in items]
            return self._page(
                rows,
                params,
                next_base,
                lambda row: select(row, params.get("fields"), MEDIA_FIELDS, "IGMedia"),
                max_limit=25,
            )

    def collaborators(self, media_id: str) -> dict[str, Any]:
        """Invites read as Pending until `collab_accept_after_reads` reads, then Accepted."""
        with self.changing() as state:
            media = state.media[media_id]
            accept_after = state.config.collab_accept_after_reads
            rows = []
            for invite in media.collaborators:
                if invite.invite_status == "Pending" and accept_after is not None and invite.reads >= accept_after:
                    invite.invite_status = "Accepted"
                invite.reads += 1
                rows.append(
                    {
                        "id": str(17841000000000000 + zlib.crc32(invite.username.encode())),
                        "username": invite.username,
                        "invite_status": invite.invite_status,
                    }
                )
            return {"data": rows}

    def set_invite(self, media_id: str, username: str | None, invite_status: str) -> list[dict[str, Any]]:
        with self.changing() as state:
            media = state.media[media_id]
            for invite in media.collaborators:
                if username is None or invite.username.lower() == username.lower():
                    invite.invite_status = invite_status
            return [asdict(i) for i in media.collaborators]

    def insights(self, media_id: str, metric_param: str | None) -> dict[str, Any]:
        with self.lock:
            media = self.state.media[media_id]
            metrics = [m.strip() for m in (metric_param or "").split(",") if m.strip()]
            if not metrics:
                raise errors.invalid_parameter("The value must be a valid insights metric")
            supported = REELS_METRICS if media.media_product_type == "REELS" else FEED_METRICS
            unsupported = [m for m in metrics if m not in supported]
            if unsupported:
                raise errors.invalid_parameter(
                    f"The Media Insights API does not support the {', '.join(unsupported)} metric"
                    f"{'s' if len(unsupported) > 1 else ''} for this media product type."
                )
            values = media.insights
            if values is None:
                if self.now() - media.published_at < self.state.config.insights_after:
                    return {"data": []}  # no data yet: an empty set, not zeros
                values = self._generated_insights(media)
            data = [
                {
                    "name": name,
                    "period": "lifetime",
                    "values": [{"value": values[name]}],
                    "title": name.replace("_", " ").capitalize(),
                    "description": f"The {name.replace('_', ' ')} of the media.",
                    "id": f"{media.id}/insights/{name}/lifetime",
                }
                for name in metrics
                if name in values
            ]
            return {"data": data}

    def _generated_insights(self, media: Media) -> dict[str, int]:
        base = 50 + zlib.crc32(media.id.encode()) % 500
        likes = media.like_count or base // 10
        comments = len(media.comment_ids)
        saved, shares = base // 50, base // 40
        values = dict.fromkeys(REELS_METRICS, base // 20)
        values |= {
            "reach": base,
            "views": base * 2,
            "likes": likes,
            "comments": comments,
            "saved": saved,
            "shares": shares,
            "total_interactions": likes + comments + saved + shares,
        }
        return values

    def set_insights(self, media_id: str, values: dict[str, int]) -> None:
        with self.changing() as state:
            state.media[media_id].insights = {str(k): int(v) for k, v in values.items()}

    def _from_id(self, comment: Comment) -> str:
        """The writer's id: the account's own id for its own comments, else a stable scoped id."""
        owner = self.state.accounts.get(self.state.media[comment.media_id].ig_user_id)
        if owner is not None and owner.username == comment.username:
            return owner.ig_user_id
        return str(17841000000000000 + zlib.crc32(comment.username.encode()))

    def _comment_object(self, comment: Comment) -> dict[str, Any]:
        return {
            "id": comment.id,
            "text": comment.text,
            "timestamp": graph_time(comment.created_at),
            "username": comment.username,
            "like_count": comment.like_count,
            "hidden": comment.hidden,
            "parent_id": comment.parent_id,
            "from": {"id": self._from_id(comment), "username": comment.username},
            "media": {"id": comment.media_id},
        }

    def _page(
        self,
        rows: list[dict[str, Any]],
        params: dict[str, Any],
        next_base: str,
        shape: Callable[[dict[str, Any]], dict[str, Any]],
        *,
        max_limit: int,
    ) -> dict[str, Any]:
        """Cursor paging as the Graph API does it: cursors always, `next` only when there is more."""
        try:
            limit = int(params.get("limit") or max_limit)
        except ValueError:
            raise errors.invalid_parameter("Param limit must be a number.") from None
        limit = max(1, min(limit, max_limit))
        start = 0
        after = params.get("after")
        if after:
            after_id = uncursor(str(after))
            ids = [row["id"] for row in rows]
            start = ids.index(after_id) + 1 if after_id in ids else len(rows)
        page = rows[start : start + limit]
        body: dict[str, Any] = {"data": [shape(row) for row in page]}
        if page:
            paging: dict[str, Any] = {"cursors": {"before": cursor(page[0]["id"]), "after": cursor(page[-1]["id"])}}
            if start + limit < len(rows):
                paging["next"] = f"{next_base}?limit={limit}&after={cursor(page[-1]['id'])}"
            body["paging"] = paging
        return body

    def list_comments(self, media_id: str, params: dict[str, Any], next_base: str) -> dict[str, Any]:
        """Top-level comments, newest first, 50 a page at most; `replies{…}` expands each comment's
        first page of replies (with its own paging) into the answer."""
        with self.lock:
            media = self.state.media[media_id]
            rows = [self._comment_object(self.state.comments[c]) for c in reversed(media.comment_ids)]
            fields_param = params.get("fields") or "id,text,timestamp"
            reply_fields = split_fields(fields_param).get("replies")
            root = next_base.rsplit("/", 2)[0]

            def shape(row: dict[str, Any]) -> dict[str, Any]:
                if reply_fields is not None:
                    row = row | {
                        "replies": self.list_replies(row["id"], {"fields": reply_fields}, f"{root}/{row['id']}/replies")
                    }
                return select(row, fields_param, COMMENT_FIELDS, "IGComment")

            return self._page(rows, params, next_base, shape, max_limit=self.state.config.comment_page_size)

    def list_replies(self, comment_id: str, params: dict[str, Any], next_base: str) -> dict[str, Any]:
        with self.lock:
            comment = self.state.comments[comment_id]
            rows = [self._comment_object(self.state.comments[c]) for c in comment.reply_ids]
            fields_param = params.get("fields") or "id,text,timestamp"
            return self._page(
                rows,
                params,
                next_base,
                lambda row: select(row, fields_param, COMMENT_FIELDS, "IGComment"),
                max_limit=self.state.config.comment_page_size,
            )

    def comment(self, comment_id: str, fields_param: str | None) -> dict[str, Any]:
        with self.lock:
            return select(
                self._comment_object(self.state.comments[comment_id]), fields_param, COMMENT_FIELDS, "IGComment"
            )

    def add_comment(
        self, media_id: str, text: str, username: str, parent_id: str | None = None, created_at: float | None = None
    ) -> str:
        with self.changing() as state:
            media = state.media.get(media_id)
            if media is None:
                raise errors.unknown_object(media_id, "POST")
            if not text:
                raise errors.invalid_parameter("The parameter message is required.")
            comment = Comment(
                id=self.new_id(),
                media_id=media_id,
                text=text,
                username=username,
                created_at=self.now() if created_at is None else float(created_at),
                parent_id=parent_id,
            )
            state.comments[comment.id] = comment
            if parent_id is None:
                media.comment_ids.append(comment.id)
            else:
                state.comments[parent_id].reply_ids.append(comment.id)
            if state.config.webhook_url:
                self._send_webhook(media, comment)
            return comment.id

    def add_media(
        self,
        ig_user_id: str,
        *,
        caption: str,
        published_at: float | None = None,
        media_type: str = "IMAGE",
        media_product_type: str = "FEED",
        shortcode: str | None = None,
    ) -> dict[str, Any]:
        """A media published before the fake's state began (`make run`'s demo posts): no container."""
        with self.changing() as state:
            self.account(ig_user_id, "POST")
            media = Media(
                id=self.new_id(),
                ig_user_id=ig_user_id,
                container_id="",
                media_type=media_type,
                media_product_type=media_product_type,
                caption=caption,
                shortcode=shortcode or base64.urlsafe_b64encode(secrets.token_bytes(8)).decode().rstrip("="),
                published_at=self.now() if published_at is None else float(published_at),
            )
            state.media[media.id] = media
            return self._media_object(media)

    def on_published(self, media_id: str) -> None:
        """The demo's audience: a follower comments on a new post a little later (`audience_after`)."""
        delay = self.state.config.audience_after
        if delay is None:
            return
        username, text = AUDIENCE[zlib.crc32(media_id.encode()) % len(AUDIENCE)]

        def comment() -> None:
            with contextlib.suppress(errors.GraphError):  # the media was deleted meanwhile
                self.add_comment(media_id, text, username)

        timer = threading.Timer(delay, comment)
        timer.daemon = True
        timer.start()

    def _send_webhook(self, media: Media, comment: Comment) -> None:
        """Tell the app, as Meta does: signed, after the comment exists, from another thread."""
        config = self.state.config
        url = str(config.webhook_url)
        body = webhooks.encode(
            webhooks.comment_payload(
                ig_user_id=media.ig_user_id,
                media=media,
                comment=comment,
                from_id=self._from_id(comment),
                shape=config.webhook_shape,
                now=self.now(),
            )
        )
        delivery: dict[str, Any] = {"comment_id": comment.id, "url": url, "status": None, "error": ""}
        self.state.webhook_deliveries.append(delivery)
        secret = config.webhook_secret or config.app_secret

        def deliver() -> None:
            status, error = webhooks.post(url, body, secret)
            with self.changing():
                delivery["status"], delivery["error"] = status, error

        threading.Thread(target=deliver, name=f"webhook-{comment.id}", daemon=True).start()

    def delete_object(self, object_id: str) -> None:
        """A media or comment deleted on Instagram (with its comments or replies)."""
        with self.changing() as state:
            if object_id in state.media:
                media = state.media.pop(object_id)
                for comment_id in media.comment_ids:
                    for reply_id in state.comments.pop(comment_id).reply_ids:
                        state.comments.pop(reply_id, None)
                return
            comment = state.comments.pop(object_id, None)
            if comment is None:
                raise KeyError(object_id)
            for reply_id in comment.reply_ids:
                state.comments.pop(reply_id, None)
            if comment.parent_id is None:
                state.media[comment.media_id].comment_ids.remove(object_id)
            else:
                state.comments[comment.parent_id].reply_ids.remove(object_id)

    def reply(self, comment_id: str, message: str) -> str:
        with self.lock:
            parent = self.state.comments[comment_id]
            if parent.parent_id is not None:
                raise errors.invalid_parameter("Replies can only be made to top-level comments.")
            username = self.state.accounts[self.state.media[parent.media_id].ig_user_id].username
            return self.add_comment(parent.media_id, message, username, parent_id=comment_id)
