"""The ideas list is rendered once for everyone of a role in the county at the same address (and, for
"my library's ideas", with the same libraries) and kept until the next write (production.views.ideas.idea_list).

Committed writes here, so that what is kept is what everyone sees.
"""

from __future__ import annotations

import pytest

from production.models import Idea
from tests.conftest import World, client_for
from tests.factories.production import IdeaFactory
from tests.kept import kept_page

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_list_is_kept_for_the_county_and_my_librarys_ideas_for_each_librarys_people(world: World) -> None:
    IdeaFactory(library=world.library, title="Sandnes-idé")
    IdeaFactory(library=world.other_library, title="Sola-idé")
    sandnes, sola = client_for(world.librarian), client_for(world.other_librarian)
    for client in (sandnes, sola):
        client.get("/ideas/")
        client.get("/ideas/?mine=1")

    everyone = kept_page(sola, "/ideas/")
    assert "Sandnes-idé" in everyone
    assert "Sola-idé" in everyone
    mine = sola.get("/ideas/?mine=1").text
    assert "Sola-idé" in mine
    assert "Sandnes-idé" not in mine
    assert "Sandnes-idé" in sandnes.get("/ideas/?mine=1").text

    Idea.objects.filter(title="Sola-idé").update(title="Sola-idé, ny tittel")  # no signal

    assert "Sola-idé, ny tittel" in sandnes.get("/ideas/").text
