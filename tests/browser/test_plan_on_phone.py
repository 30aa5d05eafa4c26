"""The plan on a phone: filters nobody set are folded away so the days come first; set ones stay in view."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import Browser, Page, expect

from tests.conftest import World, client_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def on_a_phone(browser: Browser, base_url: str, user, width: int = 390) -> Page:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="en-GB", viewport={"width": width, "height": 844})
    cookie = client_for(user).cookies[django_settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}])
    return context.new_page()


def test_on_a_phone_the_plans_filters_are_folded_until_asked_for(world: World, live_server, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    page = on_a_phone(browser, live_server.url, world.coordinator)
    page.goto(f"{live_server.url}/plan/")
    status = page.get_by_label("Status")
    expect(status).to_be_hidden()
    page.get_by_text("Filters", exact=True).click()
    expect(status).to_be_visible()
    status.select_option(index=1)
    page.get_by_role("button", name="Filter", exact=True).click()
    # A filter in use stays in view, so the person sees why the plan shows less.
    expect(page.get_by_label("Status")).to_be_visible()
    page.context.close()


def test_on_a_wide_screen_the_plans_filters_are_open(world: World, live_server, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    page = on_a_phone(browser, live_server.url, world.coordinator, width=1366)
    page.goto(f"{live_server.url}/plan/")
    expect(page.get_by_label("Status")).to_be_visible()
    page.context.close()
