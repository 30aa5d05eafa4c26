"""The Instagram webhook: the subscription handshake, signed deliveries of comments, both payload shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client as DjangoClient
from django.utils import timezone

from publishing.followup import comments
from publishing.instagram.client import Client, webhook_signature
from publishing.models import Channel, InstagramComment, Post
from tests.conftest import World
from tests.factories.followup import media_on_fake, published_post
from tests.factories.publishing import ChannelFactory
from tests.publishing.conftest import MediaServer
from tests.publishing.fakegraph import APP_ID, APP_SECRET, IG_USER_ID, IG_USERNAME, FakeGraph
from tests.test_settings import PRODUCTION, manage

VERIFY_TOKEN = "innspill-verify-token"
WEBHOOK = "/webhooks/instagram/"
WRITTEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def meta(settings) -> DjangoClient:  # type: ignore[no-untyped-def]
    """Meta, as the webhook sees it: no session, no CSRF token (checks on, to prove it needs none)."""
    settings.INSTAGRAM_APP_ID = APP_ID
    settings.INSTAGRAM_APP_SECRET = APP_SECRET
    settings.INSTAGRAM_WEBHOOK_VERIFY_TOKEN = VERIFY_TOKEN
    return DjangoClient(enforce_csrf_checks=True)


@pytest.fixture
def channel(world: World) -> Channel:
    return ChannelFactory(county=world.county)


@pytest.fixture
def post(world: World, channel: Channel) -> Post:
    return published_post(world, channel, media_id="17900000000000777")


def notification(
    media_id: str,
    comment_id: str,
    *,
    text: str = "Når åpner dere?",
    username: str = "reader",
    parent_id: str | None = None,
    shape: str = "facebook",
    id_key: str = "id",
) -> dict[str, Any]:
    """A `comments` delivery as Meta sends it: under `changes` (Facebook Login) or flat (Instagram Login)."""
    value: dict[str, Any] = {
        id_key: comment_id,
        "text": text,
        "from": {"id": "17841000000000123", "username": username},
        "media": {"id": media_id, "media_product_type": "FEED"},
    }
    if parent_id:
        value["parent_id"] = parent_id
    change = {"field": "comments", "value": value}
    entry: dict[str, Any] = {"id": IG_USER_ID, "time": int(WRITTEN.timestamp())}
    entry |= change if shape == "instagram" else {"changes": [change]}
    return {"object": "instagram", "entry": [entry]}


def deliver(meta: DjangoClient, payload: dict[str, Any], *, signature: str | None = None, body: bytes | None = None):  # type: ignore[no-untyped-def]
    raw = json.dumps(payload).encode()
    headers = {} if signature == "" else {"HTTP_X_HUB_SIGNATURE_256": signature or webhook_signature(raw, APP_SECRET)}
    return meta.post(WEBHOOK, data=body or raw, content_type="application/json", **headers)


# --- The handshake ---


@pytest.mark.django_db
def test_the_subscription_handshake_echoes_the_challenge_only_for_the_verify_token(
    meta: DjangoClient, settings
) -> None:  # type: ignore[no-untyped-def]
    answer = meta.get(
        WEBHOOK, {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    )

    assert answer.status_code == 200
    assert answer.content == b"1158201444"
    assert answer["Content-Type"].startswith("text/plain")

    wrong = {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"}
    assert meta.get(WEBHOOK, wrong).status_code == 403
    assert meta.get(WEBHOOK, {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN}).status_code == 403
    assert meta.get(WEBHOOK).status_code == 403
    settings.INSTAGRAM_WEBHOOK_VERIFY_TOKEN = ""  # not configured: nobody subscribes, not even with an empty token
    assert meta.get(WEBHOOK, {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}).status_code == 403


def test_a_verify_token_without_the_app_secret_is_refused_at_start() -> None:
    result = manage("check", env=PRODUCTION | {"INSTAGRAM_WEBHOOK_VERIFY_TOKEN": "secret"})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "INSTAGRAM_APP_SECRET" in result.stderr


# --- Deliveries ---


@pytest.mark.django_db
@pytest.mark.parametrize(("shape", "id_key"), [("facebook", "id"), ("instagram", "id"), ("facebook", "comment_id")])
def test_a_signed_delivery_is_stored_as_an_unanswered_comment(
    meta: DjangoClient, post: Post, shape: str, id_key: str
) -> None:
    response = deliver(meta, notification(post.media_id, "17865799348089039", shape=shape, id_key=id_key))

    assert response.status_code == 200
    [comment] = InstagramComment.objects.all()
    assert (comment.post, comment.county, comment.comment_id, comment.username, comment.text) == (
        post,
        post.county,
        "17865799348089039",
        "reader",
        "Når åpner dere?",
    )
    assert (comment.status, comment.via, comment.from_account, comment.commented_at) == (
        "unanswered",
        "webhook",
        False,
        WRITTEN,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "forged",
    [
        {"signature": ""},
        {"signature": "sha256=" + "0" * 64},
        {"signature": webhook_signature(b"{}", "not-the-app-secret")},
        {"signature": webhook_signature(b"{}", APP_SECRET), "body": b'{"object":"instagram","entry":[]} '},
    ],
    ids=["missing", "made-up", "another-secret", "body-changed-after-signing"],
)
def test_a_delivery_without_a_valid_signature_is_refused_and_nothing_is_stored(
    meta: DjangoClient, post: Post, forged: dict[str, Any]
) -> None:
    payload = notification(post.media_id, "17865799348089039")
    body = forged.get("body")
    if forged["signature"] and body is None:
        body = json.dumps(payload).encode()

    response = deliver(meta, payload, signature=forged["signature"], body=body)

    assert response.status_code == 403
    assert not InstagramComment.objects.exists()


@pytest.mark.django_db
def test_a_delivery_signed_with_the_app_secret_of_an_unconfigured_app_is_refused(
    meta: DjangoClient, post: Post, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.INSTAGRAM_APP_ID = settings.INSTAGRAM_APP_SECRET = ""
    payload = notification(post.media_id, "17865799348089039")

    assert deliver(meta, payload, signature=webhook_signature(json.dumps(payload).encode(), "")).status_code == 403
    assert not InstagramComment.objects.exists()


@pytest.mark.django_db
def test_comments_on_media_we_did_not_publish_are_ignored(meta: DjangoClient, post: Post) -> None:
    response = deliver(meta, notification("17900000000000999", "17865799348089039"))

    assert response.status_code == 200
    assert not InstagramComment.objects.exists()


@pytest.mark.django_db
def test_the_accounts_reply_told_by_the_webhook_answers_the_comment(meta: DjangoClient, post: Post) -> None:
    deliver(meta, notification(post.media_id, "1001"))
    deliver(meta, notification(post.media_id, "1002", username=IG_USERNAME, text="Klokka 10!", parent_id="1001"))
    deliver(meta, notification(post.media_id, "1002", username=IG_USERNAME, text="Klokka 10!", parent_id="1001"))

    question = InstagramComment.objects.get(comment_id="1001")
    assert (question.status, question.first_reply_at) == ("replied", WRITTEN)
    reply = InstagramComment.objects.get(comment_id="1002")
    assert (reply.parent, reply.from_account, reply.status) == (question, True, "")
    assert InstagramComment.objects.count() == 2


@pytest.mark.django_db
def test_a_reply_to_a_comment_we_have_not_seen_waits_for_the_pull(meta: DjangoClient, post: Post) -> None:
    deliver(meta, notification(post.media_id, "1002", username="friend", parent_id="1001"))

    assert not InstagramComment.objects.exists()


@pytest.mark.django_db
def test_a_comment_told_by_the_webhook_and_pulled_later_is_one_row(
    world: World,
    channel: Channel,
    meta: DjangoClient,
    settings,  # type: ignore[no-untyped-def]
    fake_graph: FakeGraph,
    graph: Client,
    media_server: MediaServer,
) -> None:
    settings.GRAPH_API_URL = fake_graph.url
    live = published_post(world, channel, media_id=media_on_fake(graph, media_server))
    [comment_id] = fake_graph.add_comments(live.media_id, text="Hei!", username="reader")
    deliver(meta, notification(live.media_id, comment_id, text="Hei!"))

    comments.pull_post_comments(post_id=live.pk)

    [stored] = InstagramComment.objects.all()
    assert (stored.comment_id, stored.via, stored.like_count, stored.status) == (comment_id, "webhook", 0, "unanswered")


# --- The fake sends them as Meta does, to the running app ---


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("shape", ["facebook", "instagram"])
def test_the_fakes_signed_webhooks_reach_the_app_and_are_stored(
    world: World,
    channel: Channel,
    meta: DjangoClient,
    settings,  # type: ignore[no-untyped-def]
    fake_graph: FakeGraph,
    graph: Client,
    media_server: MediaServer,
    live_server,  # type: ignore[no-untyped-def]
    shape: str,
) -> None:
    settings.GRAPH_API_URL = fake_graph.url
    live = published_post(world, channel, media_id=media_on_fake(graph, media_server))
    fake_graph.send_webhooks_to(f"{live_server.url}{WEBHOOK}", shape=shape)

    [comment_id] = fake_graph.add_comments(live.media_id, text="Så fint!", username="reader")

    assert fake_graph.webhook_delivery(comment_id)["status"] == 200
    stored = InstagramComment.objects.get(comment_id=comment_id)
    assert (stored.post, stored.text, stored.via, stored.status) == (live, "Så fint!", "webhook", "unanswered")
    assert abs((stored.commented_at - timezone.now()).total_seconds()) < 60

    fake_graph.send_webhooks_to(f"{live_server.url}{WEBHOOK}", shape=shape, secret="not-the-app-secret")
    [forged] = fake_graph.add_comments(live.media_id, text="Falsk", username="mallory")

    assert fake_graph.webhook_delivery(forged)["status"] == 403
    assert not InstagramComment.objects.filter(comment_id=forged).exists()
