"""An idea's way through the browser: a librarian submits it, the coordinator accepts and plans it."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect

from production.models import Idea, RecordingDay

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "demo-innspill"


@pytest.fixture
def demo(settings) -> None:  # type: ignore[no-untyped-def]
    settings.REQUIRE_MFA = False  # as in `make run`
    call_command("load_demo", verbosity=0)


def log_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def test_librarian_submits_coordinator_accepts_and_plans_librarian_sees_it_planned(
    demo, live_server, page: Page, browser: Browser
) -> None:  # type: ignore[no-untyped-def]
    librarian = page
    log_in(librarian, live_server.url, "bibliotekar.sandnes@rogaland.example")
    librarian.get_by_role("navigation", name="Main").get_by_role("link", name="Ideas").click()
    librarian.get_by_role("link", name="Submit an idea").click()
    librarian.get_by_label("Title").fill("Strikkekafé med lydbøker")
    librarian.get_by_label("Pitch").fill("Hver onsdag strikker vi og hører lydbok sammen.")
    librarian.get_by_label("Content type").select_option(label="Library offers and services")
    audience = librarian.get_by_role("group", name="Audience")
    audience.get_by_label("Children").check()
    # Aimed only at children: the form warns at once (Instagram is 13+).
    expect(librarian.get_by_text("Aimed only at children")).to_be_visible()
    audience.get_by_label("Adults").check()
    expect(librarian.get_by_text("Aimed only at children")).to_be_hidden()
    librarian.get_by_label("Whom to credit").fill("@strikkebiblioteket")
    librarian.get_by_role("button", name="Send the idea").click()
    expect(librarian.get_by_role("status")).to_contain_text("was sent to the county for review")
    expect(librarian.get_by_role("heading", level=1)).to_have_text("Strikkekafé med lydbøker")

    coordinator = browser.new_context(locale="en-GB").new_page()
    log_in(coordinator, live_server.url, "koordinator@rogaland.example")
    waiting = coordinator.get_by_role("region", name="Ideas waiting for review")
    waiting.get_by_role("link", name="Strikkekafé med lydbøker").click()
    coordinator.get_by_role("button", name="Accept").click()
    expect(coordinator.get_by_role("status")).to_contain_text("was accepted")

    day = RecordingDay.objects.get(status=RecordingDay.Status.ANNOUNCED)
    plan = coordinator.get_by_role("region", name="Place on a recording day")
    plan.get_by_label("Recording day").select_option(value=str(day.pk))
    plan.get_by_label("Duration in minutes").fill("20")
    plan.get_by_role("button", name="Add to the run sheet").click()
    expect(coordinator.locator(".messages")).to_contain_text("is planned for the recording day")
    expect(coordinator).to_have_url(re.compile(rf"/recording-days/{day.pk}/$"))
    expect(coordinator.get_by_role("row", name=re.compile("Strikkekafé med lydbøker"))).to_be_visible()

    librarian.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    mine = librarian.get_by_role("region", name="Your library's ideas")
    expect(mine.get_by_role("listitem").filter(has_text="Strikkekafé med lydbøker")).to_contain_text("Planned")
    assert Idea.objects.get(title="Strikkekafé med lydbøker").status == Idea.Status.PLANNED


def test_coordinator_reorders_the_run_sheet_with_the_keyboard(demo, live_server, page: Page) -> None:  # type: ignore[no-untyped-def]
    day = RecordingDay.objects.get(status=RecordingDay.Status.ANNOUNCED)
    first = day.slots.get(position=1)
    log_in(page, live_server.url, "koordinator@rogaland.example")
    page.goto(f"{live_server.url}/recording-days/{day.pk}/")
    rows = page.locator("#run-sheet tbody tr")
    expect(rows.first).to_contain_text("Rigging og lystest")

    button = page.locator(f"#move-down-{first.pk}")
    button.focus()
    page.keyboard.press("Enter")
    expect(rows.nth(1)).to_contain_text("Rigging og lystest")
    expect(page.locator("#run-sheet-status")).to_contain_text("“Rigging og lystest” is now number 2, at 09:30.")
    # The keyboard is still on the same slot's button, so pressing again moves it further.
    expect(page.locator(f"#move-down-{first.pk}")).to_be_focused()
    page.keyboard.press("Enter")
    expect(rows.nth(2)).to_contain_text("Rigging og lystest")
    assert [slot.pk for slot in day.slots.order_by("position")][2] == first.pk


def test_printed_run_sheet_leaves_out_the_navigation(demo, live_server, page: Page) -> None:  # type: ignore[no-untyped-def]
    day = RecordingDay.objects.get(status=RecordingDay.Status.ANNOUNCED)
    log_in(page, live_server.url, "bibliotekar.sandnes@rogaland.example")
    page.goto(f"{live_server.url}/recording-days/{day.pk}/run-sheet/")
    expect(page.get_by_role("table")).to_contain_text("Rigging og lystest")
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(page.get_by_role("table")).to_be_visible()
