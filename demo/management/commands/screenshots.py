"""The README's screenshots, made from the demo data in Chromium: `make screenshots`.

    python -m config.embedded manage screenshots [--out docs/screenshots]

Everything happens on a throwaway database (created on the server DATABASE_URL names, migrated,
filled by `load_demo`, dropped at the end) with media in a temporary directory and cache keys of
its own, so the data of `make run` is never touched. The app is served by a thread of this process
(Django's live server) and Debian's Chromium takes, in English:

* `post-preview.png`: a carousel post as Instagram will show it, the caption cut where Instagram
  shows "… more", beside the checks before publishing (1366 px wide);
* `reel-preview.png`: the demo's reel with the reel interface's safe areas shaded (1366 px wide);
* `plan-phone.png`: the publishing plan on a phone (390 px wide);
* `posts-phone.png`: an editor's list of posts on a phone, each post what it still needs (390 px wide).

Each PNG is reduced to a 256-colour palette, exact for the interface's flat colours and small
enough for a README.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test.testcases import LiveServerThread
from django.test.utils import override_settings
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright

from demo.management.commands.load_demo import DEMO_PASSWORD
from libraries.models import County, Library, User
from production.models import Asset
from publishing.models import Post
from publishing.posts import services

ROOT = Path(settings.BASE_DIR)
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
CAROUSEL_TITLE = "Tre grunner til å ta turen innom"
CAROUSEL_CAPTION = (
    "Tre grunner til å ta turen innom biblioteket denne uka: lånekortet i appen, strikkekafé på "
    "onsdag og ukas boktips fra de ansatte. Bla gjennom bildene, og si fra i kommentarene hva du "
    "vil høre mer om! #bibliotek #strikkekafe #boktips"
)
# Photos of the demo's archive whose people consented (the first one's 4:5 shape is the carousel's).
CAROUSEL_PHOTOS = ("laanekort-app.jpg", "strikkekafe.jpg", "boktips-mytting.jpg")


class Command(BaseCommand):
    help = "Take the README's screenshots (docs/screenshots/) from the demo data on a throwaway database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")

    def handle(self, *args: Any, **options: Any) -> None:
        if not CHROMIUM.exists():
            raise CommandError(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium).")
        out: Path = options["out"]
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="innspill-screenshots-") as scratch:
            cache = {**settings.CACHES["default"], "KEY_PREFIX": f"innspill-screenshots-{os.getpid()}"}
            with (
                override_settings(
                    MEDIA_ROOT=Path(scratch) / "media",
                    UPLOAD_TEMP_DIR=Path(scratch) / "uploads",
                    CACHES={**settings.CACHES, "default": cache},
                    ALLOWED_HOSTS=["127.0.0.1"],
                ),
                throwaway_database(),
                live_server() as url,
            ):
                prepare_demo()
                for path in take(url, out):
                    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                    self.stdout.write(f"{shown}: {path.stat().st_size // 1024} kB")


@contextmanager
def throwaway_database() -> Iterator[None]:
    """A database of this run's own on the same server, migrated; dropped afterwards whatever happens."""
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"innspill_screenshots_{os.getpid()}"
    original = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)


@contextmanager
def live_server() -> Iterator[str]:
    """The app and its static files on a free port, served by a thread of this process."""
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.terminate()


def prepare_demo() -> None:
    """The demo data, and a carousel draft made from three of its photos as an editor would."""
    call_command("load_demo", verbosity=0)
    county = County.objects.get(slug="rogaland")
    photos = [Asset.objects.get(county=county, original_name=name) for name in CAROUSEL_PHOTOS]
    cohosts = Library.objects.filter(
        county=county, kind=Library.Kind.MEMBER, municipality__in=["Haugesund", "Sandnes", "Eigersund"]
    ).order_by("name")
    services.create_post(
        by=User.objects.get(email="redaktor@rogaland.example"),
        post=Post(
            county=county,
            title=CAROUSEL_TITLE,
            caption=CAROUSEL_CAPTION,
            media_kind=Post.MediaKind.CAROUSEL,
            credit="Inspired by @deichman",
            scheduled_at=timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=5), time(12))),
        ),
        assets=photos,
        collaborators=list(cohosts),
    )


def take(url: str, out: Path) -> list[Path]:
    carousel = Post.objects.get(title=CAROUSEL_TITLE)
    reel = Post.objects.filter(media_kind=Post.MediaKind.REEL).order_by("pk").first()
    if reel is None:
        raise CommandError("The demo has no reel (is ffmpeg installed? make media-tools).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu"],
        )
        try:
            page = _logged_in(browser, url, "redaktor2@rogaland.example", DESKTOP)
            shots = []
            for post, name in ((carousel, "post-preview.png"), (reel, "reel-preview.png")):
                page.goto(f"{url}{post.get_absolute_url()}")
                _settle(page)
                if post.media_kind == Post.MediaKind.REEL:
                    _seek(page, seconds=0.1)  # a frame of the video itself, not its poster
                # The page from its top down to the end of the preview (the caption and its "… more").
                bottom = page.locator(".preview-beside").evaluate("(e) => e.getBoundingClientRect().bottom + scrollY")
                clip = {"x": 0, "y": 0, "width": DESKTOP["width"], "height": bottom + 16}
                shots.append(_save(page.screenshot(full_page=True, clip=clip), out / name))
            page = _logged_in(browser, url, "koordinator@rogaland.example", PHONE)
            page.goto(f"{url}/plan/")
            _settle(page)
            # From the folded menu down to the end of the agenda (the footer left out).
            bottom = page.locator("main").evaluate("(e) => e.getBoundingClientRect().bottom + scrollY")
            clip = {"x": 0, "y": 0, "width": PHONE["width"], "height": bottom}
            shots.append(_save(page.screenshot(full_page=True, clip=clip), out / "plan-phone.png"))
            page = _logged_in(browser, url, "redaktor@rogaland.example", PHONE)
            page.goto(f"{url}/posts/")
            _settle(page)
            # From the folded menu down to the end of the third post: stacked, each with what it still needs.
            rows = page.locator(".post-table tbody tr")
            bottom = rows.nth(min(2, rows.count() - 1)).evaluate("(e) => e.getBoundingClientRect().bottom + scrollY")
            clip = {"x": 0, "y": 0, "width": PHONE["width"], "height": bottom + 8}
            shots.append(_save(page.screenshot(full_page=True, clip=clip), out / "posts-phone.png"))
        finally:
            browser.close()
    return shots


def _logged_in(browser: Browser, url: str, email: str, viewport: dict[str, int]) -> Page:
    phone = viewport["width"] < 600
    context = browser.new_context(
        locale="en-GB", timezone_id="Europe/Oslo", viewport=viewport, is_mobile=phone, has_touch=phone
    )
    page = context.new_page()
    page.goto(f"{url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{url}/")
    return page


def _settle(page: Page) -> None:
    """Everything drawn: requests done, fonts and pictures decoded."""
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready")
    page.evaluate("Promise.all([...document.images].map((image) => image.decode().catch(() => null)))")


def _seek(page: Page, *, seconds: float) -> None:
    page.locator("video").first.evaluate(
        """(video, seconds) => new Promise((resolve) => {
             video.addEventListener('seeked', resolve, {once: true});
             video.currentTime = seconds;
           })""",
        seconds,
    )


def _save(png: bytes, path: Path) -> Path:
    """The screenshot as a 256-colour PNG: exact for the interface's flat colours, a fraction of the size."""
    image = Image.open(BytesIO(png)).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)
    return path
