"""The network's pages: participation, offering and approving on the item page, the shared pool, borrowing, hiding."""

from __future__ import annotations

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from libraries.models import AuditEntry, County, Role, User
from production.models import Consent
from production.services.media import withdraw_consent
from publishing.archive import network
from publishing.archive.filing import refresh_items
from publishing.archive.search import NETWORK, archive_version
from publishing.models import ArchiveItem, SharedItem
from tests.conftest import World, client_for, enable_mfa
from tests.factories.archive import archived_item
from tests.factories.libraries import CountyFactory, LibraryFactory, MembershipFactory
from tests.factories.network import Network, county_access, shared_item
from tests.factories.publishing import jpeg, show_person

# --- Participation ---


def test_the_coordinator_turns_the_countys_participation_on_and_off_and_it_is_audited(
    world: World, coordinator_client: Client
) -> None:
    url = reverse("libraries:county_settings")
    page = coordinator_client.get(url)
    assert "Take part in the network of counties" in page.text
    assert client_for(world.editor).post(url, {"country": "NO", "in_network": "on"}).status_code == 403

    assert coordinator_client.post(url, {"country": "NO", "in_network": "on"}).status_code == 302
    assert County.objects.get(pk=world.county.pk).in_network
    assert not County.objects.get(pk=world.other_county.pk).in_network
    entry = AuditEntry.objects.get(action="county.settings_changed")
    assert (entry.actor, entry.data) == (world.coordinator, {"in_network": True})

    assert coordinator_client.post(url, {"country": "NO"}).status_code == 302  # every box unticked
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
    assert "Ola" in page  # who is shown,
    assert "sharing with other counties" in page  # and that they allow it
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

    # The coordinator finds what waits for them on the pool page.
    assert [shared.item] == [s.item for s in coordinator.get(reverse("publishing:pool")).context["awaiting"]]
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
    assert "Agder · borrowed <time" in page  # the date says what it is
    assert "Vestland · borrowed <time" in page

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


# --- The shared pool ---


POOL = reverse("publishing:pool")


def with_thumbnail(shared: SharedItem) -> SharedItem:
    shared.item.asset.thumbnail.save("thumbnail.webp", ContentFile(jpeg(32, 32)), save=True)
    return shared


def test_the_pool_shows_other_countys_shared_items_with_thumbnail_credit_and_origin(net: Network) -> None:
    w = net.world
    shared = with_thumbnail(shared_item(net))
    shared_item(net, title="Venter på godkjenning", approve=False)
    agder = english(w.outsider)
    page = agder.get(POOL, {"q": "lesesirkel"})
    assert page.status_code == 200
    assert [item.title for item, *_rest in page.context["cards"]] == ["Lesesirkel for pappaer"]
    assert "Idé og foto: Stavanger bibliotek @stavangerbibliotek" in page.text
    assert "Rogaland" in [link.label for group in page.context["facet_groups"] for link in group.links]
    thumbnail = shared.item.asset.thumbnail_url
    assert thumbnail in page.text
    # The thumbnail comes through the media view, under the sharing rule; never the original or a download.
    response = agder.get(thumbnail)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert agder.get(shared.item.asset.file_url("original")).status_code == 404
    assert agder.get(thumbnail, {"download": "1"}).status_code == 404
    # A county's own items are not in its pool; nor anything for a county outside the network.
    assert english(w.editor).get(POOL).context["cards"] == []
    w.other_county.in_network = False  # as the county settings form saves it
    w.other_county.save(update_fields=["in_network"])
    page = agder.get(POOL)
    assert "Your county does not take part in the network" in page.text
    assert agder.get(thumbnail).status_code == 404


def test_a_thumbnail_is_served_only_while_shared_and_consent_allows_sharing(net: Network) -> None:
    w = net.world
    shared = with_thumbnail(shared_item(net))
    agder = english(w.outsider)
    thumbnail = shared.item.asset.thumbnail_url
    assert agder.get(thumbnail).status_code == 200
    network.unshare(by=w.editor, access=county_access(w.editor, w.county), shared=shared)
    assert agder.get(thumbnail).status_code == 404
    assert agder.get(reverse("publishing:pool_item", args=[shared.pk])).status_code == 404

    other = with_thumbnail(shared_item(net, title="Samtykke trukket"))
    assert agder.get(other.item.asset.thumbnail_url).status_code == 200
    consent = Consent.objects.get(person__tags__asset=other.item.asset)
    withdraw_consent(by=w.coordinator, consent=consent)
    assert agder.get(other.item.asset.thumbnail_url).status_code in (403, 404)
    assert agder.get(POOL).context["cards"] == []


def test_an_editor_borrows_from_the_pool_into_the_countys_archive(net: Network) -> None:
    w = net.world
    shared = shared_item(net)
    # Librarians search the pool but do not borrow.
    librarian = english(MembershipFactory(library=w.other_county_library, role=Role.LIBRARIAN).user)
    page = librarian.get(reverse("publishing:pool_item", args=[shared.pk]))
    assert not page.context["actions"].can_borrow
    assert "Editors and coordinators borrow items into the county" in page.text
    assert librarian.post(reverse("publishing:pool_borrow", args=[shared.pk])).status_code == 403
    enable_mfa(net.agder_editor)
    editor = english(net.agder_editor)
    page = editor.get(reverse("publishing:pool_item", args=[shared.pk]))
    assert "Borrow" in page.text
    assert "Pappatreff i biblioteket" in page.text
    response = editor.post(reverse("publishing:pool_borrow", args=[shared.pk]))
    copy = ArchiveItem.objects.get(county=w.other_county, source=ArchiveItem.Source.BORROWED)
    assert response["Location"] == copy.get_absolute_url()
    page = editor.get(copy.get_absolute_url()).text
    assert "Borrowed from Stavanger bibliotek (Rogaland)" in page
    # Borrowed once: the pool links to the copy instead.
    assert "Borrowed: open your copy" in editor.get(POOL).text
    editor.post(reverse("publishing:pool_borrow", args=[shared.pk]))
    assert ArchiveItem.objects.filter(county=w.other_county).count() == 1


def test_the_pool_pages_like_the_archive_and_takes_the_same_queries_for_any_page_size(
    net: Network, settings: object
) -> None:
    w = net.world
    settings.ARCHIVE_PAGE_SIZE = 2  # type: ignore[attr-defined]
    for n in range(3):
        shared_item(net, title=f"Boktips {n}")
    agder = english(w.outsider)
    first = agder.get(POOL, {"q": "boktips"})
    assert len(first.context["cards"]) == 2
    assert 'rel="next"' in first.text
    second = agder.get(POOL, {"q": "boktips", "page": "2"})
    assert len(second.context["cards"]) == 1

    agder.get(POOL)  # the facets cached
    with CaptureQueriesContext(connection) as queries:
        assert agder.get(POOL).status_code == 200
    # The user (their county access with their second factor is kept in the cache, libraries.access), the
    # page's items with their assets, which of them the county borrowed already, how many concepts and ideas
    # the pool holds (its tabs), and (a coordinator) what waits for their approval: 5 (the counts and the
    # page's order come from the cache).
    assert len(queries) == 5


def pool_titles(client: Client, **params: str) -> list[str]:
    response = client.get(POOL, params)
    assert response.status_code == 200
    return [str(card[0]) for card in response.context["cards"]]


def test_a_pool_search_repeated_from_the_cache_shows_every_change_at_once(net: Network) -> None:
    """A search's counts and page order are kept until the pool changes: what the searcher receives is never
    the pool as it was (a county leaving the network, consent withdrawn), and paging costs only the page."""
    w = net.world
    shared = shared_item(net, title="Boktips om hagen")
    agder = english(w.outsider)
    assert pool_titles(agder, q="boktips") == ["Boktips om hagen"]
    with CaptureQueriesContext(connection) as queries:
        assert pool_titles(agder, q="boktips") == ["Boktips om hagen"]
    assert not any("ts_rank" in query["sql"] for query in queries.captured_queries)  # the order was kept

    # Agder's own archive changing leaves the pool's kept searches alone.
    version = archive_version(NETWORK)
    archived_item(w, title="Boktips fra Agder", library=w.other_county_library)
    assert archive_version(NETWORK) == version
    assert pool_titles(agder, q="boktips") == ["Boktips om hagen"]

    # Rogaland leaves the network: its items leave the pool at once, cached search or not.
    rogaland = client_for(w.coordinator)
    settings_url = reverse("libraries:county_settings")
    assert rogaland.post(settings_url, {"country": "NO"}).status_code == 302
    assert pool_titles(agder, q="boktips") == []
    assert agder.get(POOL, {"q": "boktips"}).context["facets"].total == 0
    assert rogaland.post(settings_url, {"country": "NO", "in_network": "on"}).status_code == 302
    assert pool_titles(agder, q="boktips") == ["Boktips om hagen"]

    # Ola withdraws: gone from the same search.
    withdraw_consent(by=w.coordinator, consent=Consent.objects.get(person__tags__asset=shared.item.asset))
    assert pool_titles(agder, q="boktips") == []


def test_a_misspelt_pool_search_is_corrected_from_the_networks_words_only(net: Network) -> None:
    w = net.world
    shared_item(net, title="Pappatreff i Stavanger")
    archived_item(w, title="Pappatreff i Kristiansand", library=w.other_county_library)  # Agder's own
    outside = LibraryFactory(county=CountyFactory(name="Troms", slug="troms"), name="Tromsø bibliotek")
    archived_item(w, title="Strikkekafé i Tromsø", library=outside)  # a county outside the network
    agder = english(w.outsider)
    found = agder.get(POOL, {"q": "pappatref"})
    assert [str(card[0]) for card in found.context["cards"]] == ["Pappatreff i Stavanger"]
    assert found.context["corrections"] == {"pappatref": ("pappatreff",)}  # once, though two counties know it
    assert "Also searched for:" in found.text
    # A word only a county outside the network uses is never offered: its archive stays its own.
    assert agder.get(POOL, {"q": "strikkekaf"}).context["corrections"] == {}


def test_a_pool_searchs_corrections_are_kept_until_a_county_in_the_network_writes_words(net: Network) -> None:
    w = net.world
    shared_item(net, title="Pappatreff i Stavanger")
    agder = english(w.outsider)
    with CaptureQueriesContext(connection) as first:
        assert agder.get(POOL, {"q": "pappatref"}).context["corrections"] == {"pappatref": ("pappatreff",)}
    assert any("publishing_archiveword" in query["sql"] for query in first.captured_queries)
    # The same words again: their look-up is kept under the pool's version and the network's words'.
    with CaptureQueriesContext(connection) as again:
        found = agder.get(POOL, {"q": "pappatref"})
    assert found.context["corrections"] == {"pappatref": ("pappatreff",)}
    assert [str(card[0]) for card in found.context["cards"]] == ["Pappatreff i Stavanger"]
    assert not any("publishing_archiveword" in query["sql"] for query in again.captured_queries)
    # Agder files an item of its own (not shared: the pool is unchanged) with the word as typed. It is among
    # the network's words now, so no longer a misspelling, at once, as a search never kept would find.
    pool_before = archive_version(NETWORK)
    archived_item(w, title="Pappatref", library=w.other_county_library)
    assert archive_version(NETWORK) == pool_before
    assert agder.get(POOL, {"q": "pappatref"}).context["corrections"] == {}


# --- Moderation ---


def test_a_network_moderator_hides_an_item_and_its_county_sees_why(net: Network) -> None:
    w = net.world
    shared = shared_item(net)
    url = reverse("publishing:pool_hide", args=[shared.pk])
    assert english(w.outsider).post(url, {"reason": "Feil bilde"}).status_code == 403
    User.objects.filter(pk=w.outsider.pk).update(is_network_moderator=True)
    moderator = english(w.outsider)
    page = moderator.get(reverse("publishing:pool_item", args=[shared.pk])).text
    assert "Hide from the pool" in page
    assert moderator.post(url, {"reason": ""}).status_code == 302  # refused: the reason is needed
    assert SharedItem.objects.get(pk=shared.pk).status == SharedItem.Status.SHARED
    assert moderator.post(url, {"reason": "Feil bilde: en annen kommunes logo"}).status_code == 302
    assert SharedItem.objects.get(pk=shared.pk).status == SharedItem.Status.HIDDEN
    assert moderator.get(POOL).context["cards"] == []
    assert AuditEntry.objects.get(county=w.county, action="network.hidden").data["reason"].startswith("Feil bilde")
    page = english(w.editor).get(shared.item.get_absolute_url()).text
    assert "A network moderator hid this item from the shared pool." in page
    assert "Feil bilde: en annen kommunes logo" in page
    assert "Stop sharing" not in page  # un-sharing would let it be offered past the moderator


def test_a_shared_video_plays_in_the_pool_and_from_the_borrowed_copy_until_consent_is_withdrawn(net: Network) -> None:
    """What the borrowing county receives: the video itself (its rendition and poster), not only a thumbnail."""
    w = net.world
    video = archived_item(w, title="Lesestund på video", library=net.stavanger, consent=None, kind="video")
    show_person(video.asset, name="Ola", covers_sharing=True)
    clip = b"\x00\x00\x00\x18ftypmp42" + b"video-bytes" * 100
    video.asset.rendition.save("reel.mp4", ContentFile(clip), save=False)
    video.asset.poster.save("poster.jpg", ContentFile(jpeg(32, 32)), save=False)
    video.asset.save()
    refresh_items([video.pk])
    shared = network.offer(by=w.editor, access=county_access(w.editor, w.county), item=video)
    network.approve(by=w.coordinator, access=county_access(w.coordinator, w.county), shared=shared)

    enable_mfa(net.agder_editor)
    agder = english(net.agder_editor)
    # In the pool, before borrowing: the item's page shows the video and poster (the archive item page's media
    # block, one template for both pages), and the preview plays.
    pool_page = agder.get(reverse("publishing:pool_item", args=[shared.pk]))
    assert "publishing/_archive_media.html" in [t.name for t in pool_page.templates]
    assert '<video class="asset-preview__video"' in pool_page.text
    assert video.asset.file_url("rendition").split("?")[0] in pool_page.text
    assert video.asset.file_url("poster").split("?")[0] in pool_page.text
    # In the pool, before borrowing: the preview plays.
    in_pool = agder.get(video.asset.file_url("rendition"))
    assert in_pool.status_code == 200
    assert b"".join(in_pool.streaming_content) == clip
    assert agder.get(video.asset.file_url("poster")).status_code == 200
    # Borrowed: the county's own copy plays from its own archive page, with the same bytes.
    agder.post(reverse("publishing:pool_borrow", args=[shared.pk]))
    copy = ArchiveItem.objects.get(county=w.other_county, source=ArchiveItem.Source.BORROWED)
    copy_page = agder.get(copy.get_absolute_url())
    assert "publishing/_archive_media.html" in [t.name for t in copy_page.templates]
    page = copy_page.text
    assert copy.asset.file_url("rendition").split("?")[0] in page
    assert "<dd>Stavanger bibliotek (Rogaland)</dd>" in page  # whose it is, not "—"
    played = agder.get(copy.asset.file_url("rendition"))
    assert played.status_code == 200
    assert b"".join(played.streaming_content) == clip
    assert agder.get(copy.asset.file_url("poster")).status_code == 200
    # A third county sees neither the copy's file nor, once un-shared, the origin's.
    enable_mfa(net.third_editor)
    vestland = english(net.third_editor)
    assert vestland.get(copy.asset.file_url("rendition")).status_code == 404
    # Ola withdraws: the borrowed copy stops playing in Agder.
    withdraw_consent(by=w.coordinator, consent=Consent.objects.get(person__tags__asset=video.asset))
    assert agder.get(copy.asset.file_url("rendition")).status_code in (403, 404)
    assert agder.get(video.asset.file_url("rendition")).status_code == 404
