"""Publishing: posts per second through tick → Celery worker → fake Graph API, against bare client calls.

`python -m bench.run publishing [--posts N]` starts, as real processes, the
fake Graph API (publishing/fake_graph), gunicorn (Instagram, here the fake,
downloads each rendition from its signed address there) and one Celery
worker (`--pool solo`: one post at a time, as a serial client does). It
schedules N single-photo posts with two collaborators each, sends the beat's
tick (`publishing.enqueue_due_posts`) to the worker, and times until every
post is published, archived and its libraries e-mailed (publish_step
"notified"). The pipeline's posts and the bare client's go in four turns, a
quarter each (`ROUNDS`), and each side's times are summed.

The floor: `publishing.instagram.client.Client` making the same Graph calls for N
posts from this process, one after another, against the same fake and the
same signed rendition addresses: create the container, read its status
(ready), read it again before publishing (the pipeline's never-twice check),
read the publishing limit, publish, read the permalink, read the
collaborators. The fake counts the calls of both runs, so the report shows
that both made the same ones. Three posts go through first to warm up the
worker, gunicorn and the fake.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings
from django.core.files import File
from django.utils import timezone

from bench import load
from bench.environment import BASE_DIR
from bench.ingest import make_photo
from bench.work import IG_USER_ID, WorkWorld, reset
from production.models import Asset
from production.processing import inspection
from production.services import media as asset_services
from production.signed_urls import public_rendition_url
from publishing.instagram.client import Client, GraphConfig
from publishing.models import Approval, Post, PostAsset, PostCollaborator

TOKEN = "bench-fake-token"  # noqa: S105 - the fake Graph API's own token, on loopback
WARM_UP_POSTS = 3
# The pipeline's posts and the bare client's in turns, a quarter at a time (which goes first alternating):
# this machine's speed drifts by a fifth over seconds, and measured one after the other the ratio moved with
# it (1.6-2.3x in six runs of the same code). In turns both see the same drift.
ROUNDS = 4
MAX_POSTS = 100  # publishing.posts.services.enqueue_due_posts's limit per tick
TIMEOUT = 600.0
# The fake reset for the bench: no cap on containers, and invitations left pending (only its control answers them).
UNLIMITED: dict[str, Any] = {"config": {"container_cap": 1_000_000, "collab_accept_after_reads": None}}


@contextlib.contextmanager
def fake_graph() -> Iterator[str]:
    """The fake Graph API (`python -m fakegraph`) on a free port, without its quotas; yields its URL.

    (It answers with TCP_NODELAY: with Nagle's algorithm each call waited some
    40 ms for the client's delayed ACK, which hid what the pipeline costs.)
    """
    command = [
        sys.executable, "-m", "fakegraph", "--port", "0", "--token", TOKEN,
        "--publish-quota", "1000000", "--video-polls", "0",
    ]  # fmt: skip
    with tempfile.TemporaryFile(mode="w+") as stderr:
        process = subprocess.Popen(command, cwd=BASE_DIR, stdout=subprocess.PIPE, stderr=stderr, text=True)
        try:
            assert process.stdout is not None
            ready, _, _ = select.select([process.stdout], [], [], 30)
            line = process.stdout.readline() if ready else ""
            if not line.startswith("fake_graph listening on "):
                stderr.seek(0)
                raise RuntimeError(f"the fake Graph API did not start: {line!r} {stderr.read()}")
            url = line.split()[-1]
            _control(url, "reset", UNLIMITED)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _control(url: str, route: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = (
        httpx.post(f"{url}/_fake/{route}", json=body or {}, timeout=10)
        if body is not None
        else httpx.get(f"{url}/_fake/{route}", timeout=10)
    )
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


def _calls(url: str) -> dict[str, int]:
    return dict(_control(url, "state")["calls"])


@contextlib.contextmanager
def celery_worker(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """One worker, `--pool solo` (the tests' worker) on every queue, on the bench's broker; stopped afterwards."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel", "WARNING",
             "-Q", "celery,media,publish", "--without-heartbeat", "--without-gossip", "--without-mingle"],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            _wait_for_worker(process, log)
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


def _wait_for_worker(process: subprocess.Popen[bytes], log: Any) -> None:
    from config.celery import app

    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            raise RuntimeError(f"the Celery worker did not start:\n{log.read().decode()[-4000:]}")


# --- The posts ---


def _assets(world: WorkWorld, count: int, workdir: Path) -> list[Asset]:
    """One photo processed for real (its rendition is what Instagram fetches), confirmed to show nobody, and `count`
    rows sharing its files."""
    source = make_photo(workdir / "photo.jpg")
    with source.open("rb") as handle:
        first = asset_services.add_asset(
            by=world.editor,
            target=world.idea,
            source=File(handle, name="photo.jpg"),
            original_name="IMG_0001.jpg",
            info=inspection.inspect_upload(source),
            enqueue=False,
        )
    first = asset_services.process_asset(asset_id=first.pk) or first
    if first.status != Asset.Status.READY:
        raise RuntimeError(f"the bench photo could not be processed: {first.processing_error}")
    # An editor looked: nobody can be recognised in it (the consent gate asks for that or the people shown).
    first = asset_services.confirm_no_people(by=world.editor, asset=first)
    copies = []
    for index in range(count):
        copy = Asset.objects.get(pk=first.pk)
        copy.pk, copy.id, copy.uid = None, None, uuid.uuid4()
        copy.alt_text = f"Bibliotekaren holder opp bok nummer {index + 1} foran krimhylla."
        copies.append(copy)
    return Asset.objects.bulk_create(copies)


def _posts(world: WorkWorld, assets: list[Asset], *, status: str) -> list[Post]:
    now = timezone.now()
    posts = Post.objects.bulk_create(
        Post(
            county=world.county,
            channel=world.channel,
            title=f"Fredagstipset {index + 1}",
            caption=f"Fredagstipset nummer {index + 1}: en krim for mørke kvelder. #lesetips #bibliotek",
            credit="Inspirert av @deichman",
            media_kind=Post.MediaKind.IMAGE,
            content_type="literature",
            responsible=world.editor,
            created_by=world.editor,
            scheduled_at=now - timedelta(minutes=1),
            status=status,
        )
        for index in range(len(assets))
    )
    PostAsset.objects.bulk_create(
        PostAsset(post=post, asset=asset, position=1) for post, asset in zip(posts, assets, strict=True)
    )
    PostCollaborator.objects.bulk_create(
        PostCollaborator(post=post, library=library) for post in posts for library in world.members[:2]
    )
    Approval.objects.bulk_create(Approval(post=post, by=world.coordinator) for post in posts)
    return posts


def _publish_through_the_worker(posts: list[Post]) -> float:
    """Schedule the posts, send the tick to the worker, and wait until every one is done; the seconds."""
    from config.celery import app

    ids = [post.pk for post in posts]
    started = time.monotonic()
    Post.objects.filter(pk__in=ids).update(status=Post.Status.SCHEDULED, scheduled_at=timezone.now())
    app.send_task("publishing.enqueue_due_posts")
    deadline = started + TIMEOUT
    while (done := Post.objects.filter(pk__in=ids, publish_step=Post.Step.NOTIFIED).count()) < len(ids):
        failed = list(Post.objects.filter(pk__in=ids, status=Post.Status.FAILED).values_list("failure_reason"))
        if failed:
            raise RuntimeError(f"{len(failed)} posts failed: {failed[0][0]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {done} of {len(ids)} posts were published within {TIMEOUT:.0f} s")
        time.sleep(0.02)
    return time.monotonic() - started


def _bare_client(fake_url: str, posts: list[Post], assets: list[Asset]) -> float:
    """The same Graph calls as the worker makes for these posts, straight from here; the seconds."""
    timeout = float(settings.GRAPH_API_TIMEOUT)
    config = GraphConfig(base_url=fake_url, version=settings.GRAPH_API_VERSION, access_token=TOKEN, timeout=timeout)
    jobs = []
    for post, asset in zip(posts, assets, strict=True):
        url = public_rendition_url(asset, expires_in=settings.PUBLISH_MEDIA_URL_SECONDS)
        collaborators = [link.library.instagram_username for link in post.post_collaborators.select_related("library")]
        jobs.append((url, post.full_caption, sorted(collaborators), asset.alt_text))
    started = time.monotonic()
    with Client(config) as graph:
        for url, caption, collaborators, alt_text in jobs:
            container = graph.create_image_container(
                IG_USER_ID, image_url=url, caption=caption, collaborators=collaborators, alt_text=alt_text
            )
            graph.get_container_status(container)  # FINISHED
            graph.get_container_status(container)  # asked again before publishing: never twice
            graph.content_publishing_limit(IG_USER_ID)
            media_id = graph.publish(IG_USER_ID, container)
            graph.get_media(media_id, fields=("id", "permalink", "timestamp"))
            graph.get_collaborators(media_id)
    return time.monotonic() - started


def measure(args: argparse.Namespace, env: dict[str, str], port: int) -> dict[str, Any]:
    if args.posts > MAX_POSTS:
        raise SystemExit(f"--posts is at most {MAX_POSTS}: one tick hands the worker that many")
    if args.posts < ROUNDS:
        raise SystemExit(f"--posts is at least {ROUNDS}: the two sides take turns, a quarter each")
    print(f"== Publishing: {args.posts} posts through tick → worker → fake Graph API", flush=True)
    with tempfile.TemporaryDirectory(prefix="innspill-bench-publishing-") as directory, fake_graph() as fake_url:
        world = reset(token=TOKEN)
        assets = _assets(world, WARM_UP_POSTS + 2 * args.posts, Path(directory))
        warm_assets = assets[:WARM_UP_POSTS]
        pipeline_assets = assets[WARM_UP_POSTS : WARM_UP_POSTS + args.posts]
        bare_assets = assets[WARM_UP_POSTS + args.posts :]
        warm_posts = _posts(world, warm_assets, status=Post.Status.APPROVED)
        pipeline_posts = _posts(world, pipeline_assets, status=Post.Status.APPROVED)
        bare_posts = _posts(world, bare_assets, status=Post.Status.APPROVED)
        process_env = {
            **env,
            "GRAPH_API_URL": fake_url,
            "PUBLISH_RETRY_BASE_SECONDS": "0",
            "PUBLISH_POLL_SECONDS": "0",
            "DATABASE_CONN_MAX_AGE": "60",
        }
        with load.gunicorn(process_env, port, workers=2), celery_worker(process_env):
            _publish_through_the_worker(warm_posts)
            _bare_client(fake_url, warm_posts, warm_assets)  # the same warm-up for the client
            pipeline_seconds = bare_seconds = 0.0
            pipeline_calls: Counter[str] = Counter()
            bare_calls: Counter[str] = Counter()
            for turn in range(ROUNDS):
                part = slice(turn * args.posts // ROUNDS, (turn + 1) * args.posts // ROUNDS)
                for side in ("pipeline", "bare") if turn % 2 == 0 else ("bare", "pipeline"):
                    _control(fake_url, "reset", UNLIMITED)
                    if side == "pipeline":
                        pipeline_seconds += _publish_through_the_worker(pipeline_posts[part])
                        pipeline_calls.update(_calls(fake_url))
                    else:
                        bare_seconds += _bare_client(fake_url, bare_posts[part], bare_assets[part])
                        bare_calls.update(_calls(fake_url))
    figures = {
        "posts": args.posts,
        "rounds": ROUNDS,
        "pipeline": {
            "seconds": round(pipeline_seconds, 2),
            "posts_per_s": round(args.posts / pipeline_seconds, 2),
            "graph_calls_per_post": round(sum(pipeline_calls.values()) / args.posts, 1),
            "graph_calls": dict(pipeline_calls),
        },
        "bare_client": {
            "seconds": round(bare_seconds, 2),
            "posts_per_s": round(args.posts / bare_seconds, 2),
            "graph_calls_per_post": round(sum(bare_calls.values()) / args.posts, 1),
            "graph_calls": dict(bare_calls),
        },
        "ratio_to_bare": round(pipeline_seconds / bare_seconds, 2),
    }
    print(
        f"   pipeline {figures['pipeline']['posts_per_s']:.2f} posts/s, bare client "
        f"{figures['bare_client']['posts_per_s']:.2f} posts/s: {figures['ratio_to_bare']}x the time",
        flush=True,
    )
    return figures
