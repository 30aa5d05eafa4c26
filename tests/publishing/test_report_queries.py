"""The monthly report costs the same few queries for a month of one post as for a busy month, for everyone who
may see it, on the page and in its print version.

bench/pages.py measures the report at scale 1 and 5; these tests keep the count from creeping up between
benchmark runs (issue 18: SQL queries per page equal at every scale, and at most 8 on every page).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from publishing.archive import network
from publishing.models import Channel, InsightSnapshot, Outcome
from tests.conftest import World, client_for
from tests.factories.libraries import LibraryFactory
from tests.factories.network import Network, county_access, shared_item
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

# The user (the session is in Redis; their county access is kept in the cache, libraries.access) and the
# report's 7 (publishing.followup.reports.build_report): the month's posts with their latest readings and the
# libraries taking part, the outcomes, the member libraries (the libraries to choose from too), the items
# reused, the shared reach (for a county outside the network: whether it ever shared; a library's report has
# none), the followers, and the comments' counts with the median time to a reply. The benchmark's figure
# before was 15.
REPORT_QUERIES = 8


def a_month_of(world: World, channel: Channel, days: Iterable[int]) -> None:
    """A post on each of the days of March 2026 with all the report reads: collaborators, media, an idea naming
    another library, two insights readings, comments (answered, replied to by the account, waiting),
    outcomes, reuses from the archive, and the account's followers that day."""
    often = archive_item(county=world.county, library=world.library, title="Pappatreff", reuse_count=40)
    for day in days:
        idea = IdeaFactory(library=world.library, submitted_by=world.librarian)
        idea.libraries.add(world.other_library)
        post = published_post(
            county=world.county,
            author=world.editor,
            title=f"Innlegg {day}",
            at=oslo(2026, 3, day),
            collaborators=[world.library, LibraryFactory(county=world.county)],
            assets=[make_asset(county=world.county, library=world.other_library)],
            idea=idea,
        )
        reading(post, at=oslo(2026, 3, day, 20), round=InsightSnapshot.Round.DAY, reach=day, likes=day)
        reading(post, at=oslo(2026, 3, day, 22), reach=day * 10, views=day * 20, likes=day * 2, comments=2)
        answered = comment(post, at=oslo(2026, 3, day, 14), replied_after_minutes=day)
        comment(post, at=oslo(2026, 3, day, 15), parent=answered, from_account=True)
        comment(post, at=oslo(2026, 3, day, 16))
        outcome(post, library=world.library, kind=Outcome.Kind.LOANS, on=date(2026, 3, day), quantity=day)
        outcome(post, library=world.other_library, kind=Outcome.Kind.OTHER, on=date(2026, 3, day), note="Avisa")
        reuse(often, post, at=oslo(2026, 3, day, 12))
        once = archive_item(county=world.county, library=world.other_library, title=f"Element {day}")
        reuse(once, post, at=oslo(2026, 3, day, 13))
        followers(channel, date(2026, 3, day), 1000 + day)


@pytest.mark.parametrize("view", ["publishing:report", "publishing:report_print"])
@pytest.mark.parametrize(
    ("role", "own_library"),
    [("coordinator", False), ("coordinator", True), ("editor", False), ("librarian", False), ("librarian", True)],
)
def test_the_report_costs_the_same_few_queries_for_one_post_or_a_busy_month(
    world: World,
    view: str,
    role: str,
    own_library: bool,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    client = client_for(getattr(world, role))
    url = reverse(view) + "?month=2026-03" + (f"&library={world.library.pk}" if own_library else "")
    channel = ChannelFactory(county=world.county)
    a_month_of(world, channel, [10])
    client.get(url)  # the user's county access kept in the cache, as after their first page
    with django_assert_max_num_queries(REPORT_QUERIES) as one:
        page = client.get(url)
    assert "Innlegg 10" in page.text
    few = len(one.captured_queries)  # read now: the next request resets the connection's query log
    a_month_of(world, channel, range(11, 29))
    client.get(url)  # new libraries: the county accesses are read again, then kept
    with django_assert_num_queries(few):
        page = client.get(url)
    assert "Innlegg 28" in page.text


def test_the_report_costs_the_same_when_the_countys_shared_items_travelled(
    net: Network,
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    """The shared reach reads the posts made elsewhere with their reach: none or many, the same queries."""
    w = net.world
    client = client_for(w.coordinator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    url = reverse("publishing:report") + "?month=2026-03"
    a_month_of(w, ChannelFactory(county=w.county), [10])
    client.get(url)
    with CaptureQueriesContext(connection) as nothing_travelled:
        page = client.get(url)
    assert "No post in other counties from your shared items this month" in page.text
    few = len(nothing_travelled)
    assert few <= REPORT_QUERIES

    shared = shared_item(net)
    agder_copy = network.borrow(
        by=net.agder_editor, access=county_access(net.agder_editor, w.other_county), shared=shared
    )
    for day in (11, 12, 13):
        post = published_post(
            county=w.other_county, author=net.agder_editor, title=f"Agder {day}", at=oslo(2026, 3, day),
            assets=[agder_copy.asset],
        )  # fmt: skip
        reading(post, at=oslo(2026, 3, day, 20), reach=100)
    client.get(url)
    with django_assert_num_queries(few):
        page = client.get(url)
    assert "3 posts in one other county from your shared items" in page.text
