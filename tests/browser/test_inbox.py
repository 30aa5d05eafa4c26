"""The comments inbox in the browser: a reply and "handled" change the comment's row in place (htmx)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from libraries.models import County, User
from publishing.followup import comments
from publishing.instagram.client import Client
from publishing.models import Channel, InstagramComment, Post
from tests.browser.test_publishing import log_in
from tests.factories.followup import media_on_fake
from tests.factories.publishing import make_post
from tests.publishing.conftest import MediaServer, fake_graph, fake_graph_server, graph, media_server  # noqa: F401
from tests.publishing.fakegraph import FakeGraph

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(settings, fake_graph: FakeGraph) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    settings.REQUIRE_MFA = False  # as in `make run`
    settings.GRAPH_API_URL = fake_graph.url
    call_command("load_demo", verbosity=0)


def test_an_editor_answers_one_comment_and_marks_another_handled_without_leaving_the_inbox(
    demo: None,
    fake_graph: FakeGraph,  # noqa: F811
    graph: Client,  # noqa: F811
    media_server: MediaServer,  # noqa: F811
    live_server,  # type: ignore[no-untyped-def]
    page: Page,
) -> None:
    county = County.objects.get(slug="rogaland")
    editor = User.objects.get(email="redaktor@rogaland.example")
    post = make_post(
        county=county,
        author=editor,
        status=Post.Status.PUBLISHED,
        channel=Channel.objects.get(county=county),
        title="Lesekroken er klar",
        media_id=media_on_fake(graph, media_server),
        published_at=timezone.now() - timedelta(hours=2),
    )
    [question] = fake_graph.add_comments(post.media_id, text="Når åpner dere på lørdag?", username="lesehesten")
    [heart] = fake_graph.add_comments(post.media_id, text="❤️❤️", username="hjertevenn")
    comments.pull_post_comments(post_id=post.pk)
    question_row = f"#comment-{InstagramComment.objects.get(comment_id=question).pk}"
    heart_row = f"#comment-{InstagramComment.objects.get(comment_id=heart).pk}"

    log_in(page, live_server.url, editor.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Comments").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Comments")
    expect(page.locator(question_row)).to_contain_text("Når åpner dere på lørdag?")
    count = page.locator("#inbox-count")
    expect(count).to_contain_text("comments are not answered yet")
    waiting = int(re.search(r"(\d+) comments", count.inner_text()).group(1))  # the demo's comments too

    def not_answered(n: int) -> str:
        return f"{n} comment is not answered yet" if n == 1 else f"{n} comments are not answered yet"

    page.get_by_label("Reply to @lesehesten").fill("Klokka 10 til 15!")
    page.locator(question_row).get_by_role("button", name="Reply on Instagram").click()

    expect(page.locator(question_row)).to_contain_text("Your reply is on Instagram.")
    expect(page.locator(question_row)).to_contain_text("Klokka 10 til 15!")
    expect(page.locator(question_row)).to_contain_text("Answered in Innspill by")
    # The count above the list follows the reply at once, without a reload.
    expect(count).to_contain_text(not_answered(waiting - 1))
    assert [c["text"] for c in fake_graph.state()["comments"] if c["parent_id"] == question] == ["Klokka 10 til 15!"]

    page.locator(heart_row).get_by_role("button", name=re.compile("Mark handled")).click()
    expect(page.locator(heart_row)).to_contain_text("Marked handled.")
    expect(count).to_contain_text(not_answered(waiting - 2))
    page.locator(heart_row).get_by_role("button", name=re.compile("Undo: not answered yet")).click()
    expect(page.locator(heart_row)).to_contain_text("Marked as not answered again.")
    expect(count).to_contain_text(not_answered(waiting - 1))
    expect(page).to_have_url(re.compile(r"/inbox/$"))  # all of it in place, no page loads

    assert InstagramComment.objects.get(comment_id=question).status == "replied"
    assert InstagramComment.objects.get(comment_id=heart).status == "unanswered"

    # A new comment arrives (the worker pulls it) while the inbox is open: the count asks again by itself.
    fake_graph.add_comments(post.media_id, text="Har dere lydbøker?", username="nysgjerrig")
    comments.pull_post_comments(post_id=post.pk)
    expect(count).to_contain_text(not_answered(waiting), timeout=10_000)  # the next ask, at most 5 s away
    count.get_by_role("link", name="New comments came in: show them").click()
    expect(page.get_by_text("Har dere lydbøker?")).to_be_visible()
