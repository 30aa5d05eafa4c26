"""The Instagram Graph API client (Instagram API with Facebook Login).

A plain module without Django: the caller passes a `GraphConfig` built from
settings (GRAPH_API_URL, GRAPH_API_VERSION) and the channel's token. Every call
goes through `Client._call`, the one HTTP chokepoint, with explicit timeouts.
Every failure, whether Meta's error, a 5xx, a timeout or a dropped connection,
becomes one `GraphAPIError` with a `kind` saying what the caller may do about
it; `permanent` is the short form (retry only when it is false).

The client never retries on its own: the publishing worker owns back-off,
and it must know that a timed-out POST may still have taken effect
(`GraphAPIError.maybe_applied`). Above all `media_publish`: before publishing
again, ask for the container's status.

Parameters of POST calls travel in a form body, never in the query string, so
captions with `#` and `&` arrive intact; the token travels in the
`Authorization: Bearer` header, so it never appears in a logged URL. The OAuth
token exchanges are GET calls with the app secret in the query, as Meta
documents them: keep the `httpx` logger at WARNING so those URLs are not logged.

The facts behind this module, with Meta's pages, are collected in
GRAPH_API.md (kept with the project's shared notes).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import math
import re
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import urlencode, urlsplit

import certifi
import httpx

FACEBOOK_GRAPH_URL = "https://graph.facebook.com"
FACEBOOK_DIALOG_URL = "https://www.facebook.com"

# What a connected channel needs: publishing, comments, insights and the
# collaborator read-back, plus the Pages that link to the Instagram account.
DEFAULT_SCOPES: tuple[str, ...] = (
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
    "instagram_manage_insights",
    "pages_show_list",
    "pages_read_engagement",
    "business_management",
)

DEFAULT_MEDIA_FIELDS: tuple[str, ...] = (
    "id",
    "permalink",
    "shortcode",
    "media_type",
    "media_product_type",
    "caption",
    "timestamp",
    "username",
    "like_count",
    "comments_count",
)
DEFAULT_COMMENT_FIELDS: tuple[str, ...] = ("id", "text", "timestamp", "username", "like_count", "hidden", "parent_id")
DEFAULT_ACCOUNT_FIELDS: tuple[str, ...] = ("id", "username", "followers_count", "media_count")

# Meta's publishing docs: at most 50 comments per page.
MAX_COMMENTS_PER_PAGE = 50

# Lifetime media metrics. v22 replaced impressions (feed) and plays (reels) with views
# (and retired the old ones for every version from 2025-04-21); v18 brought total_interactions.
# Asking for a metric the media's product type lacks fails the whole call with code 100.
# Reference: https://developers.facebook.com/docs/instagram-platform/reference/instagram-media/insights
# Reference: https://developers.facebook.com/docs/graph-api/changelog/version22.0
_COMMON_METRICS: tuple[str, ...] = ("reach", "likes", "comments", "saved", "shares", "total_interactions")
VIEWS_SINCE_VERSION = (22, 0)


def media_insight_metrics(version: str, media_product_type: str) -> tuple[str, ...]:
    """The lifetime metrics to ask for, for a media of this product type (FEED, REELS) on this Graph version."""
    match = re.fullmatch(r"v?(\d+)\.(\d+)", version.strip())
    numbers = (int(match.group(1)), int(match.group(2))) if match else VIEWS_SINCE_VERSION
    if numbers >= VIEWS_SINCE_VERSION:
        return (*_COMMON_METRICS, "views")
    return (*_COMMON_METRICS, "plays" if media_product_type == "REELS" else "impressions")


@dataclass(frozen=True)
class GraphConfig:
    """Where and as whom to call the Graph API.

    `access_token` is the channel's token; it may be empty for the OAuth calls,
    which authenticate with the app id and secret instead. `dialog_base_url`
    is where the login dialog lives: None means www.facebook.com for the real
    Graph host and the Graph host itself otherwise (the project's fake serves
    the dialog).
    """

    base_url: str = FACEBOOK_GRAPH_URL
    version: str = "v25.0"
    access_token: str = field(default="", repr=False)
    timeout: float = 60.0
    connect_timeout: float = 10.0
    dialog_base_url: str | None = None

    @property
    def api_root(self) -> str:
        return f"{self.base_url.rstrip('/')}/{self.version}"

    @property
    def dialog_root(self) -> str:
        if self.dialog_base_url is not None:
            base = self.dialog_base_url
        elif urlsplit(self.base_url).hostname == urlsplit(FACEBOOK_GRAPH_URL).hostname:
            base = FACEBOOK_DIALOG_URL
        else:
            base = self.base_url
        return f"{base.rstrip('/')}/{self.version}"


# --- Errors -------------------------------------------------------------------------------------


class ErrorKind(StrEnum):
    TRANSIENT = "transient"  # retry the same call after a back-off
    RATE_LIMIT = "rate_limit"  # retry after `retry_after`, or when the 24-hour quota window moves on
    NEW_CONTAINER = "new_container"  # the container expired or broke: create a new one, then publish that
    TOKEN = "token"  # noqa: S105 - not a secret. The token is invalid or expired: stop the channel until reconnected
    PERMANENT = "permanent"  # the request or the media is wrong; the same call will fail again


# Throttles: 4 app, 17 user, 32 Page, 613 custom, 341 app limit; 80000-80014 are the
# Business Use Case throttles (80002 is Instagram's). 9 is the publishing quota (9/2207042).
_RATE_LIMIT_CODES = frozenset({4, 9, 17, 32, 341, 613, *range(80000, 80015)})
_TOKEN_CODES = frozenset({102, 190})
_TRANSIENT_CODES = frozenset({1, 2, 9004, 9007})
# -1 is "server error / create failed / upload failed", 24 "media not found": Meta's advice
# for all of them is a new container.
_NEW_CONTAINER_CODES = frozenset({-1, 24})
_PERMANENT_CODES = frozenset({10, 25, 100, 110, 352, 368, 36000, 36001, 36002, 36003, 36004})

# Subcodes decide first: the same code means different things (4/2207051 is a spam
# flag, not a throttle; 1/2207057 a bad thumbnail offset, not a hiccup).
_SUBCODE_KINDS: dict[int, ErrorKind] = {
    2207003: ErrorKind.TRANSIENT,  # media download timed out
    2207008: ErrorKind.TRANSIENT,  # creation_id missing or expired for a moment: retry once or twice
    2207027: ErrorKind.TRANSIENT,  # not ready for publishing: poll, then publish
    2207052: ErrorKind.TRANSIENT,  # media could not be fetched (often a passing fault of the host)
    2207042: ErrorKind.RATE_LIMIT,  # the daily publishing limit
    2207001: ErrorKind.NEW_CONTAINER,  # Instagram server error
    2207006: ErrorKind.NEW_CONTAINER,  # media not found
    2207020: ErrorKind.NEW_CONTAINER,  # the container expired
    2207032: ErrorKind.NEW_CONTAINER,  # creating the media failed
    2207053: ErrorKind.NEW_CONTAINER,  # unknown upload error
    2207076: ErrorKind.NEW_CONTAINER,  # video could not be fetched or processed (observed, undocumented)
    2207077: ErrorKind.NEW_CONTAINER,
    2207082: ErrorKind.NEW_CONTAINER,
    2207085: ErrorKind.NEW_CONTAINER,  # video processing failed (observed)
    2207004: ErrorKind.PERMANENT,  # image over 8 MiB
    2207005: ErrorKind.PERMANENT,  # image format
    2207009: ErrorKind.PERMANENT,  # aspect ratio
    2207010: ErrorKind.PERMANENT,  # caption too long
    2207018: ErrorKind.PERMANENT,  # collaborator private or unknown
    2207023: ErrorKind.PERMANENT,  # unknown media_type
    2207026: ErrorKind.PERMANENT,  # video format
    2207028: ErrorKind.PERMANENT,  # carousel needs 2-10 items
    2207035: ErrorKind.PERMANENT,  # product tags
    2207036: ErrorKind.PERMANENT,
    2207037: ErrorKind.PERMANENT,
    2207040: ErrorKind.PERMANENT,  # more than 20 @tags
    2207050: ErrorKind.PERMANENT,  # account restricted
    2207051: ErrorKind.PERMANENT,  # flagged as spam
    2207057: ErrorKind.PERMANENT,  # thumb_offset out of range
    2207081: ErrorKind.PERMANENT,  # trial reels not supported
}


def classify(
    code: int | None, subcode: int | None, *, http_status: int | None = None, meta_is_transient: bool = False
) -> ErrorKind:
    """What a caller may do about an error with this code and subcode."""
    if code in _TOKEN_CODES:
        return ErrorKind.TOKEN
    if subcode is not None and subcode in _SUBCODE_KINDS:
        return _SUBCODE_KINDS[subcode]
    if code is not None:
        for codes, kind in (
            (_RATE_LIMIT_CODES, ErrorKind.RATE_LIMIT),
            (_TRANSIENT_CODES, ErrorKind.TRANSIENT),
            (_NEW_CONTAINER_CODES, ErrorKind.NEW_CONTAINER),
            (_PERMANENT_CODES, ErrorKind.PERMANENT),
        ):
            if code in codes:
                return kind
        if code == -2:  # download timeouts; -2/2207020 (expired) is caught by its subcode above
            return ErrorKind.TRANSIENT
        if 200 <= code <= 299:  # permissions
            return ErrorKind.PERMANENT
    if meta_is_transient or http_status is None or http_status >= 500:
        # No answer at all, a 5xx, or Meta says so itself.
        return ErrorKind.TRANSIENT
    return ErrorKind.PERMANENT


class GraphAPIError(Exception):
    """Any failed Graph API call: Meta's error object, a 5xx, a timeout, a lost connection.

    `code` is None when Meta never answered with an error object (network
    failures, a 5xx without JSON). `user_title`/`user_message` are Meta's words
    for people (often empty); `message` is for logs. `maybe_applied` is true
    when the request may have reached Meta and taken effect although we got no
    answer (a read timeout, a dropped connection, a 5xx).
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        error_type: str = "",
        user_title: str = "",
        user_message: str = "",
        http_status: int | None = None,
        fbtrace_id: str = "",
        meta_is_transient: bool = False,
        retry_after: float | None = None,
        maybe_applied: bool = False,
        kind: ErrorKind | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.error_type = error_type
        self.user_title = user_title
        self.user_message = user_message
        self.http_status = http_status
        self.fbtrace_id = fbtrace_id
        self.meta_is_transient = meta_is_transient
        self.retry_after = retry_after
        self.maybe_applied = maybe_applied
        self.kind = kind or classify(code, subcode, http_status=http_status, meta_is_transient=meta_is_transient)
        self.permanent = self.kind in (ErrorKind.PERMANENT, ErrorKind.TOKEN)

    @property
    def is_rate_limit(self) -> bool:
        return self.kind is ErrorKind.RATE_LIMIT

    @property
    def is_token_invalid(self) -> bool:
        return self.kind is ErrorKind.TOKEN

    @property
    def is_transient(self) -> bool:
        return self.kind is ErrorKind.TRANSIENT

    @property
    def needs_new_container(self) -> bool:
        return self.kind is ErrorKind.NEW_CONTAINER

    @property
    def is_unknown_object(self) -> bool:
        """The object is gone (a deleted media or comment) or out of reach: (#100) subcode 33."""
        return self.code == 100 and self.subcode == 33

    @property
    def reason(self) -> str:
        """The plainest words we have for a person: Meta's user message, else its message."""
        return self.user_message or self.user_title or self.message

    def __str__(self) -> str:
        codes = "" if self.code is None else f"(#{self.code}{f'/{self.subcode}' if self.subcode else ''}) "
        return f"{codes}{self.message} [{self.kind}]"

    def __repr__(self) -> str:
        return (
            f"GraphAPIError(code={self.code!r}, subcode={self.subcode!r}, kind={self.kind.value!r}, "
            f"http_status={self.http_status!r}, message={self.message!r}, fbtrace_id={self.fbtrace_id!r})"
        )


# --- Results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BusinessUseCaseUsage:
    """The `X-Business-Use-Case-Usage` header: percentages of the call budget, highest of all entries."""

    call_count: int
    total_cputime: int
    total_time: int
    estimated_time_to_regain_access: int  # minutes

    @property
    def retry_after(self) -> float | None:
        minutes = self.estimated_time_to_regain_access
        return float(minutes * 60) if minutes > 0 else None


def parse_business_use_case_usage(header: str | None) -> BusinessUseCaseUsage | None:
    """`{"<business-id>":[{"type":"instagram","call_count":N,…,"estimated_time_to_regain_access":min}]}`."""
    if not header:
        return None
    try:
        parsed = json.loads(header)
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    entries = [e for value in parsed.values() if isinstance(value, list) for e in value if isinstance(e, dict)]
    if not entries:
        return None

    def highest(key: str) -> int:
        return max((_as_int(e.get(key)) or 0 for e in entries), default=0)

    return BusinessUseCaseUsage(
        call_count=highest("call_count"),
        total_cputime=highest("total_cputime"),
        total_time=highest("total_time"),
        estimated_time_to_regain_access=highest("estimated_time_to_regain_access"),
    )


class ContainerStatusCode(StrEnum):
    EXPIRED = "EXPIRED"
    ERROR = "ERROR"
    FINISHED = "FINISHED"
    IN_PROGRESS = "IN_PROGRESS"
    PUBLISHED = "PUBLISHED"


_STATUS_SUBCODE = re.compile(r"\b(22\d{5})\b")


@dataclass(frozen=True)
class ContainerStatus:
    id: str
    status_code: ContainerStatusCode
    status: str  # Meta's text; only its error code is worth reading (see error_subcode)

    @property
    def error_subcode(self) -> int | None:
        """The subcode Meta names in an ERROR status, e.g. "…failed with error code 2207082"."""
        match = _STATUS_SUBCODE.search(self.status) if self.status_code is ContainerStatusCode.ERROR else None
        return int(match.group(1)) if match else None

    def as_error(self) -> GraphAPIError | None:
        """An EXPIRED or ERROR container as the error a caller handles; None for the other states.

        An ERROR with a subcode that names the media (format, size, offset) is
        permanent; any other failure asks for a new container.
        """
        if self.status_code is ContainerStatusCode.EXPIRED:
            return GraphAPIError(
                f"Container {self.id} expired before it was published.",
                subcode=2207020,
                user_message="The media you are trying to access has expired. Please try to upload again.",
                kind=ErrorKind.NEW_CONTAINER,
            )
        if self.status_code is ContainerStatusCode.ERROR:
            subcode = self.error_subcode
            kind = _SUBCODE_KINDS.get(subcode, ErrorKind.NEW_CONTAINER) if subcode else ErrorKind.NEW_CONTAINER
            if kind is not ErrorKind.PERMANENT:
                kind = ErrorKind.NEW_CONTAINER
            return GraphAPIError(
                f"Container {self.id} failed: {self.status}", subcode=subcode, user_message=self.status, kind=kind
            )
        return None


@dataclass(frozen=True)
class Media:
    id: str
    permalink: str | None = None
    shortcode: str | None = None
    media_type: str | None = None  # IMAGE, VIDEO, CAROUSEL_ALBUM
    media_product_type: str | None = None  # FEED, REELS, STORY, AD
    caption: str | None = None
    timestamp: datetime | None = None
    username: str | None = None
    like_count: int | None = None  # absent when the owner hides likes
    comments_count: int | None = None


@dataclass(frozen=True)
class MediaPage:
    media: list[Media]
    after: str | None  # the cursor of the next page; None on the last page


@dataclass(frozen=True)
class PublishingLimit:
    quota_usage: int
    quota_total: int
    quota_duration: int  # seconds

    @property
    def remaining(self) -> int:
        return max(self.quota_total - self.quota_usage, 0)


@dataclass(frozen=True)
class Collaborator:
    id: str
    username: str
    invite_status: str  # "Pending", "Accepted", "Declined" as Meta spells them (its docs sample: "Accpeted")


@dataclass(frozen=True)
class Comment:
    """A comment or a reply. `replies` holds the first page of a comment's replies when they were asked
    for (`list_comments(with_replies=True)`); `replies_after` is the cursor of the rest, if any."""

    id: str
    text: str
    timestamp: datetime | None = None
    username: str | None = None
    like_count: int | None = None
    hidden: bool | None = None
    parent_id: str | None = None
    from_id: str | None = None  # the writer's Instagram-scoped id
    replies: tuple[Comment, ...] = ()
    replies_after: str | None = None


@dataclass(frozen=True)
class CommentPage:
    comments: list[Comment]
    after: str | None  # the cursor of the next page; None on the last page


@dataclass(frozen=True)
class AccountInfo:
    """The Instagram professional account's profile numbers."""

    id: str
    username: str
    followers_count: int | None
    media_count: int | None


@dataclass(frozen=True)
class GraphUser:
    id: str
    name: str


@dataclass(frozen=True)
class InstagramAccount:
    """An Instagram professional account reached through a Facebook Page the user manages."""

    ig_user_id: str
    username: str
    page_id: str
    page_name: str


@dataclass(frozen=True)
class AccessToken:
    access_token: str = field(repr=False)
    token_type: str
    expires_in: int | None  # seconds; None when Meta gives none (Page tokens do not expire)

    def expires_at(self, now: datetime) -> datetime | None:
        return None if self.expires_in is None else now + timedelta(seconds=self.expires_in)


@dataclass(frozen=True)
class TokenInfo:
    is_valid: bool
    app_id: str
    user_id: str
    type: str
    expires_at: datetime | None  # None: does not expire
    data_access_expires_at: datetime | None
    scopes: list[str]


# --- The client ---------------------------------------------------------------------------------


def oauth_dialog_url(
    config: GraphConfig, *, app_id: str, redirect_uri: str, state: str, scopes: Sequence[str] = DEFAULT_SCOPES
) -> str:
    """The Facebook Login dialog to send a person to; it comes back to `redirect_uri` with `code` and `state`."""
    # Reference: https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow
    query = urlencode(
        {
            "client_id": app_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "response_type": "code",
            "scope": ",".join(scopes),
        }
    )
    return f"{config.dialog_root}/dialog/oauth?{query}"


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every client: building one reads the whole CA bundle (about 0.1 s),
    and the worker makes a client for each post it publishes."""
    return ssl.create_default_context(cafile=certifi.where())


class Client:
    """The Graph API as typed calls. Use as a context manager, or call `close()`."""

    def __init__(self, config: GraphConfig, *, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        # The usage Meta reported on the last response, for callers that slow down before a throttle.
        self.last_usage: BusinessUseCaseUsage | None = None
        timeout = httpx.Timeout(config.timeout, connect=min(config.connect_timeout, config.timeout))
        self._http = httpx.Client(
            timeout=timeout, transport=transport, verify=_tls_context(), headers={"Accept": "application/json"}
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- Publishing -----------------------------------------------------------------------------

    def create_image_container(
        self,
        ig_user_id: str,
        *,
        image_url: str,
        caption: str = "",
        collaborators: Sequence[str] = (),
        alt_text: str = "",
        is_carousel_item: bool = False,
    ) -> str:
        """A container for a single feed image or an image carousel item; returns its id."""
        # Reference: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media
        params = {"image_url": image_url, "caption": caption, "alt_text": alt_text}
        if is_carousel_item:
            params["is_carousel_item"] = "true"
        return self._create_container(ig_user_id, params, collaborators)

    def create_video_container(
        self,
        ig_user_id: str,
        *,
        video_url: str,
        media_type: Literal["REELS", "VIDEO"] = "REELS",
        caption: str = "",
        collaborators: Sequence[str] = (),
        cover_url: str = "",
        thumb_offset: int | None = None,
        share_to_feed: bool | None = None,
    ) -> str:
        """A reel (REELS), or a video carousel item (VIDEO, which is only valid as one); returns its id."""
        # Reference: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media
        params = {"video_url": video_url, "media_type": media_type, "caption": caption, "cover_url": cover_url}
        if media_type == "VIDEO":
            params["is_carousel_item"] = "true"
        if thumb_offset is not None:
            params["thumb_offset"] = str(thumb_offset)
        if share_to_feed is not None:
            params["share_to_feed"] = "true" if share_to_feed else "false"
        return self._create_container(ig_user_id, params, collaborators)

    def create_carousel_container(
        self, ig_user_id: str, *, children: Sequence[str], caption: str = "", collaborators: Sequence[str] = ()
    ) -> str:
        """The parent of 2-10 item containers; caption and collaborators go here, not on the items."""
        # Reference: https://developers.facebook.com/docs/instagram-platform/content-publishing#carousel-posts
        params = {"media_type": "CAROUSEL", "children": ",".join(children), "caption": caption}
        return self._create_container(ig_user_id, params, collaborators)

    def _create_container(self, ig_user_id: str, params: dict[str, str], collaborators: Sequence[str]) -> str:
        if collaborators:
            # Usernames, as a JSON list, without the "@" people type (Meta rejects it).
            params["collaborators"] = json.dumps([name.strip().lstrip("@") for name in collaborators])
        body = self._call("POST", f"{ig_user_id}/media", {k: v for k, v in params.items() if v})
        return _required_str(body, "id")

    def get_container_status(self, container_id: str) -> ContainerStatus:
        # Reference: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-container
        body = self._call("GET", container_id, {"fields": "id,status_code,status"})
        raw = _str(body, "status_code") or ""
        try:
            status_code = ContainerStatusCode(raw)
        except ValueError:
            raise GraphAPIError(
                f"Unknown container status_code {raw!r} for {container_id}.", kind=ErrorKind.TRANSIENT
            ) from None
        return ContainerStatus(
            id=_str(body, "id") or container_id, status_code=status_code, status=_str(body, "status") or ""
        )

    def publish(self, ig_user_id: str, creation_id: str) -> str:
        """Publish a FINISHED container; returns the new IG media id (not the container id).

        Not idempotent: after a timeout or a lost answer, read the container's
        status before calling again (PUBLISHED means the post is live).
        """
        # Reference: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media_publish
        return _required_str(self._call("POST", f"{ig_user_id}/media_publish", {"creation_id": creation_id}), "id")

    def get_media(self, media_id: str, fields: Sequence[str] = DEFAULT_MEDIA_FIELDS) -> Media:
        # Reference: https://developers.facebook.com/docs/instagram-platform/reference/instagram-media
        return _media(self._call("GET", media_id, {"fields": ",".join(fields)}))

    def list_media(
        self,
        ig_user_id: str,
        *,
        fields: Sequence[str] = DEFAULT_MEDIA_FIELDS,
        limit: int = 25,
        after: str | None = None,
    ) -> MediaPage:
        """The account's media, newest first. A container has no media id field, so this is how a
        publish whose answer was lost finds its media (by caption and time)."""
        # Reference: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media
        params = {"fields": ",".join(fields), "limit": str(limit)}
        if after:
            params["after"] = after
        body = self._call("GET", f"{ig_user_id}/media", params)
        return MediaPage(media=[_media(item) for item in _data(body)], after=_next_cursor(body))

    def content_publishing_limit(self, ig_user_id: str, *, since: datetime | None = None) -> PublishingLimit:
        """Posts published in the moving 24 hours against the quota (50 at the time of writing)."""
        # Reference: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/content_publishing_limit
        params = {"fields": "quota_usage,config"}
        if since is not None:
            params["since"] = str(int(since.timestamp()))
        data = _data(self._call("GET", f"{ig_user_id}/content_publishing_limit", params))
        entry = data[0] if data else {}
        config = entry.get("config")
        if not isinstance(config, dict):
            config = {}
        return PublishingLimit(
            quota_usage=_as_int(entry.get("quota_usage")) or 0,
            quota_total=_as_int(config.get("quota_total")) or 50,
            quota_duration=_as_int(config.get("quota_duration")) or 86400,
        )

    # --- After publishing -----------------------------------------------------------------------

    def get_collaborators(self, media_id: str) -> list[Collaborator]:
        """Invited collaborators and their invite status (Facebook Login only)."""
        # Reference: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media/collaborators
        body = self._call("GET", f"{media_id}/collaborators", {"fields": "id,username,invite_status"})
        return [
            Collaborator(
                id=_str(item, "id") or "",
                username=_str(item, "username") or "",
                invite_status=_str(item, "invite_status") or "",
            )
            for item in _data(body)
        ]

    def get_insights(self, media_id: str, metrics: Sequence[str]) -> dict[str, int]:
        """Lifetime values by metric name. A metric without data yet is missing, never 0."""
        # Reference: https://developers.facebook.com/docs/instagram-platform/reference/instagram-media/insights
        body = self._call("GET", f"{media_id}/insights", {"metric": ",".join(metrics)})
        values: dict[str, int] = {}
        for item in _data(body):
            name = _str(item, "name")
            value = _insight_value(item)
            if name and value is not None:
                values[name] = value
        return values

    def list_comments(
        self,
        media_id: str,
        *,
        after: str | None = None,
        limit: int = MAX_COMMENTS_PER_PAGE,
        fields: Sequence[str] = DEFAULT_COMMENT_FIELDS,
        with_replies: bool = False,
    ) -> CommentPage:
        """One page of top-level comments, newest first; pass `after` from the previous page.

        `with_replies` asks for each comment's first page of replies in the same call (Graph field
        expansion, `replies{…}`), which saves one call per comment; page on with `list_replies`.
        """
        # Reference: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media/comments
        # Reference: https://developers.facebook.com/docs/graph-api/guides/field-expansion
        wanted = ",".join(fields)
        if with_replies:
            wanted += f",replies{{{','.join(fields)}}}"
        params = {"fields": wanted, "limit": str(min(limit, MAX_COMMENTS_PER_PAGE))}
        if after:
            params["after"] = after
        body = self._call("GET", f"{media_id}/comments", params)
        return CommentPage(comments=[_comment(item) for item in _data(body)], after=_next_cursor(body))

    def list_replies(
        self,
        comment_id: str,
        *,
        after: str | None = None,
        limit: int = MAX_COMMENTS_PER_PAGE,
        fields: Sequence[str] = DEFAULT_COMMENT_FIELDS,
    ) -> CommentPage:
        """One page of a top-level comment's replies, oldest first; pass `after` from the previous page."""
        # Reference: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment/replies
        params = {"fields": ",".join(fields), "limit": str(min(limit, MAX_COMMENTS_PER_PAGE))}
        if after:
            params["after"] = after
        body = self._call("GET", f"{comment_id}/replies", params)
        page = [_comment(item) for item in _data(body)]
        # Replies read through the edge may leave out parent_id: it is the comment asked about.
        return CommentPage(comments=[_with_parent(reply, comment_id) for reply in page], after=_next_cursor(body))

    def reply_to_comment(self, comment_id: str, message: str) -> str:
        """Reply as the account; returns the reply's comment id."""
        # Reference: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment/replies
        return _required_str(self._call("POST", f"{comment_id}/replies", {"message": message}), "id")

    # --- Accounts and tokens --------------------------------------------------------------------

    def get_account(self, ig_user_id: str, fields: Sequence[str] = DEFAULT_ACCOUNT_FIELDS) -> AccountInfo:
        """The account's username, followers and number of media (for the daily followers reading)."""
        # Reference: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user
        body = self._call("GET", ig_user_id, {"fields": ",".join(fields)})
        return AccountInfo(
            id=_str(body, "id") or ig_user_id,
            username=_str(body, "username") or "",
            followers_count=_as_int(body.get("followers_count")),
            media_count=_as_int(body.get("media_count")),
        )

    def get_me(self) -> GraphUser:
        """The Facebook user the token belongs to."""
        # Reference: https://developers.facebook.com/docs/graph-api/reference/user
        body = self._call("GET", "me", {"fields": "id,name"})
        return GraphUser(id=_required_str(body, "id"), name=_str(body, "name") or "")

    def list_instagram_accounts(self) -> list[InstagramAccount]:
        """The Instagram professional accounts linked to the Pages the user manages."""
        # Reference: https://developers.facebook.com/docs/instagram-platform/instagram-api-with-facebook-login/get-started
        body = self._call("GET", "me/accounts", {"fields": "id,name,instagram_business_account{id,username}"})
        accounts = []
        for page in _data(body):
            ig = page.get("instagram_business_account")
            if isinstance(ig, dict) and _str(ig, "id"):
                accounts.append(
                    InstagramAccount(
                        ig_user_id=_required_str(ig, "id"),
                        username=_str(ig, "username") or "",
                        page_id=_str(page, "id") or "",
                        page_name=_str(page, "name") or "",
                    )
                )
        return accounts

    def debug_token(self, input_token: str, *, app_id: str, app_secret: str) -> TokenInfo:
        """What Meta knows about a token: validity, expiry, scopes. Authenticated as the app."""
        # Reference: https://developers.facebook.com/docs/graph-api/reference/debug_token
        body = self._call("GET", "debug_token", {"input_token": input_token}, token=f"{app_id}|{app_secret}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise GraphAPIError("debug_token answered without data.", kind=ErrorKind.TRANSIENT)
        scopes = data.get("scopes")
        return TokenInfo(
            is_valid=data.get("is_valid") is True,
            app_id=_str(data, "app_id") or "",
            user_id=_str(data, "user_id") or "",
            type=_str(data, "type") or "",
            expires_at=_epoch(data.get("expires_at")),
            data_access_expires_at=_epoch(data.get("data_access_expires_at")),
            scopes=[str(s) for s in scopes] if isinstance(scopes, list) else [],
        )

    def exchange_code_for_token(self, *, app_id: str, app_secret: str, redirect_uri: str, code: str) -> AccessToken:
        """The login dialog's `code` for a (short-lived) user token; `redirect_uri` must match the dialog's."""
        # Reference: https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow#exchangecode
        params = {"client_id": app_id, "client_secret": app_secret, "redirect_uri": redirect_uri, "code": code}
        return _access_token(self._oauth_call(params))

    def exchange_long_lived_token(self, *, app_id: str, app_secret: str, short_lived_token: str) -> AccessToken:
        """A short-lived user token for a long-lived one (about 60 days)."""
        # Reference: https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived
        params = {
            "grant_type": "fb_exchange_token",
            "client_id": app_id,
            "client_secret": app_secret,
            "fb_exchange_token": short_lived_token,
        }
        return _access_token(self._oauth_call(params))

    def refresh_token(self, *, app_id: str, app_secret: str, token: str) -> AccessToken:
        """A fresh long-lived token for a still valid one (Facebook Login has no separate refresh call:
        the same fb_exchange_token grant). An expired token cannot be refreshed: the person logs in again."""
        # Reference: https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived
        return self.exchange_long_lived_token(app_id=app_id, app_secret=app_secret, short_lived_token=token)

    def _oauth_call(self, params: Mapping[str, str]) -> dict[str, Any]:
        try:
            return self._call("GET", "oauth/access_token", params, token=None)
        except GraphAPIError as error:
            # Meta answers a wrong client secret with code 1 ("unknown error"), which is
            # transient elsewhere. A login is interactive: a refused exchange is final, the
            # person starts again. Only a missing answer or a 5xx is worth retrying.
            if error.code is not None and error.kind is ErrorKind.TRANSIENT and (error.http_status or 0) < 500:
                error.kind, error.permanent = ErrorKind.PERMANENT, True
            raise

    # --- The chokepoint -------------------------------------------------------------------------

    def _call(
        self,
        method: Literal["GET", "POST"],
        path: str,
        params: Mapping[str, str],
        *,
        token: str | Literal[False] | None = False,
    ) -> dict[str, Any]:
        """One Graph API request. `token=False` means the config's token; None means none (OAuth calls)."""
        bearer = self.config.access_token if token is False else token
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        url = f"{self.config.api_root}/{path}"
        try:
            if method == "GET":
                response = self._http.get(url, params=dict(params), headers=headers)
            else:
                response = self._http.post(url, data=dict(params), headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Nothing reached Meta: safe to repeat.
            raise GraphAPIError(f"{method} {path}: no connection ({exc!r})", kind=ErrorKind.TRANSIENT) from exc
        except httpx.TransportError as exc:
            # A read timeout or a dropped connection after the request went out.
            raise GraphAPIError(
                f"{method} {path}: no answer ({exc!r})", kind=ErrorKind.TRANSIENT, maybe_applied=True
            ) from exc

        usage = parse_business_use_case_usage(response.headers.get("x-business-use-case-usage"))
        if usage is not None:
            self.last_usage = usage
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400 or not isinstance(body, dict) or "error" in body:
            raise _error_from_response(method, path, response, body, usage)
        return body


# --- Webhooks -----------------------------------------------------------------------------------

SIGNATURE_HEADER = "X-Hub-Signature-256"


def webhook_signature(body: bytes, app_secret: str) -> str:
    """The `X-Hub-Signature-256` value of a webhook: `sha256=` and the HMAC-SHA256 of the raw body."""
    # Reference: https://developers.facebook.com/docs/graph-api/webhooks/getting-started#event-notifications
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify_webhook_signature(body: bytes, header: str | None, app_secret: str) -> bool:
    """Whether Meta signed these exact bytes with the app secret (compared in constant time)."""
    if not app_secret or not header:
        return False
    return hmac.compare_digest(webhook_signature(body, app_secret).encode(), header.strip().encode("utf-8", "replace"))


@dataclass(frozen=True)
class WebhookComment:
    """One comment a `comments` webhook tells about; `account_id` is the account whose media it is on."""

    account_id: str
    comment_id: str
    media_id: str
    text: str
    username: str | None = None
    from_id: str | None = None
    parent_id: str | None = None
    time: datetime | None = None
    media_product_type: str | None = None


def parse_comment_webhook(payload: object) -> list[WebhookComment]:
    """The comments in a webhook delivery; other fields (mentions, messages) and broken entries are left out.

    Facebook Login nests each change under `entry[].changes[]`; Instagram Login's samples put
    `field` and `value` in the entry itself. Observed payloads name the comment `id`, the
    moderation guide's sample `comment_id`: both are read. The payload carries no timestamp of
    the comment, only the entry's `time`.
    """
    # Reference: https://developers.facebook.com/docs/graph-api/webhooks/reference/instagram
    # Reference: https://developers.facebook.com/docs/instagram-platform/webhooks/examples
    if not isinstance(payload, dict) or payload.get("object") not in (None, "instagram"):
        return []
    entries = payload.get("entry")
    found: list[WebhookComment] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        changes = entry.get("changes")
        items = [c for c in changes if isinstance(c, dict)] if isinstance(changes, list) else [entry]
        account_id = _str(entry, "id") or ""
        seconds = _as_int(entry.get("time"))
        if seconds is not None and seconds > 10**11:  # milliseconds, as some deliveries send
            seconds //= 1000
        for item in items:
            value = item.get("value")
            if item.get("field") != "comments" or not isinstance(value, dict):
                continue
            media = value.get("media")
            writer = value.get("from")
            comment_id = _str(value, "id") or _str(value, "comment_id")
            media_id = _str(media, "id") if isinstance(media, dict) else None
            if not (account_id and comment_id and media_id):
                continue
            found.append(
                WebhookComment(
                    account_id=account_id,
                    comment_id=comment_id,
                    media_id=media_id,
                    text=_str(value, "text") or "",
                    username=_str(writer, "username") if isinstance(writer, dict) else None,
                    from_id=_str(writer, "id") if isinstance(writer, dict) else None,
                    parent_id=_str(value, "parent_id"),
                    time=datetime.fromtimestamp(seconds, tz=UTC) if seconds else None,
                    media_product_type=_str(media, "media_product_type") if isinstance(media, dict) else None,
                )
            )
    return found


def _error_from_response(
    method: str, path: str, response: httpx.Response, body: object, usage: BusinessUseCaseUsage | None
) -> GraphAPIError:
    status = response.status_code
    trace = response.headers.get("x-fb-trace-id", "")
    retry_after = usage.retry_after if usage else None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        # A proxy's HTML page, an empty 502, a 200 that is not an object: Meta did not answer properly.
        return GraphAPIError(
            f"{method} {path}: HTTP {status} without a Graph error ({response.text[:200]!r})",
            http_status=status,
            fbtrace_id=trace,
            retry_after=retry_after,
            maybe_applied=status >= 500,
            kind=ErrorKind.TRANSIENT if status >= 500 or status < 400 else ErrorKind.PERMANENT,
        )
    return GraphAPIError(
        _str(error, "message") or f"HTTP {status}",
        code=_as_int(error.get("code")),
        subcode=_as_int(error.get("error_subcode")),
        error_type=_str(error, "type") or "",
        user_title=_str(error, "error_user_title") or "",
        user_message=_str(error, "error_user_msg") or "",
        http_status=status,
        fbtrace_id=_str(error, "fbtrace_id") or trace,
        meta_is_transient=error.get("is_transient") is True,
        retry_after=retry_after,
        maybe_applied=status >= 500,
    )


# --- Parsing helpers ----------------------------------------------------------------------------


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def _str(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def _required_str(body: Mapping[str, Any], key: str) -> str:
    value = _str(body, key)
    if not value:
        raise GraphAPIError(f"The answer has no {key!r}: {str(body)[:200]}", kind=ErrorKind.TRANSIENT)
    return value


def _data(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    data = body.get("data")
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _next_cursor(body: Mapping[str, Any]) -> str | None:
    """Graph paging: a next page exists only when `paging.next` does; its cursor is `paging.cursors.after`."""
    paging = body.get("paging")
    if not isinstance(paging, dict) or not paging.get("next"):
        return None
    cursors = paging.get("cursors")
    return _str(cursors, "after") if isinstance(cursors, dict) else None


def _timestamp(value: object) -> datetime | None:
    # Graph timestamps look like 2017-08-31T19:16:02+0000.
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def _epoch(value: object) -> datetime | None:
    seconds = _as_int(value)
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds else None  # 0 means "never"


def _media(body: Mapping[str, Any]) -> Media:
    return Media(
        id=_required_str(body, "id"),
        permalink=_str(body, "permalink"),
        shortcode=_str(body, "shortcode"),
        media_type=_str(body, "media_type"),
        media_product_type=_str(body, "media_product_type"),
        caption=_str(body, "caption"),
        timestamp=_timestamp(body.get("timestamp")),
        username=_str(body, "username"),
        like_count=_as_int(body.get("like_count")),
        comments_count=_as_int(body.get("comments_count")),
    )


def _comment(body: Mapping[str, Any]) -> Comment:
    hidden = body.get("hidden")
    writer = body.get("from")
    comment_id = _required_str(body, "id")
    replies = body.get("replies")
    if not isinstance(replies, dict):
        replies = {}
    return Comment(
        id=comment_id,
        text=_str(body, "text") or "",
        timestamp=_timestamp(body.get("timestamp")),
        username=_str(body, "username") or (_str(writer, "username") if isinstance(writer, dict) else None),
        like_count=_as_int(body.get("like_count")),
        hidden=hidden if isinstance(hidden, bool) else None,
        parent_id=_str(body, "parent_id"),
        from_id=_str(writer, "id") if isinstance(writer, dict) else None,
        replies=tuple(_with_parent(_comment(reply), comment_id) for reply in _data(replies)),
        replies_after=_next_cursor(replies),
    )


def _with_parent(reply: Comment, parent_id: str) -> Comment:
    return reply if reply.parent_id else replace(reply, parent_id=parent_id)


def _insight_value(item: Mapping[str, Any]) -> int | None:
    # Lifetime media metrics: {"values":[{"value":123}]}; newer metrics: {"total_value":{"value":123}}.
    values = item.get("values")
    if isinstance(values, list) and values and isinstance(values[-1], dict):
        return _as_int(values[-1].get("value"))
    total = item.get("total_value")
    if isinstance(total, dict):
        return _as_int(total.get("value"))
    return None


def _access_token(body: Mapping[str, Any]) -> AccessToken:
    return AccessToken(
        access_token=_required_str(body, "access_token"),
        token_type=_str(body, "token_type") or "bearer",
        expires_in=_as_int(body.get("expires_in")),
    )
