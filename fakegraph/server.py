"""HTTP in front of the fake: Graph routes under `/{version}/`, control routes under `/_fake/`.

Each Graph request is resolved to a route name (the names faults are queued
for), checked against queued faults, authenticated, counted against the call
budget, and handled. Every Graph answer carries `X-Business-Use-Case-Usage`.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
import time
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fakegraph import errors
from fakegraph.errors import GraphError
from fakegraph.graph import FakeGraph
from fakegraph.state import SEEDED_IG_USER, Fault, Token

VERSION = re.compile(r"v\d+\.\d+")


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None


@dataclass(frozen=True)
class Route:
    """A Graph request resolved: its name (what faults match), the object and the edge."""

    name: str
    object_id: str | None = None
    needs_token: bool = True


def resolve(fake: FakeGraph, method: str, parts: list[str]) -> Route:
    if method not in {"GET", "POST"}:
        return Route("unsupported")
    match parts:
        case ["me"]:
            return Route("me")
        case ["me", "accounts"]:
            return Route("accounts")
        case ["debug_token"]:
            return Route("debug_token")
        case ["oauth", "access_token"]:
            return Route("oauth_access_token", needs_token=False)
        case ["dialog", "oauth"]:
            return Route("dialog", needs_token=False)
        case [object_id]:
            kind = fake.kind_of(object_id)
            names = {"ig_user": "ig_user", "container": "container_status", "media": "media", "comment": "comment"}
            return Route(names.get(kind or "", "unknown_object"), object_id)
        case [object_id, edge]:
            kind = fake.kind_of(object_id)
            edges = {
                ("ig_user", "POST", "media"): "create_container",
                ("ig_user", "GET", "media"): "list_media",
                ("ig_user", "POST", "media_publish"): "publish",
                ("ig_user", "GET", "content_publishing_limit"): "publishing_limit",
                ("media", "GET", "collaborators"): "collaborators",
                ("media", "GET", "insights"): "insights",
                ("media", "GET", "comments"): "comments",
                ("media", "POST", "comments"): "create_comment",
                ("comment", "GET", "replies"): "replies",
                ("comment", "POST", "replies"): "reply",
            }
            if kind is None:
                return Route("unknown_object", object_id)
            return Route(edges.get((kind, method, edge), "unknown_path"), object_id)
    return Route("unknown_path")


def handle_graph(
    fake: FakeGraph, route: Route, method: str, params: dict[str, Any], token: str | None, base: str
) -> Reply:
    """A Graph call after faults: authenticate, count, act; Meta's error shape on failure."""
    headers: dict[str, str] = {}
    try:
        if route.name == "dialog":
            return Reply(302, headers={"Location": fake.login_dialog(params)}, raw=b"")
        if route.name == "oauth_access_token":
            return Reply(200, fake.access_token(params))
        if route.name == "unsupported":
            raise errors.invalid_parameter(f"Unsupported {method.lower()} request.")
        record = fake.authenticate(token)
        usage, throttle = fake.count_call(fake.business_id(record, route.object_id), route.name)
        headers["X-Business-Use-Case-Usage"] = json.dumps(usage)
        if throttle is not None:
            raise throttle
        return Reply(200, _act(fake, route, params, record, base), headers)
    except GraphError as error:
        return Reply(error.http_status, error.body(), headers)


def _act(fake: FakeGraph, route: Route, params: dict[str, Any], token: Token, base: str) -> dict[str, Any]:
    oid = route.object_id or ""
    fields_param = params.get("fields")
    match route.name:
        case "me":
            return fake.me(token, fields_param)
        case "accounts":
            return fake.pages(token)
        case "debug_token":
            return fake.debug_token(str(params.get("input_token") or ""))
        case "ig_user":
            return fake.ig_user(oid, fields_param)
        case "create_container":
            return {"id": fake.create_container(oid, params)}
        case "list_media":
            return fake.list_media(oid, params, f"{base}/{oid}/media")
        case "publish":
            return {"id": fake.publish(oid, params)}
        case "publishing_limit":
            return fake.publishing_limit(oid)
        case "container_status":
            return fake.container(oid, fields_param)
        case "media":
            return fake.media(oid, fields_param)
        case "collaborators":
            return fake.collaborators(oid)
        case "insights":
            return fake.insights(oid, params.get("metric"))
        case "comments":
            return fake.list_comments(oid, params, f"{base}/{oid}/comments")
        case "create_comment":
            owner = fake.ig_user(fake.state.media[oid].ig_user_id, "username")["username"]
            return {"id": fake.add_comment(oid, str(params.get("message") or ""), str(owner))}
        case "replies":
            return fake.list_replies(oid, params, f"{base}/{oid}/replies")
        case "reply":
            return {"id": fake.reply(oid, str(params.get("message") or ""))}
        case "comment":
            return fake.comment(oid, fields_param)
        case "unknown_object":
            raise errors.unknown_object(oid, "GET")
    raise errors.unknown_path(route.name)


def handle_control(fake: FakeGraph, method: str, path: str, body: dict[str, Any]) -> Reply:
    """`/_fake/...`: the test's hand on the fake (JSON in, JSON out)."""
    try:
        match method, path:
            case "GET", "/_fake/state":
                return Reply(200, fake.snapshot())
            case "POST", "/_fake/reset":
                fake.reset(body.get("config"))
                return Reply(200, {"ok": True})
            case "POST", "/_fake/config":
                return Reply(200, fake.configure(body))
            case "GET", "/_fake/clock":
                return Reply(200, {"now": fake.now(), "offset": fake.state.clock_offset})
            case "POST", "/_fake/clock":
                with fake.changing() as state:
                    if "now" in body:
                        state.clock_offset = float(body["now"]) - time.time()
                    state.clock_offset += float(body.get("advance", 0))
                return Reply(200, {"now": fake.now(), "offset": fake.state.clock_offset})
            case "GET", "/_fake/faults":
                return Reply(200, {"faults": [asdict(f) for f in fake.state.faults]})
            case "POST", "/_fake/faults":
                return Reply(200, asdict(fake.add_fault(body)))
            case "DELETE", "/_fake/faults":
                fake.clear_faults()
                return Reply(200, {"ok": True})
            case "POST", "/_fake/tokens":
                return Reply(200, fake.set_token(body))
            case "POST", "/_fake/accounts":
                return Reply(200, asdict(fake.add_account(str(body["username"]), body.get("ig_user_id"))))
            case "POST", "/_fake/comments":
                ids = [
                    fake.add_comment(
                        str(body["media_id"]),
                        str(body.get("text") or f"Comment {n + 1}"),
                        str(body.get("username") or f"reader_{n + 1}"),
                        body.get("parent_id"),
                        body.get("created_at"),
                    )
                    for n in range(int(body.get("count", 1)))
                ]
                return Reply(200, {"ids": ids})
            case "POST", "/_fake/media":
                media = fake.add_media(
                    str(body.get("ig_user_id") or SEEDED_IG_USER),
                    caption=str(body.get("caption") or ""),
                    published_at=body.get("published_at"),
                    media_type=str(body.get("media_type") or "IMAGE"),
                    media_product_type=str(body.get("media_product_type") or "FEED"),
                    shortcode=body.get("shortcode"),
                )
                return Reply(200, media)
            case "POST", "/_fake/collaborators":
                invites = fake.set_invite(
                    str(body["media_id"]), body.get("username"), str(body.get("invite_status", "Accepted"))
                )
                return Reply(200, {"collaborators": invites})
            case "POST", "/_fake/followers":
                account = fake.set_followers(str(body.get("ig_user_id") or SEEDED_IG_USER), body["followers_count"])
                return Reply(200, asdict(account))
            case "POST", "/_fake/delete":
                fake.delete_object(str(body["id"]))
                return Reply(200, {"ok": True})
            case "POST", "/_fake/insights":
                fake.set_insights(str(body["media_id"]), dict(body["values"]))
                return Reply(200, {"ok": True})
            case "POST", "/_fake/containers":
                return Reply(200, fake.force_container(str(body["id"]), body.get("status_code"), body.get("subcode")))
        return Reply(404, {"error": f"no control route {method} {path}"})
    except (KeyError, TypeError, ValueError, GraphError) as exc:
        return Reply(400, {"error": f"{type(exc).__name__}: {exc}"})


class GraphServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: FakeGraph, *, verbose: bool = False) -> None:
        super().__init__(address, GraphHandler)
        self.fake = fake
        self.verbose = verbose


class GraphHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects
    # Headers and body go out in separate writes: with Nagle's algorithm the second waits for the
    # client's delayed ACK, 40 ms a call on loopback, which hid the worker's own cost (bench/).
    disable_nagle_algorithm = True
    server: GraphServer

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            # The path without its query: tokens travel there.
            sys.stderr.write(
                f"fake_graph {self.command} {urlsplit(self.path).path} {args[1] if len(args) > 1 else ''}\n"
            )

    def _serve(self, method: str) -> None:
        fake = self.server.fake
        split = urlsplit(self.path)
        params: dict[str, Any] = dict(parse_qsl(split.query, keep_blank_values=True))
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = self._body(raw)
        if split.path.startswith("/_fake/"):
            self._send(handle_control(fake, method, split.path.rstrip("/"), body if isinstance(body, dict) else {}))
            return
        if isinstance(body, dict):
            params |= body
        token = self._token(params)
        parts = [p for p in split.path.split("/") if p]
        version = ""
        if parts and VERSION.fullmatch(parts[0]):
            version = parts.pop(0)
        route = resolve(fake, method, parts)
        base = f"http://{self.headers.get('Host', 'localhost')}/{version}".rstrip("/")

        fault = fake.take_fault(route.name) if route.name != "dialog" else None
        if fault is not None and fault.kind in {"error", "status"}:
            self._send(_fault_reply(fault))
            return
        if fault is not None and fault.kind == "hang":
            time.sleep(fault.seconds)
        if fault is not None and not fault.apply and fault.kind in {"hang", "drop"}:
            self._drop()
            return
        reply = handle_graph(fake, route, method, params, token, base)
        if fault is not None and fault.kind == "drop":
            self._drop()  # carried out, but the answer is lost
            return
        self._send(reply)

    def _body(self, raw: bytes) -> dict[str, Any] | None:
        if not raw:
            return {}
        content_type = self.headers.get("Content-Type", "")
        try:
            if "json" in content_type:
                parsed = json.loads(raw)
                return parsed if isinstance(parsed, dict) else None
            return dict(parse_qsl(raw.decode(), keep_blank_values=True))
        except (ValueError, UnicodeDecodeError):
            return None

    def _token(self, params: dict[str, Any]) -> str | None:
        token = params.pop("access_token", None)
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() in {"bearer", "oauth"} and value.strip():
            return value.strip()
        return str(token) if token else None

    def _send(self, reply: Reply) -> None:
        if reply.raw is not None:
            payload = reply.raw
            content_type = "text/plain; charset=utf-8"
        else:
            payload = json.dumps(reply.body).encode()
            content_type = "application/json; charset=UTF-8"
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-fb-trace-id", errors.trace_id())
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            # The client gave up (a hang fault outlasted its timeout): nobody to answer.
            self.close_connection = True

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _fault_reply(fault: Fault) -> Reply:
    if fault.kind == "status":
        if fault.body is not None:
            return Reply(fault.status, raw=fault.body.encode())
        return Reply(fault.status, raw=b"Internal Server Error")
    # What the fault leaves unsaid is what Meta says for its code (code 1's words when unknown).
    meta = errors.as_meta_sends(fault.code, fault.subcode) or errors.unknown_error()
    error = GraphError(
        fault.code,
        meta.message if fault.message is None else fault.message,
        subcode=fault.subcode,
        user_title=meta.user_title if fault.user_title is None else fault.user_title,
        user_msg=meta.user_msg if fault.user_msg is None else fault.user_msg,
        is_transient=meta.is_transient if fault.is_transient is None else fault.is_transient,
        http_status=fault.http_status,
        error_type=meta.error_type,
    )
    usage = {"fault": [{"type": "instagram", "call_count": 100, "total_cputime": 100, "total_time": 100}]}
    usage["fault"][0]["estimated_time_to_regain_access"] = fault.regain_minutes
    return Reply(fault.http_status, error.body(), {"X-Business-Use-Case-Usage": json.dumps(usage)})
