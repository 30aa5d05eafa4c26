"""How failures reach the caller: Meta's validation errors, tokens, throttles, and a misbehaving network."""

from __future__ import annotations

import json
import re
import socket

import httpx
import pytest

from publishing.instagram.client import (
    Client,
    ErrorKind,
    GraphAPIError,
    GraphConfig,
    classify,
    parse_business_use_case_usage,
)
from tests.publishing.conftest import MediaServer
from tests.publishing.fakegraph import IG_USER_ID, TOKEN, VERSION, FakeGraph, wait_until


def _create_image(graph: Client, media_server: MediaServer, name: str = "square.jpg", **options: object) -> str:
    return graph.create_image_container(IG_USER_ID, image_url=media_server.url(name), **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "options", "code", "subcode", "user_message"),
    [
        ("image.png", {}, 36001, 2207005, "The image format is not supported (PNG). Supported formats are: JPEG."),
        ("huge.jpg", {}, 36000, 2207004, "The image is too large to download. It should be less than 8 MiB"),
        ("panorama.jpg", {}, 36003, 2207009, "The submitted image with aspect ratio ('2000/1000') cannot be"),
        ("story.jpg", {}, 36003, 2207009, "The submitted image with aspect ratio ('1080/1920') cannot be"),
        ("square.jpg", {"caption": "x" * 2201}, 36004, 2207010, "The caption exceeded the maximum length"),
        ("square.jpg", {"caption": " ".join(f"#tag{n}" for n in range(31))}, 36004, 2207010, "31 hashtags"),
        ("square.jpg", {"caption": " ".join(f"@user{n}" for n in range(21))}, 100, 2207040, "has 21"),
        ("square.jpg", {"collaborators": ["a1", "b2", "c3", "d4"]}, 100, None, "at most 3 accounts; it names 4"),
        (
            "square.jpg",
            {"collaborators": ["sola_bibliotek"], "is_carousel_item": True},
            100,
            None,
            "param collaborators is not allowed",
        ),
        ("square.jpg", {"collaborators": ["not a username!"]}, 110, 2207018, "cannot be accessed: not a username!"),
    ],
)
def test_media_and_caption_that_instagram_refuses_is_a_permanent_error_with_the_users_message(
    graph: Client,
    media_server: MediaServer,
    name: str,
    options: dict[str, object],
    code: int,
    subcode: int | None,
    user_message: str,
) -> None:
    with pytest.raises(GraphAPIError) as refused:
        _create_image(graph, media_server, name, **options)

    assert (refused.value.code, refused.value.subcode) == (code, subcode)
    assert refused.value.permanent
    assert refused.value.kind is ErrorKind.PERMANENT
    assert user_message in refused.value.user_message
    assert refused.value.http_status == 400
    assert refused.value.fbtrace_id


def test_caption_at_the_limits_is_accepted(graph: Client, media_server: MediaServer) -> None:
    tags = " ".join(f"#t{n}" for n in range(30)) + " " + " ".join(f"@u{n}" for n in range(20))
    caption = tags + " " + "x" * (2200 - len(tags) - 1)
    assert len(caption) == 2200

    _create_image(graph, media_server, caption=caption, collaborators=["a1", "b2", "c3"])


def test_collaborator_who_cannot_be_invited_is_refused_with_their_name(
    graph: Client, fake_graph: FakeGraph, media_server: MediaServer
) -> None:
    fake_graph.configure(unavailable_usernames=["private_account"])

    with pytest.raises(GraphAPIError) as refused:
        _create_image(graph, media_server, collaborators=["sola_bibliotek", "private_account"])

    assert (refused.value.code, refused.value.subcode) == (110, 2207018)
    assert refused.value.user_message == "The following user(s) cannot be accessed: private_account"


@pytest.mark.parametrize("count", [1, 11])
def test_carousel_outside_two_to_ten_items_is_refused(graph: Client, media_server: MediaServer, count: int) -> None:
    children = [_create_image(graph, media_server, is_carousel_item=True) for _ in range(count)]

    with pytest.raises(GraphAPIError) as refused:
        graph.create_carousel_container(IG_USER_ID, children=children)

    assert (refused.value.code, refused.value.subcode) == (100, 2207028)
    assert refused.value.permanent


def test_media_url_that_cannot_be_fetched_is_transient(graph: Client, media_server: MediaServer) -> None:
    with pytest.raises(GraphAPIError) as unreachable:
        _create_image(graph, media_server, "missing.jpg")

    assert (unreachable.value.code, unreachable.value.subcode) == (9004, 2207052)
    assert unreachable.value.is_transient
    assert media_server.url("missing.jpg") in unreachable.value.user_message


def test_media_download_that_takes_too_long_is_transient(
    graph: Client, fake_graph: FakeGraph, media_server: MediaServer
) -> None:
    fake_graph.configure(download_timeout=0.5)

    with pytest.raises(GraphAPIError) as slow:
        _create_image(graph, media_server, "slow/image.jpg")

    assert (slow.value.code, slow.value.subcode) == (-2, 2207003)
    assert slow.value.is_transient


def test_unknown_token_is_a_token_error_that_stops_the_channel(fake_graph: FakeGraph) -> None:
    with fake_graph.client(token="not-a-token") as graph, pytest.raises(GraphAPIError) as invalid:
        graph.get_me()

    assert invalid.value.code == 190
    assert invalid.value.is_token_invalid
    assert invalid.value.permanent


@pytest.mark.parametrize(("state", "subcode"), [("expired", 463), ("invalid", 460)])
def test_expired_or_revoked_token_is_a_token_error_with_metas_subcode(
    fake_graph: FakeGraph, media_server: MediaServer, state: str, subcode: int
) -> None:
    token = fake_graph.token(state=state)

    with fake_graph.client(token=token) as graph, pytest.raises(GraphAPIError) as refused:
        graph.create_image_container(IG_USER_ID, image_url=media_server.url("square.jpg"))

    assert (refused.value.code, refused.value.subcode) == (190, subcode)
    assert refused.value.kind is ErrorKind.TOKEN
    assert refused.value.permanent


def _error_body(fake_graph: FakeGraph, path: str, *, token: str = TOKEN, method: str = "GET") -> dict[str, object]:
    """The error exactly as the fake sends it (Meta's `{"error": {...}}`, HTTP 400)."""
    response = httpx.request(method, f"{fake_graph.url}/{VERSION}/{path}", params={"access_token": token}, timeout=10)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["fbtrace_id"]
    return dict(error)


@pytest.mark.parametrize(
    ("spec", "path", "method", "expected"),
    [
        # The media list failing for a moment (a lost answer's recovery read): codes 1 and 2, transient.
        (
            {"route": "list_media", "code": 1},
            f"{IG_USER_ID}/media",
            "GET",
            {"code": 1, "message": "An unknown error has occurred.", "is_transient": True, "type": "OAuthException"},
        ),
        (
            {"route": "list_media", "code": 2},
            f"{IG_USER_ID}/media",
            "GET",
            {
                "code": 2,
                "message": "An unexpected error has occurred. Please retry your request later.",
                "is_transient": True,
            },
        ),
        # The daily publishing limit, injected on media_publish, as Meta answers it there.
        (
            {"route": "publish", "code": 9, "subcode": 2207042},
            f"{IG_USER_ID}/media_publish",
            "POST",
            {
                "code": 9,
                "error_subcode": 2207042,
                "message": "Application request limit reached",
                "is_transient": False,
                "error_user_title": "Daily publishing limit reached",
            },
        ),
        # A token lapsing in the middle of a publish.
        (
            {"route": "create_container", "code": 190, "subcode": 463},
            f"{IG_USER_ID}/media",
            "POST",
            {"code": 190, "error_subcode": 463, "message": "Error validating access token: Session has expired."},
        ),
    ],
)
def test_fault_that_names_only_a_code_answers_what_meta_sends_for_it(
    fake_graph: FakeGraph, spec: dict[str, object], path: str, method: str, expected: dict[str, object]
) -> None:
    route = str(spec.pop("route"))
    fake_graph.fault(route, "error", **spec)

    error = _error_body(fake_graph, path, method=method)

    assert {key: error.get(key) for key in expected} == expected


def test_fault_keeps_the_words_it_is_given(fake_graph: FakeGraph, graph: Client) -> None:
    fake_graph.fault("me", "error", code=2, message="Service temporarily unavailable", is_transient=False)

    error = _error_body(fake_graph, "me")

    assert (error["message"], error["is_transient"]) == ("Service temporarily unavailable", False)


def test_media_list_failing_with_code_2_is_transient_for_the_client(fake_graph: FakeGraph, graph: Client) -> None:
    fake_graph.fault("list_media", "error", code=2, times=2)

    for _ in range(2):
        with pytest.raises(GraphAPIError) as failed:
            graph.list_media(IG_USER_ID)
        assert failed.value.is_transient
        assert failed.value.meta_is_transient
    graph.list_media(IG_USER_ID)


def test_expired_token_says_when_it_expired_and_the_time_now_as_meta_does(fake_graph: FakeGraph) -> None:
    token = fake_graph.token(expires_in=60)
    fake_graph.advance_clock(3600)

    error = _error_body(fake_graph, "me", token=token)

    assert (error["code"], error["error_subcode"], error["type"]) == (190, 463, "OAuthException")
    assert re.fullmatch(
        r"Error validating access token: Session has expired on \w+day, \d\d-\w{3}-\d\d \d\d:\d\d:\d\d P[SD]T\. "
        r"The current time is \w+day, \d\d-\w{3}-\d\d \d\d:\d\d:\d\d P[SD]T\.",
        str(error["message"]),
    ), error["message"]
    assert error["is_transient"] is False


@pytest.mark.parametrize(
    ("subcode", "words"),
    [
        (None, "The session has been invalidated because the user changed their password"),
        (460, "The session has been invalidated because the user changed their password"),
        (458, "The user has not authorized application"),
    ],
)
def test_revoked_token_answers_metas_subcode_and_words(fake_graph: FakeGraph, subcode: int | None, words: str) -> None:
    token = fake_graph.token(state="revoked", **({} if subcode is None else {"subcode": subcode}))

    error = _error_body(fake_graph, f"{IG_USER_ID}/media", token=token)

    assert error["code"] == 190
    assert error["error_subcode"] == (subcode or 460)
    assert words in str(error["message"])
    with fake_graph.client(token=token) as graph, pytest.raises(GraphAPIError) as refused:
        graph.list_media(IG_USER_ID)
    assert refused.value.is_token_invalid


def test_token_expires_on_the_fakes_clock(fake_graph: FakeGraph) -> None:
    token = fake_graph.token(expires_in=3600)
    with fake_graph.client(token=token) as graph:
        graph.get_me()
        fake_graph.advance_clock(3601)

        with pytest.raises(GraphAPIError) as expired:
            graph.get_me()

    assert expired.value.subcode == 463


@pytest.mark.parametrize(
    "request_options",
    [
        {"params": {"access_token": TOKEN}},
        {"headers": {"Authorization": f"Bearer {TOKEN}"}},
        {"headers": {"Authorization": f"OAuth {TOKEN}"}},
    ],
)
def test_fake_accepts_the_token_in_the_query_or_an_authorization_header(
    fake_graph: FakeGraph, request_options: dict[str, dict[str, str]]
) -> None:
    response = httpx.get(f"{fake_graph.url}/{VERSION}/me", timeout=10, **request_options)  # type: ignore[arg-type]

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("encoding", ["form", "json"])
def test_fake_accepts_the_token_in_a_form_or_json_body(
    fake_graph: FakeGraph, media_server: MediaServer, encoding: str
) -> None:
    body = {"image_url": media_server.url("square.jpg"), "caption": "#a & b", "access_token": TOKEN}
    url = f"{fake_graph.url}/{VERSION}/{IG_USER_ID}/media"

    response = httpx.post(url, timeout=10, **({"data": body} if encoding == "form" else {"json": body}))  # type: ignore[arg-type]

    assert response.status_code == 200, response.text
    [container] = fake_graph.state()["containers"]
    assert container["caption"] == "#a & b"


def test_unknown_object_is_a_permanent_graph_error(graph: Client) -> None:
    with pytest.raises(GraphAPIError) as unknown:
        graph.get_media("12345")

    assert (unknown.value.code, unknown.value.subcode) == (100, 33)
    assert unknown.value.permanent


def test_server_error_without_a_graph_body_is_transient(fake_graph: FakeGraph, graph: Client) -> None:
    fake_graph.fault("me", "status", status=502, body="<html>Bad Gateway</html>")

    with pytest.raises(GraphAPIError) as failed:
        graph.get_me()

    assert failed.value.code is None
    assert failed.value.http_status == 502
    assert failed.value.is_transient
    assert failed.value.maybe_applied
    graph.get_me()  # the fault was for one call only


def test_graph_error_with_http_500_is_transient(fake_graph: FakeGraph, graph: Client) -> None:
    fake_graph.fault(
        "publishing_limit",
        "error",
        code=2,
        message="Service temporarily unavailable",
        http_status=500,
        is_transient=True,
    )

    with pytest.raises(GraphAPIError) as failed:
        graph.content_publishing_limit(IG_USER_ID)

    assert (failed.value.code, failed.value.http_status) == (2, 500)
    assert failed.value.is_transient


def test_answer_that_never_comes_is_a_transient_error_that_may_have_been_applied(
    fake_graph: FakeGraph, media_server: MediaServer
) -> None:
    fake_graph.fault("create_container", "hang", seconds=1, apply=True)

    with fake_graph.client(timeout=0.3) as graph, pytest.raises(GraphAPIError) as timed_out:
        graph.create_image_container(IG_USER_ID, image_url=media_server.url("square.jpg"))

    assert timed_out.value.is_transient
    assert timed_out.value.maybe_applied
    assert timed_out.value.code is None
    # The fake carries the call out after the client gave up, as Meta may.
    wait_until(lambda: len(fake_graph.state()["containers"]) == 1, what="the late container")


def test_connection_dropped_without_an_answer_is_transient(fake_graph: FakeGraph, graph: Client) -> None:
    fake_graph.fault("me", "drop")

    with pytest.raises(GraphAPIError) as dropped:
        graph.get_me()

    assert dropped.value.is_transient
    assert fake_graph.state()["calls"].get("me") is None  # nothing was carried out


def test_no_server_at_all_is_transient_and_was_not_applied() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # a port nobody listens on
        config = GraphConfig(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", access_token=TOKEN, timeout=2)
        with Client(config) as graph, pytest.raises(GraphAPIError) as refused:
            graph.get_me()

    assert refused.value.is_transient
    assert not refused.value.maybe_applied


@pytest.mark.parametrize("code", [80002, 4, 17])
def test_calls_over_the_budget_are_throttled_with_retry_after_from_the_usage_header(
    fake_graph: FakeGraph, graph: Client, code: int
) -> None:
    fake_graph.configure(call_budget=3, budget_window=3600, throttle_code=code)
    for _ in range(3):
        graph.get_me()
    assert graph.last_usage is not None
    assert graph.last_usage.call_count == 100

    with pytest.raises(GraphAPIError) as throttled:
        graph.get_me()

    assert throttled.value.code == code
    assert throttled.value.is_rate_limit
    assert throttled.value.retry_after == 3600.0  # the oldest call leaves the hour in 60 minutes

    fake_graph.advance_clock(3600)
    graph.get_me()


def test_usage_header_comes_with_every_answer(graph: Client) -> None:
    graph.get_me()

    assert graph.last_usage is not None
    assert graph.last_usage.estimated_time_to_regain_access == 0
    assert graph.last_usage.retry_after is None


def test_injected_throttle_carries_its_regain_time(fake_graph: FakeGraph, graph: Client) -> None:
    fake_graph.fault("me", "error", code=80002, message="Too many calls", regain_minutes=7)

    with pytest.raises(GraphAPIError) as throttled:
        graph.get_me()

    assert throttled.value.is_rate_limit
    assert throttled.value.retry_after == 420.0


def test_faults_can_let_calls_through_first_and_repeat(fake_graph: FakeGraph, graph: Client) -> None:
    fake_graph.fault("me", "error", code=1, message="An unknown error has occurred.", skip=1, times=2)

    graph.get_me()
    for _ in range(2):
        with pytest.raises(GraphAPIError) as failed:
            graph.get_me()
        assert failed.value.is_transient
    graph.get_me()


@pytest.mark.parametrize(
    ("code", "subcode", "kind"),
    [
        (1, None, ErrorKind.TRANSIENT),
        (2, None, ErrorKind.TRANSIENT),
        (-2, 2207003, ErrorKind.TRANSIENT),
        (9004, 2207052, ErrorKind.TRANSIENT),
        (24, 2207008, ErrorKind.TRANSIENT),
        (9007, 2207027, ErrorKind.TRANSIENT),
        (4, None, ErrorKind.RATE_LIMIT),
        (17, None, ErrorKind.RATE_LIMIT),
        (32, None, ErrorKind.RATE_LIMIT),
        (613, None, ErrorKind.RATE_LIMIT),
        (80002, None, ErrorKind.RATE_LIMIT),
        (9, 2207042, ErrorKind.RATE_LIMIT),
        (190, None, ErrorKind.TOKEN),
        (190, 463, ErrorKind.TOKEN),
        (190, 460, ErrorKind.TOKEN),
        (-2, 2207020, ErrorKind.NEW_CONTAINER),
        (-1, 2207001, ErrorKind.NEW_CONTAINER),
        (-1, 2207032, ErrorKind.NEW_CONTAINER),
        (-1, 2207053, ErrorKind.NEW_CONTAINER),
        (24, 2207006, ErrorKind.NEW_CONTAINER),
        (4, 2207051, ErrorKind.PERMANENT),  # a spam flag, not a throttle
        (1, 2207057, ErrorKind.PERMANENT),  # a bad thumbnail offset, not a hiccup
        (25, 2207050, ErrorKind.PERMANENT),
        (100, 2207023, ErrorKind.PERMANENT),
        (100, 2207028, ErrorKind.PERMANENT),
        (100, 2207040, ErrorKind.PERMANENT),
        (352, 2207026, ErrorKind.PERMANENT),
        (36000, 2207004, ErrorKind.PERMANENT),
        (36001, 2207005, ErrorKind.PERMANENT),
        (36003, 2207009, ErrorKind.PERMANENT),
        (36004, 2207010, ErrorKind.PERMANENT),
        (110, 2207018, ErrorKind.PERMANENT),
        (10, None, ErrorKind.PERMANENT),
        (200, None, ErrorKind.PERMANENT),
        (368, None, ErrorKind.PERMANENT),
    ],
)
def test_error_codes_are_classified_as_graph_api_md_lists_them(code: int, subcode: int | None, kind: ErrorKind) -> None:
    assert classify(code, subcode, http_status=400) is kind


def test_unknown_code_is_permanent_unless_meta_or_the_status_says_it_is_transient() -> None:
    assert classify(12345, None, http_status=400) is ErrorKind.PERMANENT
    assert classify(12345, None, http_status=400, meta_is_transient=True) is ErrorKind.TRANSIENT
    assert classify(12345, None, http_status=503) is ErrorKind.TRANSIENT


def test_usage_header_takes_the_highest_entry_and_ignores_garbage() -> None:
    header = json.dumps(
        {
            "1": [{"type": "instagram", "call_count": 20, "estimated_time_to_regain_access": 0}],
            "2": [{"type": "instagram", "call_count": 100, "estimated_time_to_regain_access": 12}],
        }
    )

    usage = parse_business_use_case_usage(header)

    assert usage is not None
    assert (usage.call_count, usage.retry_after) == (100, 720.0)
    assert parse_business_use_case_usage("not json") is None
    assert parse_business_use_case_usage(None) is None
    assert parse_business_use_case_usage("[]") is None
