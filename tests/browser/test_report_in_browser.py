"""In the browser: a librarian logs what a post led to and finds it in the month's report, on screen and on paper."""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from publishing.models import Post
from tests.browser.test_publishing import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Set to a directory to keep screenshots of the pages (for looking at them, not for the assertions).
SCREENSHOTS = os.environ.get("REPORT_SCREENSHOTS", "")


@pytest.fixture
def demo(settings) -> None:  # type: ignore[no-untyped-def]
    settings.REQUIRE_MFA = False  # as in `make run`
    call_command("load_demo", verbosity=0)


def shot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)


def test_librarian_logs_an_outcome_and_finds_it_in_the_report_and_its_print_version(
    demo: None, live_server, page: Page
) -> None:  # type: ignore[no-untyped-def]
    log_in(page, live_server.url, "bibliotekar.sandnes@rogaland.example")
    page.goto(f"{live_server.url}/posts/")  # librarians have no post list: the plan is theirs
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Monthly report")
    shot(page, "report-county")

    # From the report of the month a post went out in, to the post and its outcomes.
    post = Post.objects.get(title="Strikkekafé på biblioteket")
    page.goto(f"{live_server.url}/reports/?month={timezone.localtime(post.published_at):%Y-%m}")
    every_post = page.get_by_text("Every post of the month")
    if every_post.count():  # the post is not among the top five
        every_post.click()
    page.get_by_role("link", name="Strikkekafé på biblioteket").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Strikkekafé på biblioteket")
    outcomes = page.get_by_role("region", name="What the post led to")
    expect(outcomes).to_contain_text("23")  # Sandnes's attendance, logged before
    outcomes.get_by_text("Log an outcome").click()
    outcomes.get_by_label("What did the post lead to?").select_option(label="Loans")
    outcomes.get_by_label("Note").fill("Fem lånte strikkebøker etterpå")
    outcomes.get_by_role("button", name="Log the outcome").click()
    # A note is enough, and the library is the librarian's own (chosen already).
    expect(page.get_by_role("status")).to_contain_text("The outcome was logged")
    expect(page.get_by_role("region", name="What the post led to")).to_contain_text("Fem lånte strikkebøker etterpå")
    shot(page, "post-outcomes")

    this_month = timezone.localdate().strftime("%Y-%m")
    page.goto(f"{live_server.url}/reports/?month={this_month}")
    page.get_by_label("Report for").select_option(label="Sandnes bibliotek")
    page.get_by_role("button", name="Show the report").click()
    expect(page.get_by_role("heading", level=2).first).to_contain_text("Sandnes bibliotek")
    expect(page.get_by_role("region", name="What the posts led to")).to_contain_text("Fem lånte strikkebøker etterpå")
    shot(page, "report-library")

    # Last month's county report (the default), on paper.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Report").click()
    page.get_by_role("link", name="Print version").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Monthly report from Rogaland")
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(page.get_by_role("img").first).to_be_visible()
    # Everything fits the width of an A4 page (the print area is about 186 mm, 700 CSS pixels).
    page.set_viewport_size({"width": 700, "height": 1000})
    widest = page.evaluate(
        "Math.max(...[...document.querySelectorAll('main *')].map(e => e.getBoundingClientRect().right))"
    )
    assert widest <= 700
    shot(page, "report-print")
