"""The comments inbox is rendered once for everyone of a role in the county at the same address, for a
minute, and again after any write (publishing.views.engagement.inbox, libraries.http.kept_part).

Committed writes here, so that what is kept is what everyone sees.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from libraries.http import CSRF_STAND_IN
from libraries.models import Role
from publishing.models import InstagramComment
from tests.conftest import World, client_for, enable_mfa
from tests.factories.followup import comment_on, published_post
from tests.factories.libraries import MembershipFactory, UserFactory
from tests.factories.publishing import ChannelFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_second_editor_gets_the_kept_inbox_marks_a_comment_handled_with_their_own_token_and_sees_new_ones(
    world: World,
) -> None:
    post = published_post(world, ChannelFactory(county=world.county), title="Påskekrim")
    comment = comment_on(post, text="Når åpner dere på lørdag?")
    assert "Når åpner dere på lørdag?" in client_for(world.editor).get("/inbox/").text
    other = UserFactory(name="Eva Redaktør")
    MembershipFactory(user=other, library=world.county_library, role=Role.EDITOR)
    enable_mfa(other)
    eva = Client(enforce_csrf_checks=True)
    eva.force_login(other)
    eva.get("/inbox/")  # the new editor and their membership are writes: rendered again, and kept

    with CaptureQueriesContext(connection) as kept:
        page = eva.get("/inbox/").text
    # The user: none of the inbox's queries (the comments, their posts and people, the count, the median).
    assert len(kept.captured_queries) <= 2, [query["sql"][:80] for query in kept.captured_queries]
    assert "Når åpner dere på lørdag?" in page
    assert CSRF_STAND_IN not in page
    [token] = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.split('id="main"')[1]))

    handled = eva.post(f"/inbox/{comment.pk}/handled/", {"next": "/inbox/", "csrfmiddlewaretoken": token})

    assert handled.status_code == 302  # the reader's own token, not the one the inbox was rendered with
    comment.refresh_from_db()
    assert comment.status == InstagramComment.Status.HANDLED
    assert "Every comment has been answered or handled." in eva.get("/inbox/").text
    comment_on(post, text="Har dere lydbøker?")  # stored by the worker's pull
    assert "Har dere lydbøker?" in eva.get("/inbox/").text
