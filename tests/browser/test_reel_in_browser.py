"""A video's Instagram version on its page in the browser: percent done that moves by itself, Cancel, and the
reel's cover once it is done."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from production.models import Asset, Idea
from production.services import media as asset_services
from tests.browser.test_upload_in_browser import log_in
from tests.conftest import World
from tests.factories.media import make_asset, video_bytes
from tests.factories.production import IdeaFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_percent_done_moves_live_and_a_done_video_shows_its_cover(
    world: World, live_server, page: Page, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    idea = IdeaFactory(library=world.library, status=Idea.Status.RECORDED, title="Lesesirkelen")
    asset = make_asset(idea, by=world.editor, data=video_bytes(tmp_path), name="film.mp4", processed=False)
    Asset.objects.filter(pk=asset.pk).update(processing_progress=12)
    log_in(page, live_server.url, world.librarian.email)
    page.goto(f"{live_server.url}{asset.get_absolute_url()}")
    expect(page.locator(".asset-progress__percent")).to_have_text("12 % done")
    Asset.objects.filter(pk=asset.pk).update(processing_progress=57)
    expect(page.locator(".asset-progress__percent")).to_have_text("57 % done")  # polled, no reload
    expect(page.get_by_role("button", name="Cancel")).to_be_visible()

    asset_services.process_asset(asset_id=asset.pk)
    expect(page.get_by_role("heading", name="Cover for the reel")).to_be_visible()  # the page updates itself
    page.reload()
    page.get_by_label("A moment of the video (seconds)").fill("2")
    page.get_by_role("button", name="Use this moment").click()
    expect(page.get_by_text("Instagram shows the video at 2 seconds as the cover.")).to_be_visible()
