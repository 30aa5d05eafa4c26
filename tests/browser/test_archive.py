"""The archive in the browser: an editor searches (with a typo), opens an item, and reuses it in a new draft."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from libraries.models import County, Library, User
from publishing.archive import filing as archive
from publishing.models import ArchiveReuse, Post
from tests.browser.test_publishing import log_in
from tests.factories.publishing import make_asset, make_post, show_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(settings) -> None:  # type: ignore[no-untyped-def]
    settings.REQUIRE_MFA = False  # as in `make run`
    call_command("load_demo", verbosity=0)
    county = County.objects.get(slug="rogaland")
    sandnes = Library.objects.get(county=county, municipality="Sandnes", kind=Library.Kind.MEMBER)
    editor = User.objects.get(email="redaktor@rogaland.example")
    photo = make_asset(county=county, library=sandnes, title="Strikkekafé for pappaer")
    photo.credit_line = "Foto: Sandnes bibliotek"
    photo.save(update_fields=["credit_line"])
    show_person(photo, name="Per Olsen")
    post = make_post(
        county=county,
        author=editor,
        assets=[photo],
        status=Post.Status.PUBLISHED,
        title="Strikkekafé",
        caption="Strikking og kaffe for fedre hver tirsdag. #pappatreff",
        permalink="https://www.instagram.com/p/DEMOstrikk/",
        published_at=timezone.now(),
        media_id="browser-archive-1",
    )
    archive.file_published_post(post=post, assets=[photo], libraries=[sandnes])


def test_editor_finds_an_item_despite_a_typo_opens_it_and_reuses_it_in_a_draft(
    demo: None, live_server, page: Page
) -> None:  # type: ignore[no-untyped-def]
    log_in(page, live_server.url, "redaktor@rogaland.example")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Archive").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Archive")

    page.get_by_label("Search the archive").fill("strikkng kafe")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="for “strikkng kafe”")).to_contain_text("1 item")
    expect(page.locator(".archive-results__corrections")).to_contain_text("strikking")
    result = page.get_by_role("article", name="Strikkekafé for pappaer")
    expect(result).to_contain_text("Sandnes bibliotek")
    result.get_by_role("link", name="Strikkekafé for pappaer").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Strikkekafé for pappaer")
    use = page.get_by_role("region", name="Use it")
    expect(use).to_contain_text("Foto: Sandnes bibliotek")
    expect(use).to_contain_text("Per Olsen")
    expect(use.get_by_role("link", name="Download the original")).to_be_visible()
    use.get_by_role("button", name="Reuse in a new post").click()

    expect(page.locator(".messages")).to_contain_text("The draft “Reuse: Strikkekafé for pappaer” was made")
    expect(page).to_have_url(re.compile(r"/posts/\d+/edit/$"))
    expect(page.get_by_role("checkbox", name="Strikkekafé for pappaer")).to_be_checked()
    draft = Post.objects.get(title="Reuse: Strikkekafé for pappaer")
    assert draft.status == Post.Status.DRAFT
    assert ArchiveReuse.objects.filter(post=draft, via=ArchiveReuse.Via.REUSE).count() == 1
