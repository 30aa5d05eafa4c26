"""The archive's search: relevance, typos, languages, filters and facets, consent, access, query counts."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from production.models import Asset, ContentType
from publishing.archive.search import FACETS_WORK_MEM, ArchiveFilters, ArchiveSearch
from publishing.models import ArchiveItem
from tests.conftest import World
from tests.factories.archive import (
    CONSENT_EXPIRED,
    CONSENT_MISSING,
    CONSENT_NO_REUSE,
    CONSENT_WITHDRAWN,
    archived_item,
)
from tests.factories.production import ConceptFactory

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
ARCHIVE = reverse("publishing:archive")


def titles(client: Client, **params: str) -> list[str]:
    response = client.get(ARCHIVE, params)
    assert response.status_code == 200
    return [str(item) for item, _libraries in response.context["cards"]]


def search(world: World, q: str = "", *, language: str = "nb", **filters: object) -> list[str]:
    items = ArchiveItem.objects.for_county(world.county)
    found = ArchiveSearch(items, ArchiveFilters(q=q, **filters), county=world.county, language=language)  # type: ignore[arg-type]
    return [str(item) for item in found.results()]


# --- Relevance ---


def test_the_plural_boker_finds_an_item_about_a_bok(world: World) -> None:
    archived_item(world, title="Ukas bok", caption="En roman for regnværsdager.")
    archived_item(world, title="Lesekroken", caption="Nye stoler.")
    assert search(world, "bøker") == ["Ukas bok"]
    assert search(world, "bok") == ["Ukas bok"]


def test_norwegian_stemming_finds_inflected_forms(world: World) -> None:
    archived_item(world, title="Strikkekafé", caption="Vi strikker sammen hver tirsdag i biblioteket.")
    archived_item(world, title="Lesesirkel", caption="Vi leser sammen.")
    assert search(world, "strikke") == ["Strikkekafé"]
    assert search(world, "tirsdagen") == ["Strikkekafé"]


def test_a_misspelt_word_still_finds_the_item(world: World, client: Client) -> None:
    archived_item(world, title="Pappatreff", caption="Strikking og kaffe for fedre på lørdag.")
    archived_item(world, title="Eventyrstund", caption="Høytlesning for de minste.")
    assert search(world, "strikkng") == ["Pappatreff"]
    assert search(world, "pappatref") == ["Pappatreff"]
    # A correct word is not "corrected" into another one.
    assert search(world, "eventyrstund") == ["Eventyrstund"]


def test_the_page_says_which_words_a_typo_was_corrected_to(world: World, coordinator_client: Client) -> None:
    archived_item(world, title="Pappatreff", caption="Strikking for fedre.")
    response = coordinator_client.get(ARCHIVE, {"q": "strikkng"})
    assert [str(item) for item, _ in response.context["cards"]] == ["Pappatreff"]
    assert "strikking" in response.context["corrections"]["strikkng"]
    assert "Also searched for" in response.content.decode()


def test_a_corrected_word_is_looked_up_again_once_the_archive_has_the_word(
    world: World, coordinator_client: Client
) -> None:
    archived_item(world, title="Pappatreff", caption="Strikking for fedre.")
    with CaptureQueriesContext(connection) as first:
        assert "strikkng" in coordinator_client.get(ARCHIVE, {"q": "strikkng"}).context["corrections"]
    assert any("publishing_archiveword" in query["sql"] for query in first.captured_queries)
    # The same words again: their look-up is kept under the archive's version.
    with CaptureQueriesContext(connection) as again:
        response = coordinator_client.get(ARCHIVE, {"q": "strikkng"})
    assert "strikking" in response.context["corrections"]["strikkng"]
    assert not any("publishing_archiveword" in query["sql"] for query in again.captured_queries)
    # Filing an item with the word as typed moves the archive's version: it is no longer a misspelling.
    archived_item(world, title="Strikkng", caption="Et ord skrevet slik.")
    response = coordinator_client.get(ARCHIVE, {"q": "strikkng"})
    assert response.context["corrections"] == {}
    assert [str(item) for item, _ in response.context["cards"]] == ["Strikkng"]


def test_an_exact_match_ranks_above_a_corrected_one_and_the_title_above_the_caption(world: World) -> None:
    archived_item(world, title="Høstferie", caption="Vi har krim for alle.")
    archived_item(world, title="Krim i hylla", caption="Nye bøker.")
    archived_item(world, title="Sommerles", caption="Vi har krin til alle.")  # a near miss
    assert search(world, "krim") == ["Krim i hylla", "Høstferie"]
    assert search(world, "krimm")[:2] == ["Krim i hylla", "Høstferie"]


@pytest.mark.parametrize(
    ("typed", "word"),
    [
        ("krim", "krim"),
        # In no item: only its correction ranks.
        ("pappatref", "pappatreff"),
        # In none as a word, but its stem is in all (some item holds it as typed): its own rank counts too.
        ("pappatreffer", "pappatreff"),
    ],
)
def test_one_word_pages_the_same_through_its_title_matches_as_ranking_every_match(
    typed: str, word: str, world: World, coordinator_client: Client, settings: object
) -> None:
    """For one word (a misspelt one too) the pages are chosen among the items with it (or a correction of it)
    in their title while the page lies among them and ranks above any other match can; the pages a reader
    gets are those of ranking every match."""
    settings.ARCHIVE_PAGE_SIZE = 2  # type: ignore[attr-defined]
    day = datetime(2026, 3, 1, 12, tzinfo=OSLO)
    for n in range(3):
        archived_item(world, title=f"{word.capitalize()} i kveld {n}", published_at=day.replace(day=1 + n))
    # Newer, but with the word only in their labels or their caption: ranked below every title.
    archived_item(world, title="Lesetips", tags=[word], published_at=day.replace(day=20))
    archived_item(world, title="Høstferie", caption=f"Vi har {word} for alle.", published_at=day.replace(day=25))
    ranked_whole = search(world, typed)
    assert ranked_whole[:3] == [f"{word.capitalize()} i kveld {n}" for n in (2, 1, 0)]
    coordinator_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "nb"  # Norwegian alone: one lexeme
    with CaptureQueriesContext(connection) as queries:
        pages = titles(coordinator_client, q=typed)
    assert any("ts_filter" in query["sql"] for query in queries.captured_queries)  # chosen among the titles
    for number in ("2", "3"):  # the third title, then the rest: ranked whole
        pages += titles(coordinator_client, q=typed, page=number)
    assert pages == ranked_whole


def test_a_label_holding_the_misspelt_word_as_typed_outranks_a_title_with_a_correction(
    world: World, coordinator_client: Client, settings: object
) -> None:
    """ "pappatreffer" is corrected to "pappatrefer" (in two titles), but "pappatreffene" in a label is the
    word as typed (the same stem): that match ranks first although its title lacks the word, so the page is
    not taken from the titles alone."""
    settings.ARCHIVE_PAGE_SIZE = 2  # type: ignore[attr-defined]
    archived_item(world, title="Pappatrefer 1")
    archived_item(world, title="Pappatrefer 2")
    archived_item(world, title="Lesetips", tags=["pappatreffene"])
    ranked_whole = search(world, "pappatreffer")
    assert ranked_whole[0] == "Lesetips"
    coordinator_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "nb"
    assert titles(coordinator_client, q="pappatreffer") + titles(coordinator_client, q="pappatreffer", page="2") == (
        ranked_whole
    )


def test_a_query_in_the_readers_language_is_stemmed_in_it_too(world: World) -> None:
    archived_item(world, title="Happiness club", caption="Every week.")
    archived_item(world, title="Lesesirkel", caption="Vi leser.")
    # English stems both "happy" and "happiness" to "happi"; Norwegian leaves them apart.
    assert search(world, "happy", language="en") == ["Happiness club"]
    assert search(world, "happy", language="nb") == []


def test_danish_readers_find_the_danish_plural(world: World) -> None:
    archived_item(world, title="Bogcafé", caption="Vi taler om en god bog.")
    assert search(world, "bøger", language="da") == ["Bogcafé"]


def test_tags_concepts_libraries_and_alt_text_are_searched(world: World) -> None:
    concept = ConceptFactory(county=world.county, name="Pappatreff")
    archived_item(world, title="Lørdag", tags=["sommerles"], concept=concept)
    archived_item(world, title="Søndag", alt_text="En hund leser en tegneserie.", libraries=[world.other_library])
    assert search(world, "sommerles") == ["Lørdag"]
    assert search(world, "pappatreff") == ["Lørdag"]
    assert search(world, "tegneserie") == ["Søndag"]
    assert search(world, "sola") == ["Søndag"]


def test_websearch_syntax_phrases_or_and_minus(world: World) -> None:
    archived_item(world, title="Krim for ungdom", caption="Spennende krim.")
    archived_item(world, title="Krim for voksne", caption="Nordisk krim.")
    archived_item(world, title="Dikt", caption="Poesi.")
    assert sorted(search(world, "krim -ungdom")) == ["Krim for voksne"]
    assert sorted(search(world, "ungdom or dikt")) == ["Dikt", "Krim for ungdom"]
    # Norwegian and Danish readers write "eller".
    assert sorted(search(world, "ungdom eller dikt")) == ["Dikt", "Krim for ungdom"]
    assert search(world, '"nordisk krim"') == ["Krim for voksne"]


# --- Filters and facets ---


@pytest.fixture
def catalogue(world: World) -> dict[str, object]:
    """Six items with known metadata: two concepts, two libraries, photos and a video, three years."""
    tips = ConceptFactory(county=world.county, name="Ukas boktips", content_type=ContentType.LITERATURE)
    meetup = ConceptFactory(county=world.county, name="Pappatreff", content_type=ContentType.OFFERS)
    made = {
        "tip1": archived_item(world, title="Boktips krim", concept=tips, content_type=ContentType.LITERATURE,
                              published_at=datetime(2024, 3, 1, 12, tzinfo=OSLO), libraries=[world.library]),
        "tip2": archived_item(world, title="Boktips roman", concept=tips, content_type=ContentType.LITERATURE,
                              size=(1080, 1350), published_at=datetime(2025, 3, 1, 12, tzinfo=OSLO),
                              libraries=[world.library, world.other_library]),
        "meet": archived_item(world, title="Pappatreff i mars", concept=meetup, content_type=ContentType.OFFERS,
                              kind=Asset.Kind.VIDEO, published_at=datetime(2025, 6, 1, 12, tzinfo=OSLO),
                              libraries=[world.other_library]),
        "staff": archived_item(world, title="Bibliotekaren anbefaler", content_type=ContentType.RELATIONSHIP,
                               size=(1910, 1000), published_at=datetime(2026, 1, 5, 12, tzinfo=OSLO),
                               libraries=[world.library]),
        "gone": archived_item(world, title="Boktips med Kari", concept=tips, content_type=ContentType.LITERATURE,
                              published_at=datetime(2025, 9, 1, 12, tzinfo=OSLO), consent=CONSENT_WITHDRAWN,
                              libraries=[world.library]),
        "elsewhere": archived_item(world, title="Boktips fra Agder", library=world.other_county_library,
                                   published_at=datetime(2025, 3, 1, 12, tzinfo=OSLO)),
    }  # fmt: skip
    return {"tips": tips, "meetup": meetup, **made}


def counts(values: list[object]) -> dict[str, int]:
    return {value.label: value.count for value in values}  # type: ignore[attr-defined]


def test_facets_count_every_filter_value_of_the_known_items(world: World, catalogue: dict[str, object]) -> None:
    facets = ArchiveSearch(ArchiveItem.objects.for_county(world.county), ArchiveFilters(), county=world.county).facets()
    # Reusable items only, by default: four of Rogaland's five (the withdrawn one and Agder's are out).
    assert facets.total == 4
    assert counts(facets.content_type) == {
        "Library offers and services": 1,
        "Literature": 2,
        "Relationship-building": 1,
    }
    assert counts(facets.media_kind) == {"Photo": 3, "Video": 1}
    assert counts(facets.orientation) == {"Portrait": 2, "Square": 1, "Landscape": 1}
    assert counts(facets.concept) == {"Pappatreff": 1, "Ukas boktips": 2}
    assert counts(facets.library) == {"Sandnes bibliotek": 3, "Sola bibliotek": 2}
    assert counts(facets.year) == {"2026": 1, "2025": 2, "2024": 1}
    # The consent facet counts what each choice would show: four reusable, one blocked.
    assert counts(facets.consent) == {"Reusable": 4, "Blocked (consent)": 1}


def test_a_facet_keeps_counting_its_other_values_while_the_other_facets_narrow(
    world: World, catalogue: dict[str, object]
) -> None:
    facets = ArchiveSearch(
        ArchiveItem.objects.for_county(world.county),
        ArchiveFilters(content_type=ContentType.LITERATURE, library_id=world.library.pk),
        county=world.county,
    ).facets()
    assert facets.total == 2
    # Content type: every type that Sandnes has, so another can be chosen instead.
    assert counts(facets.content_type) == {
        "Library offers and services": 0,
        "Literature": 2,
        "Relationship-building": 1,
    }
    # Library: the literature of each library.
    assert counts(facets.library) == {"Sandnes bibliotek": 2, "Sola bibliotek": 1}
    assert counts(facets.concept) == {"Ukas boktips": 2}
    assert counts(facets.year) == {"2025": 1, "2024": 1}


def test_each_filter_narrows_the_results(
    world: World, catalogue: dict[str, object], coordinator_client: Client
) -> None:
    tips = catalogue["tips"]
    assert sorted(titles(coordinator_client, concept=str(tips.pk))) == ["Boktips krim", "Boktips roman"]  # type: ignore[attr-defined]
    assert titles(coordinator_client, media_kind="video") == ["Pappatreff i mars"]
    assert titles(coordinator_client, orientation="landscape") == ["Bibliotekaren anbefaler"]
    assert sorted(titles(coordinator_client, library=str(world.other_library.pk))) == [
        "Boktips roman",
        "Pappatreff i mars",
    ]
    assert sorted(titles(coordinator_client, year="2025")) == ["Boktips roman", "Pappatreff i mars"]
    assert titles(coordinator_client, date_from="2025-05-01", date_to="2025-12-31") == ["Pappatreff i mars"]
    assert titles(coordinator_client, content_type=ContentType.RELATIONSHIP) == ["Bibliotekaren anbefaler"]
    assert titles(coordinator_client, q="boktips", year="2024") == ["Boktips krim"]


def test_without_words_the_newest_come_first(
    world: World, catalogue: dict[str, object], librarian_client: Client
) -> None:
    assert titles(librarian_client) == [
        "Bibliotekaren anbefaler",
        "Pappatreff i mars",
        "Boktips roman",
        "Boktips krim",
    ]


def test_a_wrong_filter_is_explained_and_the_rest_still_applies(
    world: World, catalogue: dict[str, object], coordinator_client: Client
) -> None:
    response = coordinator_client.get(ARCHIVE, {"q": "boktips", "date_from": "2025-12-01", "date_to": "2025-01-01"})
    assert response.status_code == 200
    assert "The end date is before the start date." in response.content.decode()
    # What was typed stays in the form; the dates are left out of the search until they make sense.
    assert response.context["form"]["q"].value() == "boktips"
    assert response.context["form"]["date_from"].value() == "2025-12-01"
    assert sorted(str(item) for item, _ in response.context["cards"]) == ["Boktips krim", "Boktips roman"]
    response = coordinator_client.get(ARCHIVE, {"q": "boktips", "year": "last year"})
    assert "Enter a whole number." in response.content.decode()
    assert sorted(str(item) for item, _ in response.context["cards"]) == ["Boktips krim", "Boktips roman"]


def test_facet_links_on_the_page_carry_the_counts_and_mark_the_chosen_value(
    world: World, catalogue: dict[str, object], coordinator_client: Client
) -> None:
    response = coordinator_client.get(ARCHIVE, {"media_kind": "video"})
    html = response.content.decode()
    assert 'aria-current="true" class="facet__link facet__link--active">Video' in html
    assert 'Photo <span class="facet__count">(3)</span>' in html


# --- Consent ---


@pytest.mark.parametrize("state", [CONSENT_WITHDRAWN, CONSENT_EXPIRED, CONSENT_MISSING, CONSENT_NO_REUSE])
def test_a_blocked_item_is_hidden_by_default_and_shown_blocked_on_request(
    world: World, coordinator_client: Client, state: str
) -> None:
    archived_item(world, title="Sommerfest", consent=state)
    archived_item(world, title="Sommerles")
    assert titles(coordinator_client) == ["Sommerles"]
    assert titles(coordinator_client, q="sommerfest") == []
    response = coordinator_client.get(ARCHIVE, {"q": "sommerfest", "consent": "all"})
    assert [str(item) for item, _ in response.context["cards"]] == ["Sommerfest"]
    html = response.content.decode()
    assert "archive-card--blocked" in html
    assert "consent does not allow reuse" in html
    # A blocked item shows no picture of the people in it, and cannot be ticked for download or reuse.
    assert 'name="item"' not in html
    assert "/files/thumbnail" not in html
    assert titles(coordinator_client, consent="blocked") == ["Sommerfest"]


# --- Access ---


def test_every_library_in_the_county_searches_the_whole_archive(
    world: World, catalogue: dict[str, object], librarian_client: Client, editor_client: Client
) -> None:
    assert len(titles(librarian_client)) == 4
    assert len(titles(editor_client)) == 4


def test_another_countys_items_are_never_found_or_shown(
    world: World, catalogue: dict[str, object], outsider_client: Client, coordinator_client: Client
) -> None:
    assert "Boktips fra Agder" not in titles(coordinator_client, q="agder")
    assert titles(outsider_client) == ["Boktips fra Agder"]
    rogaland_item = catalogue["tip1"]
    assert outsider_client.get(reverse("publishing:archive_item", args=[rogaland_item.pk])).status_code == 404  # type: ignore[attr-defined]
    # A Rogaland concept's id does not leak Rogaland's items into Agder's search either.
    assert titles(outsider_client, concept=str(catalogue["tips"].pk)) == []  # type: ignore[attr-defined]


def test_the_archive_needs_a_login(client: Client) -> None:
    response = client.get(ARCHIVE)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- Queries ---


@pytest.mark.parametrize("params", [{"q": "boktips"}, {}], ids=["words", "no words"])
def test_the_facets_are_counted_with_the_memory_to_hash_their_groups(
    world: World, coordinator_client: Client, params: dict[str, str]
) -> None:
    """With PostgreSQL's default 4 MB the matches were sorted on disk by every facet column before counting."""
    archived_item(world, title="Boktips", libraries=[world.library])
    with CaptureQueriesContext(connection) as queries:
        assert coordinator_client.get(ARCHIVE, params).status_code == 200
    statements = [query["sql"] for query in queries.captured_queries]
    memory = next(i for i, sql in enumerate(statements) if f"SET LOCAL work_mem = '{FACETS_WORK_MEM}'" in sql)
    grouped = [i for i, sql in enumerate(statements) if "GROUP BY" in sql]
    assert len(grouped) == 2  # the grouped facets and the libraries'
    assert memory < min(grouped)
    # Kept: the next visit counts nothing and sets nothing.
    with CaptureQueriesContext(connection) as again:
        assert coordinator_client.get(ARCHIVE, params).status_code == 200
    assert not any("work_mem" in query["sql"] or "GROUP BY" in query["sql"] for query in again.captured_queries)


def test_a_search_page_takes_the_same_queries_for_one_result_as_for_a_full_page(
    world: World, coordinator_client: Client, settings: object
) -> None:
    settings.ARCHIVE_PAGE_SIZE = 24  # type: ignore[attr-defined]
    archived_item(world, title="Boktips 0", libraries=[world.library, world.other_library])
    coordinator_client.get(ARCHIVE, {"q": "varm"})  # the session, once

    def count(params: dict[str, str]) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert coordinator_client.get(ARCHIVE, params).status_code == 200
        return len(queries)

    one = count({"q": "boktips"})
    for n in range(1, 30):
        archived_item(world, title=f"Boktips {n}", libraries=[world.library])
    full = count({"q": "boktips"})
    # The user (their county access with whether they set up two-factor authentication is kept in the cache,
    # libraries.access), the look-up of the words (spelt as the archive spells them: no search for
    # neighbours), the search's transaction (a savepoint here, inside the test's transaction, and its
    # release), planning through the index with the memory to hash the facets' groups (one SET LOCAL), the
    # grouped facets, the library facet, the page's ids in their order, and the page's items with their
    # assets: 9, however many items the page shows.
    assert one == full == 9
    # The next page: the facets and the words' look-up come from the cache (the archive has not changed).
    assert count({"q": "boktips", "page": "2"}) == 6
    # The same search again: its counts and its page's order come from the cache; the user and the page's
    # items are all it reads.
    assert count({"q": "boktips", "page": "2"}) == 2
    # Without words: no look-up, nothing to plan through the index; the counting's transaction (a savepoint
    # and its release here) with the memory to hash the groups (SET LOCAL), the two facets, the page's ids and
    # items, and the user.
    assert count({}) == 8
    assert count({}) == 2


def test_cached_facets_count_a_new_item_at_once(world: World, coordinator_client: Client) -> None:
    archived_item(world, title="Boktips 1")
    assert coordinator_client.get(ARCHIVE).context["facets"].total == 1
    with CaptureQueriesContext(connection) as queries:
        assert coordinator_client.get(ARCHIVE).context["facets"].total == 1
    assert not any("GROUP BY" in query["sql"] for query in queries.captured_queries)
    archived_item(world, title="Boktips 2")
    assert coordinator_client.get(ARCHIVE).context["facets"].total == 2
