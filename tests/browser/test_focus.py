"""Where the keyboard lands: on the moved post after a move on the plan, on the error summary after a failed form."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from publishing.models import Post
from tests.conftest import World, client_for
from tests.factories.publishing import ChannelFactory, make_asset, make_post

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def logged_in(browser: Browser, base_url: str, user) -> Page:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="en-GB")
    cookie = client_for(user).cookies[django_settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}])
    return context.new_page()


def test_after_moving_a_post_with_the_keyboard_the_moved_post_has_the_focus(
    world: World, live_server, browser: Browser
) -> None:  # type: ignore[no-untyped-def]
    ChannelFactory(county=world.county)
    # Tuesday next week: a day earlier stays in the same week, whatever day the test runs.
    today = timezone.localtime()
    when = (today + timedelta(days=8 - today.weekday())).replace(hour=12, minute=0, second=0, microsecond=0)
    post = make_post(
        county=world.county,
        author=world.editor,
        title="Lesekroken",
        status=Post.Status.SCHEDULED,
        scheduled_at=when,
        assets=[make_asset(county=world.county, library=world.library, uploaded_by=world.librarian)],
    )
    page = logged_in(browser, live_server.url, world.coordinator)
    page.goto(f"{live_server.url}/plan/week/?week={when.date().isoformat()}")
    page.get_by_text("Move Lesekroken").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="A day earlier").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("moved")
    expect(page.locator(f"#plan-post-{post.pk}")).to_be_focused()


def test_after_an_invalid_form_the_error_summary_has_the_focus(world: World, live_server, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    page = logged_in(browser, live_server.url, world.coordinator)
    page.goto(f"{live_server.url}/recording-days/new/")
    page.locator("main form").get_by_role("button").last.click()
    expect(page.get_by_role("alert")).to_be_focused()
