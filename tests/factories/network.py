"""The network of counties for tests: Rogaland (with Stavanger bibliotek), Agder and Vestland taking part,
editors and coordinators in each, and archive items, concepts and ideas shared the way the app shares them."""

from __future__ import annotations

from dataclasses import dataclass

from libraries.access import CountyAccess, county_accesses
from libraries.models import County, Library, Role, User
from production.models import Idea
from publishing.archive import network
from publishing.archive.filing import refresh_items
from publishing.models import SharedItem
from tests.conftest import World
from tests.factories.archive import archived_item
from tests.factories.libraries import CountyFactory, LibraryFactory, MembershipFactory, UserFactory
from tests.factories.production import ConceptFactory, IdeaFactory
from tests.factories.publishing import show_person


def county_access(user: User, county: County) -> CountyAccess:
    return next(a for a in county_accesses(user) if a.county.pk == county.pk)


@dataclass
class Network:
    world: World
    stavanger: Library  # the origin library, in Rogaland
    third: County
    third_coordinator: User
    third_editor: User
    agder_editor: User


def make_network(world: World) -> Network:
    """Rogaland, Agder and Vestland in the network; the credit is written in the offering editor's language
    (Norwegian), Agder's coordinator reads Norwegian and Vestland's English."""
    third = CountyFactory(name="Vestland", slug="vestland")
    third_library = LibraryFactory(county=third, kind=Library.Kind.COUNTY, name="Vestland fylkesbibliotek")
    world.editor.language = "nb"
    world.editor.save(update_fields=["language"])
    world.outsider.language = "nb"
    world.outsider.save(update_fields=["language"])
    for county in (world.county, world.other_county, third):
        county.in_network = True
        county.save(update_fields=["in_network"])
    stavanger = LibraryFactory(
        county=world.county,
        name="Stavanger bibliotek",
        municipality="Stavanger",
        instagram_username="stavangerbibliotek",
    )

    def person(email: str, library: Library, role: Role, language: str = "nb") -> User:
        return MembershipFactory(user=UserFactory(email=email, language=language), library=library, role=role).user

    return Network(
        world=world,
        stavanger=stavanger,
        third=third,
        third_coordinator=person("koordinator@vestland.example", third_library, Role.COORDINATOR, "en"),
        third_editor=person("redaktor@vestland.example", third_library, Role.EDITOR),
        agder_editor=person("redaktor@agder.example", world.other_county_library, Role.EDITOR),
    )


def shared_item(
    net: Network,
    *,
    title: str = "Lesesirkel for pappaer",
    caption: str = "Pappatreff i biblioteket",
    sharing: bool = True,
    minor: bool = False,
    guardian: str = "",
    approve: bool = True,
) -> SharedItem:
    """An item of Stavanger bibliotek showing Ola (consenting to sharing unless `sharing=False`), offered by
    Rogaland's editor and approved by its coordinator (unless `approve=False`)."""
    w = net.world
    item = archived_item(w, title=title, caption=caption, library=net.stavanger, consent=None)
    show_person(item.asset, name="Ola", covers_sharing=sharing, minor=minor, guardian=guardian)
    refresh_items([item.pk])
    item.refresh_from_db()
    shared = network.offer(by=w.editor, access=county_access(w.editor, w.county), item=item)
    if not approve:
        return shared
    return network.approve(by=w.coordinator, access=county_access(w.coordinator, w.county), shared=shared)


def shared_concept(net: Network, *, name: str = "Fredagstipset", approve: bool = True, **fields: object) -> SharedItem:
    """A weekly concept of Rogaland, offered by its editor and approved by its coordinator (unless not)."""
    w = net.world
    concept = ConceptFactory(
        county=w.county, name=name, description="Én ansatt tipser om én bok, hver fredag.", **fields
    )
    shared = network.offer(by=w.editor, access=county_access(w.editor, w.county), item=concept)
    if not approve:
        return shared
    return network.approve(by=w.coordinator, access=county_access(w.coordinator, w.county), shared=shared)


def shared_idea(net: Network, *, title: str = "Pappa leser høyt", approve: bool = True) -> SharedItem:
    """An accepted idea of Stavanger bibliotek, offered by Rogaland's editor and approved (unless not)."""
    w = net.world
    idea = IdeaFactory(
        library=net.stavanger,
        submitted_by=w.librarian,
        title=title,
        pitch="Fedre leser høyt for barna sine i biblioteket, filmet i tretti sekunder.",
        status=Idea.Status.ACCEPTED,
        reference_links="https://example.org/pappa",
    )
    shared = network.offer(by=w.editor, access=county_access(w.editor, w.county), item=idea)
    if not approve:
        return shared
    return network.approve(by=w.coordinator, access=county_access(w.coordinator, w.county), shared=shared)
