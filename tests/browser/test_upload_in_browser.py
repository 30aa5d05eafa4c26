"""Uploading several photos at once in the browser: a progress bar each, a refusal shown next to its file,
and the media list showing the new files as ready.

The rendition task runs eagerly (CELERY_TASK_ALWAYS_EAGER, after the upload's transaction commits, in the
live server's thread) rather than in a real worker: this test is about what the person sees while
uploading; the task itself is the same service that tests/production/test_assets.py runs directly and
twice, and tests/test_health.py proves that a real worker runs our tasks. A worker process here would
add its start-up time and a second process on the test database for nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery.result import allow_join_result
from playwright.sync_api import Page, expect

from production.models import Asset, Idea
from tests.conftest import World
from tests.factories.libraries import PASSWORD
from tests.factories.media import html_renamed, jpeg_bytes, png_bytes
from tests.factories.production import IdeaFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _celery_join_flag_restored() -> Iterator[None]:
    # Eager tasks run in the live server's request threads, two at once. Celery keeps its
    # "inside a task" flag in a process-wide global, not per thread, so two eager tasks that
    # overlap can leave it set, and a later test's `result.get()` would refuse to run.
    # allow_join_result() puts the flag back as it was when the test ends.
    with allow_join_result():
        yield


def log_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def test_librarian_uploads_several_files_at_once_and_sees_each_ones_progress(
    world: World, live_server, page: Page, settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings.CELERY_TASK_ALWAYS_EAGER = True  # see the module docstring
    idea = IdeaFactory(library=world.library, status=Idea.Status.RECORDED, title="Lesesirkelen")
    files = {
        "lesesirkel.jpg": jpeg_bytes((1600, 1200)),
        "plakat.png": png_bytes((900, 1100)),
        "ikke-et-bilde.jpg": html_renamed(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)

    log_in(page, live_server.url, world.librarian.email)
    page.goto(f"{live_server.url}/ideas/{idea.pk}/")
    media = page.get_by_role("region", name="Photos and videos")
    expect(media.get_by_text("No photos or videos yet.")).to_be_visible()
    media.get_by_label("Photos and videos").set_input_files([str(tmp_path / name) for name in files])
    uploads = media.get_by_role("list", name="Uploads")

    for name in ("lesesirkel.jpg", "plakat.png"):
        bar = page.get_by_role("progressbar", name=name)
        expect(bar).to_have_js_property("value", 100)
        expect(uploads.get_by_role("listitem").filter(has=bar)).to_contain_text("Uploaded")
    refused = uploads.get_by_role("listitem").filter(has=page.get_by_role("progressbar", name="ikke-et-bilde.jpg"))
    expect(refused).to_contain_text("This file is not a photo or video we can use.")
    expect(refused.get_by_role("button", name=re.compile("Remove from the list"))).to_be_visible()

    # The list of media reloads after each upload and shows the new files, ready.
    for name in ("lesesirkel.jpg", "plakat.png"):
        card = media.get_by_role("article", name=name)
        expect(card).to_contain_text("Ready")
        expect(card.get_by_role("img")).to_have_count(0)  # the thumbnail is decorative (alt="")
    expect(media.locator("#asset-announcer")).not_to_be_empty()
    assert sorted(Asset.objects.values_list("original_name", "status")) == [
        ("lesesirkel.jpg", "ready"),
        ("plakat.png", "ready"),
    ]
