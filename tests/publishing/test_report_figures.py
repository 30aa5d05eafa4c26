"""The monthly report's figures equal known data: per county and library, Norwegian months, missing insights.

March 2026 is the month: Norway moves to summer time on the 29th, so the
month starts at 23:00 UTC on 28 February and ends at 22:00 UTC on 31 March.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from libraries.models import Library
from publishing.followup import reports
from publishing.followup.reports import Month, Total
from publishing.models import ArchiveItem, InsightSnapshot, Outcome, Post
from publishing.posts import services
from tests.conftest import World
from tests.factories.libraries import LibraryFactory
from tests.factories.production import IdeaFactory
from tests.factories.publishing import ChannelFactory, make_asset
from tests.factories.reports import (
    archive_item,
    comment,
    followers,
    oslo,
    outcome,
    published_post,
    reading,
    reuse,
)

pytestmark = pytest.mark.django_db

MARCH = Month(date(2026, 3, 1))
Kind = Outcome.Kind


@dataclass
class March:
    a: Post  # 10 March, Sandnes as collaborator and in its media; insights read twice
    b: Post  # 00:30 on 1 March (23:30 UTC in February); Sola's media; a four-week reading without views
    c: Post  # 23:59 on 31 March; Sandnes's idea; no insights yet
    before: Post  # 23:30 on 28 February: not in March
    after: Post  # 00:00 on 1 April: not in March
    sandnes_item: ArchiveItem
    sola_item: ArchiveItem


@pytest.fixture
def march(world: World) -> March:
    county, sandnes, sola = world.county, world.library, world.other_library
    author = world.editor

    a = published_post(
        county=county,
        author=author,
        title="Påskekrim",
        at=oslo(2026, 3, 10, 12),
        collaborators=[sandnes],
        assets=[make_asset(county=county, library=sandnes)],
    )
    b = published_post(
        county=county,
        author=author,
        title="Lesestund",
        at=oslo(2026, 3, 1, 0, 30),
        assets=[make_asset(county=county, library=sola)],
    )
    c = published_post(
        county=county,
        author=author,
        title="Sommerles",
        at=oslo(2026, 3, 31, 23, 59),
        idea=IdeaFactory(library=sandnes, submitted_by=world.librarian),
    )
    before = published_post(
        county=county, author=author, title="Februar", at=oslo(2026, 2, 28, 23, 30), collaborators=[sandnes]
    )
    after = published_post(county=county, author=author, title="April", at=oslo(2026, 4, 1, 0, 0), collaborators=[sola])
    # Not the report's: a post still scheduled in March, and another county's post.
    published_post(county=county, author=author, title="Planlagt", at=oslo(2026, 3, 15), status=Post.Status.SCHEDULED)
    foreign_library = LibraryFactory(county=world.other_county)
    published_post(
        county=world.other_county,
        author=world.outsider,
        title="Agder",
        at=oslo(2026, 3, 15),
        collaborators=[foreign_library],
    )

    # Lifetime figures: the latest reading counts (a's week reading, not its day reading).
    reading(a, at=oslo(2026, 3, 11, 12), round=InsightSnapshot.Round.DAY, reach=100, likes=10, comments=1)
    reading(a, at=oslo(2026, 3, 17, 12), reach=400, views=900, likes=30, comments=5, saved=3, shares=2)
    reading(b, at=oslo(2026, 3, 29, 1), round=InsightSnapshot.Round.MONTH, reach=250, total_interactions=70)
    reading(before, at=oslo(2026, 3, 7), reach=10_000, total_interactions=5_000)
    reading(after, at=oslo(2026, 4, 2), reach=10_000, total_interactions=5_000)

    channel = ChannelFactory(county=county)
    for day, count in [(date(2026, 2, 27), 1000), (date(2026, 3, 1), 1010), (date(2026, 3, 15), 1040)]:
        followers(channel, day, count)
    followers(channel, date(2026, 3, 31), 1075)
    followers(channel, date(2026, 4, 1), 1080)

    first = comment(a, at=oslo(2026, 3, 10, 13), replied_after_minutes=30)
    comment(a, at=oslo(2026, 3, 10, 13, 30), parent=first, from_account=True)  # the reply itself
    comment(a, at=oslo(2026, 3, 11, 9), replied_after_minutes=90)
    comment(b, at=oslo(2026, 3, 2, 9), replied_after_minutes=10)
    comment(b, at=oslo(2026, 3, 20, 9))  # still unanswered
    comment(c, at=oslo(2026, 3, 31, 23, 30), status="handled")
    comment(before, at=oslo(2026, 2, 28, 23, 30))  # February's
    comment(after, at=oslo(2026, 4, 1, 0, 10))  # April's

    librarian = world.librarian
    outcome(a, library=sandnes, kind=Kind.LOANS, on=date(2026, 3, 12), quantity=12, by=librarian)
    outcome(a, library=sandnes, kind=Kind.LOANS, on=date(2026, 3, 20), quantity=5, note="Fem reserverte boka")
    outcome(b, library=sola, kind=Kind.ATTENDANCE, on=date(2026, 3, 5), quantity=30)
    outcome(b, library=sola, kind=Kind.OTHER, on=date(2026, 3, 31), note="Rektor ringte")
    outcome(before, library=sandnes, kind=Kind.SIGNUPS, on=date(2026, 3, 1), quantity=4)  # an older post, in March
    outcome(a, library=sandnes, kind=Kind.LOANS, on=date(2026, 2, 28), quantity=100)  # February's
    outcome(a, library=sandnes, kind=Kind.LOANS, on=date(2026, 4, 1), quantity=100)  # April's

    sandnes_item = archive_item(county=county, library=sandnes, title="Pappatreff", post=before, reuse_count=5)
    sola_item = archive_item(county=county, library=sola, title="Lesesal", post=before, reuse_count=2)
    reuse(sandnes_item, b, at=oslo(2026, 3, 1, 0, 30))
    reuse(sandnes_item, c, at=oslo(2026, 3, 31, 23, 59))
    reuse(sola_item, a, at=oslo(2026, 3, 10, 12))
    reuse(sola_item, after, at=oslo(2026, 4, 1, 0, 0))  # April's
    return March(a=a, b=b, c=c, before=before, after=after, sandnes_item=sandnes_item, sola_item=sola_item)


def test_month_boundaries_are_norwegian_midnights_across_summer_time() -> None:
    assert MARCH.start.isoformat() == "2026-03-01T00:00:00+01:00"
    assert MARCH.end.isoformat() == "2026-04-01T00:00:00+02:00"
    assert MARCH.start.astimezone(UTC) == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    assert MARCH.end.astimezone(UTC) == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
    assert Month.parse("2026-03") == MARCH
    assert [Month.parse(bad) for bad in ("", "2026", "2026-13", "march", "1999-01")] == [None] * 5
    assert Month.last(date(2026, 1, 15)) == Month(date(2025, 12, 1))


def test_county_report_equals_the_known_data(world: World, march: March) -> None:
    report = reports.build_report(county=world.county, month=MARCH)

    assert [f.post for f in report.posts] == [march.c, march.a, march.b]  # newest first
    assert report.posts_published == 3
    assert report.posts_without_insights == 1
    assert report.reach == Total(value=650, missing=1)
    assert report.views == Total(value=900, missing=2)
    assert report.engagement == Total(value=110, missing=1)  # a: 30+5+3+2; b: Instagram's 70
    assert [(f.post, f.engagement) for f in report.top_posts] == [(march.b, 70), (march.a, 40)]

    rows = {row.library: row for row in report.libraries}
    assert set(rows) == {world.library, world.other_library}  # members only, not the county library
    sandnes, sola = rows[world.library], rows[world.other_library]
    assert (sandnes.posts, sandnes.as_collaborator, sandnes.reach, sandnes.engagement, sandnes.outcomes) == (
        2,
        1,
        Total(400, 1),
        Total(40, 1),
        3,
    )
    assert (sola.posts, sola.as_collaborator, sola.reach, sola.engagement, sola.outcomes) == (
        1,
        0,
        Total(250, 0),
        Total(70, 0),
        2,
    )

    assert (report.followers.start, report.followers.start_day) == (1010, date(2026, 3, 1))
    assert (report.followers.end, report.followers.end_day) == (1075, date(2026, 3, 31))
    assert report.followers.change == 65
    assert [day for day, _count in report.followers.days] == [date(2026, 3, 1), date(2026, 3, 15), date(2026, 3, 31)]

    replies = report.replies
    assert (replies.comments, replies.replied, replies.handled, replies.unanswered) == (5, 3, 1, 1)
    assert replies.median_seconds == 30 * 60  # of 10, 30 and 90 minutes
    assert replies.median_text == "30 min"

    assert [(o.kind, len(o.entries), o.quantity) for o in report.outcomes] == [
        (Kind.LOANS, 2, 17),
        (Kind.ATTENDANCE, 1, 30),
        (Kind.SIGNUPS, 1, 4),
        (Kind.OTHER, 1, None),
    ]
    assert [entry.note for o in report.outcomes for entry in o.notes] == ["Fem reserverte boka", "Rektor ringte"]
    assert report.outcome_entries == 5

    assert (report.reuses, report.items_reused) == (3, 2)
    assert [(item.title, item.times, item.total) for item in report.most_reused] == [
        ("Pappatreff", 2, 5),
        ("Lesesal", 1, 2),
    ]


def test_library_report_counts_only_what_the_library_took_part_in(world: World, march: March) -> None:
    report = reports.build_report(county=world.county, month=MARCH, library=world.library)

    assert [f.post for f in report.posts] == [march.c, march.a]
    assert (report.reach, report.engagement) == (Total(400, 1), Total(40, 1))
    assert [(row.library, row.posts, row.as_collaborator, row.outcomes) for row in report.libraries] == [
        (world.library, 2, 1, 3)
    ]
    # Comments on the library's posts (a and c; the February post's comment is February's).
    replies = report.replies
    assert (replies.comments, replies.replied, replies.handled, replies.unanswered) == (3, 2, 1, 0)
    assert replies.median_seconds == 60 * 60  # of 30 and 90 minutes
    assert [(o.kind, o.quantity) for o in report.outcomes] == [(Kind.LOANS, 17), (Kind.SIGNUPS, 4)]
    assert (report.reuses, report.items_reused) == (2, 1)
    assert [item.title for item in report.most_reused] == ["Pappatreff"]
    # The followers are the county account's.
    assert report.followers.change == 65

    sola = reports.build_report(county=world.county, month=MARCH, library=world.other_library)
    assert [f.post for f in sola.posts] == [march.b]
    assert (sola.replies.comments, sola.replies.unanswered, sola.replies.median_seconds) == (2, 1, 600)


def test_a_library_takes_part_in_a_post_each_way_and_counts_it_once(world: World) -> None:
    """As a collaborator, with its media, with its idea or named by another library's idea; a post it takes part
    in several ways is one post in its report."""
    county, sandnes, sola = world.county, world.library, world.other_library
    named = IdeaFactory(library=sola, submitted_by=world.librarian)
    named.libraries.add(sandnes)
    every_way = IdeaFactory(library=sandnes, submitted_by=world.librarian)
    every_way.libraries.add(sandnes, sola)
    posts = {
        "collaborator": published_post(
            county=county, author=world.editor, title="Samarbeid", at=oslo(2026, 3, 2), collaborators=[sandnes]
        ),
        "media": published_post(
            county=county,
            author=world.editor,
            title="Bilder",
            at=oslo(2026, 3, 3),
            assets=[make_asset(county=county, library=sandnes), make_asset(county=county, library=sandnes)],
        ),
        "named": published_post(county=county, author=world.editor, title="Nevnt", at=oslo(2026, 3, 4), idea=named),
        "every way": published_post(
            county=county,
            author=world.editor,
            title="Alt",
            at=oslo(2026, 3, 5),
            idea=every_way,
            collaborators=[sandnes, sola],
            assets=[make_asset(county=county, library=sandnes)],
        ),
    }
    published_post(  # Sola's alone
        county=county,
        author=world.editor,
        title="Sola",
        at=oslo(2026, 3, 6),
        collaborators=[sola],
        assets=[make_asset(county=county, library=sola)],
    )

    report = reports.build_report(county=county, month=MARCH, library=sandnes)

    assert [f.post.title for f in report.posts] == ["Alt", "Nevnt", "Bilder", "Samarbeid"]
    assert sorted(Post.objects.of_library(sandnes).values_list("title", flat=True)) == sorted(
        post.title for post in posts.values()
    )
    assert report.libraries[0].as_collaborator == 2


def test_a_month_without_insights_says_so_rather_than_zero(world: World) -> None:
    published_post(county=world.county, author=world.editor, title="Ny", at=oslo(2026, 3, 3))

    report = reports.build_report(county=world.county, month=MARCH)

    assert report.posts_published == 1
    assert report.reach == Total(value=None, missing=1)
    assert report.engagement == Total(value=None, missing=1)
    assert report.top_posts == []
    assert report.replies.median_seconds is None
    assert (report.followers.start, report.followers.end, report.followers.change) == (None, None, None)


def test_followers_at_the_start_come_from_the_last_reading_before_the_month(world: World) -> None:
    channel = ChannelFactory(county=world.county)
    followers(channel, date(2026, 2, 22), 900)  # more than a week before: not used
    followers(channel, date(2026, 2, 26), 950)
    followers(channel, date(2026, 3, 20), 940)

    report = reports.build_report(county=world.county, month=MARCH)

    assert (report.followers.start, report.followers.start_day, report.followers.end) == (950, date(2026, 2, 26), 940)
    assert report.followers.change == -10


def test_a_channel_connected_during_the_month_starts_at_its_first_reading(world: World) -> None:
    channel = ChannelFactory(county=world.county)
    followers(channel, date(2026, 3, 10), 300)
    followers(channel, date(2026, 3, 31), 320)

    report = reports.build_report(county=world.county, month=MARCH)

    assert (report.followers.start, report.followers.start_day, report.followers.change) == (300, date(2026, 3, 10), 20)


def test_involvement_in_bulk_agrees_with_the_post_by_post_rule(world: World, march: March) -> None:
    posts = Post.objects.filter(pk__in=[march.a.pk, march.b.pk, march.c.pk, march.before.pk])
    involved, _collaborating = reports.involvement(posts)
    members = set(Library.objects.members().values_list("pk", flat=True))
    for post in posts:
        in_bulk = {
            library_id for library_id, post_ids in involved.items() if post.pk in post_ids and library_id in members
        }
        assert in_bulk == {library.pk for library in services.involved_libraries(post)}, post.title


def test_the_report_reads_a_fixed_number_of_queries(world: World, march: March) -> None:
    with CaptureQueriesContext(connection) as small:
        reports.build_report(county=world.county, month=MARCH)
    for day in range(2, 20):
        post = published_post(
            county=world.county,
            author=world.editor,
            title=f"Mer {day}",
            at=oslo(2026, 3, day),
            collaborators=[LibraryFactory(county=world.county)],
        )
        reading(post, at=oslo(2026, 3, day, 18), reach=day, likes=day)
        comment(post, at=oslo(2026, 3, day, 13), replied_after_minutes=day)
        outcome(post, library=world.library, kind=Kind.VISITS, on=date(2026, 3, day), quantity=1)
    with CaptureQueriesContext(connection) as large:
        report = reports.build_report(county=world.county, month=MARCH)
    assert report.posts_published == 21
    # The posts with their latest readings and the libraries taking part, the outcomes, the member libraries,
    # the followers, the comments' counts and median, the items reused, and whether the county shares anything
    # with the network (it does not: no shared reach to read).
    assert len(small) == len(large) == 7
    with CaptureQueriesContext(connection) as library:
        reports.build_report(county=world.county, month=MARCH, library=world.library)
    assert len(library) == 6  # the same without the shared reach
