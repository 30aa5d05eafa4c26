"""The county's member libraries and pending invitations, as the coordinator's home shows them.

Asked on every visit to the home and changed a few times a year, so kept in
the cache under a version that every write of a library or an invitation
moves (`libraries_changed`: libraries/apps.py connects it to their saves and
deletes, and libraries.services calls it after its UPDATEs of invitations),
and read again when the first pending invitation expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Min
from django.utils import timezone

from libraries.models import County, Invitation, Library
from libraries.versions import kept_value, move_versions

LIBRARIES_VERSION = "libraries:version"
CACHE_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class MemberLibrary:
    pk: int
    name: str
    instagram_username: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class PendingInvitation:
    email: str
    library: str  # its name
    expires_at: datetime


@dataclass(frozen=True)
class CountyLibraries:
    """Plain values, not model instances: they are unpickled on every visit to the home."""

    members: tuple[MemberLibrary, ...]  # the active member libraries, by name
    invitations: tuple[PendingInvitation, ...]  # the newest INVITATIONS_SHOWN pending ones
    # When the first pending invitation expires: the pending ones change then without a write.
    good_until: datetime | None

    @property
    def without_instagram(self) -> list[MemberLibrary]:
        """The member libraries that cannot be collaborators on a post yet."""
        return [library for library in self.members if not library.instagram_username]


INVITATIONS_SHOWN = 10


def county_libraries(county: County) -> CountyLibraries:
    # The key carries when the county was made, so a database loaded anew never meets another's libraries.
    return kept_value(
        f"libraries:{county.pk}:{county.created_at.timestamp()}",
        [LIBRARIES_VERSION],
        lambda: _read_county_libraries(county),
        seconds=CACHE_SECONDS,
        fresh=lambda kept: kept.good_until is None or timezone.now() < kept.good_until,
    )


def _read_county_libraries(county: County) -> CountyLibraries:
    members = Library.objects.for_county(county).members().active().order_by("name")
    pending = Invitation.objects.for_county(county).pending()
    newest = pending.order_by("-sent_at", "-pk").values_list("email", "library__name", "expires_at")
    return CountyLibraries(
        members=tuple(MemberLibrary(*row) for row in members.values_list("pk", "name", "instagram_username")),
        invitations=tuple(PendingInvitation(*row) for row in newest[:INVITATIONS_SHOWN]),
        good_until=pending.aggregate(first=Min("expires_at"))["first"],
    )


def libraries_changed(sender: type | None = None, **kwargs: object) -> None:
    """A library or an invitation was written: no county's kept overview is used again."""
    move_versions([LIBRARIES_VERSION])
