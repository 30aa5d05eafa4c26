"""The fake's world: accounts, tokens, containers, media, comments, a clock, and the rules.

All of it is plain data in `State`, guarded by one lock in `FakeGraph`, and
written to the state file (when there is one) after every change, so that a
restarted fake carries on where it stopped. Media downloads happen outside the
lock.
"""

from __future__ import annotations

import base64
import json
import math
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fakegraph import errors
from fakegraph.errors import GraphError

DAY = 86400
LONG_LIVED_SECONDS = 5183944  # Meta's answer for a long-lived user token (about 60 days)
SHORT_LIVED_SECONDS = 3600
SEEDED_FB_USER = "10000000000000001"
SEEDED_PAGE = "20000000000000001"
SEEDED_IG_USER = "17841400000000001"

IG_USER_FIELDS = frozenset(
    {"id", "username", "name", "biography", "followers_count", "media_count", "profile_picture_url"}
)


@dataclass
class Config:
    """What tests (or `make run`) tune, through the command line or `POST /_fake/config`."""

    video_polls: int = 2  # status reads a video container stays IN_PROGRESS
    publish_quota: int = 50  # posts per account per moving window
    publish_window: int = DAY  # the moving window of the quota, in seconds (Meta's is 24 hours; tests shorten it)
    container_cap: int = 400  # containers per account per moving 24 hours
    call_budget: int | None = None  # calls per account per budget_window before throttling; None: no limit
    budget_window: int = 3600
    throttle_code: int = 80002  # or 4, 17, 32, 613
    download_timeout: float = 10.0
    collab_accept_after_reads: int | None = 2  # reads that still say Pending; None: only the control endpoint
    insights_after: int = 3600  # seconds after publishing before insights have data
    comment_page_size: int = 50
    app_id: str | None = None  # when set, OAuth calls must name this app
    app_secret: str | None = None
    dialog: str = "approve"  # or "deny": the login dialog's answer
    unavailable_usernames: list[str] = field(default_factory=list)  # private or unknown collaborators
    # Webhooks: every comment added is POSTed (signed) to this address, as Meta's `comments` field.
    webhook_url: str | None = None
    webhook_shape: str = "facebook"  # entry[].changes[] (Facebook Login), or "instagram": field/value in entry
    webhook_secret: str | None = None  # signs the deliveries; None: the app secret
    # The demo's audience: this many seconds after a post is published, a follower comments on it.
    audience_after: float | None = None


@dataclass
class Token:
    token: str
    fb_user_id: str
    expires_at: float | None = None  # on the fake clock; None: never
    state: str = "valid"  # or "invalid" (revoked)
    subcode: int | None = None  # the 190 subcode of an invalid token
    kind: str = "USER"  # or PAGE


@dataclass
class Account:
    """An Instagram professional account and the Facebook Page it is linked to."""

    ig_user_id: str
    username: str
    page_id: str
    page_name: str
    fb_user_id: str
    followers_count: int = 1234


@dataclass
class Container:
    id: str
    ig_user_id: str
    media_type: str  # IMAGE, REELS, VIDEO (carousel item), CAROUSEL, STORIES
    created_at: float
    is_carousel_item: bool = False
    caption: str = ""
    collaborators: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    image_url: str = ""
    video_url: str = ""
    cover_url: str = ""
    alt_text: str = ""
    thumb_offset: int | None = None
    share_to_feed: bool | None = None
    polls_left: int = 0
    error_subcode: int | None = None  # processing ends in ERROR with this subcode
    reason: str = ""  # why, in words, for the state dump
    forced_status: str | None = None  # set by a control call
    media_id: str | None = None
    publish_attempts: int = 0


@dataclass
class Invite:
    username: str
    invite_status: str = "Pending"
    reads: int = 0


@dataclass
class Media:
    id: str
    ig_user_id: str
    container_id: str
    media_type: str  # IMAGE, VIDEO, CAROUSEL_ALBUM
    media_product_type: str  # FEED, REELS, STORY
    caption: str
    shortcode: str
    published_at: float
    collaborators: list[Invite] = field(default_factory=list)
    insights: dict[str, int] | None = None  # set by a control call; else generated after insights_after
    comment_ids: list[str] = field(default_factory=list)
    like_count: int = 0


@dataclass
class Comment:
    id: str
    media_id: str
    text: str
    username: str
    created_at: float
    parent_id: str | None = None
    reply_ids: list[str] = field(default_factory=list)
    like_count: int = 0
    hidden: bool = False


@dataclass
class Fault:
    """A queued misbehaviour for the next calls of a route (see server.py for the kinds)."""

    route: str
    kind: str  # error, status, hang, drop
    times: int = 1
    skip: int = 0  # let this many matching calls through first
    apply: bool = False  # hang/drop: carry out the call anyway (the answer is what gets lost)
    seconds: float = 0.0
    status: int = 500
    body: str | None = None
    code: int = 1
    subcode: int | None = None
    # Unset, these are Meta's for the code and subcode (errors.as_meta_sends), else code 1's.
    message: str | None = None
    user_title: str | None = None
    user_msg: str | None = None
    is_transient: bool | None = None
    http_status: int = 400
    regain_minutes: int = 0


@dataclass
class LoginCode:
    code: str
    client_id: str
    redirect_uri: str
    fb_user_id: str
    used: bool = False


@dataclass
class State:
    config: Config = field(default_factory=Config)
    clock_offset: float = 0.0
    next_id: int = 17900000000000001
    tokens: dict[str, Token] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    containers: dict[str, Container] = field(default_factory=dict)
    media: dict[str, Media] = field(default_factory=dict)
    comments: dict[str, Comment] = field(default_factory=dict)
    login_codes: dict[str, LoginCode] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    budget_calls: dict[str, list[float]] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)  # per route, for tests to assert on
    # Webhook deliveries: {"comment_id", "url", "status" (None until answered), "error"}.
    webhook_deliveries: list[dict[str, Any]] = field(default_factory=list)


def _load(raw: dict[str, Any]) -> State:
    def rows[T](cls: type[T], items: dict[str, Any]) -> dict[str, T]:
        return {key: cls(**value) for key, value in items.items()}

    media = {}
    for key, value in raw.get("media", {}).items():
        value = {**value, "collaborators": [Invite(**i) for i in value.get("collaborators", [])]}
        media[key] = Media(**value)
    known = {f.name for f in fields(Config)}
    return State(
        config=Config(**{k: v for k, v in raw.get("config", {}).items() if k in known}),
        clock_offset=float(raw.get("clock_offset", 0.0)),
        next_id=int(raw.get("next_id", 17900000000000001)),
        tokens=rows(Token, raw.get("tokens", {})),
        accounts=rows(Account, raw.get("accounts", {})),
        containers=rows(Container, raw.get("containers", {})),
        media=media,
        comments=rows(Comment, raw.get("comments", {})),
        login_codes=rows(LoginCode, raw.get("login_codes", {})),
        faults=[Fault(**f) for f in raw.get("faults", [])],
        budget_calls={k: list(v) for k, v in raw.get("budget_calls", {}).items()},
        calls=dict(raw.get("calls", {})),
        webhook_deliveries=list(raw.get("webhook_deliveries", [])),
    )


def graph_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def cursor(object_id: str) -> str:
    """A paging cursor: opaque to callers, the object's id inside."""
    return base64.urlsafe_b64encode(object_id.encode()).decode().rstrip("=")


def uncursor(value: str) -> str:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise errors.invalid_parameter("The after cursor is invalid.") from None


def split_fields(requested: str | None) -> dict[str, str | None]:
    """`id,text,replies{id,text}` as {"id": None, "text": None, "replies": "id,text"} (field expansion)."""
    fields_: dict[str, str | None] = {}
    depth, start = 0, 0
    text = requested or "id"
    for position, char in enumerate(text + ","):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0:
            part = text[start:position].strip()
            start = position + 1
            if part:
                name, brace, rest = part.partition("{")
                fields_[name.strip()] = (rest[:-1] if rest.endswith("}") else rest) if brace else None
    return fields_


def select(obj: dict[str, Any], requested: str | None, allowed: frozenset[str], node: str) -> dict[str, Any]:
    """Graph field selection: only `id` unless fields are asked for; unknown fields are an error."""
    names = list(split_fields(requested))
    for name in names:
        if name not in allowed:
            raise errors.invalid_parameter(f"Tried accessing nonexisting field ({name}) on node type ({node})")
    return {name: obj[name] for name in names if name in obj and obj[name] is not None}


class Core:
    """The state under its lock, the clock, ids, tokens, the call budget, faults and accounts."""

    def __init__(self, *, state_file: Path | None = None, defaults: Config | None = None, token: str) -> None:
        self.lock = threading.RLock()
        self.state_file = state_file
        self.defaults = defaults or Config()
        self.seed_token = token
        if state_file is not None and state_file.exists():
            # A restart carries on with the saved state, tuning included; only the app's
            # identity, where webhooks go, the audience and the seed token follow the command line.
            self.state = _load(json.loads(state_file.read_text()))
            for key in ("app_id", "app_secret", "webhook_url", "audience_after"):
                if getattr(self.defaults, key):
                    setattr(self.state.config, key, getattr(self.defaults, key))
            self.state.tokens.setdefault(token, Token(token=token, fb_user_id=SEEDED_FB_USER))
        else:
            self.state = self._fresh(self.defaults, next_id=17900000000000001)
            self._save()

    # --- Bookkeeping --------------------------------------------------------------------------

    def _fresh(self, config: Config, *, next_id: int) -> State:
        state = State(config=Config(**asdict(config)), next_id=next_id)
        state.accounts[SEEDED_IG_USER] = Account(
            ig_user_id=SEEDED_IG_USER,
            username="fake_library",
            page_id=SEEDED_PAGE,
            page_name="Fake Library",
            fb_user_id=SEEDED_FB_USER,
        )
        state.tokens[self.seed_token] = Token(token=self.seed_token, fb_user_id=SEEDED_FB_USER)
        return state

    @contextmanager
    def changing(self) -> Iterator[State]:
        """The state, locked, saved afterwards (also when the change ends in a Graph error)."""
        with self.lock:
            try:
                yield self.state
            finally:
                self._save()

    def _save(self) -> None:
        if self.state_file is None:
            return
        temporary = self.state_file.with_suffix(self.state_file.suffix + ".tmp")
        temporary.write_text(json.dumps(asdict(self.state)))
        os.replace(temporary, self.state_file)

    def now(self) -> float:
        return time.time() + self.state.clock_offset

    def on_published(self, media_id: str) -> None:
        """What follows a publish, called under the lock (engagement.py: the demo's audience)."""

    def new_id(self) -> str:
        self.state.next_id += 1
        return str(self.state.next_id)

    def reset(self, config: dict[str, Any] | None = None) -> None:
        with self.changing():
            # Ids keep counting up, so that an id from before the reset never names a new object.
            self.state = self._fresh(self.defaults, next_id=self.state.next_id)
            if config:
                self._configure(config)

    def configure(self, changes: dict[str, Any]) -> dict[str, Any]:
        with self.changing():
            self._configure(changes)
            return asdict(self.state.config)

    def _configure(self, changes: dict[str, Any]) -> None:
        known = {f.name for f in fields(Config)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        for key, value in changes.items():
            setattr(self.state.config, key, value)

    # --- Tokens and throttling ----------------------------------------------------------------

    def authenticate(self, token: str | None) -> Token:
        with self.lock:
            if not token:
                raise errors.token_missing()
            app = self._app_token(token)
            if app is not None:
                return app
            record = self.state.tokens.get(token)
            if record is None:
                raise errors.token_error(None)
            if record.state != "valid":
                raise errors.token_error(record.subcode or 460, app_id=self.state.config.app_id)
            if record.expires_at is not None and record.expires_at <= self.now():
                raise errors.token_error(463, expired_at=record.expires_at, now=self.now())
            return record

    def _app_token(self, token: str) -> Token | None:
        """`{app-id}|{app-secret}` authenticates as the app (debug_token)."""
        app_id, bar, secret = token.partition("|")
        if not bar:
            return None
        config = self.state.config
        if (config.app_id and app_id != config.app_id) or (config.app_secret and secret != config.app_secret):
            raise errors.token_error(None)
        return Token(token=token, fb_user_id="", kind="APP")

    def business_id(self, token: Token, object_id: str | None) -> str:
        """The account a call is counted against: the object's owner, else the token's first account."""
        with self.lock:
            if object_id is not None:
                for table in (self.state.containers, self.state.media):
                    owner = table.get(object_id)
                    if owner is not None:
                        return owner.ig_user_id
                if object_id in self.state.accounts:
                    return object_id
                comment = self.state.comments.get(object_id)
                if comment is not None and comment.media_id in self.state.media:
                    return self.state.media[comment.media_id].ig_user_id
            for account in self.state.accounts.values():
                if account.fb_user_id == token.fb_user_id:
                    return account.ig_user_id
            return SEEDED_IG_USER

    def count_call(self, business_id: str, route: str) -> tuple[dict[str, Any], GraphError | None]:
        """Count a call against the budget: the usage header's content, and a throttle error when over."""
        with self.changing() as state:
            state.calls[route] = state.calls.get(route, 0) + 1
            config = state.config
            now = self.now()
            recent = [t for t in state.budget_calls.get(business_id, []) if t > now - config.budget_window]
            throttle: GraphError | None = None
            regain = 0
            if config.call_budget is not None and len(recent) >= config.call_budget:
                throttle = errors.throttled(config.throttle_code)
                oldest = min(recent) if recent else now
                regain = max(1, math.ceil((oldest + config.budget_window - now) / 60))
            else:
                recent.append(now)
            state.budget_calls[business_id] = recent
            budget = config.call_budget
            percent = 100 if throttle else (min(100, len(recent) * 100 // budget) if budget else 1)
            usage = {
                business_id: [
                    {
                        "type": "instagram",
                        "call_count": percent,
                        "total_cputime": max(1, percent // 2),
                        "total_time": max(1, percent // 2),
                        "estimated_time_to_regain_access": regain,
                    }
                ]
            }
            return usage, throttle

    # --- Faults -------------------------------------------------------------------------------

    def add_fault(self, spec: dict[str, Any]) -> Fault:
        fault = Fault(**spec)
        if fault.kind not in {"error", "status", "hang", "drop"}:
            raise ValueError(f"unknown fault kind {fault.kind!r}")
        with self.changing() as state:
            state.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.changing() as state:
            state.faults.clear()

    def take_fault(self, route: str) -> Fault | None:
        with self.lock:
            for fault in self.state.faults:
                if fault.route not in {route, "*"}:
                    continue
                with self.changing() as state:
                    if fault.skip > 0:
                        fault.skip -= 1
                        return None
                    fault.times -= 1
                    if fault.times <= 0:
                        state.faults.remove(fault)
                return fault
            return None

    # --- Accounts -----------------------------------------------------------------------------

    def account(self, ig_user_id: str, method: str) -> Account:
        account = self.state.accounts.get(ig_user_id)
        if account is None:
            raise errors.unknown_object(ig_user_id, method)
        return account

    def add_account(self, username: str, ig_user_id: str | None = None) -> Account:
        with self.changing() as state:
            page_id = self.new_id()
            account = Account(
                ig_user_id=ig_user_id or self.new_id(),
                username=username,
                page_id=page_id,
                page_name=f"{username} page",
                fb_user_id=SEEDED_FB_USER,
            )
            state.accounts[account.ig_user_id] = account
            return account

    def set_followers(self, ig_user_id: str, followers_count: int) -> Account:
        with self.changing():
            account = self.account(ig_user_id, "POST")
            account.followers_count = int(followers_count)
            return account

    def ig_user(self, ig_user_id: str, fields_param: str | None) -> dict[str, Any]:
        with self.lock:
            account = self.account(ig_user_id, "GET")
            published = sum(1 for m in self.state.media.values() if m.ig_user_id == ig_user_id)
            obj = {
                "id": account.ig_user_id,
                "username": account.username,
                "name": account.page_name,
                "biography": "",
                "followers_count": account.followers_count,
                "media_count": published,
                "profile_picture_url": f"https://fake.invalid/{account.username}.jpg",
            }
            return select(obj, fields_param, IG_USER_FIELDS, "IGUser")

    def _published_since(self, ig_user_id: str, since: float) -> int:
        return sum(1 for m in self.state.media.values() if m.ig_user_id == ig_user_id and m.published_at > since)

    def kind_of(self, object_id: str) -> str | None:
        with self.lock:
            if object_id in self.state.accounts:
                return "ig_user"
            if object_id in self.state.containers:
                return "container"
            if object_id in self.state.media:
                return "media"
            if object_id in self.state.comments:
                return "comment"
            return None
