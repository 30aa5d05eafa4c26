"""A post in the browser: one editor composes it, another approves and schedules it, it is on the plan and moves."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from libraries.models import County, Library
from production.models import Asset, Idea
from publishing.models import Post
from tests.factories.media import jpeg_bytes
from tests.factories.production import IdeaFactory
from tests.factories.publishing import make_asset, show_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "demo-innspill"


@pytest.fixture
def demo(settings) -> None:  # type: ignore[no-untyped-def]
    settings.REQUIRE_MFA = False  # as in `make run`
    call_command("load_demo", verbosity=0)
    county = County.objects.get(slug="rogaland")
    sandnes = Library.objects.get(county=county, municipality="Sandnes", kind=Library.Kind.MEMBER)
    photo = make_asset(county=county, library=sandnes, title="Lesekroken i Sandnes")
    show_person(photo, name="Per Olsen")


def log_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def test_editor_composes_second_editor_approves_and_schedules_and_the_post_is_on_the_plan(
    demo: None, live_server, page: Page, browser: Browser
) -> None:  # type: ignore[no-untyped-def]
    when = timezone.localtime() + timedelta(days=3)
    author = page
    log_in(author, live_server.url, "redaktor@rogaland.example")
    author.get_by_role("navigation", name="Main").get_by_role("link", name="Posts").click()
    author.get_by_role("link", name="New post").click()
    author.get_by_label("Working title").fill("Lesekroken")
    author.get_by_label("One photo").check()
    author.get_by_role("checkbox", name="Lesekroken i Sandnes").check()

    # The live counters follow the caption and the credit as they are typed (and agree with the server).
    caption = "Ny lesekrok på Sandnes bibliotek 📚 #lesekrok #bibliotek @sandnesbibliotek"
    author.get_by_label("Caption").fill(caption)
    author.get_by_label("Inspiration credit").fill("Inspired by @deichman")
    counters = author.locator("[data-caption-counts]")
    full = f"{caption}\n\nInspired by @deichman"
    expect(counters).to_contain_text(f"{len(full)} of 2200 characters")
    expect(counters).to_contain_text("2 of 30 hashtags")
    expect(counters).to_contain_text("2 of 20 mentions")
    author.get_by_label("Caption").fill("#x " * 31)
    expect(author.locator("[data-count=hashtags]")).to_have_class(re.compile("caption-count--over"))
    expect(author.locator("[data-caption-alert]")).to_have_text("The caption is over Instagram's limit.")
    author.get_by_label("Caption").fill(caption)

    author.get_by_role("group", name="Collaborators").get_by_label("Sandnes bibliotek").check()
    author.get_by_label("Publish at").fill(when.strftime("%Y-%m-%dT%H:%M"))
    author.get_by_role("button", name="Save draft").click()
    expect(author.get_by_role("status")).to_contain_text("The draft “Lesekroken” was saved.")
    gates = author.get_by_role("region", name="Before it can be approved and scheduled")
    expect(gates).to_contain_text("An editor other than the author must approve the post.")
    author.get_by_role("button", name="Ask for approval").click()
    expect(author.get_by_role("status")).to_contain_text("now waits for another editor's approval")
    # The author cannot approve their own post.
    expect(author.get_by_role("button", name="Approve")).to_have_count(0)

    reviewer = browser.new_context(locale="en-GB").new_page()
    log_in(reviewer, live_server.url, "redaktor2@rogaland.example")
    waiting = reviewer.get_by_role("region", name="Posts awaiting approval")
    waiting.get_by_role("link", name="Lesekroken").click()
    reviewer.get_by_role("button", name="Approve").click()
    expect(reviewer.get_by_role("status")).to_contain_text("“Lesekroken” was approved.")
    expect(reviewer.get_by_role("region", name="Before it can be scheduled")).to_contain_text("Every check passes")
    reviewer.get_by_role("button", name="Schedule", exact=True).click()
    expect(reviewer.get_by_role("status")).to_contain_text("“Lesekroken” is scheduled for")
    post = Post.objects.get(title="Lesekroken")
    assert post.status == Post.Status.SCHEDULED
    assert post.full_caption == full

    reviewer.get_by_role("navigation", name="Main").get_by_role("link", name="Plan").click()
    reviewer.goto(f"{live_server.url}/plan/week/?week={when.date().isoformat()}")
    day = reviewer.locator(f'[data-plan-date="{when.date().isoformat()}"]')
    chip = day.get_by_role("article", name=re.compile("Lesekroken"))
    expect(chip).to_contain_text("Scheduled")

    # Moving it a day with the keyboard alone: open its Move panel, then the button.
    chip.locator("summary").focus()
    reviewer.keyboard.press("Enter")
    chip.get_by_role("button", name="A day later").focus()
    reviewer.keyboard.press("Enter")
    expect(reviewer.get_by_role("status")).to_contain_text("“Lesekroken” moved to")
    next_day = (when + timedelta(days=1)).date().isoformat()
    reviewer.goto(f"{live_server.url}/plan/week/?week={next_day}")
    expect(reviewer.locator(f'[data-plan-date="{next_day}"]')).to_contain_text("Lesekroken")
    post.refresh_from_db()
    assert timezone.localtime(post.scheduled_at).date() == (when + timedelta(days=1)).date()


def test_coordinator_drags_a_post_to_another_day_and_its_time_stays(demo: None, live_server, page: Page) -> None:  # type: ignore[no-untyped-def]
    post = Post.objects.get(title="Fem bøker for regnværsdager")  # the demo schedules it for Friday 12:00
    friday = timezone.localtime(post.scheduled_at).date()
    saturday = friday + timedelta(days=1)
    log_in(page, live_server.url, "koordinator@rogaland.example")
    page.goto(f"{live_server.url}/plan/week/?week={friday.isoformat()}")

    chip = page.locator(f'[data-plan-date="{friday.isoformat()}"]').get_by_role("article", name=re.compile("Fem bøker"))
    target = page.locator(f'[data-plan-date="{saturday.isoformat()}"]')
    # The drag events a mouse makes, one by one (Chromium's own drag session is flaky on a busy machine).
    transfer = page.evaluate_handle("() => new DataTransfer()")
    chip.dispatch_event("dragstart", {"dataTransfer": transfer})
    target.dispatch_event("dragover", {"dataTransfer": transfer})
    expect(target).to_have_class(re.compile("is-drop-target"))
    target.dispatch_event("drop", {"dataTransfer": transfer})

    expect(page.get_by_role("status")).to_contain_text("“Fem bøker for regnværsdager” moved to")
    expect(page.locator(f'[data-plan-date="{saturday.isoformat()}"]')).to_contain_text("Fem bøker")
    post.refresh_from_db()
    moved = timezone.localtime(post.scheduled_at)
    assert (moved.date(), moved.hour, moved.minute) == (saturday, 12, 0)


def test_taking_a_post_off_the_plan_asks_first_in_a_dialog_and_keeping_it_changes_nothing(
    demo: None, live_server, page: Page
) -> None:  # type: ignore[no-untyped-def]
    post = Post.objects.get(title="Fem bøker for regnværsdager")  # scheduled by the demo
    log_in(page, live_server.url, "redaktor@rogaland.example")
    page.goto(f"{live_server.url}{post.get_absolute_url()}")
    # The checks follow the post's state: it is scheduled already.
    expect(page.get_by_role("heading", name="Before it is published")).to_be_visible()
    expect(page.get_by_role("heading", name="Before it can be scheduled")).to_have_count(0)
    expect(page.get_by_role("button", name="Ask for approval")).to_have_count(0)

    page.get_by_role("button", name="Take off the plan").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Take the post off the plan?")
    expect(dialog.get_by_role("button", name="Keep it as it is")).to_be_focused()
    dialog.get_by_role("button", name="Keep it as it is").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_role("button", name="Take off the plan")).to_be_focused()
    post.refresh_from_db()
    assert post.status == Post.Status.SCHEDULED

    # Escape keeps it too; going ahead takes it off.
    page.get_by_role("button", name="Take off the plan").click()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.get_by_role("button", name="Take off the plan").click()
    page.get_by_role("dialog").get_by_role("button", name="Take off the plan").click()
    expect(page.get_by_role("status")).to_contain_text("is no longer scheduled; it stays approved.")
    post.refresh_from_db()
    assert post.status == Post.Status.APPROVED


def test_choosing_an_idea_in_the_compose_form_fills_the_empty_fields_and_keeps_the_typed_ones(
    demo: None, live_server, page: Page, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    county = County.objects.get(slug="rogaland")
    sandnes = Library.objects.get(county=county, municipality="Sandnes", kind=Library.Kind.MEMBER)
    idea = IdeaFactory(library=sandnes, status=Idea.Status.ACCEPTED, title="Strikkekafé", credit_name="@strikkeklubben")
    log_in(page, live_server.url, "redaktor@rogaland.example")
    page.goto(f"{live_server.url}/posts/new/")
    page.get_by_label("Working title").fill("Min tittel")
    page.get_by_label("Caption").fill("Allerede skrevet.")
    page.get_by_label("Idea").select_option(str(idea.pk))
    expect(page.locator("[data-idea-fill]")).to_contain_text("Filled in from the idea: Inspiration credit")
    expect(page.locator("[data-idea-fill]")).to_contain_text("Kept what you had written: Working title.")
    expect(page.get_by_label("Working title")).to_have_value("Min tittel")
    expect(page.get_by_label("Caption")).to_have_value("Allerede skrevet.")
    expect(page.get_by_label("Inspiration credit")).to_have_value("Inspired by @strikkeklubben")

    # Uploading from the form: filed to the chosen idea, with progress; the new photo joins the choices
    # and what was typed stays.
    uploads = page.get_by_role("region", name="Upload new photos or videos")
    expect(uploads).to_contain_text("They are filed to “Strikkekafé”")
    photo = tmp_path / "Garn.jpg"
    photo.write_bytes(jpeg_bytes((1080, 1350)))
    uploads.get_by_label("Photos and videos").set_input_files(str(photo))
    expect(uploads.get_by_role("list", name="Uploads")).to_contain_text("Garn.jpg")
    expect(page.get_by_role("checkbox", name="Garn.jpg")).to_be_visible(timeout=20_000)
    expect(page.get_by_label("Caption")).to_have_value("Allerede skrevet.")
    assert Asset.objects.get(original_name="Garn.jpg").idea == idea
