"""What a coordinator does in the browser: log in, invite a librarian, and the librarian joins."""

import re

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect

from libraries.models import Membership, Role, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(settings) -> None:  # type: ignore[no-untyped-def]
    settings.REQUIRE_MFA = False  # as in `make run`
    call_command("load_demo", verbosity=0)


def log_in(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_demo_coordinator_invites_a_librarian_who_joins(demo, live_server, page: Page, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    log_in(page, live_server.url, "koordinator@rogaland.example", "demo-innspill")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome, Kari")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Invitations").click()
    page.get_by_label("E-mail address").fill("ny.bibliotekar@sandnes.example")
    page.get_by_label("Name").fill("Nora Nilsen")
    page.get_by_label("Library").select_option(label="Sandnes bibliotek")
    page.get_by_label("Role").select_option(label="Librarian")
    page.get_by_role("button", name="Send invitation").click()

    expect(page.get_by_role("status")).to_contain_text("An invitation was sent to ny.bibliotekar@sandnes.example")
    expect(page.get_by_role("row", name=re.compile("ny.bibliotekar@sandnes.example"))).to_contain_text("Pending")

    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/invitation/\S+/)", mail.outbox[0].body).group(1)  # type: ignore[union-attr]

    invitee = browser.new_context(locale="en-GB").new_page()
    invitee.goto(live_server.url + link)
    expect(invitee.get_by_role("heading", level=1)).to_contain_text("Join Sandnes bibliotek")
    expect(invitee.get_by_label("Your name")).to_have_value("Nora Nilsen")
    invitee.get_by_label("Choose a password").fill("lesesirkel-i-sandnes")
    invitee.get_by_label("Repeat the password").fill("lesesirkel-i-sandnes")
    invitee.get_by_role("button", name="Create my account").click()
    expect(invitee.get_by_role("status")).to_contain_text("You are now librarian at Sandnes bibliotek")

    user = User.objects.get(email="ny.bibliotekar@sandnes.example")
    assert Membership.objects.get(user=user).role == Role.LIBRARIAN


@pytest.mark.parametrize(
    ("language", "heading"),
    [("nb", "Bibliotek"), ("da", "Biblioteker"), ("en", "Libraries")],
)
def test_coordinator_pages_in_each_language(demo, live_server, page: Page, language: str, heading: str) -> None:  # type: ignore[no-untyped-def]
    log_in(page, live_server.url, "koordinator@rogaland.example", "demo-innspill")
    page.goto(f"{live_server.url}/libraries/")
    page.locator("#language").select_option(language)
    page.locator("#language").locator("xpath=..").get_by_role("button").click()
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    # Every member library of the demo county is listed, whatever the language.
    expect(page.get_by_role("row")).to_have_count(25)
