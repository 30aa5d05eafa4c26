"""A coordinator sends the month's report to the library leaders: who gets it, what it says, once per confirmation."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from libraries.models import AuditEntry, Library
from publishing.followup import reports
from publishing.followup.reports import Month
from publishing.models import Outcome
from tests.conftest import World
from tests.factories.libraries import LibraryFactory
from tests.factories.publishing import ChannelFactory
from tests.factories.reports import followers, oslo, outcome, published_post, reading

pytestmark = pytest.mark.django_db

SEND = reverse("publishing:report_send")
MARCH = Month(date(2026, 3, 1))


@pytest.fixture
def addresses(world: World) -> Library:
    """Sandnes has a contact address; Sola has none; an inactive library with an address gets nothing."""
    Library.objects.filter(pk=world.library.pk).update(email="leder@sandnes.example")
    LibraryFactory(county=world.county, name="Nedlagt bibliotek", email="gammel@example.org", is_active=False)
    world.library.refresh_from_db()
    post = published_post(
        county=world.county, author=world.editor, title="Påskekrim", at=oslo(2026, 3, 10), collaborators=[world.library]
    )
    reading(post, at=oslo(2026, 3, 17), reach=400, likes=30, comments=5, saved=3, shares=2)
    published_post(
        county=world.county,
        author=world.editor,
        title="Solas egen",
        at=oslo(2026, 3, 11),
        collaborators=[world.other_library],
    )
    outcome(
        post, library=world.library, kind=Outcome.Kind.LOANS, on=date(2026, 3, 12), quantity=12, note="Boka gikk ut"
    )
    channel = ChannelFactory(county=world.county)
    followers(channel, date(2026, 3, 1), 1010)
    followers(channel, date(2026, 3, 31), 1075)
    return world.library


def test_confirmation_lists_who_gets_it_and_who_has_no_address(
    world: World, addresses: Library, coordinator_client: Client
) -> None:
    response = coordinator_client.get(f"{SEND}?month=2026-03")

    assert response.status_code == 200
    plan = response.context["plan"]
    assert plan.recipients == [world.library]
    assert plan.without_address == [world.other_library]
    assert "leder@sandnes.example" in response.text
    assert "Sola bibliotek" in response.text
    assert "Nedlagt bibliotek" not in response.text
    assert "already sent" not in response.text
    assert len(mail.outbox) == 0  # confirming sends nothing


def test_sending_mails_each_library_its_own_figures_and_the_county_summary_once(
    world: World, addresses: Library, coordinator_client: Client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(SEND, {"month": "2026-03", "last_sent": "0"})

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('publishing:report')}?month=2026-03"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["leder@sandnes.example"]
    assert message.subject == "Monthly report March 2026: Sandnes bibliotek"
    body = message.body
    # The library's own figures: its one post, its outcome, the post's permalink …
    assert "Posts the library took part in: 1 (1 as collaborator)" in body
    assert "Påskekrim: engagement 40, reach 400" in body
    assert "Solas egen" not in body
    assert "Loans: 1 entry, 12 in all" in body
    assert "“Boka gikk ut”" in body
    assert f"http://testserver/reports/?month=2026-03&library={world.library.pk}\n" in body
    # … and the county's summary.
    assert "Rogaland, all libraries" in body
    assert "Posts published: 2" in body
    assert "Followers: 1,075 (+65)" in body
    assert "http://testserver/reports/?month=2026-03\n" in body
    assert "&amp;" not in body  # plain text, not HTML-escaped

    entry = AuditEntry.objects.get(action="report.sent")
    assert (entry.county, entry.actor, entry.data["month"]) == (world.county, world.coordinator, "2026-03")
    assert entry.data["libraries"] == [world.library.pk]
    assert entry.data["without_address"] == [world.other_library.pk]


def test_a_second_click_on_the_same_confirmation_sends_nothing(
    world: World, addresses: Library, coordinator_client: Client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        coordinator_client.post(SEND, {"month": "2026-03", "last_sent": "0"})
        again = coordinator_client.post(SEND, {"month": "2026-03", "last_sent": "0"}, follow=True)

    assert len(mail.outbox) == 1
    assert AuditEntry.objects.filter(action="report.sent").count() == 1
    assert "was sent on" in again.text
    assert "after you opened this page" in again.text


def test_sending_a_month_again_warns_with_the_date_and_asks_again(
    world: World, addresses: Library, coordinator_client: Client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        coordinator_client.post(SEND, {"month": "2026-03", "last_sent": "0"})
    first = AuditEntry.objects.get(action="report.sent")

    page = coordinator_client.get(f"{SEND}?month=2026-03")
    assert page.context["plan"].last_sent == first
    assert "This report was already sent on" in page.text
    assert "Send again to 1 library" in page.text
    # Another month is not "already sent".
    assert "already sent" not in coordinator_client.get(f"{SEND}?month=2026-02").text

    with django_capture_on_commit_callbacks(execute=True):
        coordinator_client.post(SEND, {"month": "2026-03", "last_sent": str(first.pk)})
    assert len(mail.outbox) == 2
    assert AuditEntry.objects.filter(action="report.sent").count() == 2


def test_only_coordinators_send(addresses: Library, editor_client: Client, librarian_client: Client) -> None:
    for client in (editor_client, librarian_client):
        assert client.get(f"{SEND}?month=2026-03").status_code == 403
        assert client.post(SEND, {"month": "2026-03", "last_sent": "0"}).status_code == 403
    assert len(mail.outbox) == 0
    assert not AuditEntry.objects.filter(action="report.sent").exists()


def test_another_countys_coordinator_sends_only_their_own_countys_report(
    world: World, addresses: Library, outsider_client: Client, django_capture_on_commit_callbacks
) -> None:
    LibraryFactory(county=world.other_county, name="Arendal bibliotek", email="leder@arendal.example")
    with django_capture_on_commit_callbacks(execute=True):
        outsider_client.post(SEND, {"month": "2026-03", "last_sent": "0"})
    assert [message.to for message in mail.outbox] == [["leder@arendal.example"]]
    assert "Påskekrim" not in mail.outbox[0].body


def test_nothing_is_sent_when_no_library_has_an_address(
    world: World, coordinator_client: Client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(SEND, {"month": "2026-03", "last_sent": "0"}, follow=True)
    assert len(mail.outbox) == 0
    assert "No member library has a contact e-mail address" in response.text


def test_send_report_service_refuses_a_stale_confirmation(world: World, addresses: Library) -> None:
    reports.send_report(by=world.coordinator, county=world.county, month=MARCH, confirmed_last_sent_id=0)
    with pytest.raises(ValidationError, match="after you opened this page"):
        reports.send_report(by=world.coordinator, county=world.county, month=MARCH, confirmed_last_sent_id=0)
