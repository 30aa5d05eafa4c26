"""After publishing: media, collaborator invites, insights, comments and replies."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from publishing.fake_graph import errors
from publishing.fake_graph.state import Comment, Core, Media, cursor, graph_time, select, uncursor

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
COMMENT_FIELDS = frozenset(
    {"id", "text", "timestamp", "username", "like_count", "hidden", "parent_id", "from", "media"}
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

    def _comment_object(self, comment: Comment) -> dict[str, Any]:
        return {
            "id": comment.id,
            "text": comment.text,
            "timestamp": graph_time(comment.created_at),
            "username": comment.username,
            "like_count": comment.like_count,
            "hidden": comment.hidden,
            "parent_id": comment.parent_id,
            "from": {
                "id": str(17841000000000000 + zlib.crc32(comment.username.encode())),
                "username": comment.username,
            },
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
        """Top-level comments, newest first, 50 a page at most."""
        with self.lock:
            media = self.state.media[media_id]
            rows = [self._comment_object(self.state.comments[c]) for c in reversed(media.comment_ids)]
            fields_param = params.get("fields") or "id,text,timestamp"
            return self._page(
                rows,
                params,
                next_base,
                lambda row: select(row, fields_param, COMMENT_FIELDS, "IGComment"),
                max_limit=self.state.config.comment_page_size,
            )

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

    def add_comment(self, media_id: str, text: str, username: str, parent_id: str | None = None) -> str:
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
                created_at=self.now(),
                parent_id=parent_id,
            )
            state.comments[comment.id] = comment
            if parent_id is None:
                media.comment_ids.append(comment.id)
            else:
                state.comments[parent_id].reply_ids.append(comment.id)
            return comment.id

    def reply(self, comment_id: str, message: str) -> str:
        with self.lock:
            parent = self.state.comments[comment_id]
            if parent.parent_id is not None:
                raise errors.invalid_parameter("Replies can only be made to top-level comments.")
            username = self.state.accounts[self.state.media[parent.media_id].ig_user_id].username
            return self.add_comment(parent.media_id, message, username, parent_id=comment_id)
