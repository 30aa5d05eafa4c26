"""A presenter signed up for a recording day consents from the e-mailed link, on a phone."""

import re

import pytest
from django.core import mail
from playwright.sync_api import Browser, expect

from libraries.models import Role
from production.models import Consent, ConsentLink, PresenterSignup
from production.services import planning as services
from tests.factories.libraries import CountyFactory, LibraryFactory, MembershipFactory, UserFactory
from tests.factories.production import RecordingDayFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_a_presenter_consents_from_the_link_on_a_phone(live_server, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    county = CountyFactory(name="Rogaland", slug="rogaland")
    library = LibraryFactory(county=county, name="Sandnes bibliotek")
    presenter = UserFactory(email="kari.bibliotekar@sandnes.example", name="Kari Bibliotekar", language="en")
    membership = MembershipFactory(user=presenter, library=library, role=Role.LIBRARIAN)
    day = RecordingDayFactory(county=county, host_library=library)
    services.sign_up_presenter(by=presenter, day=day, membership=membership)
    # The link goes out after commit; a live-server test commits, so it is in the outbox.
    assert [message.to for message in mail.outbox] == [["kari.bibliotekar@sandnes.example"]]
    link = re.search(r"https?://[^/\s]+(/consent/\S+/)", mail.outbox[0].body)
    assert link is not None

    context = browser.new_context(locale="en-GB", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(live_server.url + link.group(1))
        expect(page.get_by_role("heading", level=1)).to_have_text("Consent to photos and videos")
        # What they consent to, in their language: who, the scopes, for how long, how to withdraw.
        text = page.locator(".consent-text")
        expect(text).to_contain_text("I, Kari Bibliotekar, consent to Rogaland's libraries")
        expect(text).to_contain_text("published on the libraries' social media (Instagram)")
        expect(text).to_contain_text("kept in the libraries' archive and used again")
        expect(text).to_contain_text("valid until it is withdrawn")
        expect(text).to_contain_text("can be withdrawn at any time on this same page")

        page.get_by_label("Your e-mail address").fill("kari.bibliotekar@sandnes.example")
        assert _overflows(page) == 0
        page.get_by_role("button", name="Yes, I consent").click()

        expect(page.get_by_role("status")).to_contain_text("Thank you. Your consent is recorded.")
        expect(page.get_by_role("button", name="Withdraw my consent")).to_be_visible()
        assert _overflows(page) == 0
    finally:
        context.close()

    person = PresenterSignup.objects.get().register_person
    assert person is not None
    consent = Consent.objects.get(person=person)
    assert consent.covers_publishing
    assert consent.digital_record["email"] == "kari.bibliotekar@sandnes.example"
    assert "Kari Bibliotekar" in consent.digital_record["text"]
    assert ConsentLink.objects.get().outcome == ConsentLink.Outcome.CONFIRMED


def _overflows(page) -> int:  # type: ignore[no-untyped-def]
    """How many pixels the page is wider than the phone's screen (0: no sideways scrolling)."""
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))
