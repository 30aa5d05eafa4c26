"""The fake Graph API (a real process) and a local web server with media for it to download."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.conf import LazySettings
from PIL import Image

from publishing.instagram.client import Client
from publishing.models import Channel
from tests.conftest import World
from tests.factories.network import Network, make_network
from tests.factories.publishing import ChannelFactory, jpeg, mp4
from tests.publishing.fakegraph import FakeGraph, FakeGraphProcess, run_fake_graph
from tests.publishing.workers import broker, ready_to_compose, redis_server, workers  # noqa: F401 - fixtures


@pytest.fixture(scope="session")
def fake_graph_server() -> Iterator[FakeGraphProcess]:
    with run_fake_graph() as process:
        yield process


@pytest.fixture
def fake_graph(fake_graph_server: FakeGraphProcess) -> Iterator[FakeGraph]:
    """The fake, reset: one account (IG_USER_ID), one token (TOKEN), default limits, videos ready at once."""
    fake = FakeGraph(fake_graph_server.url)
    fake.reset(video_polls=0)
    yield fake
    fake.http.close()


@pytest.fixture
def graph(fake_graph: FakeGraph) -> Iterator[Client]:
    with fake_graph.client() as client:
        yield client


@dataclass
class MediaServer:
    base_url: str

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"


class _MediaHandler(SimpleHTTPRequestHandler):
    release: threading.Event

    def do_GET(self) -> None:
        if self.path.startswith("/slow/"):
            # Never answers within the fake's download timeout; released when the session ends.
            self.release.wait(timeout=60)
            with contextlib.suppress(OSError):  # the fake stopped waiting long ago
                self.send_error(404)
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def media_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    """Files the fake downloads: JPEGs of several shapes, a PNG, an oversized JPEG, and MP4s."""
    root = tmp_path_factory.mktemp("media")
    for name, size in {
        "square.jpg": (1080, 1080),
        "portrait.jpg": (1080, 1350),  # 4:5, the narrowest allowed
        "landscape.jpg": (1910, 1000),  # 1.91:1, the widest allowed
        "story.jpg": (1080, 1920),  # 9:16: too narrow for the feed
        "panorama.jpg": (2000, 1000),  # 2:1: too wide
    }.items():
        (root / name).write_bytes(jpeg(*size))
    Image.new("RGB", (1080, 1080), (10, 10, 10)).save(root / "image.png", "PNG")
    # A valid JPEG followed by 8 MiB of padding that decoders ignore: too large to download.
    (root / "huge.jpg").write_bytes(jpeg(1080, 1080) + b"\0" * (8 * 1024 * 1024))
    (root / "not-a-video.mp4").write_bytes(b"this is not a video " * 100)
    (root / "reel.mp4").write_bytes(mp4(seconds=3.5, width=90 * 2, height=160 * 2))
    (root / "clip.mp4").write_bytes(mp4(seconds=3.5, width=160, height=200))
    (root / "short.mp4").write_bytes(mp4(seconds=1, width=180, height=320))
    (root / "mpeg4.mp4").write_bytes(mp4(seconds=3.5, width=180, height=320, codec="mpeg4"))

    release = threading.Event()
    handler = type("MediaHandler", (_MediaHandler,), {"release": release})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield MediaServer(base_url=f"http://{host!s}:{port}")
    release.set()
    server.shutdown()
    server.server_close()


# --- The publishing worker in this process: the fake for Instagram, the live server for the media ---


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Tasks enqueued after a commit run at once, here, instead of going to Redis (Celery's own switch)."""
    from config.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def publishing_setup(settings, fake_graph: FakeGraph, live_server, eager_celery: None) -> FakeGraph:  # type: ignore[no-untyped-def]
    """The Graph API is the fake; Instagram fetches renditions from the live server; no waiting between tries."""
    settings.GRAPH_API_URL = fake_graph.url
    settings.GRAPH_API_TIMEOUT = 15
    settings.PUBLIC_BASE_URL = live_server.url
    settings.PUBLISH_RETRY_BASE_SECONDS = 0
    settings.PUBLISH_POLL_SECONDS = 0
    return fake_graph


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Keep each phase's report on the test, so that fixtures can tell whether it failed (and show logs)."""
    report: pytest.TestReport = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def channel(world: World, settings: LazySettings, fake_graph: FakeGraph) -> Channel:
    """The county's channel, connected to the fake Graph API (test modules with their own setup override it)."""
    settings.GRAPH_API_URL = fake_graph.url
    settings.GRAPH_API_TIMEOUT = 15
    return ChannelFactory(county=world.county)


@pytest.fixture
def net(world: World) -> Network:
    """Rogaland, Agder and Vestland in the network of counties (tests/factories/network.py)."""
    return make_network(world)
