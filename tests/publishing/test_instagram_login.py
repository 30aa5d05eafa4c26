"""Connecting a channel with Facebook Login against the fake: dialog, code, long-lived token, accounts."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from publishing.instagram.client import Client, GraphAPIError, GraphConfig, oauth_dialog_url
from tests.publishing.fakegraph import APP_ID, APP_SECRET, IG_USER_ID, IG_USERNAME, FakeGraph

REDIRECT_URI = "http://testserver/publishing/channel/callback/"


def _login(fake_graph: FakeGraph, *, state: str = "csrf-state") -> dict[str, list[str]]:
    url = oauth_dialog_url(fake_graph.config(token=""), app_id=APP_ID, redirect_uri=REDIRECT_URI, state=state)
    response = httpx.get(url, timeout=10)
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    return parse_qs(urlsplit(location).query)


def test_dialog_url_points_at_facebook_for_the_real_graph_host() -> None:
    url = oauth_dialog_url(GraphConfig(), app_id="123", redirect_uri="https://innspill.example/cb/", state="s t")

    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.facebook.com", "/v25.0/dialog/oauth")
    assert query["client_id"] == ["123"]
    assert query["redirect_uri"] == ["https://innspill.example/cb/"]
    assert query["state"] == ["s t"]
    assert query["response_type"] == ["code"]
    assert "instagram_content_publish" in query["scope"][0].split(",")


def test_login_gives_a_code_that_becomes_a_long_lived_token_for_the_account(fake_graph: FakeGraph) -> None:
    answer = _login(fake_graph)
    assert answer["state"] == ["csrf-state"]

    with fake_graph.client(token="") as oauth:
        short = oauth.exchange_code_for_token(
            app_id=APP_ID, app_secret=APP_SECRET, redirect_uri=REDIRECT_URI, code=answer["code"][0]
        )
        long = oauth.exchange_long_lived_token(
            app_id=APP_ID, app_secret=APP_SECRET, short_lived_token=short.access_token
        )
        info = oauth.debug_token(long.access_token, app_id=APP_ID, app_secret=APP_SECRET)

    assert short.expires_in == 3600
    assert (long.token_type, long.expires_in) == ("bearer", 5183944)
    assert info.is_valid
    assert info.app_id == APP_ID
    assert "instagram_content_publish" in info.scopes
    assert info.expires_at is not None
    assert info.expires_at > datetime.now(tz=UTC)
    with fake_graph.client(token=long.access_token) as graph:
        me = graph.get_me()
        [account] = graph.list_instagram_accounts()
    assert me.id == info.user_id
    assert (account.ig_user_id, account.username) == (IG_USER_ID, IG_USERNAME)
    assert account.page_id


def test_login_code_works_once_and_only_with_the_same_redirect_uri(fake_graph: FakeGraph) -> None:
    code = _login(fake_graph)["code"][0]

    with fake_graph.client(token="") as oauth:
        with pytest.raises(GraphAPIError) as other_uri:
            oauth.exchange_code_for_token(
                app_id=APP_ID, app_secret=APP_SECRET, redirect_uri="http://evil.example/", code=code
            )
        oauth.exchange_code_for_token(app_id=APP_ID, app_secret=APP_SECRET, redirect_uri=REDIRECT_URI, code=code)
        with pytest.raises(GraphAPIError) as reused:
            oauth.exchange_code_for_token(app_id=APP_ID, app_secret=APP_SECRET, redirect_uri=REDIRECT_URI, code=code)

    assert (other_uri.value.code, other_uri.value.subcode) == (100, 36008)
    assert (reused.value.code, reused.value.subcode) == (100, 36009)
    assert reused.value.permanent


def test_denied_login_comes_back_with_an_error_and_the_state(fake_graph: FakeGraph) -> None:
    fake_graph.configure(dialog="deny")

    answer = _login(fake_graph, state="abc")

    assert answer["error"] == ["access_denied"]
    assert answer["error_reason"] == ["user_denied"]
    assert answer["state"] == ["abc"]
    assert "code" not in answer


def test_wrong_app_secret_is_refused(fake_graph: FakeGraph) -> None:
    with fake_graph.client(token="") as oauth, pytest.raises(GraphAPIError) as refused:
        oauth.exchange_long_lived_token(app_id=APP_ID, app_secret="wrong", short_lived_token="fake-token")

    assert refused.value.message == "Error validating client secret."
    assert refused.value.permanent


def test_refresh_gives_a_new_token_while_the_old_one_is_valid_but_not_after_it_expired(fake_graph: FakeGraph) -> None:
    token = fake_graph.token(expires_in=10 * 24 * 3600)

    with fake_graph.client(token="") as oauth:
        fresh = oauth.refresh_token(app_id=APP_ID, app_secret=APP_SECRET, token=token)
        assert fresh.access_token != token
        assert fresh.expires_in == 5183944

        fake_graph.advance_clock(11 * 24 * 3600)
        with pytest.raises(GraphAPIError) as expired:
            oauth.refresh_token(app_id=APP_ID, app_secret=APP_SECRET, token=token)

    assert (expired.value.code, expired.value.subcode) == (190, 463)
    assert expired.value.is_token_invalid
    with fake_graph.client(token=fresh.access_token) as graph:
        graph.get_me()


def test_debug_token_reports_an_unknown_token_as_invalid(fake_graph: FakeGraph) -> None:
    with Client(fake_graph.config(token="")) as oauth:
        info = oauth.debug_token("nonsense", app_id=APP_ID, app_secret=APP_SECRET)

    assert not info.is_valid
