"""Publishing through the client against the fake Graph API over real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from publishing.instagram.client import Client, ContainerStatusCode, ErrorKind, GraphAPIError
from tests.publishing.conftest import MediaServer
from tests.publishing.fakegraph import IG_USER_ID, IG_USERNAME, FakeGraph, run_fake_graph


def test_image_post_is_published_once_with_its_caption_intact_and_has_a_permalink(
    graph: Client, fake_graph: FakeGraph, media_server: MediaServer
) -> None:
    caption = "Lesesirkel i kveld & i morgen! #bibliotek #lesing @sola_bibliotek ?x=1&y=2 100%"
    container_id = graph.create_image_container(
        IG_USER_ID,
        image_url=media_server.url("square.jpg"),
        caption=caption,
        collaborators=["@sola_bibliotek", "sandnes.bibliotek"],
        alt_text="Bøker på et bord",
    )

    status = graph.get_container_status(container_id)
    assert status.status_code is ContainerStatusCode.FINISHED
    assert status.as_error() is None

    media_id = graph.publish(IG_USER_ID, container_id)
    media = graph.get_media(media_id)

    assert media_id != container_id
    assert media.caption == caption
    assert media.permalink == f"https://www.instagram.com/p/{media.shortcode}/"
    assert media.media_type == "IMAGE"
    assert media.media_product_type == "FEED"
    assert media.username == IG_USERNAME
    assert media.timestamp is not None
    assert media.timestamp.tzinfo is not None
    assert graph.get_container_status(container_id).status_code is ContainerStatusCode.PUBLISHED
    [published] = fake_graph.media()
    assert published["collaborators"] == [
        {"username": "sola_bibliotek", "invite_status": "Pending", "reads": 0},
        {"username": "sandnes.bibliotek", "invite_status": "Pending", "reads": 0},
    ]
    assert graph.content_publishing_limit(IG_USER_ID).quota_usage == 1


@pytest.mark.parametrize("name", ["portrait.jpg", "landscape.jpg"])
def test_images_at_the_edges_of_the_allowed_aspect_ratios_are_accepted(
    graph: Client, media_server: MediaServer, name: str
) -> None:
    container_id = graph.create_image_container(IG_USER_ID, image_url=media_server.url(name))
    assert graph.get_container_status(container_id).status_code is ContainerStatusCode.FINISHED


def test_carousel_of_an_image_and_a_video_is_published_as_one_album(
    graph: Client, fake_graph: FakeGraph, media_server: MediaServer
) -> None:
    fake_graph.configure(video_polls=1)
    children = [
        graph.create_image_container(IG_USER_ID, image_url=media_server.url("square.jpg"), is_carousel_item=True),
        graph.create_video_container(IG_USER_ID, video_url=media_server.url("clip.mp4"), media_type="VIDEO"),
    ]
    parent = graph.create_carousel_container(
        IG_USER_ID, children=children, caption="To bilder", collaborators=["sola_bibliotek"]
    )

    # The video item is still processing, so the album is too.
    assert graph.get_container_status(parent).status_code is ContainerStatusCode.IN_PROGRESS
    assert graph.get_container_status(parent).status_code is ContainerStatusCode.FINISHED
    media = graph.get_media(graph.publish(IG_USER_ID, parent))

    assert media.media_type == "CAROUSEL_ALBUM"
    assert media.caption == "To bilder"
    assert graph.content_publishing_limit(IG_USER_ID).quota_usage == 1  # an album is one post


def test_reel_stays_in_progress_for_the_configured_polls_and_is_not_ready_until_finished(
    graph: Client, fake_graph: FakeGraph, media_server: MediaServer
) -> None:
    fake_graph.configure(video_polls=2)
    container_id = graph.create_video_container(
        IG_USER_ID, video_url=media_server.url("reel.mp4"), caption="Reel", share_to_feed=True, thumb_offset=1000
    )

    assert graph.get_container_status(container_id).status_code is ContainerStatusCode.IN_PROGRESS
    with pytest.raises(GraphAPIError) as not_ready:
        graph.publish(IG_USER_ID, container_id)
    assert (not_ready.value.code, not_ready.value.subcode) == (9007, 2207027)
    assert not_ready.value.is_transient
    assert not not_ready.value.permanent
    assert not_ready.value.user_message == "The media is not ready for publishing, please wait for a moment"

    assert graph.get_container_status(container_id).status_code is ContainerStatusCode.IN_PROGRESS
    assert graph.get_container_status(container_id).status_code is ContainerStatusCode.FINISHED
    media = graph.get_media(graph.publish(IG_USER_ID, container_id))
    assert (media.media_type, media.media_product_type) == ("VIDEO", "REELS")
    assert media.permalink == f"https://www.instagram.com/reel/{media.shortcode}/"


@pytest.mark.parametrize(
    ("name", "subcode", "permanent"),
    [
        ("short.mp4", 2207026, True),  # 1 s: reels are 3 s to 15 min
        ("mpeg4.mp4", 2207026, True),  # MPEG-4 Part 2, not H.264 or HEVC
        ("not-a-video.mp4", 2207026, True),
        ("missing.mp4", 2207082, False),  # cannot be fetched: try again with a new container
    ],
)
def test_video_that_instagram_cannot_use_ends_in_an_error_status(
    graph: Client, media_server: MediaServer, name: str, subcode: int, permanent: bool
) -> None:
    container_id = graph.create_video_container(IG_USER_ID, video_url=media_server.url(name))

    status = graph.get_container_status(container_id)

    assert status.status_code is ContainerStatusCode.ERROR
    assert status.error_subcode == subcode
    error = status.as_error()
    assert error is not None
    assert error.permanent is permanent
    assert error.needs_new_container is not permanent
    with pytest.raises(GraphAPIError) as failed:
        graph.publish(IG_USER_ID, container_id)
    assert failed.value.needs_new_container


def test_thumbnail_offset_beyond_the_video_ends_in_an_error_status(graph: Client, media_server: MediaServer) -> None:
    container_id = graph.create_video_container(IG_USER_ID, video_url=media_server.url("reel.mp4"), thumb_offset=9000)

    status = graph.get_container_status(container_id)

    assert status.error_subcode == 2207057
    error = status.as_error()
    assert error is not None
    assert error.permanent


def test_publishing_a_published_container_again_makes_no_second_media(
    graph: Client, fake_graph: FakeGraph, media_server: MediaServer
) -> None:
    container_id = graph.create_image_container(IG_USER_ID, image_url=media_server.url("square.jpg"))
    graph.publish(IG_USER_ID, container_id)

    with pytest.raises(GraphAPIError) as again:
        graph.publish(IG_USER_ID, container_id)

    # Not a reason to make a new container: the caller reads the status and finds it PUBLISHED.
    assert again.value.kind is ErrorKind.TRANSIENT
    assert graph.get_container_status(container_id).status_code is ContainerStatusCode.PUBLISHED
    assert len(fake_graph.media()) == 1
    assert fake_graph.state()["publish_count"] == {IG_USER_ID: 1}


def test_publish_whose_answer_is_lost_is_still_carried_out_once(
    fake_graph: FakeGraph, media_server: MediaServer
) -> None:
    fake_graph.fault("publish", "drop", apply=True)
    with fake_graph.client() as graph:
        container_id = graph.create_image_container(
            IG_USER_ID, image_url=media_server.url("square.jpg"), caption="Once"
        )

        with pytest.raises(GraphAPIError) as lost:
            graph.publish(IG_USER_ID, container_id)

        assert lost.value.is_transient
        assert lost.value.maybe_applied
        # What the worker does before publishing again: ask the container, then find the media.
        assert graph.get_container_status(container_id).status_code is ContainerStatusCode.PUBLISHED
        [recent] = graph.list_media(IG_USER_ID).media
        assert recent.caption == "Once"
    assert len(fake_graph.media()) == 1


def test_container_expires_after_24_hours_and_then_needs_a_new_container(
    graph: Client, fake_graph: FakeGraph, media_server: MediaServer
) -> None:
    container_id = graph.create_image_container(IG_USER_ID, image_url=media_server.url("square.jpg"))
    fake_graph.advance_clock(24 * 3600)

    status = graph.get_container_status(container_id)
    with pytest.raises(GraphAPIError) as expired:
        graph.publish(IG_USER_ID, container_id)

    assert status.status_code is ContainerStatusCode.EXPIRED
    assert status.as_error() is not None
    assert (expired.value.code, expired.value.subcode) == (-2, 2207020)
    assert expired.value.needs_new_container
    assert not expired.value.permanent


def test_publishing_over_the_daily_quota_is_a_rate_limit_until_the_window_moves_on(
    graph: Client, fake_graph: FakeGraph, media_server: MediaServer
) -> None:
    fake_graph.configure(publish_quota=1)
    graph.publish(IG_USER_ID, graph.create_image_container(IG_USER_ID, image_url=media_server.url("square.jpg")))
    fake_graph.advance_clock(12 * 3600)
    second = graph.create_image_container(IG_USER_ID, image_url=media_server.url("square.jpg"))

    with pytest.raises(GraphAPIError) as limited:
        graph.publish(IG_USER_ID, second)

    assert (limited.value.code, limited.value.subcode) == (9, 2207042)
    assert limited.value.is_rate_limit
    assert not limited.value.permanent
    limit = graph.content_publishing_limit(IG_USER_ID)
    assert (limit.quota_usage, limit.quota_total, limit.quota_duration, limit.remaining) == (1, 1, 86400, 0)

    fake_graph.advance_clock(12 * 3600 + 1)  # the first post leaves the moving window; the container is fresh
    graph.publish(IG_USER_ID, second)
    assert len(fake_graph.media()) == 2


def test_containers_beyond_the_daily_cap_are_refused_as_a_rate_limit(
    graph: Client, fake_graph: FakeGraph, media_server: MediaServer
) -> None:
    fake_graph.configure(container_cap=2)
    for _ in range(2):
        graph.create_image_container(IG_USER_ID, image_url=media_server.url("square.jpg"))

    with pytest.raises(GraphAPIError) as capped:
        graph.create_image_container(IG_USER_ID, image_url=media_server.url("square.jpg"))

    assert capped.value.is_rate_limit


def test_fake_keeps_its_state_across_a_restart_with_a_state_file(tmp_path: Path, media_server: MediaServer) -> None:
    state_file = tmp_path / "fake_graph.json"
    with run_fake_graph(state_file=state_file) as first:
        fake = FakeGraph(first.url)
        with fake.client() as graph:
            container_id = graph.create_image_container(IG_USER_ID, image_url=media_server.url("square.jpg"))
            media_id = graph.publish(IG_USER_ID, container_id)

    with run_fake_graph(state_file=state_file) as second:
        fake = FakeGraph(second.url)
        with fake.client() as graph:
            assert graph.get_container_status(container_id).status_code is ContainerStatusCode.PUBLISHED
            assert graph.get_media(media_id).id == media_id
            with pytest.raises(GraphAPIError):
                graph.publish(IG_USER_ID, container_id)
            fresh = graph.create_image_container(IG_USER_ID, image_url=media_server.url("square.jpg"))
        assert fresh not in {container_id, media_id}
        assert fake.state()["publish_count"] == {IG_USER_ID: 1}
