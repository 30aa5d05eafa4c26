"""The Instagram preview in the browser: a carousel stepped with the keyboard, the collaborator cap while ticking."""

from __future__ import annotations

import os
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from libraries.models import County, Library, User
from publishing.models import Post
from tests.browser.test_publishing import log_in
from tests.factories.libraries import LibraryFactory
from tests.factories.publishing import make_asset, make_post

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Set to a directory to keep screenshots of the pages at both widths (for looking at them).
SHOTS = os.environ.get("PREVIEW_SCREENSHOTS", "")


@pytest.fixture
def carousel_post(settings) -> Post:  # type: ignore[no-untyped-def]
    settings.REQUIRE_MFA = False
    call_command("load_demo", verbosity=0)
    county = County.objects.get(slug="rogaland")
    sandnes = Library.objects.get(county=county, municipality="Sandnes", kind=Library.Kind.MEMBER)
    photos = [
        make_asset(county=county, library=sandnes, title=title, size=size, alt_text=f"{title}: bokhyller.")
        for title, size in (("Først", (1080, 1350)), ("Andre", (1080, 1080)), ("Tredje", (1910, 1000)))
    ]
    for n in range(4):
        LibraryFactory(county=county, name=f"Samarbeid {n}", instagram_username=f"samarbeid_{n}")
    editor = User.objects.get(email="redaktor@rogaland.example")
    return make_post(county=county, author=editor, assets=photos, caption="Tre bilder fra hyllene. " * 8)


def test_a_carousel_steps_with_the_keyboard_and_collaborators_stop_at_three(
    carousel_post: Post, live_server, page: Page
) -> None:  # type: ignore[no-untyped-def]
    log_in(page, live_server.url, "redaktor@rogaland.example")
    page.goto(f"{live_server.url}{carousel_post.get_absolute_url()}edit/")
    preview = page.locator("#post-preview")
    counter = preview.locator("[data-carousel-counter]")
    expect(counter).to_have_text("1 / 3")

    # The keyboard steps through the items in order, and the buttons follow.
    preview.locator("[data-carousel-track]").focus()
    page.keyboard.press("ArrowRight")
    expect(counter).to_have_text("2 / 3")
    page.keyboard.press("End")
    expect(counter).to_have_text("3 / 3")
    expect(preview.get_by_role("button", name="Next item")).to_be_disabled()
    page.keyboard.press("ArrowLeft")
    expect(counter).to_have_text("2 / 3")
    expect(preview.locator("[data-slide][data-current] img")).to_have_attribute("alt", "Andre: bokhyller.")
    preview.get_by_role("button", name="Previous item").click()
    expect(counter).to_have_text("1 / 3")
    if SHOTS:
        _screenshots(page, "compose")

    # A fourth collaborator cannot be ticked; unticking one frees the others again.
    group = page.get_by_role("group", name="Collaborators")
    expect(page.locator("[data-cap-reached]")).to_be_hidden()
    for n in range(3):
        group.get_by_label(f"Samarbeid {n}").check()
    expect(group.get_by_label("Samarbeid 3")).to_be_disabled()
    expect(page.locator("[data-cap-reached]")).to_be_visible()
    # The preview follows the choice without a reload: the county account and two others.
    expect(preview.locator("[data-collab-header]")).to_contain_text("and 3 others", timeout=20_000)
    group.get_by_label("Samarbeid 0").uncheck()
    expect(group.get_by_label("Samarbeid 3")).to_be_enabled()
    expect(preview.locator("[data-collab-header]")).to_contain_text("and 2 others", timeout=20_000)

    # The caption is cut where Instagram shows "… more", as it is typed.
    page.get_by_label("Caption").fill("Kort.")
    page.get_by_label("Caption").press("Tab")  # leaving the field sends its change too
    # The account's name, then the caption (the account is whatever the county's channel is connected to).
    expect(preview.locator("[data-caption-preview]")).to_have_text(
        re.compile(r"^@?[\w.]+ Kort\.$"), use_inner_text=True, timeout=20_000
    )
    expect(preview.locator("[data-caption-more]")).to_have_count(0)

    if SHOTS:
        page.goto(f"{live_server.url}{carousel_post.get_absolute_url()}")
        _screenshots(page, "post")
        video = make_asset(
            county=carousel_post.county,
            library=carousel_post.post_assets.first().asset.library,
            kind="video",
            title="Reel",
        )
        reel = make_post(county=carousel_post.county, author=carousel_post.created_by, assets=[video], title="Reel")
        page.goto(f"{live_server.url}{reel.get_absolute_url()}")
        _screenshots(page, "reel")


def _screenshots(page: Page, name: str) -> None:
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} at {width} px is {overflow} px wider than the screen"
        page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 720})
