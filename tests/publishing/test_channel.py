"""Connecting the county's Instagram account (Facebook Login or a pasted token), and the token's life."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from libraries.models import AuditEntry
from publishing.instagram import channels
from publishing.models import Channel
from tests.conftest import World
from tests.factories.publishing import ChannelFactory
from tests.publishing.fakegraph import APP_ID, APP_SECRET, IG_USER_ID, IG_USERNAME, TOKEN, FakeGraph


@pytest.fixture
def login_setup(settings, fake_graph: FakeGraph) -> FakeGraph:  # type: ignore[no-untyped-def]
    settings.GRAPH_API_URL = fake_graph.url
    settings.INSTAGRAM_APP_ID = APP_ID
    settings.INSTAGRAM_APP_SECRET = APP_SECRET
    return fake_graph


def facebook_login(client: Client) -> str:
    """Start the login as the coordinator; the fake's dialog approves and sends the browser back: that URL."""
    start = client.post("/channel/connect/")
    assert start.status_code == 302
    dialog = httpx.get(start["Location"], timeout=10)
    assert dialog.status_code == 302, dialog.text
    back = dialog.headers["Location"]
    assert back.startswith("http://testserver/channel/callback/")
    return back.removeprefix("http://testserver")


def test_coordinator_connects_instagram_with_facebook_login(
    world: World, coordinator_client: Client, login_setup: FakeGraph
) -> None:
    callback = facebook_login(coordinator_client)
    assert parse_qs(urlsplit(callback).query)["state"]

    response = coordinator_client.get(callback, follow=True)

    channel = Channel.objects.get(county=world.county)
    assert channel.status == Channel.Status.CONNECTED
    assert (channel.account_id, channel.username) == (IG_USER_ID, IG_USERNAME)
    assert channel.access_token.startswith("EAAFake")
    assert channel.access_token not in channel.token_ciphertext
    assert channel.token_expires_at is not None
    assert timedelta(days=59) < channel.token_expires_at - timezone.now() < timedelta(days=61)
    assert channel.connected_by == world.coordinator
    assert "Instagram is connected: posts go out as @fake_library." in response.content.decode()
    assert AuditEntry.objects.filter(action="channel.connected", actor=world.coordinator).exists()
    # The login code works once: the same answer again is refused (the state was used up too).
    coordinator_client.get(callback)
    assert Channel.objects.count() == 1


def test_an_answer_with_another_state_is_refused(
    world: World, coordinator_client: Client, login_setup: FakeGraph
) -> None:
    callback = facebook_login(coordinator_client)
    forged = callback.replace("state=", "state=forged")

    response = coordinator_client.get(forged, follow=True)

    assert "did not belong to this login" in response.content.decode()
    assert not Channel.objects.exists()


def test_a_login_the_person_declined_says_so(world: World, coordinator_client: Client, login_setup: FakeGraph) -> None:
    login_setup.configure(dialog="deny")

    response = coordinator_client.get(facebook_login(coordinator_client), follow=True)

    assert "Facebook Login was not completed: Permissions error" in response.content.decode()
    assert not Channel.objects.exists()


def test_with_several_accounts_the_coordinator_chooses_one(
    world: World, coordinator_client: Client, login_setup: FakeGraph
) -> None:
    login_setup.http.post("/_fake/accounts", json={"username": "rogalandfylkesbibliotek"}).raise_for_status()

    chooser = coordinator_client.get(facebook_login(coordinator_client), follow=True)
    assert chooser.request["PATH_INFO"] == "/channel/choose/"
    choices = dict(chooser.context["form"].fields["account"].choices)
    wanted = next(value for value, label in choices.items() if "rogalandfylkesbibliotek" in label)
    coordinator_client.post("/channel/choose/", {"account": wanted})

    channel = Channel.objects.get()
    assert (channel.account_id, channel.username) == (wanted, "rogalandfylkesbibliotek")


def test_coordinator_connects_with_a_pasted_token(
    world: World, coordinator_client: Client, fake_graph: FakeGraph, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.GRAPH_API_URL = fake_graph.url  # no app configured: only a pasted token connects
    page = coordinator_client.get("/channel/").content.decode()
    assert "Connect with Facebook" not in page

    coordinator_client.post("/channel/token/", {"token": TOKEN})

    channel = Channel.objects.get()
    assert (channel.status, channel.access_token, channel.token_expires_at) == (Channel.Status.CONNECTED, TOKEN, None)


def test_a_pasted_token_instagram_refuses_is_not_stored(
    world: World, coordinator_client: Client, login_setup: FakeGraph
) -> None:
    response = coordinator_client.post("/channel/token/", {"token": "not-a-real-token"}, follow=True)

    assert "Instagram did not accept the token" in response.content.decode()
    assert not Channel.objects.exists()


def test_only_coordinators_manage_the_channel(world: World, editor_client: Client, librarian_client: Client) -> None:
    for client in (editor_client, librarian_client):
        assert client.get("/channel/").status_code == 403
        assert client.post("/channel/token/", {"token": TOKEN}).status_code == 403
        assert client.post("/channel/disconnect/").status_code == 403
        assert client.post("/channel/settings/", {"late_margin_hours": "1"}).status_code == 403


def test_disconnecting_forgets_the_token(world: World, coordinator_client: Client) -> None:
    ChannelFactory(county=world.county)

    coordinator_client.post("/channel/disconnect/")

    channel = Channel.objects.get()
    assert (channel.status, channel.token_ciphertext) == (Channel.Status.DISCONNECTED, "")


# --- How late a post may go out after a reconnect ---


def test_coordinator_sets_how_late_a_post_may_go_out_after_a_reconnect(
    world: World, coordinator_client: Client
) -> None:
    channel = ChannelFactory(county=world.county)
    page = coordinator_client.get("/channel/").content.decode()
    assert 'name="late_margin_hours" value="6"' in page
    assert "A post more than 6 hours late goes back to its editor instead." in page

    response = coordinator_client.post("/channel/settings/", {"late_margin_hours": "12"}, follow=True)

    channel.refresh_from_db()
    assert channel.late_margin_hours == 12
    page = response.content.decode()
    assert "Saved: after a reconnect, a post more than 12 hours late goes back to its editor." in page
    assert 'name="late_margin_hours" value="12"' in page
    [entry] = AuditEntry.objects.filter(action="channel.settings_changed")
    assert (entry.actor, entry.data) == (world.coordinator, {"late_margin_hours": 12})


def test_late_margin_can_be_set_while_the_channel_waits_for_a_reconnect(
    world: World, coordinator_client: Client
) -> None:
    channel = ChannelFactory(county=world.county, status=Channel.Status.RECONNECT_REQUIRED)

    coordinator_client.post("/channel/settings/", {"late_margin_hours": "0"})

    channel.refresh_from_db()
    assert channel.late_margin_hours == 0


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("-1", "greater than or equal to 0"),
        ("169", "less than or equal to 168"),
        ("", "required"),
        ("six", "whole number"),
    ],
)
def test_a_late_margin_out_of_range_is_refused_and_nothing_changes(
    world: World, coordinator_client: Client, value: str, error: str
) -> None:
    channel = ChannelFactory(county=world.county)

    response = coordinator_client.post("/channel/settings/", {"late_margin_hours": value})

    assert response.status_code == 400
    assert error in response.content.decode()
    channel.refresh_from_db()
    assert channel.late_margin_hours == 6
    assert not AuditEntry.objects.filter(action="channel.settings_changed").exists()


def test_without_a_channel_there_is_nothing_to_set(world: World, coordinator_client: Client) -> None:
    assert "late_margin_hours" not in coordinator_client.get("/channel/").content.decode()
    assert coordinator_client.post("/channel/settings/", {"late_margin_hours": "3"}).status_code == 302
    assert not Channel.objects.exists()


# --- The token's life ---


def test_token_is_refreshed_before_it_lapses(world: World, login_setup: FakeGraph) -> None:
    channel = ChannelFactory(county=world.county, token_expires_at=timezone.now() + timedelta(days=10))

    result = channels.look_after_tokens()

    channel.refresh_from_db()
    assert result == {"refreshed": 1, "stopped": 0, "warned": 0}
    assert channel.access_token not in ("", TOKEN)
    assert channel.token_expires_at is not None
    assert channel.token_expires_at > timezone.now() + timedelta(days=59)
    assert AuditEntry.objects.filter(action="channel.token_refreshed").exists()
    assert not mail.outbox


def test_coordinator_is_warned_once_a_week_before_a_token_that_cannot_be_refreshed_expires(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    channel = ChannelFactory(county=world.county, token_expires_at=timezone.now() + timedelta(days=6))

    with django_capture_on_commit_callbacks(execute=True):
        first = channels.look_after_tokens()
        second = channels.look_after_tokens()

    assert (first["warned"], second["warned"]) == (1, 0)
    [warning] = mail.outbox
    assert warning.to == [world.coordinator.email]
    assert warning.subject == "The Instagram connection expires in a week"
    channel.refresh_from_db()
    assert channel.status == Channel.Status.CONNECTED


def test_an_expired_token_stops_the_channel_and_tells_the_coordinator(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    channel = ChannelFactory(county=world.county, token_expires_at=timezone.now() - timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert channels.look_after_tokens()["stopped"] == 1
        assert channels.look_after_tokens()["stopped"] == 0

    channel.refresh_from_db()
    assert channel.status == Channel.Status.RECONNECT_REQUIRED
    [told] = mail.outbox
    assert told.subject == "Instagram must be connected again"


def test_a_revoked_token_stops_the_channel_when_refreshed(
    world: World, login_setup: FakeGraph, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    login_setup.token(TOKEN, state="invalid", subcode=460)
    channel = ChannelFactory(county=world.county, token_expires_at=timezone.now() + timedelta(days=10))

    with django_capture_on_commit_callbacks(execute=True):
        assert channels.look_after_tokens()["refreshed"] == 0

    channel.refresh_from_db()
    assert channel.status == Channel.Status.RECONNECT_REQUIRED
    assert "Instagram no longer accepts the token" in channel.status_reason
    assert [m.subject for m in mail.outbox] == ["Instagram must be connected again"]
