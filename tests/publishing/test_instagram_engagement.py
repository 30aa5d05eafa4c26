"""After publishing: collaborator invites, insights, comments and replies, the account's media."""

from __future__ import annotations

import pytest

from publishing.instagram.client import Client, GraphAPIError
from tests.publishing.conftest import MediaServer
from tests.publishing.fakegraph import IG_USER_ID, IG_USERNAME, FakeGraph


@pytest.fixture
def media_id(graph: Client, media_server: MediaServer) -> str:
    container_id = graph.create_image_container(
        IG_USER_ID,
        image_url=media_server.url("square.jpg"),
        caption="Collab",
        collaborators=["sola_bibliotek", "sandnes"],
    )
    return graph.publish(IG_USER_ID, container_id)


def test_collaborator_invites_read_pending_then_accepted_after_the_configured_reads(
    graph: Client, fake_graph: FakeGraph, media_id: str
) -> None:
    fake_graph.configure(collab_accept_after_reads=2)

    reads = [[(c.username, c.invite_status) for c in graph.get_collaborators(media_id)] for _ in range(3)]

    pending = [("sola_bibliotek", "Pending"), ("sandnes", "Pending")]
    assert reads == [pending, pending, [("sola_bibliotek", "Accepted"), ("sandnes", "Accepted")]]
    assert all(c.id for c in graph.get_collaborators(media_id))


def test_collaborator_invite_answered_through_the_control_api(
    graph: Client, fake_graph: FakeGraph, media_id: str
) -> None:
    fake_graph.configure(collab_accept_after_reads=None)
    fake_graph.set_invite(media_id, "Declined", username="sandnes")
    fake_graph.set_invite(media_id, "Accepted", username="sola_bibliotek")

    statuses = {c.username: c.invite_status for c in graph.get_collaborators(media_id)}

    assert statuses == {"sola_bibliotek": "Accepted", "sandnes": "Declined"}


def test_post_without_collaborators_has_none(graph: Client, media_server: MediaServer) -> None:
    container_id = graph.create_image_container(IG_USER_ID, image_url=media_server.url("square.jpg"))

    assert graph.get_collaborators(graph.publish(IG_USER_ID, container_id)) == []


def test_insights_are_empty_for_new_media_and_filled_once_time_has_passed(
    graph: Client, fake_graph: FakeGraph, media_id: str
) -> None:
    metrics = ["reach", "likes", "comments", "saved", "shares", "views", "total_interactions"]

    assert graph.get_insights(media_id, metrics) == {}  # no data is not zero

    fake_graph.advance_clock(2 * 3600)
    insights = graph.get_insights(media_id, metrics)

    assert set(insights) == set(metrics)
    assert insights["reach"] > 0
    assert insights["total_interactions"] == sum(insights[m] for m in ("likes", "comments", "saved", "shares"))


def test_insights_set_through_the_control_api_leave_other_metrics_missing(
    graph: Client, fake_graph: FakeGraph, media_id: str
) -> None:
    fake_graph.set_insights(media_id, {"reach": 42, "likes": 3})

    assert graph.get_insights(media_id, ["reach", "likes", "saved"]) == {"reach": 42, "likes": 3}


def test_insights_metric_not_offered_for_the_media_is_an_invalid_parameter(graph: Client, media_id: str) -> None:
    with pytest.raises(GraphAPIError) as refused:
        graph.get_insights(media_id, ["reach", "impressions"])

    assert refused.value.code == 100
    assert "does not support the impressions metric" in refused.value.message
    assert refused.value.permanent


def test_comments_are_paged_newest_first_fifty_at_a_time(graph: Client, fake_graph: FakeGraph, media_id: str) -> None:
    fake_graph.add_comments(media_id, count=120, username="reader")

    pages = []
    after = None
    while True:
        page = graph.list_comments(media_id, after=after)
        pages.append(page.comments)
        if page.after is None:
            break
        after = page.after

    assert [len(p) for p in pages] == [50, 50, 20]
    comments = [c for p in pages for c in p]
    assert [c.text for c in comments[:2]] == ["Comment 120", "Comment 119"]
    assert comments[-1].text == "Comment 1"
    assert len({c.id for c in comments}) == 120
    assert comments[0].username == "reader"
    assert comments[0].timestamp is not None


def test_reply_to_a_comment_is_stored_as_the_accounts_reply(
    graph: Client, fake_graph: FakeGraph, media_id: str
) -> None:
    [comment_id] = fake_graph.add_comments(media_id, text="Når åpner dere?", username="reader")

    reply_id = graph.reply_to_comment(comment_id, "Klokka 10 & på #lørdag!")

    replies = [c for c in fake_graph.state()["comments"] if c["id"] == reply_id]
    assert replies == [
        {
            "id": reply_id,
            "media_id": media_id,
            "text": "Klokka 10 & på #lørdag!",
            "username": IG_USERNAME,
            "created_at": replies[0]["created_at"],
            "parent_id": comment_id,
            "reply_ids": [],
            "like_count": 0,
            "hidden": False,
        }
    ]
    # Replies are not top-level comments.
    assert [c.id for c in graph.list_comments(media_id).comments] == [comment_id]
    assert graph.get_media(media_id).comments_count == 1


def test_account_media_are_listed_newest_first_with_paging(
    graph: Client, fake_graph: FakeGraph, media_server: MediaServer
) -> None:
    for caption in ("first", "second", "third"):
        fake_graph.advance_clock(60)
        graph.publish(
            IG_USER_ID,
            graph.create_image_container(IG_USER_ID, image_url=media_server.url("square.jpg"), caption=caption),
        )

    first = graph.list_media(IG_USER_ID, limit=2)
    rest = graph.list_media(IG_USER_ID, limit=2, after=first.after)

    assert [m.caption for m in first.media] == ["third", "second"]
    assert [m.caption for m in rest.media] == ["first"]
    assert rest.after is None
    assert all(m.permalink for m in first.media + rest.media)
