"""The comments inbox is rendered once for everyone of a role in the county at the same address, for a
minute, and again after any write (publishing.views.engagement.inbox, libraries.http.kept_part).

Committed writes here, so that what is kept is what everyone sees.
"""

from __future__ import annotations

import pytest

from libraries.models import Role
from publishing.models import InstagramComment
from tests.conftest import World, client_for
from tests.factories.followup import comment_on, published_post
from tests.factories.publishing import ChannelFactory
from tests.kept import colleague, form_token, kept_page

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_second_editor_gets_the_kept_inbox_marks_a_comment_handled_with_their_own_token_and_sees_new_ones(
    world: World,
) -> None:
    post = published_post(world, ChannelFactory(county=world.county), title="Påskekrim")
    comment = comment_on(post, text="Når åpner dere på lørdag?")
    assert "Når åpner dere på lørdag?" in client_for(world.editor).get("/inbox/").text
    eva = colleague(world, Role.EDITOR, "Eva Redaktør")
    page = kept_page(eva, "/inbox/")  # the comments, their posts and people, the count, the median
    assert "Når åpner dere på lørdag?" in page
    token = form_token(page)

    handled = eva.post(f"/inbox/{comment.pk}/handled/", {"next": "/inbox/", "csrfmiddlewaretoken": token})

    assert handled.status_code == 302  # the reader's own token, not the one the inbox was rendered with
    comment.refresh_from_db()
    assert comment.status == InstagramComment.Status.HANDLED
    assert "Every comment has been answered or handled." in eva.get("/inbox/").text
    comment_on(post, text="Har dere lydbøker?")  # stored by the worker's pull
    assert "Har dere lydbøker?" in eva.get("/inbox/").text
