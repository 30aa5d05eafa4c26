"""Containers and publishing: `POST /{ig-user-id}/media`, `GET /{container-id}`, `media_publish`."""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import asdict
from typing import Any

from fakegraph import checks, errors
from fakegraph.state import DAY, Account, Container, Core, Invite, Media, select

STATUS_TEXT = {
    "IN_PROGRESS": "In Progress: Media is still being processed.",
    "FINISHED": "Finished: Media has been uploaded and it is ready to be published.",
    "PUBLISHED": "Published: Media has been successfully published.",
    "EXPIRED": "Expired: Media was not published within 24 hours of its creation.",
}

CONTAINER_FIELDS = frozenset({"id", "status_code", "status", "copyright_check_status"})


class ContainerRules(Core):
    """Creating, checking, expiring and publishing containers; one container gives at most one media."""

    def create_container(self, ig_user_id: str, params: dict[str, Any]) -> str:
        """`POST /{ig-user-id}/media`: validate, download and check the media, make the container."""
        with self.lock:
            self.account(ig_user_id, "POST")
            self._check_container_cap(ig_user_id)
            draft = self._draft(ig_user_id, params)
            timeout = self.state.config.download_timeout
            polls = self.state.config.video_polls
        # Downloads happen outside the lock: other calls (status polls) go on meanwhile.
        if draft.image_url:
            checks.check_image(draft.image_url, timeout=timeout, check_aspect=draft.media_type != "STORIES")
        if draft.cover_url:
            checks.check_image(draft.cover_url, timeout=timeout, check_aspect=False)
        if draft.video_url:
            reel = draft.media_type == "REELS"
            verdict = checks.check_video(
                draft.video_url,
                timeout=timeout,
                max_bytes=checks.MAX_REEL_BYTES if reel else checks.MAX_SHORT_VIDEO_BYTES,
                min_seconds=3,
                max_seconds=15 * 60 if reel else 60,
                thumb_offset_ms=draft.thumb_offset,
            )
            draft.error_subcode = verdict.subcode
            draft.reason = verdict.reason
            draft.polls_left = max(polls, 0)
        with self.changing() as state:
            self._check_container_cap(ig_user_id)
            draft.id = self.new_id()
            draft.created_at = self.now()
            state.containers[draft.id] = draft
            return draft.id

    def _check_container_cap(self, ig_user_id: str) -> None:
        since = self.now() - DAY
        recent = sum(1 for c in self.state.containers.values() if c.ig_user_id == ig_user_id and c.created_at > since)
        if recent >= self.state.config.container_cap:
            raise errors.container_limit(self.state.config.container_cap)

    def _draft(self, ig_user_id: str, params: dict[str, Any]) -> Container:
        media_type = str(params.get("media_type") or "").upper()
        is_item = str(params.get("is_carousel_item", "")).lower() == "true"
        caption = str(params.get("caption") or "")
        image_url = str(params.get("image_url") or "")
        video_url = str(params.get("video_url") or "")
        alt_text = str(params.get("alt_text") or "")
        if media_type not in {"", "REELS", "STORIES", "CAROUSEL", "VIDEO"}:
            raise errors.unknown_media_type(media_type)
        if media_type == "VIDEO" and not is_item:
            raise errors.unknown_media_type("VIDEO (use REELS; VIDEO is only for carousel items)")
        if is_item and media_type in {"REELS", "STORIES", "CAROUSEL"}:
            raise errors.invalid_parameter(f"A {media_type} container cannot be a carousel item.")
        kind = media_type or "IMAGE"
        if kind in {"IMAGE", "STORIES"} and not (image_url or video_url):
            raise errors.invalid_parameter("The parameter image_url is required.")
        if kind in {"REELS", "VIDEO"} and not video_url:
            raise errors.invalid_parameter("The parameter video_url is required.")
        if kind == "IMAGE" and video_url:
            raise errors.invalid_parameter("The parameter media_type is required for a video.")
        if is_item and caption:
            raise errors.invalid_parameter("Param caption is not allowed for carousel items.")
        if alt_text and (kind not in {"IMAGE"} or len(alt_text) > 1000):
            raise errors.invalid_parameter("Param alt_text must be at most 1000 characters, on images only.")
        checks.check_caption(caption)
        collaborators = self._collaborators(params.get("collaborators"), kind=kind, is_item=is_item)
        children: list[str] = []
        if kind == "CAROUSEL":
            children = self._children(ig_user_id, params.get("children"))
        thumb_offset = str(params.get("thumb_offset") or "")
        share = params.get("share_to_feed")
        return Container(
            id="",
            ig_user_id=ig_user_id,
            media_type=kind,
            created_at=0.0,
            is_carousel_item=is_item,
            caption=caption,
            collaborators=collaborators,
            children=children,
            image_url=image_url if kind != "STORIES" or not video_url else "",
            video_url=video_url,
            cover_url=str(params.get("cover_url") or "") if kind == "REELS" else "",
            alt_text=alt_text,
            thumb_offset=int(thumb_offset) if thumb_offset.lstrip("-").isdigit() else None,
            share_to_feed=None if share is None else str(share).lower() == "true",
        )

    def _collaborators(self, raw: Any, *, kind: str, is_item: bool) -> list[str]:
        if raw in (None, "", []):
            return []
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                raise errors.invalid_parameter("Param collaborators must be a JSON array of usernames.") from None
        if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
            raise errors.invalid_parameter("Param collaborators must be a JSON array of usernames.")
        if is_item or kind == "STORIES":
            raise errors.invalid_parameter("param collaborators is not allowed")
        if len(raw) > checks.MAX_COLLABORATORS:
            raise errors.invalid_parameter(
                f"Param collaborators can name at most {checks.MAX_COLLABORATORS} accounts; it names {len(raw)}."
            )
        unavailable = {name.lower() for name in self.state.config.unavailable_usernames}
        bad = [n for n in raw if not checks.USERNAME.fullmatch(n) or n.lower() in unavailable]
        if bad:
            raise errors.collaborators_unavailable(bad)
        return list(raw)

    def _children(self, ig_user_id: str, raw: Any) -> list[str]:
        if isinstance(raw, list):
            ids = [str(c) for c in raw]
        else:
            text = str(raw or "").strip()
            if text.startswith("["):
                try:
                    ids = [str(c) for c in json.loads(text)]
                except ValueError:
                    raise errors.invalid_parameter("Param children must be a list of container ids.") from None
            else:
                ids = [c.strip() for c in text.split(",") if c.strip()]
        if not 2 <= len(ids) <= 10:
            raise errors.carousel_size(len(ids))
        for child_id in ids:
            child = self.state.containers.get(child_id)
            if child is None or child.ig_user_id != ig_user_id:
                raise errors.media_not_found(child_id)
            if not child.is_carousel_item:
                raise errors.invalid_parameter(f"The container {child_id} is not a carousel item.")
            if self._status(child, advance=False) == "EXPIRED":
                raise errors.container_expired()
        return ids

    def _status(self, container: Container, *, advance: bool) -> str:
        if container.media_id is not None:
            return "PUBLISHED"
        if container.forced_status:
            return container.forced_status
        if self.now() >= container.created_at + DAY:
            return "EXPIRED"
        if container.media_type == "CAROUSEL":
            statuses = [
                self._status(self.state.containers[c], advance=advance)
                for c in container.children
                if c in self.state.containers
            ]
            for status in ("ERROR", "EXPIRED", "IN_PROGRESS"):
                if status in statuses:
                    return status
            return "FINISHED"
        if container.polls_left > 0:
            if advance:
                container.polls_left -= 1
            return "IN_PROGRESS"
        return "ERROR" if container.error_subcode else "FINISHED"

    def _status_text(self, container: Container, status: str) -> str:
        if status != "ERROR":
            return STATUS_TEXT[status]
        subcode = container.error_subcode
        if subcode is None:  # a carousel whose item failed, or a forced ERROR
            failed = [self.state.containers[c] for c in container.children if c in self.state.containers]
            subcode = next((c.error_subcode for c in failed if c.error_subcode), None) or 2207082
        return f"Error: Media upload has failed with error code {subcode}"

    def container(self, container_id: str, fields_param: str | None) -> dict[str, Any]:
        """`GET /{container-id}`: a read moves video processing on by one poll."""
        with self.changing() as state:
            container = state.containers[container_id]
            status = self._status(container, advance=True)
            obj = {
                "id": container.id,
                "status_code": status,
                "status": self._status_text(container, status),
                "copyright_check_status": {"status": "completed", "matches_found": False},
            }
            return select(obj, fields_param, CONTAINER_FIELDS, "ShadowIGMediaBuilder")

    def force_container(self, container_id: str, status_code: str | None, subcode: int | None) -> dict[str, Any]:
        with self.changing() as state:
            container = state.containers.get(container_id)
            if container is None:
                raise KeyError(container_id)
            container.forced_status = status_code
            if subcode is not None:
                container.error_subcode = subcode
            return self._container_row(container)

    def publish(self, ig_user_id: str, params: dict[str, Any]) -> str:
        """`POST /{ig-user-id}/media_publish`: one container gives at most one media, ever."""
        with self.changing() as state:
            account = self.account(ig_user_id, "POST")
            creation_id = str(params.get("creation_id") or "")
            if not creation_id:
                raise errors.invalid_parameter("The parameter creation_id is required.")
            container = state.containers.get(creation_id)
            if container is None or container.ig_user_id != ig_user_id:
                raise errors.media_not_found(creation_id)
            container.publish_attempts += 1
            if container.is_carousel_item:
                raise errors.invalid_parameter("A carousel item cannot be published on its own.")
            status = self._status(container, advance=False)
            if status == "PUBLISHED":
                raise errors.already_published()
            if status == "EXPIRED":
                raise errors.container_expired()
            if status == "ERROR":
                raise errors.container_failed()
            if status == "IN_PROGRESS":
                raise errors.not_ready()
            if (
                self._published_since(ig_user_id, self.now() - state.config.publish_window)
                >= state.config.publish_quota
            ):
                raise errors.publishing_limit()
            media = self._make_media(account, container)
            state.media[media.id] = media
            container.media_id = media.id
            self.on_published(media.id)
            return media.id

    def _make_media(self, account: Account, container: Container) -> Media:
        media_type, product = {
            "IMAGE": ("IMAGE", "FEED"),
            "REELS": ("VIDEO", "REELS"),
            "CAROUSEL": ("CAROUSEL_ALBUM", "FEED"),
            "STORIES": ("VIDEO" if container.video_url else "IMAGE", "STORY"),
        }[container.media_type]
        return Media(
            id=self.new_id(),
            ig_user_id=account.ig_user_id,
            container_id=container.id,
            media_type=media_type,
            media_product_type=product,
            caption=container.caption,
            shortcode=base64.urlsafe_b64encode(secrets.token_bytes(8)).decode().rstrip("="),
            published_at=self.now(),
            collaborators=[Invite(username=name) for name in container.collaborators],
        )

    def publishing_limit(self, ig_user_id: str) -> dict[str, Any]:
        with self.lock:
            self.account(ig_user_id, "GET")
            window = self.state.config.publish_window
            usage = self._published_since(ig_user_id, self.now() - window)
            config = {"quota_total": self.state.config.publish_quota, "quota_duration": window}
            return {"data": [{"quota_usage": usage, "config": config}]}

    def _container_row(self, container: Container) -> dict[str, Any]:
        status = self._status(container, advance=False)
        return asdict(container) | {"status_code": status, "status": self._status_text(container, status)}
