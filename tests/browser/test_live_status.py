"""Status that does not go stale: what the worker does while a page is open shows on it without a reload.

The worker is played by the test itself, writing to the database as the worker's services would (the
publish task and the rendition task are tested on their own, twice, in tests/publishing and
tests/production); what is tested here is that the open page asks, shows it, and stops asking.

Set SCREENSHOT_DIR to keep screenshots of the post page before and after, at both widths.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.utils import timezone
from playwright.sync_api import Page, Request, expect

from production.models import Asset, Idea
from production.services import media as asset_services
from publishing.models import Post
from tests.browser.test_upload_in_browser import log_in
from tests.conftest import World
from tests.factories.media import jpeg_bytes, make_asset
from tests.factories.production import IdeaFactory
from tests.factories.publishing import ChannelFactory, make_post, mp4, second_editor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PERMALINK = "https://www.instagram.com/p/DEMO123/"


def _screenshot(page: Page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _asks(page: Page, path: str) -> list[str]:
    """Collects the URLs of the requests the page makes to `path` from now on."""
    seen: list[str] = []

    def record(request: Request) -> None:
        if urlparse(request.url).path.startswith(path):
            seen.append(request.url)

    page.on("request", record)
    return seen


@pytest.mark.parametrize("width", [1366, 390])
def test_the_post_page_turns_published_with_its_link_while_it_is_open(
    world: World, live_server, page: Page, width: int
) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": width, "height": 900 if width > 500 else 844})
    post = make_post(
        county=world.county,
        author=world.editor,
        approved_by=second_editor(world.county_library),
        status=Post.Status.SCHEDULED,
        scheduled_at=timezone.now() + timedelta(minutes=1),
        channel=ChannelFactory(county=world.county),
        title="Lørdagsåpent i Sandnes",
    )
    log_in(page, live_server.url, world.librarian.email)  # librarians follow the plan's posts too
    asked = _asks(page, f"/posts/{post.pk}/status/")
    page.goto(f"{live_server.url}{post.get_absolute_url()}")
    status = page.locator("#post-status")
    expect(status.locator("[data-post-status]")).to_have_text("Scheduled")
    _screenshot(page, f"post-{width}-before")

    # The worker picks it up and Instagram's daily limit makes it wait: the page says so.
    Post.objects.filter(pk=post.pk).update(
        status=Post.Status.PUBLISHING,
        waiting_for=Post.Waiting.QUOTA,
        next_attempt_at=timezone.now() + timedelta(hours=2),
    )
    expect(status.locator("[data-post-status]")).to_have_text("Publishing", timeout=8_000)
    expect(status.locator("[data-waiting-note]")).to_contain_text("Waiting for Instagram's daily limit")

    # Then it is out, with its link.
    Post.objects.filter(pk=post.pk).update(
        status=Post.Status.PUBLISHED,
        waiting_for="",
        media_id="17900000000000042",
        permalink=PERMALINK,
        published_at=timezone.now(),
        publish_step=Post.Step.NOTIFIED,
    )
    expect(status.locator("[data-post-status]")).to_have_text("Published", timeout=8_000)
    expect(status.get_by_role("link", name="See it on Instagram")).to_have_attribute("href", PERMALINK)
    expect(status.locator("[data-waiting-note]")).to_have_count(0)
    expect(page.locator("#post-status-announcer")).to_contain_text("Published")
    expect(status.get_by_role("link", name=re.compile("Reload the page"))).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}{post.get_absolute_url()}")  # no reload happened
    _screenshot(page, f"post-{width}-after")

    # Published with its link is final: the page stops asking.
    expect(status).not_to_have_attribute("hx-trigger", re.compile("every"))
    so_far = len(asked)
    page.wait_for_timeout(4_000)  # more than one interval (3 s): no request may come
    assert len(asked) == so_far
    assert so_far >= 2


def test_an_upload_row_turns_ready_when_the_worker_is_done(
    world: World, live_server, page: Page, settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings.CELERY_TASK_ALWAYS_EAGER = False  # the rendition waits in the queue: the test plays the worker
    idea = IdeaFactory(library=world.library, status=Idea.Status.RECORDED, title="Lesesirkelen")
    photo = tmp_path / "lesesirkel.jpg"
    photo.write_bytes(jpeg_bytes((1600, 1200)))

    log_in(page, live_server.url, world.librarian.email)
    page.goto(f"{live_server.url}/ideas/{idea.pk}/")
    media = page.get_by_role("region", name="Photos and videos")
    media.get_by_label("Photos and videos").set_input_files([str(photo)])
    row = media.get_by_role("list", name="Uploads").get_by_role("listitem")
    expect(row).to_contain_text("Uploaded. Making the Instagram version")
    asset = Asset.objects.get()
    assert asset.status == Asset.Status.PROCESSING
    expect(row.locator('[data-asset-state="processing"]')).to_have_attribute("hx-trigger", "every 3s")

    asset_services.process_asset(asset_id=asset.pk)  # what the worker does
    expect(row).to_contain_text("The Instagram version is ready.", timeout=8_000)
    expect(row).to_have_attribute("data-state", "done")
    expect(row.locator("[data-asset-state]")).not_to_have_attribute("hx-trigger", re.compile("."))
    expect(media.get_by_role("article", name="lesesirkel.jpg")).to_contain_text("Ready")


def test_an_upload_row_says_why_the_worker_could_not_make_it(
    world: World, live_server, page: Page, settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings.CELERY_TASK_ALWAYS_EAGER = False
    idea = IdeaFactory(library=world.library, status=Idea.Status.RECORDED, title="Lesesirkelen")
    photo = tmp_path / "plakat.jpg"
    photo.write_bytes(jpeg_bytes((900, 1100)))

    log_in(page, live_server.url, world.librarian.email)
    page.goto(f"{live_server.url}/ideas/{idea.pk}/")
    media = page.get_by_role("region", name="Photos and videos")
    media.get_by_label("Photos and videos").set_input_files([str(photo)])
    row = media.get_by_role("list", name="Uploads").get_by_role("listitem")
    expect(row).to_contain_text("Making the Instagram version")
    Asset.objects.filter(pk=Asset.objects.get().pk).update(
        status=Asset.Status.FAILED, processing_error="The picture could not be read."
    )
    expect(row).to_contain_text("could not be made: The picture could not be read.", timeout=8_000)
    expect(row).to_have_attribute("data-state", "failed")


def test_the_asset_page_of_a_video_being_made_asks_with_one_loop(world: World, live_server, page: Page) -> None:  # type: ignore[no-untyped-def]
    idea = IdeaFactory(library=world.library, status=Idea.Status.RECORDED)
    asset = make_asset(idea, by=world.librarian, data=mp4(), name="film.mp4", processed=False)
    log_in(page, live_server.url, world.librarian.email)
    asked = _asks(page, f"/media/{asset.pk}/")
    page.goto(f"{live_server.url}{asset.get_absolute_url()}")
    expect(page.get_by_role("progressbar", name="Making the Instagram version")).to_be_visible()
    page.wait_for_timeout(5_000)  # two intervals of 2 s and a bit
    # One loop: the progress bar's, every 2 s (it was two: the status part's too, and the bar's every second).
    polls = [url for url in asked if "/status/" in url or "/progress/" in url]
    assert 2 <= len(polls) <= 3, polls
    assert all("/progress/" in url for url in polls), polls

    Asset.objects.filter(pk=asset.pk).update(status=Asset.Status.FAILED, processing_error="No picture track.")
    # The bar's last answer has the status part asked for once, with the result; then nothing asks.
    expect(page.locator("#asset-status")).to_contain_text("No picture track.", timeout=6_000)
    so_far = len(asked)
    page.wait_for_timeout(3_000)
    assert len(asked) == so_far


def test_a_page_that_asks_stops_when_the_session_has_ended(world: World, live_server, page: Page) -> None:  # type: ignore[no-untyped-def]
    post = make_post(
        county=world.county,
        author=world.editor,
        approved_by=second_editor(world.county_library),
        status=Post.Status.SCHEDULED,
        scheduled_at=timezone.now() + timedelta(hours=1),
        channel=ChannelFactory(county=world.county),
    )
    log_in(page, live_server.url, world.librarian.email)
    page.goto(f"{live_server.url}{post.get_absolute_url()}")
    asked = _asks(page, f"/posts/{post.pk}/status/")
    expect(page.locator("#post-status")).to_have_attribute("hx-trigger", "every 3s")
    page.context.clear_cookies()  # the session ends (logged out elsewhere, or expired)

    # The next answer is the login page: it is not put into the post page, and the asking stops.
    expect(page.locator("#post-status")).not_to_have_attribute("hx-trigger", re.compile("."), timeout=8_000)
    expect(page.locator("#post-status [data-post-status]")).to_have_text("Scheduled")
    expect(page.get_by_label("Password")).to_have_count(0)
    so_far = len(asked)
    page.wait_for_timeout(4_000)
    assert len(asked) == so_far >= 1
