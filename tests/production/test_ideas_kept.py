"""The ideas list is rendered once for everyone of a role in the county at the same address (and, for
"my library's ideas", with the same libraries) and kept until the next write (production.views.ideas.idea_list);
so is an idea's page, for everyone of a role with the same libraries (idea_detail).

Committed writes here, so that what is kept is what everyone sees.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from libraries.models import Role
from production.models import Idea
from tests.conftest import World, client_for
from tests.factories.production import IdeaFactory
from tests.kept import colleague, form_token, kept_page

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


def test_an_ideas_page_is_kept_for_its_librarys_people_who_comment_with_their_own_token(world: World) -> None:
    idea = IdeaFactory(library=world.library, title="Sandnes-idé")
    url = idea.get_absolute_url()
    client = colleague(world, Role.LIBRARIAN, "Siri Sandnes", library=world.library)
    sola = client_for(world.other_librarian)  # logged in before: a login writes
    assert "Sandnes-idé" in client_for(world.librarian).get(url).text

    page = kept_page(client, url)  # the idea, its comments, slot, posts and media: none read again

    assert "<title>Sandnes-idé" in page
    assert f'href="{reverse("production:idea_edit", args=[idea.pk])}"' in page  # their library's, submitted
    other_library = sola.get(url).text  # nothing written since
    assert f'href="{reverse("production:idea_edit", args=[idea.pk])}"' not in other_library
    commented = client.post(
        reverse("production:idea_comment", args=[idea.pk]),
        {"body": "Vi kan filme på lørdag.", "csrfmiddlewaretoken": form_token(page)},
    )
    assert commented.status_code == 302  # the reader's own token, not the one the page was rendered with
    assert "Vi kan filme på lørdag." in sola.get(url).text  # at once, for everyone

    Idea.objects.filter(pk=idea.pk).update(title="Ny tittel")  # no signal

    assert "<title>Ny tittel" in client.get(url).text
