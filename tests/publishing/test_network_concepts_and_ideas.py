"""Concepts and ideas in the network of counties: offered from their pages, found in the shared pool's tabs,
borrowed as the county's own concept (linked to its origin, inactive until set going) or as a new idea in
its queue, each new post of them starting with the credit; un-shared, hidden, audited, kept apart."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from libraries.models import AuditEntry, User
from production.models import Concept, Idea, IdeaComment
from publishing.archive import network
from publishing.followup import reports
from publishing.models import Borrow, SharedItem
from tests.conftest import enable_mfa
from tests.factories.network import Network, county_access, shared_concept, shared_idea, shared_item
from tests.factories.production import ConceptFactory, IdeaFactory
from tests.factories.publishing import make_post
from tests.factories.reports import oslo, published_post, reading
from tests.publishing.test_network_pages import english as english_client

POOL = reverse("publishing:pool")


def english(user: User) -> Client:
    """The person's browser in English, with the second factor staff must have set up."""
    if not Authenticator.objects.filter(user=user).exists():
        enable_mfa(user)
    return english_client(user)


def test_an_editor_offers_a_concept_from_its_page_and_the_coordinator_approves_it(net: Network) -> None:
    w = net.world
    concept = ConceptFactory(county=w.county, name="Fredagstipset")
    url = concept.get_absolute_url()
    editor, coordinator, librarian = english(w.editor), english(w.coordinator), english(w.librarian)
    page = editor.get(url).text
    assert "The network of counties" in page
    assert "Offer to the network" in page
    assert "Rogaland fylkesbibliotek" in page  # the credit to start from: the county library
    assert "Offer to the network" not in librarian.get(url).text

    offer = reverse("publishing:concept_share", args=[concept.pk])
    assert editor.post(offer, {"credit": "Rogaland fylkesbibliotek @rogalandbibliotek"}).status_code == 302
    shared = SharedItem.objects.get(concept=concept)
    assert (shared.status, shared.credit) == (SharedItem.Status.OFFERED, "Rogaland fylkesbibliotek @rogalandbibliotek")
    assert network.pool_of_kind(w.other_county, SharedItem.Kind.CONCEPT).count() == 0  # not before approval
    assert "Approve: share with the network" in coordinator.get(url).text
    assert "Approve: share with the network" not in editor.get(url).text

    approve = reverse("publishing:concept_share_approve", args=[concept.pk])
    assert coordinator.post(approve).status_code == 302
    assert list(network.pool_of_kind(w.other_county, SharedItem.Kind.CONCEPT)) == [SharedItem.objects.get(pk=shared.pk)]
    assert list(
        AuditEntry.objects.filter(action__startswith="network.").order_by("pk").values_list("action", flat=True)
    ) == [
        "network.offered",
        "network.approved",
    ]


def test_only_an_accepted_idea_and_never_a_borrowed_copy_can_be_offered(net: Network) -> None:
    w = net.world
    access = county_access(w.editor, w.county)
    submitted = IdeaFactory(library=net.stavanger, submitted_by=w.librarian)
    with pytest.raises(ValidationError, match="Only an idea the county accepted can be shared"):
        network.offer(by=w.editor, access=access, item=submitted)
    page = english(w.editor).get(submitted.get_absolute_url()).text
    assert "Only an idea the county accepted can be shared." in page
    assert "Offer to the network" not in page

    shared = shared_concept(net)
    copy = network.borrow(by=w.outsider, access=county_access(w.outsider, w.other_county), shared=shared)
    with pytest.raises(ValidationError, match="A borrowed concept or idea cannot be shared again"):
        network.offer(by=w.outsider, access=county_access(w.outsider, w.other_county), item=copy)


def test_the_pool_lists_concepts_and_ideas_in_tabs_found_by_their_words(net: Network) -> None:
    w = net.world
    shared_item(net)
    concept = shared_concept(net)
    idea = shared_idea(net)
    shared_concept(net, name="Lørdagsquiz", approve=False)  # offered only: not in the pool
    agder = english(w.outsider)

    items = agder.get(POOL)
    assert "Photos and videos (1)" in items.text
    assert "Concepts (1)" in items.text
    assert "Ideas (1)" in items.text

    concepts = agder.get(POOL, {"kind": "concept"})
    assert [shared.pk for shared, *_rest in concepts.context["shared_cards"]] == [concept.pk]
    assert "Fredagstipset" in concepts.text
    assert "Lørdagsquiz" not in concepts.text
    assert "Every Friday" in concepts.text  # the cadence in words

    ideas = agder.get(POOL, {"kind": "idea", "q": "pappa høyt"})
    assert [shared.pk for shared, *_rest in ideas.context["shared_cards"]] == [idea.pk]
    assert '<input type="hidden" name="kind" value="idea">' in ideas.text  # a new search stays on the tab
    assert agder.get(POOL, {"kind": "idea", "q": "quiz"}).context["shared_cards"] == []
    # Rogaland does not see its own in the pool.
    assert english(w.editor).get(POOL, {"kind": "concept"}).context["shared_cards"] == []


def test_a_coordinator_borrows_a_concept_as_the_countys_own_inactive_concept_linked_to_its_origin(
    net: Network,
) -> None:
    w = net.world
    shared = shared_concept(net, cadence_rule="FREQ=WEEKLY;BYDAY=FR", holiday_rule=Concept.HolidayRule.MOVE)
    ConceptFactory(county=w.other_county, name="Fredagstipset")  # Agder has one of that name already
    agder = english(w.outsider)
    page = agder.get(reverse("publishing:pool_item", args=[shared.pk])).text
    assert "Én ansatt tipser om én bok, hver fredag." in page
    assert "Rogaland fylkesbibliotek" in page  # the credit

    response = agder.post(reverse("publishing:pool_borrow", args=[shared.pk]))
    copy = Concept.objects.get(county=w.other_county, borrowed_from=shared.concept)
    assert response.url == copy.get_absolute_url()
    assert copy.name == "Fredagstipset (Rogaland)"
    assert (copy.cadence_rule, copy.holiday_rule, copy.content_type) == (
        "FREQ=WEEKLY;BYDAY=FR",
        Concept.HolidayRule.MOVE,
        shared.concept.content_type,
    )
    assert not copy.is_active  # no library is asked for posts before the coordinator turns it on
    assert copy.credit == shared.credit
    assert copy.owner == w.outsider
    followed = agder.get(response.url).text
    assert "is one of your concepts now, borrowed from Rogaland" in followed
    assert "Borrowed from Rogaland through the network of counties." in followed
    # Borrowing twice gives the same copy.
    agder.post(reverse("publishing:pool_borrow", args=[shared.pk]))
    assert Concept.objects.filter(county=w.other_county, borrowed_from=shared.concept).count() == 1
    assert set(AuditEntry.objects.filter(action__startswith="network.borrowed").values_list("action", "county")) == {
        ("network.borrowed", w.other_county.pk),
        ("network.borrowed_from_us", w.county.pk),
    }


def test_only_coordinators_borrow_a_concept(net: Network) -> None:
    shared = shared_concept(net)
    with pytest.raises(PermissionDenied):
        network.borrow(
            by=net.agder_editor, access=county_access(net.agder_editor, net.world.other_county), shared=shared
        )
    page = english(net.agder_editor).get(reverse("publishing:pool_item", args=[shared.pk])).text
    assert "Coordinators borrow concepts into the county's concepts." in page
    assert english(net.agder_editor).post(reverse("publishing:pool_borrow", args=[shared.pk])).status_code == 403
    assert not Concept.objects.filter(county=net.world.other_county).exists()


def test_a_new_post_of_a_borrowed_concept_starts_with_the_credit(net: Network) -> None:
    w = net.world
    shared = shared_concept(net)
    copy = network.borrow(by=w.outsider, access=county_access(w.outsider, w.other_county), shared=shared)
    page = english(w.outsider).get(reverse("publishing:post_create"), {"concept": copy.pk})
    county_library = w.county_library
    assert page.context["form"].initial["credit"] == (
        f"Inspired by Rogaland fylkesbibliotek @{county_library.instagram_username}"
    )


def test_an_editor_borrows_an_idea_into_the_countys_queue_as_a_new_idea_with_the_credit(net: Network) -> None:
    w = net.world
    shared = shared_idea(net)
    IdeaComment.objects.create(idea=shared.idea, author=w.librarian, body="Internt: spør Ola først")
    editor = english(net.agder_editor)
    response = editor.post(reverse("publishing:pool_borrow", args=[shared.pk]))
    copy = Idea.objects.get(borrowed_from=shared.idea)
    assert response.url == copy.get_absolute_url()
    assert copy.library == w.other_county_library  # the borrower's library
    assert (copy.status, copy.submitted_by) == (Idea.Status.SUBMITTED, net.agder_editor)  # waits for review
    assert (copy.title, copy.pitch, copy.reference_links) == (
        shared.idea.title,
        shared.idea.pitch,
        shared.idea.reference_links,
    )
    assert copy.credit_name == "Stavanger bibliotek @stavangerbibliotek"
    assert copy.credit_url == "https://www.instagram.com/stavangerbibliotek/"
    assert not copy.comments.exists()  # the origin's work queue stays there
    page = editor.get(response.url).text
    assert "is in your ideas, borrowed from Rogaland, waiting for review" in page
    assert "Borrowed from Stavanger bibliotek (Rogaland) through the network of counties." in page
    assert "Internt" not in page

    # Accepted, a post made from it starts with the credit.
    copy.status = Idea.Status.ACCEPTED
    copy.save(update_fields=["status"])
    compose = editor.get(reverse("publishing:post_create"), {"idea": copy.pk})
    assert compose.context["form"].initial["credit"] == "Inspired by Stavanger bibliotek @stavangerbibliotek"


def test_a_concept_or_idea_is_seen_by_another_county_only_while_it_is_in_the_pool(net: Network) -> None:
    w = net.world
    agder, vestland = english(w.outsider), english(net.third_coordinator)
    offered = shared_concept(net, name="Tilbudt", approve=False)
    unshared = shared_idea(net, title="Trukket tilbake")
    network.unshare(by=w.editor, access=county_access(w.editor, w.county), shared=unshared)
    hidden = shared_concept(net, name="Skjult")
    network.hide(
        by=_moderator(net), access=county_access(net.third_coordinator, net.third), shared=hidden, reason="Nei"
    )
    visible = shared_idea(net, title="Synlig")
    for shared in (offered, unshared, hidden):
        assert agder.get(reverse("publishing:pool_item", args=[shared.pk])).status_code == 404
        assert agder.post(reverse("publishing:pool_borrow", args=[shared.pk])).status_code == 404
    assert agder.get(reverse("publishing:pool_item", args=[visible.pk])).status_code == 200
    # The origin's own pages of them stay its own.
    assert agder.get(visible.idea.get_absolute_url()).status_code == 404
    assert agder.get(hidden.concept.get_absolute_url()).status_code == 404
    # A county that leaves the network sees nothing of the pool.
    net.third.in_network = False
    net.third.save(update_fields=["in_network"])
    assert vestland.get(reverse("publishing:pool_item", args=[visible.pk])).status_code == 404
    assert vestland.get(POOL, {"kind": "idea"}).context["shared_cards"] == []


def _moderator(net: Network):  # type: ignore[no-untyped-def]
    net.third_coordinator.is_network_moderator = True
    net.third_coordinator.save(update_fields=["is_network_moderator"])
    return net.third_coordinator


def test_a_moderator_hides_a_concept_and_its_county_reads_why_on_the_concepts_page(net: Network) -> None:
    w = net.world
    shared = shared_concept(net)
    moderator = english(_moderator(net))
    page = moderator.get(reverse("publishing:pool_item", args=[shared.pk])).text
    assert "Hide from the pool" in page
    response = moderator.post(reverse("publishing:pool_hide", args=[shared.pk]), {"reason": "Brudd på retningslinjene"})
    assert response.status_code == 302
    page = english(w.editor).get(shared.concept.get_absolute_url()).text
    assert "A network moderator hid this item from the shared pool." in page
    assert "Brudd på retningslinjene" in page
    assert AuditEntry.objects.filter(action="network.hidden", county=w.county).exists()


def test_unsharing_a_concept_keeps_the_borrowed_copies_and_tells_their_coordinators(
    net: Network, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    w = net.world
    shared = shared_concept(net)
    copy = network.borrow(by=w.outsider, access=county_access(w.outsider, w.other_county), shared=shared)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = english(w.editor).post(reverse("publishing:concept_unshare", args=[shared.concept.pk]), follow=True)
    assert "These counties borrowed it and keep their copies: Agder." in response.text
    assert Concept.objects.filter(pk=copy.pk).exists()
    [message] = mail.outbox
    assert message.to == [w.outsider.email]
    assert copy.get_absolute_url() in message.body
    assert not network.pool_of_kind(w.other_county, SharedItem.Kind.CONCEPT).exists()


def test_the_origin_sees_who_borrowed_its_concept_and_the_posts_made_in_it_with_their_reach(net: Network) -> None:
    w = net.world
    shared = shared_concept(net)
    copy = network.borrow(by=w.outsider, access=county_access(w.outsider, w.other_county), shared=shared)
    at = oslo(2026, 3, 6)
    post = published_post(county=w.other_county, author=w.outsider, title="Agders fredagstips", at=at, concept=copy)
    reading(post, at=at + timedelta(days=7), reach=321)
    make_post(county=w.other_county, author=w.outsider, title="Utkast i Agder", concept=copy)  # a draft: not shown
    assert Borrow.objects.get(shared=shared).copy == copy
    page = english(w.editor).get(shared.concept.get_absolute_url()).text
    assert "Borrowed by" in page
    assert "Agder" in page
    assert "reached 321 people" in page
    assert post.permalink in page
    assert "Agders fredagstips" not in page  # the post's date, reach and link; nothing else of theirs
    assert "Utkast i Agder" not in page
    # The monthly report's shared reach counts it with what travelled as photos and videos.
    report = reports.build_report(county=w.county, month=reports.Month(date(2026, 3, 1)))
    assert report.shared is not None
    assert (report.shared.posts, report.shared.counties, report.shared.reach.value) == (1, 1, 321)


def test_the_coordinator_may_reword_a_borrowed_concepts_credit_and_new_posts_use_their_words(net: Network) -> None:
    w = net.world
    shared = shared_concept(net)
    copy = network.borrow(by=w.outsider, access=county_access(w.outsider, w.other_county), shared=shared)
    agder = english(w.outsider)
    form = agder.get(reverse("production:concept_edit", args=[copy.pk])).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None and name != "owner"}
    data |= {"owner": w.outsider.pk, "credit": "Rogaland fylkesbibliotek", "is_active": "on", "cadence_kind": "weekly"}
    data |= {"weekday": "FR", "starts_on": "2026-01-02", "time_of_day": "12:00"}
    response = agder.post(reverse("production:concept_edit", args=[copy.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    copy.refresh_from_db()
    assert (copy.credit, copy.is_active, copy.borrowed_from_id) == ("Rogaland fylkesbibliotek", True, shared.concept.pk)
    compose = agder.get(reverse("publishing:post_create"), {"concept": copy.pk})
    assert compose.context["form"].initial["credit"] == "Inspired by Rogaland fylkesbibliotek"
