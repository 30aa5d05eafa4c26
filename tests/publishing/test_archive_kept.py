"""An archive search's page is rendered once for everyone of a role in the county at the same address and
kept until the next write (publishing.views.archive.archive_search).

Committed writes here, so that what is kept is what everyone sees.
"""

from __future__ import annotations

import pytest

from publishing.models import ArchiveItem
from tests.conftest import World, client_for
from tests.factories.archive import archived_item
from tests.kept import kept_page

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_search_is_kept_for_the_county_and_shows_a_change_to_an_item_at_once(world: World) -> None:
    item = archived_item(world, title="Påskekrim i hylla", tags=["krim"])
    coordinator, librarian = client_for(world.coordinator), client_for(world.librarian)
    assert "Påskekrim i hylla" in coordinator.get("/archive/?q=krim").text
    assert "Påskekrim i hylla" in kept_page(librarian, "/archive/?q=krim")
    assert "Påskekrim i hylla" not in librarian.get("/archive/?q=lydbok").text  # another address, its own

    ArchiveItem.objects.filter(pk=item.pk).update(title="Påskekrim, ny tittel")  # no signal

    assert "Påskekrim, ny tittel" in librarian.get("/archive/?q=krim").text
