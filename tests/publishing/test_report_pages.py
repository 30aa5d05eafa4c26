"""The monthly report's pages: who sees which report, the page and its charts, the print version, the CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from publishing.followup.reports import Month
from publishing.models import InsightSnapshot, Outcome, Post
from publishing.views.reports import csv_cell
from tests.conftest import World
from tests.factories.libraries import LibraryFactory
from tests.factories.publishing import ChannelFactory
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

REPORT = reverse("publishing:report")


def march_url(**query: object) -> str:
    params = "&".join(f"{key}={value}" for key, value in {"month": "2026-03", **query}.items())
    return f"{REPORT}?{params}"


@pytest.fixture
def month_of_posts(world: World) -> None:
    post = published_post(
        county=world.county, author=world.editor, title="Påskekrim", at=oslo(2026, 3, 10), collaborators=[world.library]
    )
    reading(post, at=oslo(2026, 3, 17), reach=400, views=900, likes=30, comments=5, saved=3, shares=2)
    published_post(county=world.county, author=world.editor, title="Uten tall", at=oslo(2026, 3, 12))
    channel = ChannelFactory(county=world.county)
    followers(channel, date(2026, 3, 1), 1010)
    followers(channel, date(2026, 3, 31), 1075)
    outcome(
        post,
        library=world.library,
        kind=Outcome.Kind.LOANS,
        on=date(2026, 3, 12),
        quantity=12,
        note="Alle ville ha boka",
    )


# --- Who sees what ---


def test_everyone_in_the_county_sees_the_county_report(
    month_of_posts: None, coordinator_client: Client, editor_client: Client, librarian_client: Client
) -> None:
    for client in (coordinator_client, editor_client, librarian_client):
        response = client.get(march_url())
        assert response.status_code == 200
        assert "Påskekrim" in response.text


def test_librarians_see_their_own_librarys_report_but_not_anothers(
    world: World, month_of_posts: None, librarian_client: Client
) -> None:
    own = librarian_client.get(march_url(library=world.library.pk))
    assert own.status_code == 200
    assert own.context["report"].library == world.library
    # The library choice offers only their own library.
    assert own.context["library_choices"] == [world.library]

    assert librarian_client.get(march_url(library=world.other_library.pk)).status_code == 403


def test_editors_see_every_librarys_report(world: World, month_of_posts: None, editor_client: Client) -> None:
    response = editor_client.get(march_url(library=world.other_library.pk))
    assert response.status_code == 200
    assert set(response.context["library_choices"]) == {world.library, world.other_library}


def test_another_countys_library_does_not_exist(
    world: World, outsider_client: Client, librarian_client: Client
) -> None:
    foreign = LibraryFactory(county=world.other_county)
    assert librarian_client.get(march_url(library=foreign.pk)).status_code == 404
    assert outsider_client.get(march_url(library=world.library.pk)).status_code == 404
    assert outsider_client.get(march_url(library=world.library.pk, format="csv")).status_code == 404


def test_the_outsider_sees_only_their_own_countys_figures(
    world: World, month_of_posts: None, outsider_client: Client
) -> None:
    response = outsider_client.get(march_url())
    assert response.status_code == 200
    assert response.context["report"].county == world.other_county
    assert "Påskekrim" not in response.text


def test_the_report_needs_a_login() -> None:
    response = Client().get(REPORT)
    assert response.status_code == 302
    assert "/login" in response["Location"] or "/accounts/" in response["Location"]


# --- The page ---


def test_the_default_is_last_month_with_navigation_to_neighbours(librarian_client: Client) -> None:
    response = librarian_client.get(REPORT)
    last = Month.last()
    assert response.context["month"] == last
    assert f"?month={last.previous.key}" in response.text
    assert f"?month={last.following.key}" in response.text  # this month, not yet over
    # No link beyond this month.
    this_month = librarian_client.get(f"{REPORT}?month={last.following.key}")
    assert this_month.context["following"] is None


def test_a_month_that_is_not_one_falls_back_to_last_month_and_says_so(librarian_client: Client) -> None:
    response = librarian_client.get(f"{REPORT}?month=mars")
    assert response.status_code == 200
    assert response.context["month"] == Month.last()
    assert "“mars” is not a month" in response.text


def test_the_page_shows_figures_charts_with_names_and_data_tables(
    world: World, month_of_posts: None, coordinator_client: Client
) -> None:
    reused = archive_item(county=world.county, library=world.library, title="Pappatreff", reuse_count=3)
    reuse(reused, Post.objects.get(title="Påskekrim"), at=oslo(2026, 3, 10))
    response = coordinator_client.get(march_url())
    page = response.text

    assert "650" not in page  # only one post has insights: 400
    assert "400" in page
    assert "(1 post without data)" in page
    assert "1 post has no insights from Instagram yet." in page
    # Each chart is an image with an accessible name, and its figures are in a table.
    charts = re.findall(r'<svg class="chart[^"]*"[^>]*role="img"[^>]*aria-labelledby="([^"]+)"', page)
    assert set(charts) == {"chart-libraries-title", "chart-posts-title", "chart-followers-title"}
    for label in charts:
        assert f'<title id="{label}">' in page
    assert "Posts, co-hosted posts and their figures per library" in page
    assert "Followers day by day" in page
    # No inline styles (the Content Security Policy forbids them).
    assert "style=" not in page
    # SVG coordinates are never localised ("12,5" would break the drawing).
    assert not re.search(r'(?:x|y|width|height|cx|cy)="\d+,\d', page)
    assert "Alle ville ha boka" in page
    assert 'href="https://www.instagram.com/p/TEST' in page
    assert f'<a href="{reverse("publishing:archive_item", args=[reused.pk])}">Pappatreff</a>' in page
    # Only coordinators send.
    assert reverse("publishing:report_send") in page


def test_only_coordinators_are_offered_sending(month_of_posts: None, editor_client: Client) -> None:
    assert reverse("publishing:report_send") not in editor_client.get(march_url()).text


def test_a_month_without_anything_says_so(librarian_client: Client) -> None:
    page = librarian_client.get(f"{REPORT}?month=2025-01").text
    assert "Nothing was published this month." in page
    assert "was not read this month" in page
    assert "No outcomes were logged for this month." in page


def test_the_report_page_reads_a_constant_number_of_queries(world: World, coordinator_client: Client) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert coordinator_client.get(march_url()).status_code == 200
        return len(queries)

    few = count()
    for day in range(1, 25):
        post = published_post(
            county=world.county,
            author=world.editor,
            title=f"Innlegg {day}",
            at=oslo(2026, 3, day),
            collaborators=[LibraryFactory(county=world.county)],
        )
        reading(post, at=oslo(2026, 3, day, 20), round=InsightSnapshot.Round.DAY, reach=day * 10, likes=day)
        comment(post, at=oslo(2026, 3, day, 14), replied_after_minutes=day)
        outcome(post, library=world.library, kind=Outcome.Kind.LOANS, on=date(2026, 3, day), quantity=day, note="Lån")
    many = count()
    # The user (the session is in Redis), their memberships (the county) with the two-factor check and the
    # report's 7 (named in publishing.followup.reports.build_report; whether the county shares anything with
    # the network is one; the libraries to choose from are the report's member libraries).
    assert few == many == 9


# --- The print version ---


def test_print_version_renders_the_same_report_without_forms(month_of_posts: None, librarian_client: Client) -> None:
    response = librarian_client.get(reverse("publishing:report_print") + "?month=2026-03")
    assert response.status_code == 200
    page = response.text
    assert "Monthly report from Rogaland" in page
    assert "Påskekrim" in page
    assert "data-print" in page
    assert 'name="library"' not in page  # no filters
    assert '<svg class="chart' in page


# --- The CSV export ---


def read_csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")  # Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


def test_csv_has_the_same_figures(world: World, month_of_posts: None, librarian_client: Client) -> None:
    response = librarian_client.get(march_url(format="csv"))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="innspill-rogaland-2026-03.csv"'
    rows = read_csv(response)
    assert rows[0] == ["Monthly report", "Rogaland", "2026-03"]
    assert ["Posts published", "2", ""] in rows
    assert ["Reach", "400", "1"] in rows
    assert ["Engagement", "40", "1"] in rows
    assert ["Change in followers", "65", ""] in rows
    assert ["Sandnes bibliotek", "1", "1", "400", "40", "1"] in rows
    assert ["Sola bibliotek", "0", "0", "", "", "0"] in rows  # no figures: empty, not 0
    assert ["2026-03-12", "Loans", "12", "Sandnes bibliotek", "Påskekrim", "Alle ville ha boka"] in rows
    post_rows = [row for row in rows if row[1:2] == ["Uten tall"]]
    assert post_rows == [["2026-03-12 12:00", "Uten tall", "", "", "", post_rows[0][5]]]


def test_csv_of_a_library_is_named_after_it(world: World, month_of_posts: None, librarian_client: Client) -> None:
    response = librarian_client.get(march_url(library=world.library.pk, format="csv"))
    assert response["Content-Disposition"] == 'attachment; filename="innspill-sandnes-bibliotek-2026-03.csv"'
    assert read_csv(response)[0] == ["Monthly report", "Sandnes bibliotek", "2026-03"]


def test_csv_cannot_smuggle_formulas_into_a_spreadsheet(world: World, librarian_client: Client) -> None:
    titles = ['=HYPERLINK("http://evil.example","klikk")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "Trygg; med semikolon"]
    for day, title in enumerate(titles, start=1):
        published_post(county=world.county, author=world.editor, title=title, at=oslo(2026, 3, day))
    channel = ChannelFactory(county=world.county)
    followers(channel, date(2026, 3, 1), 100)
    followers(channel, date(2026, 3, 31), 95)

    rows = read_csv(librarian_client.get(march_url(format="csv")))

    written = {row[1] for row in rows if row[:1] and row[0].startswith("2026-03-")}
    assert written == {
        '\'=HYPERLINK("http://evil.example","klikk")',
        "'+1+1",
        "'-2+3",
        "'@SUM(A1)",
        "'\tTab",
        "Trygg; med semikolon",  # quoted by the writer, read back whole
    }
    # A number stays a number, even a negative one.
    assert ["Change in followers", "-5", ""] in rows


def test_csv_cell_leaves_numbers_and_plain_text_alone() -> None:
    assert csv_cell(-5) == -5
    assert csv_cell("Sandnes") == "Sandnes"
    assert csv_cell("=1") == "'=1"


def test_csv_file_name_spells_norwegian_letters_out(world: World, editor_client: Client) -> None:
    karmoy = LibraryFactory(county=world.county, name="Karmøy og Hå bibliotek")
    response = editor_client.get(march_url(library=karmoy.pk, format="csv"))
    assert response["Content-Disposition"] == 'attachment; filename="innspill-karmoy-og-haa-bibliotek-2026-03.csv"'
