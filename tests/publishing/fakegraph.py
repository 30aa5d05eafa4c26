"""The project's fake Graph API as a real process, and a small hand on its control API.

Tests of the client and of the publishing worker share these: start the fake
with `run_fake_graph()` (the session fixture in conftest.py does), reset it per
test, queue faults, move its clock, and read its state.
"""

from __future__ import annotations

import selectors
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from publishing.instagram.client import Client, GraphConfig

ROOT = Path(__file__).resolve().parents[2]
APP_ID = "innspill-test-app"
APP_SECRET = "innspill-test-secret"
TOKEN = "fake-token"
IG_USER_ID = "17841400000000001"  # the account the fake starts with
IG_USERNAME = "fake_library"
VERSION = "v25.0"


@dataclass
class FakeGraphProcess:
    url: str
    process: subprocess.Popen[str]


@contextmanager
def run_fake_graph(*args: str, state_file: Path | None = None) -> Iterator[FakeGraphProcess]:
    """`python -m fakegraph` on a free port; stopped (SIGTERM, then SIGKILL) afterwards."""
    command = [sys.executable, "-m", "fakegraph", "--port", "0", "--app-id", APP_ID]
    command += ["--app-secret", APP_SECRET, "--token", TOKEN, *args]
    if state_file is not None:
        command += ["--state-file", str(state_file)]
    with tempfile.TemporaryFile(mode="w+") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True)
        try:
            assert process.stdout is not None
            # The fake prints its address once it listens; wait for that line, not for a fixed time.
            # A selector, not select(): a long test run may have more than 1,024 files open.
            with selectors.DefaultSelector() as selector:
                selector.register(process.stdout, selectors.EVENT_READ)
                ready = selector.select(30)
            line = process.stdout.readline() if ready else ""
            if not line.startswith("fake_graph listening on "):
                stderr.seek(0)
                raise RuntimeError(f"the fake Graph API did not start: {line!r} {stderr.read()}")
            url = line.split()[-1]
            httpx.get(f"{url}/_fake/state", timeout=10).raise_for_status()
            yield FakeGraphProcess(url=url, process=process)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until(condition: Callable[[], bool], *, timeout: float = 10, what: str = "the condition") -> None:
    """Poll until `condition()` holds; for effects the fake carries out after its answer is lost."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


class FakeGraph:
    """The control API (`/_fake/...`) of a running fake."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=10)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(path, json=body)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def reset(self, **config: Any) -> None:
        self._post("/_fake/reset", {"config": config})

    def configure(self, **changes: Any) -> dict[str, Any]:
        return self._post("/_fake/config", changes)

    def state(self) -> dict[str, Any]:
        response = self.http.get("/_fake/state")
        response.raise_for_status()
        state: dict[str, Any] = response.json()
        return state

    def advance_clock(self, seconds: float) -> None:
        self._post("/_fake/clock", {"advance": seconds})

    def fault(self, route: str, kind: str, **spec: Any) -> None:
        self._post("/_fake/faults", {"route": route, "kind": kind, **spec})

    def token(self, token: str | None = None, **spec: Any) -> str:
        return str(self._post("/_fake/tokens", {"token": token, **spec})["token"])

    def add_comments(self, media_id: str, count: int = 1, **spec: Any) -> list[str]:
        return [str(i) for i in self._post("/_fake/comments", {"media_id": media_id, "count": count, **spec})["ids"]]

    def set_invite(self, media_id: str, invite_status: str, username: str | None = None) -> None:
        self._post("/_fake/collaborators", {"media_id": media_id, "invite_status": invite_status, "username": username})

    def set_insights(self, media_id: str, values: dict[str, int]) -> None:
        self._post("/_fake/insights", {"media_id": media_id, "values": values})

    def set_followers(self, followers_count: int, ig_user_id: str = IG_USER_ID) -> None:
        self._post("/_fake/followers", {"followers_count": followers_count, "ig_user_id": ig_user_id})

    def delete(self, object_id: str) -> None:
        """A media or comment deleted on Instagram."""
        self._post("/_fake/delete", {"id": object_id})

    def send_webhooks_to(self, url: str, *, shape: str = "facebook", secret: str | None = None) -> None:
        """Every comment added from now on is POSTed, signed, to `url` (as Meta's `comments` webhook)."""
        self.configure(webhook_url=url, webhook_shape=shape, webhook_secret=secret)

    def webhook_delivery(self, comment_id: str, *, timeout: float = 10) -> dict[str, Any]:
        """The answered delivery of the comment's webhook (waits for the fake's delivery thread)."""
        found: list[dict[str, Any]] = []

        def answered() -> bool:
            deliveries = self.state()["webhook_deliveries"]
            found[:] = [d for d in deliveries if d["comment_id"] == comment_id and (d["status"] or d["error"])]
            return bool(found)

        wait_until(answered, timeout=timeout, what=f"the webhook for comment {comment_id}")
        return found[0]

    def force_container(self, container_id: str, status_code: str, subcode: int | None = None) -> None:
        self._post("/_fake/containers", {"id": container_id, "status_code": status_code, "subcode": subcode})

    def media(self, ig_user_id: str = IG_USER_ID) -> list[dict[str, Any]]:
        return [m for m in self.state()["media"] if m["ig_user_id"] == ig_user_id]

    def config(self, token: str = TOKEN, **options: Any) -> GraphConfig:
        return GraphConfig(base_url=self.url, version=VERSION, access_token=token, **{"timeout": 15.0, **options})

    def client(self, token: str = TOKEN, **options: Any) -> Client:
        return Client(self.config(token, **options))
