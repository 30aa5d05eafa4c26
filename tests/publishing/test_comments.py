"""Comments pulled from the fake Instagram, and the inbox: unanswered oldest first, replies, handled, the median."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from django.test import Client as DjangoClient
from django.utils import timezone

from libraries.models import AuditEntry
from publishing import tasks
from publishing.followup import comments
from publishing.instagram.client import Client
from publishing.models import Channel, InstagramComment, Post
from tests.conftest import World, client_for
from tests.factories.followup import comment_on, media_on_fake, published_post
from tests.publishing.conftest import MediaServer
from tests.publishing.fakegraph import IG_USERNAME, TOKEN, FakeGraph

Status = InstagramComment.Status


@pytest.fixture
def live_post(world: World, channel: Channel, graph: Client, media_server: MediaServer) -> Post:
    """A post that is on the fake Instagram."""
    return published_post(world, channel, media_id=media_on_fake(graph, media_server), with_picture=True)


def pulled(post: Post, fake_graph: FakeGraph, text: str = "Når åpner dere på lørdag?") -> InstagramComment:
    """A follower's comment on Instagram, read by the pull."""
    [comment_id] = fake_graph.add_comments(post.media_id, text=text, username="reader")
    comments.pull_post_comments(post_id=post.pk)
    return InstagramComment.objects.get(comment_id=comment_id)


# --- The pull ---


@pytest.mark.django_db
def test_the_pull_stores_comments_and_replies_from_every_page_once(live_post: Post, fake_graph: FakeGraph) -> None:
    fake_graph.configure(comment_page_size=2)
    tops = fake_graph.add_comments(live_post.media_id, count=5, username="reader")
    fake_graph.add_comments(live_post.media_id, count=3, parent_id=tops[0], username="friend", text="Enig!")
    fake_graph.advance_clock(600)
    [own] = fake_graph.add_comments(live_post.media_id, parent_id=tops[1], username=IG_USERNAME, text="Klokka 10!")

    assert tasks.pull_comments.apply().get() == 1
    assert tasks.pull_comments.apply().get() == 0  # claimed: an overlapping pull does not read it again
    comments.pull_post_comments(post_id=live_post.pk)  # and reading it again changes nothing

    stored = InstagramComment.objects.filter(post=live_post)
    assert stored.count() == 9
    assert sorted(stored.filter(parent__isnull=True).values_list("text", flat=True)) == [
        f"Comment {n}" for n in range(1, 6)
    ]
    assert stored.filter(parent__comment_id=tops[0], from_account=False).count() == 3
    answered = stored.get(comment_id=tops[1])
    reply = stored.get(comment_id=own)
    assert (reply.parent, reply.from_account, reply.status, reply.via) == (answered, True, "", "pull")
    # Answered in the Instagram app: at the reply's time, by nobody in Innspill.
    assert (answered.status, answered.first_reply_at, answered.replied_by) == ("replied", reply.commented_at, None)
    assert answered.first_reply_at - answered.commented_at >= timedelta(minutes=10)
    assert set(stored.from_followers().unanswered().values_list("comment_id", flat=True)) == set(tops) - {tops[1]}
    # Replies come with their comments (field expansion); only the third of three needed its own call.
    calls = fake_graph.state()["calls"]
    assert (calls["comments"], calls["replies"]) == (6, 2)
    live_post.refresh_from_db()
    assert live_post.comments_read_at is not None


@pytest.mark.django_db
def test_a_comment_deleted_on_instagram_before_anyone_answered_leaves_the_inbox(
    live_post: Post, fake_graph: FakeGraph
) -> None:
    gone, stays = fake_graph.add_comments(live_post.media_id, count=2)
    comments.pull_post_comments(post_id=live_post.pk)

    fake_graph.delete(gone)
    comments.pull_post_comments(post_id=live_post.pk)

    assert InstagramComment.objects.get(comment_id=gone).status == Status.NOT_NEEDED
    assert InstagramComment.objects.get(comment_id=stays).status == Status.UNANSWERED


@pytest.mark.django_db
def test_the_pull_reads_only_recent_posts_and_leaves_a_throttled_account_for_later(
    world: World,
    channel: Channel,
    live_post: Post,
    fake_graph: FakeGraph,
    graph: Client,
    media_server: MediaServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    old = published_post(world, channel, published_at=timezone.now() - timedelta(days=31), title="Gammel")
    second = published_post(world, channel, media_id=media_on_fake(graph, media_server), title="Andre")
    fake_graph.add_comments(live_post.media_id)
    fake_graph.add_comments(second.media_id)
    fake_graph.fault("comments", "error", code=80002, message="There have been too many calls.")

    with caplog.at_level(logging.WARNING, logger="publishing.followup.comments"):
        assert comments.pull_comments() == 0

    assert f"Channel {channel.pk} is throttled" in caplog.text
    assert not InstagramComment.objects.exists()
    # One post was tried; the account's other post waits for the next pull, the old one is not read at all.
    read_at = dict(Post.objects.values_list("pk", "comments_read_at"))
    assert sorted(read_at[pk] is None for pk in (live_post.pk, second.pk)) == [False, True]

    assert comments.pull_comments(now=timezone.now() + timedelta(minutes=15)) == 2
    assert InstagramComment.objects.count() == 2
    assert Post.objects.get(pk=old.pk).comments_read_at is None


@pytest.mark.django_db
def test_the_pull_with_a_dead_token_stops_the_channel(live_post: Post, channel: Channel, fake_graph: FakeGraph) -> None:
    fake_graph.token(TOKEN, state="invalid", subcode=460)

    assert comments.pull_comments() == 0

    channel.refresh_from_db()
    assert channel.status == Channel.Status.RECONNECT_REQUIRED


# --- The inbox ---


@pytest.mark.django_db
def test_the_inbox_lists_unanswered_comments_oldest_first_with_their_age(
    world: World, channel: Channel, editor_client: DjangoClient
) -> None:
    post = published_post(world, channel, title="Lesetips")
    other = published_post(world, channel, title="Lørdagsåpent")
    comment_on(post, text="Tre timer siden", ago=timedelta(hours=3, minutes=10))
    comment_on(other, text="To dager siden", ago=timedelta(days=2, hours=1))
    comment_on(other, text="Nettopp", ago=timedelta(seconds=20))
    answered = comment_on(post, text="Allerede besvart", ago=timedelta(days=3), status=Status.REPLIED)
    comment_on(post, text="Vår egen", ago=timedelta(hours=1), from_account=True, status=Status.NOT_NEEDED)
    comment_on(
        post,
        text="Et svar",
        ago=timedelta(hours=1),
        parent=answered,
        from_account=True,
        username=IG_USERNAME,
        status=Status.NOT_NEEDED,
    )

    page = editor_client.get("/inbox/").content.decode()

    assert "3 comments are not answered yet, oldest first" in page
    assert page.index("To dager siden") < page.index("Tre timer siden") < page.index("Nettopp")
    assert "2\xa0days ago" in page  # never broken across lines
    assert "3\xa0hours ago" in page
    assert "less than a minute ago" in page
    assert "Allerede besvart" not in page
    assert "Vår egen" not in page
    assert f'href="/posts/{other.pk}/"' in page

    everything = editor_client.get("/inbox/?show=all").content.decode()
    assert "4 comments, newest first" in everything
    assert "Allerede besvart" in everything
    assert "Et svar" in everything
    assert everything.index("Tre timer siden") < everything.index("To dager siden")

    one_post = editor_client.get(f"/inbox/?show=all&post={other.pk}").content.decode()
    assert "To dager siden" in one_post
    assert "Tre timer siden" not in one_post


@pytest.mark.django_db
def test_a_reply_from_the_inbox_goes_to_instagram_and_answers_the_comment(
    world: World, live_post: Post, fake_graph: FakeGraph, editor_client: DjangoClient
) -> None:
    comment = pulled(live_post, fake_graph)

    response = editor_client.post(
        f"/inbox/{comment.pk}/reply/", {"text": " Klokka 10 & på #lørdag! ", "next": "/inbox/"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    row = response.content.decode()
    assert row.lstrip().startswith(f'<li class="inbox-comment inbox-comment--replied" id="comment-{comment.pk}">')
    assert "Your reply is on Instagram." in row
    comment.refresh_from_db()
    assert (comment.status, comment.replied_by) == (Status.REPLIED, world.editor)
    assert comment.first_reply_at is not None
    reply = comment.replies.get()
    assert (reply.text, reply.username, reply.from_account, reply.via) == (
        "Klokka 10 & på #lørdag!",
        IG_USERNAME,
        True,
        "app",
    )
    on_instagram = [c for c in fake_graph.state()["comments"] if c["parent_id"] == comment.comment_id]
    assert [(c["id"], c["text"], c["username"]) for c in on_instagram] == [
        (reply.comment_id, "Klokka 10 & på #lørdag!", IG_USERNAME)
    ]
    [entry] = AuditEntry.objects.filter(action="comment.replied")
    assert (entry.actor, entry.object_id, entry.summary) == (world.editor, str(comment.pk), "Klokka 10 & på #lørdag!")

    comments.pull_post_comments(post_id=live_post.pk)  # the pull finds the reply: still one, still ours

    assert comment.replies.get().via == "app"
    assert median_of(live_post) == (comment.first_reply_at - comment.commented_at).total_seconds()


def median_of(post: Post) -> float | None:
    return comments.median_reply_seconds(InstagramComment.objects.filter(post=post))


@pytest.mark.django_db
def test_a_reply_without_javascript_goes_back_to_the_inbox_with_a_message(
    live_post: Post, fake_graph: FakeGraph, editor_client: DjangoClient
) -> None:
    comment = pulled(live_post, fake_graph)

    response = editor_client.post(f"/inbox/{comment.pk}/reply/", {"text": "Takk!", "next": "/inbox/?show=all"})

    assert (response.status_code, response["Location"]) == (302, "/inbox/?show=all")
    page = editor_client.get(response["Location"]).content.decode()
    assert "Your reply to @reader is on Instagram." in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (
            {"kind": "error", "code": 2, "message": "Service temporarily unavailable", "is_transient": True},
            "Instagram did not answer properly. Try again in a moment.",
        ),
        (
            {"kind": "error", "code": 10, "message": "(#10) Permission denied", "user_msg": "Comments are off."},
            "Instagram refused: Comments are off.",
        ),
    ],
    ids=["transient", "refused"],
)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "no-javascript"])
def test_a_failed_reply_keeps_the_typed_text_and_says_why(
    live_post: Post,
    fake_graph: FakeGraph,
    editor_client: DjangoClient,
    fault: dict[str, object],
    reason: str,
    htmx: bool,
) -> None:
    comment = pulled(live_post, fake_graph)
    fake_graph.fault("reply", **fault)  # type: ignore[arg-type]
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

    response = editor_client.post(
        f"/inbox/{comment.pk}/reply/", {"text": "Vi åpner klokka 10.", "next": "/inbox/"}, **headers
    )

    assert response.status_code == (200 if htmx else 400)  # htmx swaps in only what succeeded
    page = response.content.decode()
    assert reason in page
    assert ">Vi åpner klokka 10.</textarea>" in page
    assert 'aria-invalid="true"' in page
    assert ("<html" in page) is not htmx  # without JavaScript: a page of its own
    comment.refresh_from_db()
    assert (comment.status, comment.first_reply_at, comment.replies.count()) == (Status.UNANSWERED, None, 0)
    assert not AuditEntry.objects.filter(action="comment.replied").exists()


@pytest.mark.django_db
def test_a_reply_whose_answer_was_lost_is_found_on_instagram_not_sent_twice(
    live_post: Post, fake_graph: FakeGraph, editor_client: DjangoClient
) -> None:
    comment = pulled(live_post, fake_graph)
    fake_graph.fault("reply", "drop", apply=True)  # Instagram replies, but the answer never arrives

    response = editor_client.post(f"/inbox/{comment.pk}/reply/", {"text": "Takk for tipset!"}, HTTP_HX_REQUEST="true")

    assert "Your reply is on Instagram." in response.content.decode()
    on_instagram = [c for c in fake_graph.state()["comments"] if c["parent_id"] == comment.comment_id]
    assert len(on_instagram) == 1
    assert comment.replies.get().comment_id == on_instagram[0]["id"]


@pytest.mark.django_db
def test_an_empty_reply_or_one_with_a_nul_byte_is_refused_without_asking_instagram(
    live_post: Post, fake_graph: FakeGraph, editor_client: DjangoClient
) -> None:
    comment = pulled(live_post, fake_graph)

    response = editor_client.post(f"/inbox/{comment.pk}/reply/", {"text": "   "}, HTTP_HX_REQUEST="true")

    assert "Write the reply first." in response.content.decode()
    nul = editor_client.post(f"/inbox/{comment.pk}/reply/", {"text": "før\x00etter"}, HTTP_HX_REQUEST="true")
    assert "invisible control character" in nul.content.decode()
    assert "reply" not in fake_graph.state()["calls"]
    assert comment.replies.count() == 0


@pytest.mark.django_db
def test_a_comment_on_a_post_that_is_not_on_instagram_is_not_answered_from_here(
    world: World, channel: Channel, editor_client: DjangoClient
) -> None:
    comment = comment_on(published_post(world, channel, media_id=""))

    response = editor_client.post(f"/inbox/{comment.pk}/reply/", {"text": "Hei!"})

    assert response.status_code == 400
    assert "The post is not on Instagram" in response.content.decode()


@pytest.mark.django_db
def test_a_comment_is_marked_handled_and_that_can_be_undone(
    world: World, channel: Channel, editor_client: DjangoClient, coordinator_client: DjangoClient
) -> None:
    comment = comment_on(published_post(world, channel), text="❤️")

    row = editor_client.post(f"/inbox/{comment.pk}/handled/", {"next": "/inbox/"}, HTTP_HX_REQUEST="true")

    assert "Marked handled." in row.content.decode()
    assert "Undo: not answered yet" in row.content.decode()
    comment.refresh_from_db()
    assert (comment.status, comment.handled_by) == (Status.HANDLED, world.editor)
    assert comment.handled_at is not None
    assert median_of(comment.post) is None  # handled is not a reply
    assert "Every comment has been answered or handled." in editor_client.get("/inbox/").content.decode()

    again = coordinator_client.post(f"/inbox/{comment.pk}/handled/", {"next": "/inbox/"}, follow=True)
    assert "Someone answered this comment or marked it handled meanwhile." in again.content.decode()

    undone = coordinator_client.post(f"/inbox/{comment.pk}/reopen/", {"next": "/inbox/"})

    assert (undone.status_code, undone["Location"]) == (302, "/inbox/")
    comment.refresh_from_db()
    assert (comment.status, comment.handled_by, comment.handled_at) == (Status.UNANSWERED, None, None)
    assert list(
        AuditEntry.objects.filter(object_id=str(comment.pk)).order_by("at", "pk").values_list("action", "actor")
    ) == [("comment.handled", world.editor.pk), ("comment.reopened", world.coordinator.pk)]


@pytest.mark.django_db
def test_the_median_time_to_the_first_reply_covers_the_last_30_days(
    world: World, channel: Channel, editor_client: DjangoClient
) -> None:
    post = published_post(world, channel)
    now = timezone.now()
    for written, waited in ((timedelta(hours=5), timedelta(hours=1)), (timedelta(hours=8), timedelta(hours=3))):
        comment_on(post, at=now - written, first_reply_at=now - written + waited, status=Status.REPLIED)
    comment_on(post, at=now - timedelta(days=40), first_reply_at=now - timedelta(days=39), status=Status.REPLIED)
    comment_on(post)  # not answered: does not count

    assert median_of(post) == pytest.approx(3 * 3600)  # of 1 hour, 3 hours and a day: all time
    page = editor_client.get("/inbox/").content.decode()
    assert "Median time to the first reply, last 30 days: <strong>2\xa0hours</strong>" in page


@pytest.mark.django_db
def test_librarians_cannot_use_the_inbox_and_other_counties_get_not_found(
    world: World, channel: Channel, librarian_client: DjangoClient, outsider_client: DjangoClient, client: DjangoClient
) -> None:
    comment = comment_on(published_post(world, channel), text="Hemmelig")

    assert librarian_client.get("/inbox/").status_code == 403
    assert librarian_client.post(f"/inbox/{comment.pk}/handled/").status_code == 403
    assert librarian_client.post(f"/inbox/{comment.pk}/reply/", {"text": "Hei"}).status_code == 403
    outsiders_inbox = outsider_client.get("/inbox/")
    assert outsiders_inbox.status_code == 200
    assert "Hemmelig" not in outsiders_inbox.content.decode()
    for action in ("reply", "handled", "reopen"):
        assert outsider_client.post(f"/inbox/{comment.pk}/{action}/", {"text": "Hei"}).status_code == 404
    assert client.get("/inbox/").status_code == 302  # to the login
    comment.refresh_from_db()
    assert comment.status == Status.UNANSWERED


@pytest.mark.django_db
@pytest.mark.parametrize("count", [2, 9])
def test_the_inbox_costs_the_same_queries_for_2_or_9_comments(
    world: World,
    channel: Channel,
    django_assert_num_queries,
    count: int,  # type: ignore[no-untyped-def]
) -> None:
    for n in range(count):
        post = published_post(world, channel, title=f"Post {n}", with_picture=n % 2 == 0)
        first = comment_on(post, ago=timedelta(hours=n + 1), status=Status.REPLIED if n % 3 == 0 else "unanswered")
        comment_on(post, parent=first, from_account=True, status=Status.NOT_NEEDED, username=IG_USERNAME)
    editor = client_for(world.editor)
    editor.get("/inbox/")  # the session is in Redis once this has run

    # The user (1: their county access with the MFA check is cached, libraries.access); the count and the page
    # of comments with their posts and who answered (2); the posts' media, and our replies (2); the median (1);
    # the post filter's choices (1).
    with django_assert_num_queries(7):
        response = editor.get("/inbox/?show=all")
    assert len(response.context["rows"]) == count


@pytest.mark.django_db
def test_the_home_of_editors_shows_the_comments_waiting_longest(
    world: World, channel: Channel, editor_client: DjangoClient, librarian_client: DjangoClient
) -> None:
    post = published_post(world, channel, title="Lesetips")
    for hours in range(1, 8):
        comment_on(post, text=f"Spørsmål {hours}", ago=timedelta(hours=hours, minutes=5))

    home = editor_client.get("/").content.decode()

    assert "7 comments are not answered yet, oldest first:" in home
    assert "Spørsmål 7" in home
    assert "7\xa0hours ago" in home
    assert "Spørsmål 2" not in home  # the oldest five
    assert 'href="/inbox/"' in home
    assert "Comments waiting for an answer" not in librarian_client.get("/").content.decode()


# --- The count above the inbox's list, kept right without a reload ---


def _count_url(html: str) -> str:
    found = re.search(r'<p id="inbox-count"[^>]*hx-get="([^"]+)" hx-trigger="every (\d)s, comments-changed', html)
    assert found is not None
    assert 2 <= int(found.group(2)) <= 5
    return found.group(1).replace("&amp;", "&")


@pytest.mark.django_db
def test_the_inbox_count_follows_a_reply_and_new_comments(
    world: World, channel: Channel, editor_client: DjangoClient, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    post = published_post(world, channel, title="Lesetips")
    first = comment_on(post, text="Når åpner dere?", ago=timedelta(hours=2))
    comment_on(post, text="Har dere lydbøker?", ago=timedelta(hours=1))
    page = editor_client.get("/inbox/?show=unanswered").content.decode()
    assert "2 comments are not answered yet" in page
    url = _count_url(page)
    assert "show=unanswered" in url
    # The session and its user, the memberships, the count, whether newer comments exist.
    with django_assert_max_num_queries(6):
        assert editor_client.get(url, headers={"HX-Request": "true"}).status_code == 204  # nothing changed

    # A reply from the inbox (htmx) has the count ask again at once.
    replied = editor_client.post(f"/inbox/{first.pk}/handled/", {"next": "/inbox/"}, HTTP_HX_REQUEST="true")
    assert replied["HX-Trigger"] == "comments-changed"
    after_reply = editor_client.get(url, headers={"HX-Request": "true"})
    assert after_reply.status_code == 200
    assert "1 comment is not answered yet" in after_reply.text
    assert "New comments came in" not in after_reply.text

    # A comment that arrived after the page was opened: counted, and offered as new.
    comment_on(post, text="Hei!", ago=timedelta(seconds=5))
    arrived = editor_client.get(_count_url(after_reply.text), headers={"HX-Request": "true"}).text
    assert "2 comments are not answered yet" in arrived
    assert 'href="/inbox/?show=unanswered" data-new-comments' in arrived


@pytest.mark.django_db
def test_the_inbox_count_keeps_the_inboxs_gate(
    world: World,
    channel: Channel,
    librarian_client: DjangoClient,
    outsider_client: DjangoClient,
    client: DjangoClient,
) -> None:
    comment_on(published_post(world, channel), text="Når åpner dere?", ago=timedelta(hours=1))
    assert librarian_client.get("/inbox/count/").status_code == 403
    anonymous = client.get("/inbox/count/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    # Another county's coordinator counts their own county's comments: none of ours.
    theirs = outsider_client.get("/inbox/count/", headers={"HX-Request": "true"}).text
    assert "0 comments are not answered yet" in theirs


@pytest.mark.django_db
def test_the_inbox_count_keeps_the_post_filter(
    world: World, channel: Channel, editor_client: DjangoClient, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    one, other = published_post(world, channel, title="Lesetips"), published_post(world, channel, title="Quiz")
    comment_on(one, text="Når åpner dere?", ago=timedelta(hours=2))
    comment_on(other, text="Har dere lydbøker?", ago=timedelta(hours=1))
    comment_on(other, text="Og e-bøker?", ago=timedelta(minutes=30))
    page = editor_client.get(f"/inbox/?post={other.pk}").content.decode()
    assert "2 comments are not answered yet" in page
    assert f'<option value="{other.pk}" selected>Quiz</option>' in page
    url = _count_url(page)
    assert f"post={other.pk}" in url
    # The session and its user, the memberships, the chosen post among the commented ones, the count, whether
    # newer comments exist.
    with django_assert_max_num_queries(7):
        assert editor_client.get(url, headers={"HX-Request": "true"}).status_code == 204
    counted = editor_client.get(f"/inbox/count/?post={one.pk}", headers={"HX-Request": "true"}).text
    assert "1 comment is not answered yet" in counted
    # A post that is not among the county's commented ones (or no post at all) filters nothing.
    for unknown in (str(other.pk + 1000), "x", "99999999999999999999"):
        everything = editor_client.get(f"/inbox/count/?post={unknown}", headers={"HX-Request": "true"}).text
        assert "3 comments are not answered yet" in everything


@pytest.mark.django_db
def test_the_post_filter_offers_the_newest_posts_the_list_shows_and_the_post_asked_for(
    world: World, channel: Channel, editor_client: DjangoClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A county's commented posts are thousands after a few years: a select of every one was 7,000 options
    (150 ms a request at the bench's scale 5). The newest few are offered, and any other when asked for."""
    from publishing.views import engagement

    monkeypatch.setattr(engagement, "POSTS_OFFERED", 3)
    now = timezone.now()
    posts = [
        published_post(world, channel, title=f"Innlegg {n}", published_at=now - timedelta(days=10 - n))
        for n in range(5)
    ]  # Innlegg 4 is the newest
    for post in posts:
        comment_on(post, text=f"Spørsmål til {post.title}", ago=timedelta(hours=1))
    answered = published_post(world, channel, title="Besvart", published_at=now - timedelta(hours=2))
    comment_on(answered, ago=timedelta(minutes=30), status=InstagramComment.Status.REPLIED)

    def offered(page: str) -> list[str]:
        select = re.search(r'<select name="post".*?</select>', page, re.S)
        assert select is not None
        return re.findall(r"<option[^>]*>([^<]*)</option>", select.group(0))

    assert offered(editor_client.get("/inbox/").text) == ["All posts", "Innlegg 4", "Innlegg 3", "Innlegg 2"]
    assert offered(editor_client.get("/inbox/?show=all").text) == ["All posts", "Besvart", "Innlegg 4", "Innlegg 3"]
    # The oldest, asked for (the post page links to its comments): offered, chosen, and the list is its own.
    page = editor_client.get(f"/inbox/?show=all&post={posts[0].pk}").text
    assert offered(page)[-1] == "Innlegg 0"
    assert f'<option value="{posts[0].pk}" selected>Innlegg 0</option>' in page
    assert "Spørsmål til Innlegg 0" in page
    assert "Spørsmål til Innlegg 1" not in page
    # A post of the county without comments from followers is not a choice: the filter is left out.
    quiet = published_post(world, channel, title="Stille")
    assert "Stille" not in editor_client.get(f"/inbox/?post={quiet.pk}").text


@pytest.mark.django_db
def test_an_inbox_row_shows_the_first_picture_of_a_carousel(
    world: World, channel: Channel, editor_client: DjangoClient
) -> None:
    """Only each post's first medium is read for the rows (a carousel's others were read and never shown)."""
    from publishing.models import PostAsset
    from tests.factories.publishing import make_asset

    post = published_post(world, channel, title="Karusell")
    photos = [make_asset(county=world.county, library=world.library, title=f"Bilde {n}") for n in range(3)]
    for n, photo in enumerate(photos):
        photo.thumbnail.name = f"thumbnails/bilde-{n}.webp"  # as processing leaves it
        photo.save(update_fields=["thumbnail"])
    for position, photo in zip((2, 1, 3), photos, strict=True):
        PostAsset.objects.create(post=post, asset=photo, position=position)
    comment_on(post, text="Så fine bilder!")

    page = editor_client.get("/inbox/").text

    first = photos[1]  # position 1
    assert f'src="{first.thumbnail_url.replace("&", "&amp;")}"' in page
    assert all(photo.thumbnail_url.split("?")[0] not in page for photo in (photos[0], photos[2]))
