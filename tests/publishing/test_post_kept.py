"""A post's page is rendered once for everyone of a role with the same libraries in the county, on the same
side of the four-eyes rule, and kept until the next write (publishing.views.posts.post_detail): whoever
wrote or last changed a post in review is offered no Approve, whoever did not is. The list of posts is
kept for everyone of a role (post_list).

Committed writes here, so that what is kept is what everyone sees.
"""

from __future__ import annotations

import pytest

from libraries.models import Role, User
from publishing.models import Post
from tests.conftest import World, client_for
from tests.factories.publishing import make_post
from tests.kept import colleague, form_token, kept_page

pytestmark = pytest.mark.django_db(transaction=True)

APPROVE = "Approve</button>"
OWN_POST = "Another editor approves this post"


def test_the_author_and_the_other_editors_each_get_their_side_of_four_eyes_kept(world: World) -> None:
    post = make_post(county=world.county, author=world.editor, title="Høstlesing", status=Post.Status.IN_REVIEW)
    url = post.get_absolute_url()
    author = client_for(world.editor)
    eva, ola = colleague(world, Role.EDITOR, "Eva Redaktør"), colleague(world, Role.EDITOR, "Ola Redaktør")

    assert OWN_POST in author.get(url).text  # built for the author, and kept for the author's side
    evas = kept_page(eva, url)  # built again for those who did not write it, then kept for them
    olas = kept_page(ola, url)
    for_author = kept_page(author, url)

    assert APPROVE in evas
    assert OWN_POST not in evas
    assert APPROVE in olas
    assert APPROVE not in for_author
    assert OWN_POST in for_author
    approved = ola.post(f"/posts/{post.pk}/approve/", {"csrfmiddlewaretoken": form_token(olas)})
    assert approved.status_code == 302  # the reader's own token, not the one the page was rendered with
    post.refresh_from_db()
    assert post.status == Post.Status.APPROVED
    assert "Approved by" in eva.get(url).text  # the approval is shown at once, to everyone
    assert APPROVE not in author.get(url).text


def test_whoever_last_changed_the_post_is_on_the_authors_side_at_once(world: World) -> None:
    post = make_post(county=world.county, author=world.editor, title="Høstlesing", status=Post.Status.IN_REVIEW)
    url = post.get_absolute_url()
    eva = colleague(world, Role.EDITOR, "Eva Redaktør")
    assert APPROVE in kept_page(eva, url)

    eva_user = User.objects.get(name="Eva Redaktør")
    Post.objects.filter(pk=post.pk).update(last_edited_by=eva_user, title="Høstlesing for alle")  # no signal

    page = eva.get(url).text
    assert "Høstlesing for alle" in page
    assert APPROVE not in page
    assert OWN_POST in page


def test_a_librarian_never_gets_a_draft_kept_for_editors_nor_their_actions(world: World) -> None:
    draft = make_post(county=world.county, author=world.editor, title="Utkast")
    scheduled = make_post(county=world.county, author=world.editor, title="Planlagt", status=Post.Status.SCHEDULED)
    editor, librarian = client_for(world.editor), client_for(world.librarian)
    for _ in range(2):
        assert editor.get(draft.get_absolute_url()).status_code == 200
        assert "Take off the plan" in editor.get(scheduled.get_absolute_url()).text

    assert librarian.get(draft.get_absolute_url()).status_code == 404
    page = kept_page(librarian, scheduled.get_absolute_url())
    assert "<title>Planlagt" in page
    assert "Take off the plan" not in page  # editors' alone
    assert client_for(world.outsider).get(scheduled.get_absolute_url()).status_code in (403, 404)

    Post.objects.filter(pk=scheduled.pk).update(status=Post.Status.DRAFT)  # no signal

    assert librarian.get(scheduled.get_absolute_url()).status_code == 404


def test_the_list_of_posts_is_kept_for_each_role_and_shows_a_write_at_once(world: World) -> None:
    make_post(county=world.county, author=world.editor, title="Utkast")
    make_post(county=world.county, author=world.editor, title="Planlagt", status=Post.Status.SCHEDULED)
    editor, librarian = client_for(world.editor), client_for(world.librarian)
    for client in (editor, librarian):
        client.get("/posts/")

    editors = kept_page(colleague(world, Role.EDITOR, "Eva Redaktør"), "/posts/")
    librarians = kept_page(librarian, "/posts/")

    assert "Utkast" in editors
    assert "New post" in editors
    assert "Planlagt" in librarians
    assert "Utkast" not in librarians  # the plan, not the drafts
    assert "New post" not in librarians
    assert "Utkast" not in editor.get("/posts/?status=scheduled").text  # each address its own

    Post.objects.filter(title="Utkast").update(title="Nytt utkast")  # no signal

    assert "Nytt utkast" in editor.get("/posts/").text
