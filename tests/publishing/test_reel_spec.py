"""Reels as Instagram gets them: the fake Graph API holds the video it downloads to Meta's spec (as Meta does),
and the publisher sends the rendition with the cover the editor chose (cover_url or thumb_offset)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile

from fakegraph import checks
from production.models import Asset
from production.processing import transcode
from publishing.models import Channel, Post
from publishing.posts import publish
from tests.conftest import World
from tests.factories.clips import h264_mp4, hevc_mov, require_media_tools
from tests.factories.publishing import jpeg
from tests.publishing.fakegraph import FakeGraph
from tests.publishing.test_publish import channel, due_post, run_until_settled

__all__ = ["channel"]  # a fixture, used by name


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    require_media_tools()
    root = tmp_path_factory.mktemp("served")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host!s}:{port}", root
    server.shutdown()
    server.server_close()


def verdict(url: str) -> checks.VideoVerdict:
    return checks.check_video(
        url, timeout=10, max_bytes=checks.MAX_REEL_BYTES, min_seconds=3, max_seconds=900, thumb_offset_ms=None
    )


def test_the_fake_refuses_a_phone_hevc_mov_as_meta_does_and_takes_its_rendition(served: tuple[str, Path]) -> None:
    base, root = served
    original = hevc_mov(root / "phone.mov")
    transcode.make_reel_rendition(original, root / "rendition.mp4")

    refused = verdict(f"{base}/phone.mov")
    assert refused.subcode == 2207026  # Meta's "unsupported format" while processing
    assert "8-bit 4:2:0" in refused.reason  # a phone's 10-bit HEVC (and its index at the end)

    assert verdict(f"{base}/rendition.mp4").subcode is None


def test_the_fake_refuses_a_video_whose_index_is_at_the_end(served: tuple[str, Path]) -> None:
    base, root = served
    h264_mp4(root / "late-index.mp4")  # ffmpeg writes the index last unless told to start fast
    refused = verdict(f"{base}/late-index.mp4")
    assert (refused.subcode, refused.reason) == (
        2207026,
        "the moov atom is not at the front of the file (no fast start)",
    )


pytestmark_db = pytest.mark.django_db(transaction=True)


def _containers(fake_graph: FakeGraph) -> list[dict[str, Any]]:
    return list(fake_graph.state()["containers"])


@pytestmark_db
def test_a_reel_is_published_with_the_uploaded_cover_as_cover_url(
    world: World, channel: Channel, fake_graph: FakeGraph
) -> None:
    post = due_post(world, channel, kind="reel")
    asset = post.post_assets.get().asset
    asset.cover.save("cover.jpg", ContentFile(jpeg(1080, 1920)), save=False)
    Asset.objects.filter(pk=asset.pk).update(cover=asset.cover.name, cover_offset_ms=1200)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)

    assert run_until_settled(post).state == "done"
    [container] = _containers(fake_graph)
    assert "/public/cover/" in container["cover_url"]  # the signed address of the picture; it wins
    assert container["thumb_offset"] is None


@pytestmark_db
def test_a_reel_is_published_with_the_chosen_moment_as_thumb_offset(
    world: World, channel: Channel, fake_graph: FakeGraph
) -> None:
    post = due_post(world, channel, kind="reel")
    Asset.objects.filter(pk=post.post_assets.get().asset_id).update(cover_offset_ms=1500)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)

    assert run_until_settled(post).state == "done"
    [container] = _containers(fake_graph)
    assert (container["cover_url"], container["thumb_offset"]) == ("", 1500)
    assert publish  # the worker under test
