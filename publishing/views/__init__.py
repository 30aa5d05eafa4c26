"""Pages for posts and their review, the publishing plan, and the county's Instagram channel."""

from __future__ import annotations

from libraries.access import CountyAccess
from libraries.models import Library, LibraryQuerySet
from publishing.models import Post

__all__ = ["collaborator_choices", "library_filter_choices", "visible_statuses"]


def collaborator_choices(access: CountyAccess) -> LibraryQuerySet:
    """Member libraries that can be invited as collaborators (they have an Instagram username)."""
    return Library.objects.for_county(access.county).members().active().exclude(instagram_username="").order_by("name")


def library_filter_choices(access: CountyAccess) -> LibraryQuerySet:
    return Library.objects.for_county(access.county).members().order_by("name")


def visible_statuses(access: CountyAccess) -> list[tuple[str, str]]:
    """The statuses the user's filters offer: librarians see only the plan (scheduled, publishing, published)."""
    return [
        (value, str(label))
        for value, label in Post.Status.choices
        if access.is_editor or value in Post.PLANNED_STATUSES
    ]
