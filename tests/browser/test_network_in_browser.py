"""The network in the browser: Agder's coordinator, on a phone, finds Rogaland's shared item in the pool
(its picture shown), borrows it, and lands on the copy in Agder's archive with its origin and credit."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from libraries.access import county_accesses
from libraries.models import County, Library, User
from production.models import Concept
from publishing.archive import filing as archive
from publishing.archive import network
from publishing.models import ArchiveItem, SharedItem
from tests.browser.axe import AxeWalk
from tests.browser.test_publishing import log_in
from tests.factories.publishing import make_asset, show_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def webp(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (40, 110, 160)).save(out, "WEBP")
    return out.getvalue()


def share(*, title: str, library: Library, editor: User, coordinator: User) -> SharedItem:
    asset = make_asset(county=library.county, library=library, title=title)
    asset.thumbnail.save("thumbnail.webp", ContentFile(webp(320, 320)), save=True)
    show_person(asset, name="Ola Nordmann", covers_sharing=True)
    item = archive.archive_asset(by=editor, asset=asset)
    [access] = [a for a in county_accesses(editor) if a.county == library.county]
    shared = network.offer(by=editor, access=access, item=item)
    [access] = [a for a in county_accesses(coordinator) if a.county == library.county]
    return network.approve(by=coordinator, access=access, shared=shared)


@pytest.fixture
def demo(settings) -> SharedItem:  # type: ignore[no-untyped-def]
    settings.REQUIRE_MFA = False  # as in `make run`
    call_command("load_demo", verbosity=0)
    County.objects.filter(slug__in=["rogaland", "agder"]).update(in_network=True)
    rogaland = County.objects.get(slug="rogaland")
    sandnes = Library.objects.get(county=rogaland, municipality="Sandnes", kind=Library.Kind.MEMBER)
    return share(
        title="Lesesirkel for pappaer",
        library=sandnes,
        editor=User.objects.get(email="redaktor@rogaland.example"),
        coordinator=User.objects.get(email="koordinator@rogaland.example"),
    )


def test_a_coordinator_on_a_phone_borrows_from_the_shared_pool(demo: SharedItem, live_server, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="en-GB", viewport=PHONE)
    page: Page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, live_server.url, "koordinator@agder.example")
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Shared pool").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Shared pool")

    page.get_by_label("Search the shared pool").fill("pappa")
    page.get_by_role("button", name="Search", exact=True).click()
    card = page.get_by_role("article", name="Lesesirkel for pappaer")
    expect(card).to_contain_text(demo.credit)
    expect(card).to_contain_text("Rogaland")
    picture = card.locator("img")
    expect(picture).to_be_visible()
    # The card's picture is lazy: bring it into view and wait for it to load, served through the sharing rule.
    picture.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=picture.element_handle())

    card.get_by_role("link", name="Lesesirkel for pappaer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lesesirkel for pappaer")
    expect(page.get_by_role("region", name="Borrow it")).to_contain_text(demo.credit)
    page.get_by_role("button", name="Borrow", exact=True).click()

    expect(page).to_have_url(re.compile(r"/archive/\d+/$"))
    expect(page.locator(".messages")).to_contain_text("is in your archive, borrowed from Rogaland")
    expect(page.locator(".archive-origin")).to_contain_text("Borrowed from Sandnes bibliotek (Rogaland)")
    expect(page.locator(".archive-origin")).to_contain_text(demo.credit)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    copy = ArchiveItem.objects.get(county__slug="agder", source=ArchiveItem.Source.BORROWED)
    assert copy.asset.borrowed_from_id == demo.item.asset_id
    context.close()


def test_a_coordinator_on_a_phone_borrows_a_concept_which_becomes_their_own_inactive_concept(
    demo: SharedItem, live_server, browser: Browser
) -> None:  # type: ignore[no-untyped-def]
    concept = Concept.objects.get(county__slug="rogaland", name="Fredagstipset")  # the demo shares it

    context = browser.new_context(locale="en-GB", viewport=PHONE)
    page: Page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, live_server.url, "koordinator@agder.example")
    page.goto(f"{live_server.url}/network/")
    axe = AxeWalk()
    tabs = page.get_by_role("navigation", name="What to look for")
    tabs.get_by_role("link", name=re.compile(r"^Ideas")).click()
    page.get_by_role("article", name="Slik låner du e-bøker").get_by_role("link", name="Slik låner du e-bøker").click()
    expect(page.get_by_role("region", name="Borrow it")).to_contain_text("waiting for review like any other")
    axe.check(page, "Agder's coordinator")
    page.go_back()
    axe.check(page, "Agder's coordinator")
    tabs.get_by_role("link", name=re.compile(r"^Concepts")).click()
    card = page.get_by_role("article", name="Fredagstipset")
    expect(card).to_contain_text("Every Friday")
    axe.check(page, "Agder's coordinator")
    card.get_by_role("button", name="Borrow").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Fredagstipset")
    expect(page.locator(".messages")).to_contain_text("is one of your concepts now, borrowed from Rogaland")
    expect(page.locator(".archive-origin")).to_contain_text("Borrowed from Rogaland through the network of counties.")
    expect(page.get_by_text("Inactive", exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    axe.check(page, "Agder's coordinator")
    copy = Concept.objects.get(county__slug="agder", borrowed_from=concept)
    assert not copy.is_active
    context.close()

    # Rogaland's editor sees on the concept's own page that Agder borrowed it.
    context = browser.new_context(locale="en-GB", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, live_server.url, "redaktor@rogaland.example")
    page.goto(f"{live_server.url}{concept.get_absolute_url()}")
    network_section = page.get_by_role("region", name="The network of counties")
    expect(network_section).to_contain_text("Shared")
    expect(network_section.get_by_role("listitem").filter(has_text="Agder")).to_contain_text("no post from it yet")
    axe.check(page, "Rogaland's editor")
    context.close()
    axe.assert_clean()
