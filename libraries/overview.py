"""The county's member libraries and pending invitations, as the coordinator's home shows them.

Asked on every visit to the home and changed a few times a year, so kept in
the cache under a version that every write of a library or an invitation
moves (`libraries_changed`: libraries/apps.py connects it to their saves and
deletes, and libraries.services calls it after its UPDATEs of invitations).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache

from libraries.models import County, Invitation, Library
from libraries.versions import move_versions

LIBRARIES_VERSION = "libraries:version"
CACHE_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class CountyLibraries:
    members: tuple[Library, ...]  # the active member libraries, by name
    invitations: tuple[Invitation, ...]  # pending when read, the newest first

    @property
    def without_instagram(self) -> list[Library]:
        """The member libraries that cannot be collaborators on a post yet."""
        return [library for library in self.members if not library.instagram_username]

    def pending_invitations(self, now: datetime, limit: int) -> list[Invitation]:
        """The first `limit` invitations not expired by `now` (they expire without a write)."""
        return [invitation for invitation in self.invitations if invitation.expires_at > now][:limit]


def county_libraries(county: County) -> CountyLibraries:
    # The key carries when the county was made, so a database loaded anew never meets another's libraries.
    key = f"libraries:{county.pk}:{county.created_at.timestamp()}"
    found = cache.get_many([LIBRARIES_VERSION, key])
    version = found.get(LIBRARIES_VERSION, 0)
    kept = found.get(key)
    if isinstance(kept, tuple) and kept[0] == version and isinstance(kept[1], CountyLibraries):
        return kept[1]
    value = CountyLibraries(
        members=tuple(
            Library.objects.for_county(county)
            .members()
            .active()
            .order_by("name")
            .only("pk", "name", "instagram_username")
        ),
        invitations=tuple(Invitation.objects.for_county(county).pending().select_related("library")),
    )
    cache.set(key, (version, value), CACHE_SECONDS)
    return value


def libraries_changed(sender: type | None = None, **kwargs: object) -> None:
    """A library or an invitation was written: no county's kept overview is used again."""
    move_versions([LIBRARIES_VERSION])
