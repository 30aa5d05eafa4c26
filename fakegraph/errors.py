"""Graph API errors as the fake returns them: Meta's codes, subcodes and words."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo


def trace_id() -> str:
    return "Fake" + secrets.token_urlsafe(12)


class GraphError(Exception):
    """An error the fake answers with, in Meta's shape (`{"error": {...}}`, HTTP 400 by default)."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        user_title: str = "",
        user_msg: str = "",
        is_transient: bool = False,
        http_status: int = 400,
        error_type: str = "OAuthException",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.subcode = subcode
        self.user_title = user_title
        self.user_msg = user_msg
        self.is_transient = is_transient
        self.http_status = http_status
        self.error_type = error_type

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.error_type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["is_transient"] = self.is_transient
        if self.user_title:
            error["error_user_title"] = self.user_title
        if self.user_msg:
            error["error_user_msg"] = self.user_msg
        error["fbtrace_id"] = trace_id()
        return {"error": error}


# The Instagram publishing errors (Meta's "Error Codes" page; messages as observed where known).


def invalid_parameter(text: str, *, subcode: int | None = None, user_title: str = "", user_msg: str = "") -> GraphError:
    return GraphError(100, f"(#100) {text}", subcode=subcode, user_title=user_title, user_msg=user_msg or text)


def unknown_object(object_id: str, method: str) -> GraphError:
    return GraphError(
        100,
        f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, cannot be loaded due "
        "to missing permissions, or does not support this operation. Please read the Graph API documentation at "
        "https://developers.facebook.com/docs/graph-api",
        subcode=33,
        error_type="GraphMethodException",
    )


def unknown_path(path: str) -> GraphError:
    return GraphError(2500, f"Unknown path components: {path}")


def image_too_large(size: int) -> GraphError:
    return GraphError(
        36000,
        "The image size is too large.",
        subcode=2207004,
        user_title="Image size too large",
        user_msg=f"The image is too large to download. It should be less than 8 MiB (it is {size} bytes).",
    )


def image_format(found: str) -> GraphError:
    return GraphError(
        36001,
        "The image format is not supported.",
        subcode=2207005,
        user_title="Unsupported format",
        user_msg=f"The image format is not supported ({found}). Supported formats are: JPEG.",
    )


def aspect_ratio(width: int, height: int) -> GraphError:
    text = (
        f"The submitted image with aspect ratio ('{width}/{height}') cannot be published. "
        "Please submit an image with a valid aspect ratio."
    )
    return GraphError(36003, text, subcode=2207009, user_title="Invalid aspect ratio", user_msg=text)


def caption_too_long(detail: str) -> GraphError:
    return GraphError(
        36004,
        "The caption is too long.",
        subcode=2207010,
        user_title="Caption too long",
        user_msg=f"The caption exceeded the maximum length of 2200 characters or 30 hashtags ({detail}).",
    )


def too_many_tags(count: int) -> GraphError:
    return invalid_parameter(
        "Cannot use more than 20 tags per media.",
        subcode=2207040,
        user_title="Too many tags",
        user_msg=f"Cannot use more than 20 @ tags per media; this caption has {count}.",
    )


def carousel_size(count: int) -> GraphError:
    return invalid_parameter(
        f"The carousel has {count} items.",
        subcode=2207028,
        user_title="Carousel validation failed",
        user_msg=f"Carousels must have between 2 and 10 items; this one has {count}.",
    )


def unknown_media_type(media_type: str) -> GraphError:
    return invalid_parameter(
        f"The media type {media_type} is not supported.",
        subcode=2207023,
        user_title="Unknown media type",
        user_msg=f"The media type {media_type} is unknown. Use REELS, STORIES, CAROUSEL, or VIDEO for carousel items.",
    )


def fetch_failed(url: str) -> GraphError:
    return GraphError(
        9004,
        "Only photo or video can be accepted as media type.",
        subcode=2207052,
        user_title="Media download has failed.",
        user_msg=f"The media could not be fetched from this uri: {url}",
    )


def download_timeout() -> GraphError:
    return GraphError(
        -2,
        "Timeout",
        subcode=2207003,
        is_transient=True,
        user_title="Media download timed out",
        user_msg="It takes too long to download the media.",
    )


def collaborators_unavailable(usernames: list[str]) -> GraphError:
    return GraphError(
        110,
        "Invalid user id",
        subcode=2207018,
        user_title="Cannot load user with a private profile or invalid username",
        user_msg=f"The following user(s) cannot be accessed: {', '.join(usernames)}",
    )


def not_ready(message: str = "Media ID is not available") -> GraphError:
    return GraphError(
        9007,
        message,
        subcode=2207027,
        user_title="Media Not Ready For Publishing",
        user_msg="The media is not ready for publishing, please wait for a moment",
    )


def already_published() -> GraphError:
    # What Meta answers here is not documented. The fake refuses without making a second
    # media, with the not-ready code so that a caller retries by reading the container's
    # status (PUBLISHED) rather than by creating a new container.
    return not_ready("The media has already been published.")


def container_expired() -> GraphError:
    return GraphError(
        -2,
        "The media has expired.",
        subcode=2207020,
        user_title="Media expired",
        user_msg="The media you are trying to access has expired. Please try to upload again.",
    )


def container_failed() -> GraphError:
    return GraphError(
        -1,
        "Create media fail, please try to re-create media",
        subcode=2207032,
        user_title="Failed to create media",
        user_msg="Create media fail, please try to re-create media",
    )


def media_not_found(container_id: str) -> GraphError:
    return GraphError(
        24,
        f"The media with id {container_id} cannot be found.",
        subcode=2207006,
        user_title="Media not found",
        user_msg=f"The media with id {container_id} cannot be found.",
    )


def publishing_limit() -> GraphError:
    return GraphError(
        9,
        "Application request limit reached",
        subcode=2207042,
        user_title="Daily publishing limit reached",
        user_msg="You reached maximum number of posts that is allowed to be published by Content Publishing API.",
    )


def container_limit(cap: int) -> GraphError:
    # Meta documents the cap (400 containers in 24 hours) but not its error; the fake answers
    # with the application throttle.
    return GraphError(
        4,
        "Application request limit reached",
        user_title="Too many containers",
        user_msg=f"The account created the maximum of {cap} media containers in 24 hours.",
    )


THROTTLE_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    80002: "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again. "
    "For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
}


def throttled(code: int) -> GraphError:
    return GraphError(code, THROTTLE_MESSAGES.get(code, f"(#{code}) Too many calls"), is_transient=True)


# Tokens (code 190 and its subcodes).

TOKEN_MESSAGES = {
    458: "Error validating access token: The user has not authorized application{app}.",
    459: "Error validating access token: You cannot access the app till you log in to www.facebook.com and "
    "follow the instructions given.",
    460: "Error validating access token: The session has been invalidated because the user changed their "
    "password or Facebook has changed the session for security reasons.",
    463: "Error validating access token: Session has expired{when}.",
    467: "Error validating access token: Invalid access token.",
}

# Meta words the times in a 463 in its own (Pacific) time: "on Friday, 05-Dec-25 09:00:00 PST".
META_TIME = ZoneInfo("America/Los_Angeles")


def _meta_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).astimezone(META_TIME).strftime("%A, %d-%b-%y %H:%M:%S %Z")


def token_error(
    subcode: int | None, *, app_id: str | None = None, expired_at: float | None = None, now: float | None = None
) -> GraphError:
    """Code 190 as Meta words it: 463 names when the session expired and the time now, 458 the app."""
    if subcode is None:
        return GraphError(190, "Invalid OAuth access token - Cannot parse access token")
    when = ""
    if expired_at is not None and now is not None:
        when = f" on {_meta_time(expired_at)}. The current time is {_meta_time(now)}"
    template = TOKEN_MESSAGES.get(subcode, "Error validating access token.")
    message = template.format(app=f" {app_id}" if app_id else "", when=when)
    return GraphError(190, message, subcode=subcode)


# Generic Graph errors (GRAPH_API.md: codes 1 and 2 are transient; retry).


def unknown_error() -> GraphError:
    return GraphError(1, "An unknown error has occurred.", is_transient=True)


def service_unavailable() -> GraphError:
    return GraphError(2, "An unexpected error has occurred. Please retry your request later.", is_transient=True)


def as_meta_sends(code: int, subcode: int | None) -> GraphError | None:
    """The error Meta sends for a code (and subcode) the fake knows, for faults that name only the code."""
    match code, subcode:
        case 1, None:
            return unknown_error()
        case 2, None:
            return service_unavailable()
        case 9, 2207042:
            return publishing_limit()
        case 9007, 2207027:
            return not_ready()
        case 24, 2207006:
            return media_not_found("0")
        case -2, 2207020:
            return container_expired()
        case -1, 2207032:
            return container_failed()
        case 190, _:
            return token_error(subcode)
        case ((4 | 17 | 32 | 613 | 80002), None):
            return throttled(code)
    return None


def token_missing() -> GraphError:
    return GraphError(104, "An access token is required to request this resource.")
