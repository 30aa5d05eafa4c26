"""The network of counties: sharing archive items, borrowing with credit, and consent across county lines."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from libraries.models import AuditEntry, County, Library, Role
from production.models import Consent
from production.release import Purpose, media_release
from production.services.media import expire_consents, withdraw_consent
from publishing.archive import network
from publishing.archive.search import ArchiveFilters
from publishing.followup import reports
from publishing.models import ArchiveItem, InsightSnapshot, Post
from publishing.posts.gates import failing_gates
from tests.conftest import client_for
from tests.factories.archive import archived_item
from tests.factories.libraries import MembershipFactory, UserFactory
from tests.factories.network import Network, county_access, shared_item
from tests.factories.publishing import make_post, show_person
from tests.factories.reports import oslo, published_post, reading

access = county_access


# --- Consent to sharing: the one rule ---


def test_media_travel_only_with_everyone_consenting_to_sharing(net: Network) -> None:
    w = net.world
    item = archived_item(w, title="Uten deling", library=net.stavanger, consent=None)
    show_person(item.asset, name="Kari", covers_sharing=False)
    agder = access(net.agder_editor, w.other_county)
    assert not media_release(item.asset, purpose=Purpose.SHARE, access=agder).allowed
    with pytest.raises(ValidationError, match="sharing with other counties"):
        network.offer(by=w.editor, access=access(w.editor, w.county), item=item)


def test_a_minor_needs_a_guardians_consent_to_sharing(net: Network) -> None:
    w = net.world
    item = archived_item(w, title="Barn", library=net.stavanger, consent=None)
    tag = show_person(item.asset, name="Emma", covers_sharing=True)
    Consent.objects.filter(person=tag.person).update(person_is_minor=True, given_by="Mor")
    agder = access(net.agder_editor, w.other_county)
    assert media_release(item.asset, purpose=Purpose.SHARE, access=agder).allowed
    tag.person.category = "child"
    tag.person.save()
    Consent.objects.filter(person=tag.person).update(person_is_minor=False, given_by="")
    item.asset.refresh_from_db()
    assert not media_release(item.asset, purpose=Purpose.SHARE, access=agder).allowed


def test_nothing_is_shared_without_the_countys_participation(net: Network) -> None:
    w = net.world
    w.county.in_network = False
    w.county.save()
    item = archived_item(w, title="Stengt", library=net.stavanger, consent=None)
    with pytest.raises(ValidationError, match="network"):
        network.offer(by=w.editor, access=access(w.editor, w.county), item=item)


# --- The pool and borrowing ---


def test_offered_items_enter_the_pool_only_when_the_coordinator_approves(net: Network) -> None:
    w = net.world
    item = archived_item(w, title="Venter", library=net.stavanger, consent=None)
    shared = network.offer(by=w.editor, access=access(w.editor, w.county), item=item)
    assert item.pk not in network.pool_for(w.other_county)
    network.approve(by=w.coordinator, access=access(w.coordinator, w.county), shared=shared)
    assert item.pk in network.pool_for(w.other_county)
    assert item.pk not in network.pool_for(w.county)  # a county does not borrow from itself
    actions = set(AuditEntry.objects.filter(county=w.county).values_list("action", flat=True))
    assert {"network.offered", "network.approved"} <= actions


def test_the_pool_is_searched_with_the_archives_search_and_county_facets(net: Network) -> None:
    w = net.world
    shared_item(net)
    results = network.search_pool(w.other_county, ArchiveFilters(q="pappa lesesirkel"), page=1)
    assert [item.title for item in results.items] == ["Lesesirkel for pappaer"]
    assert [(f.label, f.count) for f in results.facets.county] == [("Rogaland", 1)]
    assert "Stavanger bibliotek" in [f.label for f in results.facets.library]
    nothing = network.search_pool(w.other_county, ArchiveFilters(q="pappa", county_id=net.third.pk), page=1)
    assert nothing.items == []


def test_borrowing_copies_the_item_with_its_origin_and_credit(net: Network) -> None:
    w = net.world
    shared = shared_item(net)
    copy = network.borrow(by=net.agder_editor, access=access(net.agder_editor, w.other_county), shared=shared)
    assert copy.county == w.other_county
    assert copy.source == ArchiveItem.Source.BORROWED
    assert copy.asset.borrowed_from == shared.item.asset
    assert copy.credit_line == "Idé og foto: Stavanger bibliotek @stavangerbibliotek"
    assert copy.is_reusable()
    # The borrowing county never sees the origin's people.
    assert list(copy.asset.people.all()) == []
    assert {e.action for e in AuditEntry.objects.filter(county=w.other_county)} >= {"network.borrowed"}
    assert AuditEntry.objects.filter(county=w.county, action="network.borrowed_from_us").exists()
    assert network.borrowers(shared) == [w.other_county]


def test_a_post_from_a_borrowed_item_carries_the_credit_and_keeps_it(net: Network) -> None:
    from publishing.archive.filing import reuse_in_new_post

    w = net.world
    shared = shared_item(net)
    copy = network.borrow(by=net.agder_editor, access=access(net.agder_editor, w.other_county), shared=shared)
    post = reuse_in_new_post(by=net.agder_editor, items=[copy])
    assert "Idé og foto: Stavanger bibliotek @stavangerbibliotek" in post.full_caption
    post = Post.objects.for_gates().get(pk=post.pk)
    assert "credit" not in {gate.code for gate in failing_gates(post, channel=None)}
    post.credit = "Takk til Stavanger!"  # reworded without the library: refused
    assert "credit" in {gate.code for gate in failing_gates(post, channel=None)}
    post.credit = "Foto lånt av @StavangerBibliotek"  # reworded, still credited
    assert "credit" not in {gate.code for gate in failing_gates(post, channel=None)}


def test_unsharing_stops_new_borrows_but_keeps_borrowed_copies(net: Network) -> None:
    w = net.world
    shared = shared_item(net)
    copy = network.borrow(by=net.agder_editor, access=access(net.agder_editor, w.other_county), shared=shared)
    told = network.unshare(by=w.editor, access=access(w.editor, w.county), shared=shared)
    assert told == [w.other_county]
    with pytest.raises(ValidationError):
        network.borrow(by=net.third_editor, access=access(net.third_editor, net.third), shared=shared)
    copy.refresh_from_db()
    assert copy.is_reusable()
    assert AuditEntry.objects.filter(county=w.county, action="network.unshared").exists()


def test_a_moderator_hides_an_item_with_a_reason(net: Network) -> None:
    w = net.world
    shared = shared_item(net)
    moderator = UserFactory(email="moderator@nettverk.example", is_network_moderator=True)
    MembershipFactory(user=moderator, library=w.other_county_library, role=Role.LIBRARIAN)
    # Not an item of the moderator's own county, and not from a county outside the network.
    own = UserFactory(email="moderator@rogaland.example", is_network_moderator=True)
    MembershipFactory(user=own, library=w.library, role=Role.LIBRARIAN)
    with pytest.raises(PermissionDenied):
        network.hide(by=own, access=county_access(own, w.county), shared=shared, reason="Feil bilde")
    w.other_county.in_network = False  # as the county settings form saves it
    w.other_county.save(update_fields=["in_network"])
    with pytest.raises(PermissionDenied):
        network.hide(by=moderator, access=county_access(moderator, w.other_county), shared=shared, reason="Feil bilde")
    w.other_county.in_network = True
    w.other_county.save(update_fields=["in_network"])
    network.hide(by=moderator, access=county_access(moderator, w.other_county), shared=shared, reason="Feil bilde")
    assert shared.item_id not in network.pool_for(w.other_county)
    entry = AuditEntry.objects.get(county=w.county, action="network.hidden")
    assert entry.data["reason"] == "Feil bilde"


# --- Consent crosses county lines ---


@pytest.mark.parametrize("how", ["withdrawn", "expired"])
def test_consent_lapse_blocks_every_borrowed_copy_in_every_county(net: Network, how: str) -> None:
    w = net.world
    shared = shared_item(net)
    agder_copy = network.borrow(by=net.agder_editor, access=access(net.agder_editor, w.other_county), shared=shared)
    vestland_copy = network.borrow(by=net.third_editor, access=access(net.third_editor, net.third), shared=shared)
    soon = timezone.now() + timedelta(days=2)
    agder_post = make_post(
        county=w.other_county, author=net.agder_editor, assets=[agder_copy.asset], status=Post.Status.SCHEDULED,
        approved_by=w.outsider, scheduled_at=soon,
    )  # fmt: skip
    vestland_post = make_post(
        county=net.third, author=net.third_editor, assets=[vestland_copy.asset], status=Post.Status.SCHEDULED,
        approved_by=net.third_coordinator, scheduled_at=soon,
    )  # fmt: skip
    mail.outbox.clear()
    consent = Consent.objects.get(person__tags__asset=shared.item.asset)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.db.transaction.on_commit", lambda fn, *a, **k: fn())
        if how == "withdrawn":
            withdraw_consent(by=w.coordinator, consent=consent)
        else:
            Consent.objects.filter(pk=consent.pk).update(
                given_at=timezone.localdate() - timedelta(days=30), valid_until=timezone.localdate() - timedelta(days=1)
            )
            expire_consents()

    for copy in (agder_copy, vestland_copy):
        copy.refresh_from_db()
        assert not copy.is_reusable()
        assert not media_release(copy.asset, purpose=Purpose.PUBLISH, access=None).allowed
    for post in (agder_post, vestland_post):
        post.refresh_from_db()
        assert post.status == Post.Status.IN_REVIEW
    assert shared.item_id not in network.pool_for(w.other_county)
    # Each county's coordinators were told, in their own language, and never the origin's people's names.
    to_agder = [m for m in mail.outbox if "koordinator@agder.example" in m.to]
    to_vestland = [m for m in mail.outbox if "koordinator@vestland.example" in m.to]
    assert len(to_agder) == 1
    assert len(to_vestland) == 1
    assert "lånt" in to_agder[0].body
    assert "Ola" not in to_agder[0].body
    assert "borrowed" in to_vestland[0].body
    assert "Ola" not in to_vestland[0].body
    assert agder_post.title in to_agder[0].body
    assert AuditEntry.objects.filter(county=net.third, action="network.copy_blocked").exists()


# --- Who is told ---


def test_the_coordinators_are_told_in_their_language_when_an_item_is_offered(
    net: Network, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    w = net.world
    w.coordinator.language = "en"
    w.coordinator.save(update_fields=["language"])
    item = archived_item(w, title="Bokbad i parken", library=net.stavanger, consent=None)
    show_person(item.asset, name="Ola", covers_sharing=True)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        network.offer(by=w.editor, access=access(w.editor, w.county), item=item)
    [message] = mail.outbox
    assert message.to == [w.coordinator.email]
    assert message.subject == "“Bokbad i parken” is offered to the network: approve it to share it"
    assert item.get_absolute_url() in message.body
    assert "Idé og foto: Stavanger bibliotek @stavangerbibliotek" in message.body  # the credit, as offered
    # Offered again while it waits: nobody is told twice.
    with django_capture_on_commit_callbacks(execute=True):
        network.offer(by=w.editor, access=access(w.editor, w.county), item=item)
    assert len(mail.outbox) == 1


def test_each_borrowing_county_is_told_in_its_language_that_its_copy_stays_when_sharing_stops(
    net: Network, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    w = net.world
    shared = shared_item(net)
    agder_copy = network.borrow(by=net.agder_editor, access=access(net.agder_editor, w.other_county), shared=shared)
    network.borrow(by=net.third_editor, access=access(net.third_editor, net.third), shared=shared)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        network.unshare(by=w.editor, access=access(w.editor, w.county), shared=shared)
    by_address = {address: message for message in mail.outbox for address in message.to}
    assert set(by_address) == {w.outsider.email, net.third_coordinator.email}
    english = by_address[net.third_coordinator.email]
    assert english.subject == "Rogaland no longer shares “Lesesirkel for pappaer”"
    assert "your copy stays in your archive and can still be used" in english.body
    norwegian = by_address[w.outsider.email]
    assert "Lesesirkel for pappaer" in norwegian.subject
    assert agder_copy.get_absolute_url() in norwegian.body
    assert "your copy" not in norwegian.body  # Agder's coordinator reads Norwegian


# --- What travelled ---


def test_the_origin_sees_the_posts_made_from_its_item_and_their_reach_in_the_report(net: Network) -> None:
    """Rogaland sees what Agder and Vestland published from its item, with the reach each of them read from
    Instagram, on the item's page and as "shared reach" in the month's report; never their drafts."""
    w = net.world
    shared = shared_item(net)
    agder_copy = network.borrow(by=net.agder_editor, access=access(net.agder_editor, w.other_county), shared=shared)
    vestland_copy = network.borrow(by=net.third_editor, access=access(net.third_editor, net.third), shared=shared)
    in_march = oslo(2026, 3, 10)
    agder_post = published_post(
        county=w.other_county, author=net.agder_editor, title="Agders pappatreff", at=in_march,
        assets=[agder_copy.asset],
    )  # fmt: skip
    reading(agder_post, at=in_march + timedelta(days=1), reach=80, round=InsightSnapshot.Round.DAY)
    reading(agder_post, at=in_march + timedelta(days=7), reach=120)  # the latest counts
    vestland_post = published_post(
        county=net.third, author=net.third_editor, title="Vestlands pappatreff", at=oslo(2026, 3, 20),
        assets=[vestland_copy.asset],
    )  # fmt: skip
    reading(vestland_post, at=oslo(2026, 3, 27), reach=30)
    published_post(  # April: not March's figure
        county=net.third, author=net.third_editor, title="April", at=oslo(2026, 4, 2), assets=[vestland_copy.asset]
    )
    make_post(county=w.other_county, author=net.agder_editor, assets=[agder_copy.asset], title="Utkast i Agder")

    report = reports.build_report(county=w.county, month=reports.Month(date(2026, 3, 1)))
    assert report.shared is not None
    assert (report.shared.posts, report.shared.counties, report.shared.reach.value) == (2, 2, 150)
    assert reports.build_report(county=w.other_county, month=reports.Month(date(2026, 3, 1))).shared.posts == 0

    editor = client_for(w.editor)
    editor.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = editor.get(shared.item.get_absolute_url()).text
    assert "reached 120 people" in page
    assert "reached 30 people" in page
    assert agder_post.permalink in page
    assert "Utkast i Agder" not in page  # nothing of theirs but the date, the reach and the public link
    assert "Agders pappatreff" not in page

    coordinator = client_for(w.coordinator)
    coordinator.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    march = coordinator.get("/reports/", {"month": "2026-03"}).text
    assert "Shared reach" in march
    assert "2 posts in 2 other counties from your shared items" in march
    february = coordinator.get("/reports/", {"month": "2026-02"}).text
    assert "No post in other counties from your shared items this month" in february


def test_the_shared_reach_is_on_the_report_page_and_in_the_report_email(
    net: Network, django_capture_on_commit_callbacks
) -> None:
    w = net.world
    shared = shared_item(net)
    agder_copy = network.borrow(by=net.agder_editor, access=access(net.agder_editor, w.other_county), shared=shared)
    post = published_post(
        county=w.other_county, author=net.agder_editor, title="Agders pappatreff", at=oslo(2026, 3, 10),
        assets=[agder_copy.asset],
    )  # fmt: skip
    reading(post, at=oslo(2026, 3, 17), reach=1234)

    coordinator = client_for(w.coordinator)
    coordinator.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = coordinator.get(reverse("publishing:report"), {"month": "2026-03"}).text
    assert "Shared reach" in page
    assert "1 post in one other county from your shared items" in page
    assert "1,234" in page

    Library.objects.filter(pk=w.library.pk).update(email="leder@sandnes.example")
    with django_capture_on_commit_callbacks(execute=True):
        reports.send_report(by=w.coordinator, county=w.county, month=reports.Month(date(2026, 3, 1)),
                            confirmed_last_sent_id=0)  # fmt: skip
    (message,) = mail.outbox
    assert "Shared reach: 1,234 (1 post in one other county)" in message.body


def test_the_shared_reach_line_is_there_only_while_the_county_takes_part_or_has_shared(net: Network) -> None:
    march = reports.Month(date(2026, 3, 1))
    County.objects.filter(pk=net.third.pk).update(in_network=False)
    net.third.refresh_from_db()
    assert reports.build_report(county=net.third, month=march).shared is None  # never took part
    shared_item(net)  # Rogaland shared, then leaves the network: what it shared still travels
    County.objects.filter(pk=net.world.county.pk).update(in_network=False)
    net.world.county.refresh_from_db()
    assert reports.build_report(county=net.world.county, month=march).shared is not None


def test_the_origins_item_page_reads_what_travelled_in_the_same_queries_however_much_travelled(net: Network) -> None:
    w = net.world
    shared = shared_item(net)
    editor = client_for(w.editor)

    def queries() -> int:
        editor.get(shared.item.get_absolute_url())  # caches warm
        with CaptureQueriesContext(connection) as read:
            assert editor.get(shared.item.get_absolute_url()).status_code == 200
        return len(read)

    agder_copy = network.borrow(by=net.agder_editor, access=access(net.agder_editor, w.other_county), shared=shared)
    post = published_post(
        county=w.other_county, author=net.agder_editor, title="En", at=oslo(2026, 3, 10), assets=[agder_copy.asset]
    )
    reading(post, at=oslo(2026, 3, 11), reach=10)
    one = queries()
    vestland_copy = network.borrow(by=net.third_editor, access=access(net.third_editor, net.third), shared=shared)
    for day in (12, 13, 14):
        more = published_post(
            county=net.third, author=net.third_editor, title=f"Post {day}", at=oslo(2026, 3, day),
            assets=[vestland_copy.asset],
        )  # fmt: skip
        reading(more, at=oslo(2026, 3, day + 1), reach=day)
    assert queries() == one
