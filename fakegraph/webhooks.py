"""Webhooks as Meta sends them: the `comments` field, signed with the app secret, POSTed to the app.

Meta delivers asynchronously, after the comment exists, and expects a 200 in
a few seconds; so does the fake (one thread per delivery, the result kept in
the state for tests to wait on).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx

from fakegraph.state import Comment, Media

DELIVERY_TIMEOUT = 10.0


def comment_payload(
    *, ig_user_id: str, media: Media, comment: Comment, from_id: str, shape: str, now: float
) -> dict[str, Any]:
    """The `comments` notification: nested under `changes` (Facebook Login) or flat in the entry
    (the Instagram Login samples)."""
    value: dict[str, Any] = {
        "id": comment.id,
        "text": comment.text,
        "from": {"id": from_id, "username": comment.username},
        "media": {"id": media.id, "media_product_type": media.media_product_type},
    }
    if comment.parent_id is not None:
        value["parent_id"] = comment.parent_id
    change = {"field": "comments", "value": value}
    entry: dict[str, Any] = {"id": ig_user_id, "time": int(now)}
    if shape == "instagram":
        entry |= change
    else:
        entry["changes"] = [change]
    return {"object": "instagram", "entry": [entry]}


def signature(body: bytes, secret: str) -> str:
    """`X-Hub-Signature-256`: sha256= and the HMAC-SHA256 of the raw body with the app secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def post(url: str, body: bytes, secret: str | None) -> tuple[int | None, str]:
    """Deliver one notification; (HTTP status, "") or (None, what went wrong)."""
    headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua (fake)"}
    if secret:
        headers["X-Hub-Signature-256"] = signature(body, secret)
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=DELIVERY_TIMEOUT)
    except httpx.HTTPError as exc:
        return None, repr(exc)
    return response.status_code, ""
