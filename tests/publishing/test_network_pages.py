"""The network's pages: participation, offering and approving on the item page, the shared pool, borrowing, hiding."""

from __future__ import annotations

from django.conf import settings
from django.test import Client
from django.urls import reverse

from libraries.models import AuditEntry, County, User
from publishing.archive import network
from publishing.archive.filing import refresh_items
from publishing.models import ArchiveItem, SharedItem
from tests.conftest import World, client_for
from tests.factories.archive import archived_item
from tests.factories.network import Network, county_access, shared_item
from tests.factories.publishing import show_person

# --- Participation ---


def test_the_coordinator_turns_the_countys_participation_on_and_off_and_it_is_audited(
    world: World, coordinator_client: Client
) -> None:
    url = reverse("libraries:county_settings")
    page = coordinator_client.get(url)
    assert "Take part in the network of counties" in page.text
    assert client_for(world.editor).post(url, {"in_network": "on"}).status_code == 403

    assert coordinator_client.post(url, {"in_network": "on"}).status_code == 302
    assert County.objects.get(pk=world.county.pk).in_network
    assert not County.objects.get(pk=world.other_county.pk).in_network
    entry = AuditEntry.objects.get(action="county.settings_changed")
    assert (entry.actor, entry.data) == (world.coordinator, {"in_network": True})

    assert coordinator_client.post(url, {}).status_code == 302
    assert not County.objects.get(pk=world.county.pk).in_network
    assert AuditEntry.objects.filter(action="county.settings_changed").latest("pk").data == {"in_network": False}


# --- Offering, approving and un-sharing on the item's page ---


def english(user: User) -> Client:
    """A browser that chose English (the cookie wins over the person's own language, which writes the credit)."""
    client = client_for(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def shareable(net: Network, title: str = "Bokprat med pappaer") -> ArchiveItem:
    item = archived_item(net.world, title=title, library=net.stavanger, consent=None)
    show_person(item.asset, name="Ola", covers_sharing=True)
    refresh_items([item.pk])
    return item


def test_an_editor_offers_an_item_with_its_credit_and_the_coordinator_approves_it(net: Network) -> None:
    w = net.world
    item = shareable(net)
    url = item.get_absolute_url()
    editor, coordinator, librarian = english(w.editor), english(w.coordinator), english(w.librarian)
    page = editor.get(url).text
    assert "Offer to the network" in page
    assert "Idé og foto: Stavanger bibliotek @stavangerbibliotek" in page  # the credit to start from
    assert "Offer to the network" not in librarian.get(url).text

    response = editor.post(reverse("publishing:archive_share", args=[item.pk]), {"credit": "Foto: Stavanger bibliotek"})
    assert response.status_code == 302
    shared = SharedItem.objects.get(item=item)
    assert (shared.status, shared.credit) == (SharedItem.Status.OFFERED, "Foto: Stavanger bibliotek")
    assert item.pk not in network.pool_for(w.other_county)
    page = editor.get(url).text
    assert "Approve: share with the network" not in page  # the coordinator approves what leaves the county
    assert "Withdraw the offer" in page
    assert english(w.editor).post(reverse("publishing:archive_share_approve", args=[item.pk])).status_code == 403

    assert "Approve: share with the network" in coordinator.get(url).text
    assert coordinator.post(reverse("publishing:archive_share_approve", args=[item.pk])).status_code == 302
    shared.refresh_from_db()
    assert shared.status == SharedItem.Status.SHARED
    assert item.pk in network.pool_for(w.other_county)
    assert {"network.offered", "network.approved"} <= set(
        AuditEntry.objects.filter(county=w.county).values_list("action", flat=True)
    )
    # Everyone in the county sees that it is shared; nobody but editors changes it.
    page = librarian.get(url).text
    assert "Shared" in page
    assert "Stop sharing" not in page


def test_an_item_whose_people_did_not_consent_to_sharing_says_why_it_cannot_be_offered(net: Network) -> None:
    w = net.world
    item = archived_item(w, title="Uten deling", library=net.stavanger, consent=None)
    show_person(item.asset, name="Kari", covers_sharing=False)
    page = english(w.editor).get(item.get_absolute_url()).text
    assert "It cannot be shared: the consent of someone shown does not cover sharing with other counties." in page
    assert "Offer to the network" not in page
    response = english(w.editor).post(reverse("publishing:archive_share", args=[item.pk]), {"credit": ""})
    assert response.status_code == 302
    assert not SharedItem.objects.filter(item=item).exists()


def test_a_county_outside_the_network_offers_nothing(world: World) -> None:
    item = archived_item(world, title="Stengt")
    page = english(world.editor).get(item.get_absolute_url()).text
    assert "The network of counties" not in page
    english(world.editor).post(reverse("publishing:archive_share", args=[item.pk]), {"credit": ""})
    assert not SharedItem.objects.filter(item=item).exists()


def test_the_origin_sees_who_borrowed_and_unsharing_names_them_and_keeps_their_copies(net: Network) -> None:
    w = net.world
    shared = shared_item(net)
    copy = network.borrow(by=net.agder_editor, access=county_access(net.agder_editor, w.other_county), shared=shared)
    network.borrow(by=net.third_editor, access=county_access(net.third_editor, net.third), shared=shared)
    editor = english(w.editor)
    page = editor.get(shared.item.get_absolute_url()).text
    assert "Borrowed by" in page
    assert "Agder" in page
    assert "Vestland" in page

    response = editor.post(reverse("publishing:archive_unshare", args=[shared.item.pk]), follow=True)
    assert "These counties borrowed it and keep their copies: Agder, Vestland." in response.text
    shared.refresh_from_db()
    assert shared.status == SharedItem.Status.UNSHARED
    assert shared.item_id not in network.pool_for(w.other_county)
    copy.refresh_from_db()
    assert copy.is_reusable()
    # Offered again, it waits for the coordinator once more.
    editor.post(reverse("publishing:archive_share", args=[shared.item.pk]), {"credit": ""})
    shared.refresh_from_db()
    assert (shared.status, shared.approved_at) == (SharedItem.Status.OFFERED, None)
    assert shared.credit == "Idé og foto: Stavanger bibliotek @stavangerbibliotek"


def test_a_borrowed_copy_shows_its_origin_and_offers_no_sharing(net: Network) -> None:
    w = net.world
    shared = shared_item(net)
    copy = network.borrow(by=net.agder_editor, access=county_access(net.agder_editor, w.other_county), shared=shared)
    page = english(w.outsider).get(copy.get_absolute_url()).text
    assert "Borrowed from Stavanger bibliotek (Rogaland)" in page
    assert "Idé og foto: Stavanger bibliotek @stavangerbibliotek" in page
    assert "Offer to the network" not in page
    assert "Ola" not in page  # the origin's people stay with the origin
