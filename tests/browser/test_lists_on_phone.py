"""The daily lists on a phone: what a person acts on is on the screen, not in a column scrolled off to the side.

On a 390 px phone the ideas list showed a librarian three of its six columns, their ideas' status not among
them; the list of posts put what a post still needs before it can be scheduled in a fifth column nobody saw,
and stretched every row to its height; a run sheet's buttons were past the slot's note. Each row is now a
block of its own there, each cell named by its column (static/css/app.css, `.table-stacked`). The recording
days' month, a grid whose Friday to Sunday were off the screen, is a list of its days as the plan's is.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.test_plan_on_phone import on_a_phone
from tests.conftest import World
from tests.factories.production import IdeaFactory, RecordingDayFactory, SlotFactory
from tests.factories.publishing import make_post

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = 390


def assert_on_screen(locator: Locator, page: Page) -> None:
    """Visible, and within the screen's width: nothing to scroll sideways for."""
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box is not None
    width = page.viewport_size["width"] if page.viewport_size else PHONE
    assert box["x"] >= 0, f"{locator} is at {box}"
    assert box["x"] + box["width"] <= width + 1, f"{locator} is at {box}, past the screen's {width} px"


def opened(browser: Browser, live_server, user, path: str, width: int = PHONE) -> Page:  # type: ignore[no-untyped-def]
    page = on_a_phone(browser, live_server.url, user, width=width)
    page.goto(f"{live_server.url}{path}")
    return page


def test_on_a_phone_a_librarian_sees_the_status_of_each_idea(world: World, live_server, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    IdeaFactory(library=world.library, submitted_by=world.librarian, title="Strikkekafé på biblioteket")
    page = opened(browser, live_server, world.librarian, "/ideas/")
    row = page.locator("tbody tr", has_text="Strikkekafé på biblioteket")
    assert_on_screen(row.get_by_text("Submitted", exact=True), page)
    assert_on_screen(row.get_by_text("Sandnes bibliotek"), page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE
    page.context.close()


def test_on_a_phone_an_editor_sees_what_each_post_still_needs(world: World, live_server, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    make_post(county=world.county, author=world.editor, title="Regnvær på biblioteket")
    page = opened(browser, live_server, world.editor, "/posts/")
    row = page.locator("tbody tr", has_text="Regnvær på biblioteket")
    assert_on_screen(row.get_by_text("Draft", exact=True), page)
    assert_on_screen(row.get_by_text("Choose when to publish."), page)
    # Each value is named by its column, as the header names it on a wide screen.
    labels = row.locator("td").evaluate_all("cells => cells.map(cell => getComputedStyle(cell, '::before').content)")
    assert '"Status: "' in labels
    assert '"Before it can be scheduled: "' in labels
    page.context.close()


def test_on_a_phone_a_recording_days_status_is_in_view(world: World, live_server, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    RecordingDayFactory(county=world.county, host_library=world.library)
    page = opened(browser, live_server, world.coordinator, "/recording-days/")
    assert_on_screen(page.locator("tbody tr").first.get_by_text("Announced", exact=True), page)
    page.context.close()


def test_on_a_phone_the_run_sheets_buttons_are_at_hand(world: World, live_server, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    # On the recording day itself, phone in hand: each slot's buttons under it, not past its note.
    day = RecordingDayFactory(county=world.county, host_library=world.library)
    SlotFactory(recording_day=day, title="Rigging og lystest", note="Ta med stativet fra Sola.")
    page = opened(browser, live_server, world.coordinator, f"/recording-days/{day.pk}/")
    row = page.locator("#run-sheet tbody tr", has_text="Rigging og lystest")
    assert_on_screen(row.get_by_role("link", name="Edit"), page)
    assert_on_screen(row.get_by_text("Ta med stativet fra Sola."), page)
    page.context.close()


def test_on_a_phone_the_recording_days_month_is_a_list_of_its_days(world: World, live_server, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    # A Friday, Saturday or Sunday of this month: the grid's columns past a phone's edge.
    weekend = next(
        day
        for day in (today.replace(day=1) + timedelta(days=n) for n in range(31))
        if day.month == today.month and day.weekday() >= 4 and day != today
    )
    RecordingDayFactory(county=world.county, host_library=world.library, date=weekend)
    page = opened(browser, live_server, world.librarian, "/calendar/")
    assert_on_screen(page.get_by_role("link", name="Recording day at Sandnes bibliotek"), page)
    # The days with nothing on them are left out (today stays): the recording day is not a screen further down.
    shown = page.locator("td.month__day:visible")
    assert 1 < shown.count() < 28
    for index in range(shown.count()):
        day = shown.nth(index)
        today_or_something_on = (
            "month__day--today" in (day.get_attribute("class") or "")
            or day.locator(".month__event, [data-holiday]").count()
        )
        assert today_or_something_on, day.inner_text()
    page.context.close()


def test_on_a_wide_screen_the_posts_are_a_table_with_its_columns(world: World, live_server, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    make_post(county=world.county, author=world.editor, title="Regnvær på biblioteket")
    page = opened(browser, live_server, world.editor, "/posts/", width=1366)
    expect(page.get_by_role("columnheader", name="Before it can be scheduled")).to_be_visible()
    row = page.locator("tbody tr", has_text="Regnvær på biblioteket")
    status, needs = row.get_by_text("Draft", exact=True), row.locator(".gate-list li").first
    # Side by side in one row (the first thing it needs beside its status), no column's name before its values.
    assert status.bounding_box()["y"] == pytest.approx(needs.bounding_box()["y"], abs=8)  # type: ignore[index]
    assert row.locator("td").first.evaluate("cell => getComputedStyle(cell, '::before').content") == "none"
    page.context.close()
