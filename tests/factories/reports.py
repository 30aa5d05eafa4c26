"""Known data for outcomes and the monthly report: published posts, insights readings, followers, comments, reuse."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from libraries.models import County, Library, User
from production.models import Asset
from publishing.models import (
    AccountSnapshot,
    ArchiveItem,
    ArchiveReuse,
    Channel,
    InsightSnapshot,
    InstagramComment,
    Outcome,
    Post,
)
from tests.factories.publishing import make_asset, make_post

OSLO = ZoneInfo("Europe/Oslo")
_ids = itertools.count(1)


def oslo(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    """A moment given in Norwegian time (the report's months are Norwegian months)."""
    return datetime(year, month, day, hour, minute, tzinfo=OSLO)


def published_post(
    *,
    county: County,
    author: User,
    title: str,
    at: datetime,
    collaborators: list[Library] | None = None,
    assets: list[Asset] | None = None,
    **fields: object,
) -> Post:
    """A post as the worker leaves it once published: media id, permalink, the time it went out."""
    n = next(_ids)
    fields.setdefault("status", Post.Status.PUBLISHED)
    return make_post(
        county=county,
        author=author,
        title=title,
        collaborators=collaborators,
        assets=assets,
        scheduled_at=at,
        published_at=at,
        media_id=f"1790000000000{n:04d}",
        permalink=f"https://www.instagram.com/p/TEST{n}/",
        publish_step=Post.Step.NOTIFIED,
        **fields,
    )


def reading(
    post: Post,
    *,
    at: datetime,
    round: str = InsightSnapshot.Round.WEEK,
    reach: int | None = None,
    views: int | None = None,
    likes: int | None = None,
    comments: int | None = None,
    saved: int | None = None,
    shares: int | None = None,
    total_interactions: int | None = None,
) -> InsightSnapshot:
    return InsightSnapshot.objects.create(
        post=post,
        round=round,
        taken_at=at,
        reach=reach,
        views=views,
        likes=likes,
        comments=comments,
        saved=saved,
        shares=shares,
        total_interactions=total_interactions,
    )


def followers(channel: Channel, day: date, count: int) -> AccountSnapshot:
    return AccountSnapshot.objects.create(channel=channel, day=day, followers_count=count)


def comment(
    post: Post,
    *,
    at: datetime,
    replied_after_minutes: int | None = None,
    status: str | None = None,
    parent: InstagramComment | None = None,
    from_account: bool = False,
    text: str = "Så fint!",
) -> InstagramComment:
    """A follower's comment (or, with `from_account`, the account's reply); replied when given the minutes."""
    replied = replied_after_minutes is not None
    if status is None:
        status = InstagramComment.Status.REPLIED if replied else InstagramComment.Status.UNANSWERED
    if from_account or parent is not None:
        status = InstagramComment.Status.NOT_NEEDED
    return InstagramComment.objects.create(
        county=post.county,
        post=post,
        comment_id=f"c{next(_ids)}",
        parent=parent,
        username="county_account" if from_account else f"leser{next(_ids)}",
        text=text,
        commented_at=at,
        from_account=from_account,
        status=status,
        first_reply_at=at + timedelta(minutes=replied_after_minutes) if replied_after_minutes is not None else None,
    )


def outcome(
    post: Post,
    *,
    library: Library | None,
    kind: str,
    on: date,
    quantity: int | None = None,
    note: str = "",
    by: User | None = None,
) -> Outcome:
    return Outcome.objects.create(
        post=post, library=library, kind=kind, quantity=quantity, note=note, happened_on=on, logged_by=by
    )


def archive_item(
    *, county: County, library: Library, title: str, post: Post | None = None, reuse_count: int = 0
) -> ArchiveItem:
    item = ArchiveItem.objects.create(
        county=county,
        asset=make_asset(county=county, library=library, title=title),
        post=post,
        title=title,
        reuse_count=reuse_count,
    )
    item.libraries.add(library)
    return item


def reuse(item: ArchiveItem, post: Post, *, at: datetime, by: User | None = None) -> ArchiveReuse:
    return ArchiveReuse.objects.create(item=item, post=post, at=at, by=by)
