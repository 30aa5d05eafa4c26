"""The core permission gate: who is in which county with which role.

Every object a view touches comes through a function here or in the access
module of its app (`production.access`, `publishing.access`), which are built
on `require_role`: scoped to the user's current county and checked against
their role there. Another county's objects are 404 (we do not even confirm
they exist); a role that is too low for the page is 403.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from libraries.models import County, Invitation, Library, LibraryQuerySet, Membership, Role
from libraries.versions import kept_value, move_versions

if TYPE_CHECKING:
    from libraries.models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User


@dataclass(frozen=True)
class LibraryRole:
    """One of the user's libraries and their role there (plain values: kept in the cache with the access)."""

    library_id: int
    name: str
    role: Role


@dataclass(frozen=True)
class CountyAccess:
    """What one user may do in one county."""

    county: County
    role: Role
    library_ids: frozenset[int]
    user_id: int  # whose access it is (the four-eyes rule asks who wrote a post)
    # Whether the user has set up a second factor, read with the memberships (RequireMFAMiddleware asks on
    # every request; libraries.middleware).
    has_second_factor: bool = False
    # The user's libraries in the county by name, each with their role there (the home lists them).
    memberships: tuple[LibraryRole, ...] = ()

    def has_role(self, role: Role) -> bool:
        return self.role.rank >= role.rank

    @property
    def is_coordinator(self) -> bool:
        return self.has_role(Role.COORDINATOR)

    @property
    def is_editor(self) -> bool:
        return self.has_role(Role.EDITOR)


# Everyone's accesses show counties and libraries: any change to one moves this version.
ACCESS_VERSION_ALL = "access:version:all"
ACCESS_CACHE_SECONDS = 24 * 60 * 60


def _access_version(user_id: int) -> str:
    return f"access:version:{user_id}"


def accesses_changed(user_ids: Iterable[int] | None = None) -> None:
    """The accesses of these users (None: of everyone) changed; the cached ones are not used again."""
    move_versions([ACCESS_VERSION_ALL] if user_ids is None else [_access_version(pk) for pk in set(user_ids)])


def users_access_changed(sender: type, instance: Membership | Authenticator, **kwargs: object) -> None:
    """A membership or a second factor was saved or deleted (libraries/apps.py connects it)."""
    accesses_changed([instance.user_id])


def everyones_access_changed(sender: type, instance: County | Library, **kwargs: object) -> None:
    """A county or a library was saved or deleted (libraries/apps.py connects it)."""
    accesses_changed()


def county_accesses(user: User) -> list[CountyAccess]:
    """Every county the user belongs to, with their highest role there.

    Asked on every logged-in request (the pages' permissions and the second-factor check), so kept in the
    cache under the versions it was read at: one cache round trip instead of a query until the user's
    memberships or second factor, or any county or library, change (`accesses_changed`, called by
    libraries/apps.py's receivers on every save and delete of them). The key carries when the user joined,
    so a database loaded anew never meets the accesses of a former user with the same id.
    """
    # "2": what an access holds (its memberships since issue 18); one kept by an older release is not read.
    value_key = f"access:2:{user.pk}:{user.date_joined.timestamp()}"
    versions = [_access_version(user.pk), ACCESS_VERSION_ALL]
    return list(kept_value(value_key, versions, lambda: _read_county_accesses(user), seconds=ACCESS_CACHE_SECONDS))


def _read_county_accesses(user: User) -> list[CountyAccess]:
    by_county: dict[int, tuple[County, Role, list[LibraryRole]]] = {}
    has_second_factor = False
    # Unordered: the accesses are sorted below, and Membership's ordering would cost every page a join on the
    # user and its compilation (this query runs on every logged-in request, and answers the MFA check too).
    memberships = (
        Membership.objects.filter(user=user)
        .select_related("library__county")
        .annotate(has_second_factor=Exists(Authenticator.objects.filter(user_id=OuterRef("user_id"))))
        .order_by()
    )
    for membership in memberships:
        has_second_factor = membership.has_second_factor  # type: ignore[attr-defined]  # the annotation above
        county = membership.library.county
        role = Role(membership.role)
        _county, best, libraries = by_county.get(county.pk, (county, role, []))
        libraries.append(LibraryRole(membership.library_id, membership.library.name, role))
        by_county[county.pk] = (county, role if role.rank > best.rank else best, libraries)
    return sorted(
        (
            CountyAccess(
                county,
                role,
                frozenset(each.library_id for each in libraries),
                user.pk,
                has_second_factor,
                tuple(sorted(libraries, key=lambda each: each.name)),
            )
            for county, role, libraries in by_county.values()
        ),
        key=lambda access: access.county.name,
    )


SESSION_COUNTY_KEY = "innspill_county_id"


def all_accesses(request: HttpRequest) -> list[CountyAccess]:
    """Every county of the logged-in user (computed once per request)."""
    cached: list[CountyAccess] | None = getattr(request, "_county_accesses", None)
    if cached is None:
        cached = county_accesses(request.user) if request.user.is_authenticated else []
        request._county_accesses = cached  # type: ignore[attr-defined]  # a per-request cache on the HttpRequest
    return cached


def current_access(request: HttpRequest) -> CountyAccess | None:
    """The county the user is working in now (chosen in the session when they have several)."""
    accesses = all_accesses(request)
    chosen = request.session.get(SESSION_COUNTY_KEY) if accesses else None
    return next((a for a in accesses if a.county.pk == chosen), accesses[0] if accesses else None)


def require_role(request: HttpRequest, role: Role = Role.LIBRARIAN) -> CountyAccess:
    """The user's access to their current county, if their role there is at least `role`."""
    access = current_access(request)
    if access is None:
        raise PermissionDenied("You are not a member of any library.")
    if not access.has_role(role):
        raise PermissionDenied("Your role does not allow this.")
    return access


def choose_county(request: HttpRequest, county_id: int) -> CountyAccess:
    """Switch the current county; only to one the user belongs to."""
    for access in all_accesses(request):
        if access.county.pk == county_id:
            request.session[SESSION_COUNTY_KEY] = county_id
            return access
    raise Http404


def get_library_for_user(request: HttpRequest, pk: int, *, role: Role = Role.COORDINATOR) -> Library:
    access = require_role(request, role)
    return get_object_or_404(Library.objects.for_county(access.county), pk=pk)


def get_membership_for_user(request: HttpRequest, pk: int) -> Membership:
    access = require_role(request, Role.COORDINATOR)
    return get_object_or_404(Membership.objects.for_county(access.county).select_related("user", "library"), pk=pk)


def get_invitation_for_user(request: HttpRequest, pk: int) -> Invitation:
    access = require_role(request, Role.COORDINATOR)
    return get_object_or_404(Invitation.objects.for_county(access.county).select_related("library"), pk=pk)


@dataclass(frozen=True)
class InvitationActions:
    """What a person may do with an invitation now: the invitation list and the matrix test read these."""

    can_resend: bool  # neither accepted nor revoked (an expired one is worth sending again)
    can_revoke: bool


def invitation_actions(access: CountyAccess, invitation: Invitation) -> InvitationActions:
    is_open = access.is_coordinator and invitation.status in (Invitation.Status.PENDING, Invitation.Status.EXPIRED)
    return InvitationActions(can_resend=is_open, can_revoke=is_open)


def libraries_for_user(request: HttpRequest) -> tuple[CountyAccess, LibraryQuerySet]:
    """The libraries of the user's current county (everyone in a county may see them)."""
    access = require_role(request, Role.LIBRARIAN)
    return access, Library.objects.for_county(access.county)


# --- The development outbox ---


def outbox_enabled() -> bool:
    """The outbox exists only in development: DEBUG with EMAIL_BACKEND=outbox (settings refuse outbox otherwise)."""
    return bool(settings.DEBUG) and settings.EMAIL_BACKEND_NAME == "outbox"


def can_read_outbox(request: HttpRequest) -> bool:
    """It holds every county's invitation and password-reset links: for staff, and for the
    coordinators, who send the invitations and read them there in the demo."""
    if not outbox_enabled() or not request.user.is_authenticated:
        return False
    return request.user.is_staff or any(access.is_coordinator for access in all_accesses(request))
