"""What the ideas list shows of the county on every visit and is written far more rarely: its libraries and
concepts (the filters' choices) and how many ideas it has (the unfiltered list's count, 15,000 at the bench's
scale 5, counted through a join on every visit).

Kept in the cache under versions that every write of what it was read from moves: the libraries' version
(libraries.overview, moved by every save and delete of a library), and the concepts' and the ideas' own,
moved by every save and delete of a concept or an idea (production/apps.py connects them). Nothing in the
product writes concepts or ideas in bulk; the bench's loader, which does, empties the cache.
"""

from __future__ import annotations

from dataclasses import dataclass

from libraries.models import County, Library
from libraries.overview import LIBRARIES_VERSION
from libraries.versions import kept_value, move_versions
from production.models import Concept, Idea

CONCEPTS_VERSION = "concepts:version"
IDEAS_VERSION = "ideas:version"
CACHE_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class Choice:
    """A library or a concept as a filter offers it (plain values: unpickled on every visit)."""

    pk: int
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class IdeaListOverview:
    # Every library of the county, active or not: the member libraries by name, then the county library.
    libraries: tuple[Choice, ...]
    concepts: tuple[Choice, ...]  # every concept of the county, by name
    ideas: int  # how many ideas the county has


def idea_list_overview(county: County) -> IdeaListOverview:
    # The key carries when the county was made, so a database loaded anew never meets another's figures.
    return kept_value(
        f"ideas:overview:{county.pk}:{county.created_at.timestamp()}",
        [LIBRARIES_VERSION, CONCEPTS_VERSION, IDEAS_VERSION],
        lambda: _read_idea_list_overview(county),
        seconds=CACHE_SECONDS,
    )


def _read_idea_list_overview(county: County) -> IdeaListOverview:
    libraries = Library.objects.for_county(county).order_by("-kind", "name").values_list("pk", "name")
    concepts = Concept.objects.for_county(county).order_by("name").values_list("pk", "name")
    return IdeaListOverview(
        libraries=tuple(Choice(*row) for row in libraries),
        concepts=tuple(Choice(*row) for row in concepts),
        ideas=Idea.objects.for_county(county).count(),
    )


def concepts_changed(sender: type | None = None, **kwargs: object) -> None:
    """A concept was written: no county's kept overview is used again."""
    move_versions([CONCEPTS_VERSION])


def ideas_changed(sender: type | None = None, *, created: bool = True, **kwargs: object) -> None:
    """An idea was made or deleted (a change to one leaves the count as it is)."""
    if created:
        move_versions([IDEAS_VERSION])
