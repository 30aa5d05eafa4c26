"""Searching the archive: full-text search with typo tolerance, filters, facet counts and a page of results.

How a search stays fast at 100,000 items (measured with EXPLAIN ANALYZE on
a synthetic archive of that size; the figures are in the final report of the
archive work and BENCHMARKS.md):

* The words match through the GIN index on `search_document`: the query is
  parsed with `websearch_to_tsquery` in Norwegian OR-ed with the reader's
  language, after `search.normalize` (so "bøker" finds "bok").
* The words are first looked up among the county's distinct words
  (`ArchiveWord`); one not found there (misspelt) is looked for among them
  by trigram similarity (a trigram index over a few thousand short rows) and
  its near neighbours join the full-text query. Trigram similarity over
  every item's whole text (`q <% text`) rechecks each candidate row and
  took over a second at this size.
* Matches are ranked on `search_rank_document` (title and labels, a few
  hundred bytes kept in the row) plus the similarity of a corrected word;
  the table's toast_tuple_target (512 bytes) was meant to move the long
  texts and the whole document out of line, but PostgreSQL only starts
  moving values out of a row past about 2 kB: at the network bench's rows
  (about 1 kB) the TOAST table is empty, and ranking reads each match's row
  whole (BENCHMARKS.md, "What limits it").
* The facets are counted in two queries: the matches grouped by the small
  dimensions (content type, kind, orientation, concept, consent, year),
  and by library through the copied `library_ids` (no join per row). Each
  facet counts with every other filter applied but its own, so the other
  values stay in view as choices. The counts, and each page's ids in their
  order, are cached until the county's archive changes (`archive_changed`),
  so paging costs only the page, and a search repeated or paged back to only
  the reading of its page's rows by their keys.
* Words are matched through the index, never by reading each document
  (`ArchiveSearch._through_the_index`).

A search page costs the same queries whatever the page size: the words'
look-up (only when there are words; a second one for a misspelt word, and
for one misspelt word alone a third: whether any item holds it as typed), the
two facet queries (which also give the number of results; none when
cached), the page's ids in their order (none when cached), and the page's
items with what their cards show (`CARD_FIELDS`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property, reduce
from operator import and_, or_
from typing import Any, cast

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramSimilarity
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connection, transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, F, FloatField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, ExtractYear
from django.utils import timezone
from django.utils.translation import get_language

from libraries.dates import day_start, local_zone
from libraries.models import County
from libraries.versions import move_versions
from production.models import Asset, ContentType
from publishing.archive import text as search
from publishing.models import ArchiveItem, ArchiveItemQuerySet, ArchiveWord, TitleWords, reusable_condition

# Title (A), labels (B), caption (C), alt text (D): ts_rank's weights, D first as PostgreSQL wants them.
RANK_WEIGHTS = [0.1, 0.2, 0.4, 1.0]
# The highest rank of one lexeme with the labels' weight (B) alone: `ArchiveSearch._ceiling_without_title`.
LABEL_RANK_CEILING = RANK_WEIGHTS[2]
# Words shorter than this are not corrected: three letters have too many neighbours.
TYPO_MIN_LENGTH = 4
# How alike (pg_trgm similarity, 0 to 1) a word must be to stand in for a misspelt one, how much less
# alike than the best one it may be, and how many may: "pappatref" becomes "pappatreff", not also "pappa".
TYPO_MIN_SIMILARITY = 0.5
TYPO_MARGIN = 0.1
TYPO_ALTERNATIVES = 3
# A match through a corrected word ranks below the same match spelt right.
TYPO_RANK_FACTOR = 0.5

CONSENT_REUSABLE = "reusable"
CONSENT_BLOCKED = "blocked"
CONSENT_ALL = "all"

# The date an item is filed under: when it was published, or archived when it never was.
ITEM_DATE = Coalesce("published_at", "created_at")
# What a result card shows (templates/publishing/archive.html and pool.html), all a page of results reads:
# the item's facts, of its asset only what makes the thumbnail's address (joined, not the asset's whole
# row with its JSON in a query of its own), and its concept's and (in the pool) county's names and credit.
CARD_FIELDS = (
    "county_id", "asset_id", "title", "content_type", "concept_id", "media_kind", "orientation", "published_at",
    "created_at", "reuse_count", "reuse_blocked", "consent_valid_until", "library_ids",
    "asset__thumbnail", "asset__updated_at", "concept__name",
)  # fmt: skip
POOL_CARD_FIELDS = ("county__name", "shared__credit")

_NEGATED = re.compile(r"(?:^|\s)-\w+", re.UNICODE)
# websearch_to_tsquery's "or" is English; Norwegian and Danish readers write "eller" (a stop word in both).
_OR_WORD = re.compile(r"(?<!\S)eller(?!\S)")
_QUOTED = re.compile(r'"[^"]*"?')


@dataclass(frozen=True)
class ArchiveFilters:
    """What the reader asked for (ArchiveFilterForm.filters()); every field optional."""

    q: str = ""
    content_type: str = ""
    concept_id: int | None = None
    library_id: int | None = None
    county_id: int | None = None  # the shared pool only (publishing/archive/network.py)
    media_kind: str = ""
    orientation: str = ""
    consent: str = CONSENT_REUSABLE
    year: int | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class TextQuery:
    """The reader's words as full-text queries: as typed, and with misspelt words corrected."""

    exact: SearchQuery
    corrected: SearchQuery | None = None
    corrected_similarity: float = 0.0
    corrections: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # One plain word in Norwegian alone, and its corrections plain words too: each spelling is one lexeme,
    # which `ArchiveSearch._title_first` needs.
    one_word: bool = False
    # Whether some item may hold the typed word as it is (looked up only for one misspelt word: when none
    # does, it adds nothing to any rank, `ArchiveSearch._ceiling_without_title`).
    typed_found: bool = True

    @property
    def typo_weight(self) -> float:
        """How much a match through a corrected word counts, beside one spelt as typed."""
        return self.corrected_similarity * TYPO_RANK_FACTOR

    @property
    def combined(self) -> SearchQuery:
        return self.exact if self.corrected is None else self.exact | self.corrected


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int


@dataclass
class Facets:
    """Counts per filter value, each with every other filter applied."""

    total: int
    content_type: list[FacetValue]
    media_kind: list[FacetValue]
    orientation: list[FacetValue]
    consent: list[FacetValue]
    concept: list[FacetValue]
    library: list[FacetValue]
    year: list[FacetValue]
    county: list[FacetValue] = field(default_factory=list)

    @cached_property
    def library_names(self) -> dict[int, str]:
        return {int(value.value): value.label for value in self.library}


# The shared pool's version: any county's archive changing may change what the pool shows.
NETWORK = "network"
# The version of the words a misspelt search of the pool is corrected to (every county's in the network):
# moved whenever an archive's words are written, an item in the pool or not.
NETWORK_WORDS = "network-words"


def _version_key(county_id: int | str) -> str:
    return f"archive:version:{county_id}"


def archive_version(county_id: int | str) -> int:
    """A number that changes whenever an item of the county's archive changes (the facets' cache key)."""
    return int(cache.get_or_set(_version_key(county_id), 0, timeout=None) or 0)


def archive_changed(county_ids: Iterable[int], *, pool: bool = True, words: bool = False) -> None:
    """Move the counties' archive versions, the shared pool's when `pool` (an item in the pool, or
    entering or leaving it, changed), and the network's words' when `words` (an archive's words were
    written): now, and again after the commit (a search that read the old rows meanwhile may have cached
    its counts and page under the first new version)."""
    ids: list[int | str] = [*sorted(set(county_ids)), *([NETWORK] if pool else []), *([NETWORK_WORDS] if words else [])]
    move_versions(_version_key(county_id) for county_id in ids)


def query_configs(language: str | None = None) -> list[str]:
    """Norwegian, and the reader's own language when it is another."""
    language = (language or get_language() or "nb")[:2]
    configs = ["norwegian"]
    own = search.CONFIG_FOR_LANGUAGE.get(language)
    if own and own not in configs:
        configs.append(own)
    return configs


# The planner's ways to read a table, for `planned_without`.
SEQUENTIAL_SCANS = ("enable_seqscan",)
ALL_BUT_BITMAP_SCANS = ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan")


# The memory PostgreSQL may give the facets' grouping. It cannot estimate how few groups the matches fall
# into (a few hundred), takes every match for a group, and with the default 4 MB sorted them all by the nine
# columns, on disk, before counting: 314 ms for "bibliotek" (97,839 matches) at 100,000 items, against 133 ms
# hashed within this (BENCHMARKS.md). What it uses is the groups' few kilobytes; this is only what it may.
FACETS_WORK_MEM = "32MB"


@contextmanager
def planned_without(scans: tuple[str, ...], *, work_mem: str = "") -> Iterator[None]:
    """The queries within planned without these ways to read a table (and with `work_mem` for sorting and
    hashing), in a transaction of their own (SET LOCAL, one round trip)."""
    statements = [f"SET LOCAL {scan} = off" for scan in scans]
    if work_mem:
        statements.append(f"SET LOCAL work_mem = '{work_mem}'")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("; ".join(statements))
        yield


def _typo_candidates(normalized: str) -> list[str]:
    """The words worth correcting: long enough, not negated, not inside quotes (a phrase is meant exactly)."""
    plain = _NEGATED.sub(" ", _QUOTED.sub(" ", normalized))
    seen: list[str] = []
    for word in search.words(plain):
        if len(word) >= TYPO_MIN_LENGTH and word != "or" and not word.isdigit() and word not in seen:
            seen.append(word)
    return seen


def _any_config(text: str, configs: list[str], search_type: str) -> SearchQuery:
    return reduce(or_, (SearchQuery(text, config=config, search_type=search_type) for config in configs))


def text_query(
    q: str, *, county: County | None, language: str | None = None, kept_under: str | None = None
) -> TextQuery | None:
    """The full-text queries for what the reader typed (None when there are no words).

    The candidate words are looked up among the county's words (with
    `county=None`, the words of every county in the network: the shared pool): a word
    found as it is stays alone; one that is not gets its nearest neighbours
    (by trigram similarity, a second query only then) as alternatives. `kept_under`: what the
    lookup's answer is cached under, a version that every change of those words moves (`ArchiveSearch`:
    the county's archive version; the pool's and the network's words'), so the same words are looked up
    once per version.
    """
    normalized = _OR_WORD.sub("or", search.normalize(q).strip())
    if not search.words(normalized):
        return None
    configs = query_configs(language)
    exact = _any_config(normalized, configs, "websearch")
    one_word = configs == ["norwegian"] and normalized.isalpha()
    candidates = _typo_candidates(normalized)
    if not candidates:
        return TextQuery(exact=exact, one_word=one_word)
    key = None
    spelling = None
    if kept_under is not None:
        asked = repr((normalized, candidates, configs))
        key = f"archive:spelling:{kept_under}:{hashlib.sha256(asked.encode()).hexdigest()[:32]}"
        spelling = cache.get(key)
    if not isinstance(spelling, Spelling):
        spelling = _spelling(candidates, county=county, exact=exact, one_word=one_word)
        if key is not None:
            cache.set(key, spelling, settings.ARCHIVE_FACETS_CACHE_SECONDS)
    if not spelling.corrections:
        return TextQuery(exact=exact, one_word=one_word)
    corrections = spelling.corrections
    # Every word must match, a misspelt one through any of its alternatives.
    parts = []
    for word in search.words(_NEGATED.sub(" ", _QUOTED.sub(" ", normalized))):
        if word == "or":
            continue
        spellings = (word, *corrections.get(word, ()))
        parts.append(reduce(or_, (_any_config(written, configs, "plain") for written in spellings)))
    corrected = reduce(and_, parts)
    return TextQuery(
        exact=exact,
        corrected=corrected,
        corrected_similarity=min(spelling.best),
        corrections=corrections,
        one_word=spelling.one_word,
        typed_found=spelling.typed_found,
    )


@dataclass(frozen=True)
class Spelling:
    """What the archive's words say of the reader's (`text_query`): each misspelt word's nearest words and
    the best likeness of each; whether the search is still one plain word with its corrections; and whether
    an item may hold the word as typed (looked up only for one misspelt word)."""

    corrections: dict[str, tuple[str, ...]] = field(default_factory=dict)
    best: tuple[float, ...] = ()
    one_word: bool = False
    typed_found: bool = True


def _spelling(candidates: list[str], *, county: County | None, exact: SearchQuery, one_word: bool) -> Spelling:
    words_of = (
        ArchiveWord.objects.filter(county=county)
        if county is not None
        else ArchiveWord.objects.filter(county__in_network=True)
    )
    # Words spelt as the archive spells them are found through the (county, word) index; only the others
    # are looked for among their trigram neighbours (a second query), so a search spelt right costs no
    # similarity search.
    known = set(words_of.filter(word__in=candidates).values_list("word", flat=True))
    unknown = [word for word in candidates if word not in known]
    if not unknown:
        return Spelling(one_word=one_word)
    similarity = {f"s{n}": TrigramSimilarity("word", word) for n, word in enumerate(unknown)}
    near = ArchiveWord.objects.filter(reduce(or_, (Q(word__trigram_similar=word) for word in unknown)))
    # Through the trigram index alone (a bitmap scan of it), never by reading every word: the planner does
    # not price the similarity of each row and would read them all, by a scan or through the county's
    # index (3 ms over the network's words; 0.1 ms through the trigrams). So the words of the county (the
    # pool: of the counties in the network) are told apart here, from each near word's county, not by a
    # condition PostgreSQL would start from.
    in_network = Subquery(County.objects.filter(pk=OuterRef("county_id")).order_by().values("in_network"))
    with planned_without(ALL_BUT_BITMAP_SCANS):
        found = near.annotate(in_network=in_network, **similarity)
        found = found.values("word", "county_id", "in_network", *similarity)
        rows = {
            row["word"]: row  # a word of several counties once
            for row in found
            if (row["county_id"] == county.pk if county is not None else row["in_network"])
        }.values()
        corrections, best = _corrections(unknown, rows)
        if not corrections:
            return Spelling(one_word=one_word)
        one_word = one_word and all(alternative.isalpha() for alternative in corrections[unknown[0]])
        # A misspelt word is mostly in no item at all (then only its corrections rank: `_title_first`).
        # Through the document's index (any item of any county: "no" holds for every archive searched).
        typed_found = not one_word or ArchiveItem.objects.filter(search_document=exact).exists()
    return Spelling(corrections=corrections, best=tuple(best), one_word=one_word, typed_found=typed_found)


def _corrections(
    unknown: list[str], rows: Iterable[Mapping[str, Any]]
) -> tuple[dict[str, tuple[str, ...]], list[float]]:
    """Each misspelt word's nearest words (`rows`, with their similarity to the n-th word as "s<n>"), and the
    best similarity of each word corrected."""
    corrections: dict[str, tuple[str, ...]] = {}
    best: list[float] = []
    for n, word in enumerate(unknown):
        scored = sorted(
            ((row[f"s{n}"], row["word"]) for row in rows if row[f"s{n}"] >= TYPO_MIN_SIMILARITY),
            key=lambda pair: (-pair[0], pair[1]),
        )[:TYPO_ALTERNATIVES]
        if scored:
            top = scored[0][0]
            corrections[word] = tuple(alternative for score, alternative in scored if score >= top - TYPO_MARGIN)
            best.append(top)
    return corrections, best


# --- Filters as conditions ---


def _date_range(filters: ArchiveFilters) -> Q:
    dates = Q()
    if filters.date_from is not None:
        dates &= Q(item_date__gte=day_start(filters.date_from))
    if filters.date_to is not None:
        dates &= Q(item_date__lt=day_start(filters.date_to + timedelta(days=1)))
    return dates


def _conditions(filters: ArchiveFilters, today: date) -> dict[str, Q]:
    """One SQL condition per active filter, by facet name (a facet leaves its own out)."""
    conditions: dict[str, Q] = {}
    if filters.content_type:
        conditions["content_type"] = Q(content_type=filters.content_type)
    if filters.concept_id is not None:
        conditions["concept"] = Q(concept_id=filters.concept_id)
    if filters.library_id is not None:
        conditions["library"] = Q(library_ids__contains=[filters.library_id])
    if filters.county_id is not None:
        conditions["county"] = Q(county_id=filters.county_id)
    if filters.media_kind:
        conditions["media_kind"] = Q(media_kind=filters.media_kind)
    if filters.orientation:
        conditions["orientation"] = Q(orientation=filters.orientation)
    if filters.consent == CONSENT_REUSABLE:
        conditions["consent"] = reusable_condition(today)
    elif filters.consent == CONSENT_BLOCKED:
        conditions["consent"] = ~reusable_condition(today)
    if filters.year is not None:
        conditions["year"] = Q(item_date__gte=day_start(date(filters.year, 1, 1))) & Q(
            item_date__lt=day_start(date(filters.year + 1, 1, 1))
        )
    if dates := _date_range(filters):
        conditions["dates"] = dates
    return conditions


def _all_but(conditions: dict[str, Q], facet: str) -> Q:
    return reduce(and_, (q for name, q in conditions.items() if name != facet), Q())


# The facets counted from one grouped query, and what each group row holds for them.
GROUPED_FACETS = ("content_type", "media_kind", "orientation", "concept", "consent", "year", "county")


def _row_value(row: Mapping[str, Any], facet: str) -> str:
    if facet == "consent":
        return CONSENT_REUSABLE if row["reusable"] else CONSENT_BLOCKED
    if facet == "concept":
        return str(row["concept_id"]) if row["concept_id"] is not None else ""
    if facet == "county":
        return str(row["county_id"])
    return str(row[facet] if row[facet] is not None else "")


def _wanted(filters: ArchiveFilters) -> dict[str, str]:
    """The value each grouped facet's filter asks for (absent: any)."""
    wanted = {
        "content_type": filters.content_type,
        "media_kind": filters.media_kind,
        "orientation": filters.orientation,
        "concept": str(filters.concept_id) if filters.concept_id is not None else "",
        "consent": filters.consent if filters.consent != CONSENT_ALL else "",
        "year": str(filters.year) if filters.year is not None else "",
        "county": str(filters.county_id) if filters.county_id is not None else "",
    }
    return {facet: value for facet, value in wanted.items() if value}


# --- The search ---


class ArchiveSearch:
    """One search of one county's archive: the matches, their facets and a page of results."""

    def __init__(
        self,
        items: ArchiveItemQuerySet,
        filters: ArchiveFilters,
        *,
        county: County,
        language: str | None = None,
        today: date | None = None,
        pool: bool = False,
    ) -> None:
        """`pool`: `items` are the network's shared pool (publishing/archive/network.py), searched by
        `county`: the words of every county in the network, and the counts cached per pool version."""
        self.filters = filters
        self.county_id = county.pk
        self.scope: int | str = NETWORK if pool else county.pk
        self.language = (language or get_language() or "nb")[:2]
        self.today = today or timezone.localdate()
        self.text = self._text_query(county, language) if filters.q.strip() else None
        self.items = items
        # Without the model's ordering: a GROUP BY or a facet's inner query must not sort.
        base = items.annotate(item_date=ITEM_DATE).order_by()
        if self.text is not None:
            base = base.filter(search_document=self.text.combined)
        self.base = base
        self.conditions = _conditions(filters, self.today)

    def _text_query(self, county: County, language: str | None) -> TextQuery | None:
        """The words asked, a misspelt one corrected to the county's own words (the pool: every county's in
        the network), looked up once per version of them: the county's archive's, or the pool's (which a
        county joining or leaving the network moves) with the network's words'."""
        if self.scope == NETWORK:
            kept_under = f"{NETWORK}:{self._version}:{archive_version(NETWORK_WORDS)}"
            return text_query(self.filters.q, county=None, language=language, kept_under=kept_under)
        return text_query(self.filters.q, county=county, language=language, kept_under=f"{county.pk}:{self._version}")

    # --- Facets ---

    def facets(self) -> Facets:
        """The facet counts, from the cache while the county's archive has not changed (`count_facets`).

        Paging through results, or the archive's first page that everyone in
        the county opens, then costs only the page's own query. Any change to
        an item (filing, consent, reuse: `refresh_items`) moves the county's
        archive version, so a cached count is never out of date.
        """
        cached = cache.get(self._key("facets"))
        if isinstance(cached, Facets):
            return cached
        with self._through_the_index(counting=True):
            return self._count_and_keep()

    def _count_and_keep(self) -> Facets:
        facets = self.count_facets()
        cache.set(self._key("facets"), facets, settings.ARCHIVE_FACETS_CACHE_SECONDS)
        return facets

    @cached_property
    def _cache_prefix(self) -> str:
        """What this search's cached counts and pages are kept under: the search asked, in this archive
        version (one read of the version per search)."""
        asked = repr((self.filters, self.text.corrections if self.text else None, self.language, self.today))
        digest = hashlib.sha256(asked.encode()).hexdigest()[:32]
        if self.scope == NETWORK:
            # The pool leaves out the searcher's own county: the counts differ per county.
            return f"{NETWORK}:{self.county_id}:{self._version}:{digest}"
        return f"{self.county_id}:{self._version}:{digest}"

    @cached_property
    def _version(self) -> int:
        """The archive's (the pool's) version, read once per search: the cache keys of its words, counts
        and pages."""
        return archive_version(self.scope)

    def _key(self, kind: str, *more: object) -> str:
        return ":".join(["archive", kind, self._cache_prefix, *(str(part) for part in more)])

    def count_facets(self) -> Facets:
        """Counts per value of every filter, in two queries whatever the number of matches.

        One groups the matches by every small dimension (content type, kind,
        orientation, concept, consent, year: a few thousand groups at most)
        and the counts of each facet are summed from the groups here, each
        with every other filter but its own. The other unnests the copied
        library ids. The library filter and a date range apply to both.
        (One query with GROUPING SETS for both was measured three times slower.)
        """
        groups = self._groups()
        wanted = _wanted(self.filters)
        counts: dict[str, dict[str, int]] = {facet: {} for facet in GROUPED_FACETS}
        names: dict[str, str] = {}
        county_names: dict[str, str] = {}
        total = 0
        for row in groups:
            values = {facet: _row_value(row, facet) for facet in GROUPED_FACETS}
            misses = [facet for facet, value in wanted.items() if values[facet] != value]
            if not misses:
                total += row["n"]
            for facet in GROUPED_FACETS:
                # A group counts for a facet when every other filter lets it through.
                if all(miss == facet for miss in misses) and values[facet]:
                    counts[facet][values[facet]] = counts[facet].get(values[facet], 0) + row["n"]
            if row["concept_id"] is not None:
                names[str(row["concept_id"])] = row["concept__name"]
            county_names[str(row["county_id"])] = row["county__name"]
        return Facets(
            total=total,
            content_type=_fixed(counts["content_type"], ContentType.choices),
            media_kind=_fixed(counts["media_kind"], Asset.Kind.choices),
            orientation=_fixed(counts["orientation"], ArchiveItem.Orientation.choices),
            consent=_fixed(counts["consent"], _consent_choices()),
            concept=sorted(
                (FacetValue(pk, names[pk], n) for pk, n in counts["concept"].items()),
                key=lambda value: value.label.lower(),
            ),
            library=self._library_facet(),
            year=sorted(
                (FacetValue(year, year, n) for year, n in counts["year"].items()),
                key=lambda value: value.value,
                reverse=True,
            ),
            county=sorted(
                (FacetValue(pk, county_names[pk], n) for pk, n in counts["county"].items()),
                key=lambda value: value.label.lower(),
            ),
        )

    def _groups(self) -> list[dict[str, Any]]:
        reusable = ExpressionWrapper(reusable_condition(self.today), output_field=BooleanField())
        shared = reduce(and_, (self.conditions[name] for name in ("library", "dates") if name in self.conditions), Q())
        rows = (
            self.base.filter(shared)
            .annotate(reusable=reusable, year=ExtractYear(ITEM_DATE, tzinfo=local_zone()))
            .values(
                "content_type",
                "media_kind",
                "orientation",
                "concept_id",
                "concept__name",
                "reusable",
                "year",
                "county_id",
                "county__name",
            )
            .annotate(n=Count("pk"))
        )
        return [dict(row) for row in rows]

    def _library_facet(self) -> list[FacetValue]:
        # The copied ids, unnested: no join through the many-to-many table for each match.
        inner = self.base.filter(_all_but(self.conditions, "library")).values("library_ids")
        try:
            sql, params = inner.query.sql_with_params()
        except EmptyResultSet:  # a search that matches nothing by construction (`.none()`) has no SQL
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT library.id, library.name, count(*) "  # noqa: S608 - the ORM's own SQL, values are parameters
                f"FROM ({sql}) AS matched CROSS JOIN LATERAL unnest(matched.library_ids) AS shown(library_id) "
                "JOIN libraries_library AS library ON library.id = shown.library_id "
                "GROUP BY library.id, library.name ORDER BY library.name",
                params,
            )
            return [FacetValue(str(pk), name, count) for pk, name, count in cursor.fetchall()]

    # --- Results ---

    def results(self) -> ArchiveItemQuerySet:
        """The matches with every filter, best first (newest first without words), with what a result shows."""
        return self._shown(self._ordered(self.base.filter(_all_but(self.conditions, ""))))

    def _shown(self, items: ArchiveItemQuerySet) -> ArchiveItemQuerySet:
        """What a result card shows (`CARD_FIELDS`), its asset and concept (in the pool its county and credit)
        joined: one query for the page, the long texts and the asset's JSON left unread."""
        if self.scope == NETWORK:
            return items.select_related("asset", "concept", "county", "shared").only(*CARD_FIELDS, *POOL_CARD_FIELDS)
        return items.select_related("asset", "concept").only(*CARD_FIELDS)

    def _ordered(self, items: ArchiveItemQuerySet) -> ArchiveItemQuerySet:
        if self.text is None:
            return items.order_by(F("item_date").desc(), "-pk")
        rank = SearchRank(F("search_rank_document"), self.text.exact, weights=RANK_WEIGHTS)
        if self.text.corrected is not None:
            typo_rank = SearchRank(F("search_rank_document"), self.text.corrected, weights=RANK_WEIGHTS)
            weight = Value(self.text.typo_weight, output_field=FloatField())
            rank = rank + typo_rank * weight  # type: ignore[assignment]  # a combined expression, still a float
        # An item not refreshed since the ranking document was added has none: it ranks last, not first.
        ranked = Coalesce(rank, Value(0.0), output_field=FloatField())
        return items.annotate(rank=ranked).order_by("-rank", F("item_date").desc(), "-pk")

    def run(self, page_number: str | int | None, *, per_page: int) -> SearchResults:
        """The facets and one page of results, with the page's items read.

        Both come from the cache while the archive has not changed (one round trip for the two): the counts,
        and the page's ids in their order, kept under the page number as asked (with the same count, the
        same number always names the same page). A search repeated, or paged back to, then reads only its
        page's rows by their keys; only what is not cached is matched, through the index.
        """
        asked_page = hashlib.sha256(repr(page_number).encode()).hexdigest()[:16]
        wanted = (self._key("facets"), self._key("page", per_page, asked_page))
        cached = cache.get_many(wanted)
        facets, ids = cached.get(wanted[0]), cached.get(wanted[1])
        if not isinstance(facets, Facets) or not isinstance(ids, list):
            with self._through_the_index(counting=not isinstance(facets, Facets)):
                if not isinstance(facets, Facets):
                    facets = self._count_and_keep()
                ids = self._page_ids(page_number, total=facets.total, per_page=per_page)
            cache.set(wanted[1], ids, settings.ARCHIVE_FACETS_CACHE_SECONDS)
        page = CountedPaginator([], per_page, count=facets.total).get_page(page_number)  # the ids chose the rows
        page.object_list = items = self._rows(ids)
        corrections = self.text.corrections if self.text else {}
        return SearchResults(facets=facets, page=page, items=items, corrections=corrections)

    @contextmanager
    def _through_the_index(self, *, counting: bool = False) -> Iterator[None]:
        """Words are matched through the GIN index, never by reading each row's document; the facets
        are counted with the memory to hash the matches' groups (`FACETS_WORK_MEM`).

        The planner does not price reading each document and matching it: for
        a common word it would choose to scan the table and match every
        document (half a second at 100,000 items) over the index, which
        answers without reading any. So a search with words is planned
        without sequential scans (`planned_without`).
        """
        scans = SEQUENTIAL_SCANS if self.text is not None else ()
        if not scans and not counting:
            yield
            return
        with planned_without(scans, work_mem=FACETS_WORK_MEM if counting else ""):
            yield

    def _page_ids(self, number: str | int | None, *, total: int, per_page: int) -> list[int]:
        """The ids of one page of results, in their order; `total` comes from the facets' aggregate, so there
        is no second COUNT, and nothing matched means no query.

        Only the matches' ids are ordered by rank and date and the page's few kept (PostgreSQL's bounded
        top-N sort, in memory); the rows with what they show are read by `_rows`. Ordering the matches'
        whole rows with their concept joined sorted every match in full (the join keeps the page's bound
        from the sort): for "krim" in a shared pool of 100,000 items that spilled 10,000 wide rows to disk,
        92 ms of the search's time.
        """
        if not total:
            return []
        matches = self.base.filter(_all_but(self.conditions, ""))
        page = CountedPaginator(self._ordered(matches), per_page, count=total).get_page(number)
        if (ids := self._title_first(matches, page)) is not None:
            return ids
        return list(cast(ArchiveItemQuerySet, page.object_list).values_list("pk", flat=True))

    def _title_first(self, matches: ArchiveItemQuerySet, page: Page[ArchiveItem]) -> list[int] | None:
        """The page's ids from the matches with the word (or a correction of it) in their title alone, when
        the page lies among them and ranks above any other match can (else None): the others are not read.

        The page is ordered by the whole rank, so it is the page of ranking every match whenever its last
        item ranks above `_ceiling_without_title`. For "krim" in the network's pool the title matches are
        1,140 of 10,868, for "bibliotek" 1,806 of 96,281 (BENCHMARKS.md). Several words, or a second
        language's stems, combine operands in ways the ceiling does not bound: they are ranked whole.
        """
        if self.text is None or not self.text.one_word:
            return None
        first, last = page.start_index() - 1, page.end_index()
        titled = self._ordered(matches.annotate(title_words=TitleWords()).filter(title_words=self.text.combined))
        rows = list(titled.values_list("pk", "rank")[first:last])  # type: ignore[misc]  # annotated by _ordered
        if len(rows) < last - first or rows[-1][1] <= self._ceiling_without_title(self.text):
            return None
        return [pk for pk, _rank in rows]

    def _ceiling_without_title(self, text: TextQuery) -> float:
        """The highest rank a match can reach without the word (nor a correction of it) in its title.

        ts_rank without normalisation (PostgreSQL's calc_rank_or) gives each of the query's distinct lexemes
        that an item holds (w + sum(w_j / j^2) - w / k^2) / 1.645 over its positions j, w the highest weight
        among them and k its place, and divides the sum by the number of lexemes: a lexeme in the title (A,
        1.0) gives at least 1.0 / 1.645 = 0.61, one in the labels alone (B, 0.4) at most 0.4 * 1.645 /
        1.645 = 0.40. So one word ranks at most 0.40 without it in the title. A misspelt word's rank adds
        its corrected query's (the word or any of its n corrections, at most n + 1 lexemes) times the
        correction's weight; when no item holds the word as typed (`TextQuery.typed_found`), its query
        ranks 0 and at most n of the n + 1 lexemes are found: at most 0.40 * n / (n + 1) times the weight.
        """
        if text.corrected is None:
            return LABEL_RANK_CEILING
        if text.typed_found:
            return LABEL_RANK_CEILING * (1 + text.typo_weight)
        (alternatives,) = text.corrections.values()
        return LABEL_RANK_CEILING * len(alternatives) / (len(alternatives) + 1) * text.typo_weight

    def _rows(self, ids: list[int]) -> list[ArchiveItem]:
        """The page's items in the order of `ids`, read by their keys with what a card shows, still within
        the archive (the pool) searched."""
        if not ids:
            return []
        rows = self.items.filter(pk__in=ids).annotate(item_date=ITEM_DATE).order_by()
        found = {item.pk: item for item in self._shown(rows)}
        return [found[pk] for pk in ids if pk in found]


@dataclass
class SearchResults:
    facets: Facets
    page: Page[ArchiveItem]
    items: list[ArchiveItem]
    # Each misspelt word with what it was also searched for ("Also searched for" on the page).
    corrections: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


class CountedPaginator(Paginator):  # type: ignore[type-arg]  # Paginator is generic only in the stubs
    """A paginator told the number of objects instead of counting them again."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def _fixed(counts: dict[str, int], choices: Any) -> list[FacetValue]:
    """A fixed-choice facet: every choice, in its own order, with its count (0 included)."""
    return [FacetValue(str(value), str(label), counts.get(str(value), 0)) for value, label in choices if value]


def _consent_choices() -> list[tuple[str, str]]:
    from django.utils.translation import gettext as _

    return [(CONSENT_REUSABLE, _("Reusable")), (CONSENT_BLOCKED, _("Blocked (consent)"))]
