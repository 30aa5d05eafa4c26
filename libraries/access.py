"""The only permission gate.

Every object a view touches comes through a function here: scoped to the
user's current county and checked against their role there. Another county's
objects are 404 (we do not even confirm they exist); a role that is too low
for the page is 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from libraries.models import County, Invitation, Library, LibraryQuerySet, Membership, MembershipQuerySet, Role
from production.models import (
    Asset,
    AssetPerson,
    AssetQuerySet,
    Concept,
    ConceptQuerySet,
    Consent,
    Idea,
    IdeaAttachment,
    IdeaQuerySet,
    PresenterSignup,
    RecordingDay,
    RecordingDayQuerySet,
    RunSheetSlot,
)
from publishing.models import (
    ArchiveItem,
    ArchiveItemQuerySet,
    Channel,
    InstagramComment,
    InstagramCommentQuerySet,
    Outcome,
    Post,
    PostQuerySet,
)

if TYPE_CHECKING:
    from libraries.models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User


@dataclass(frozen=True)
class CountyAccess:
    """What one user may do in one county."""

    county: County
    role: Role
    library_ids: frozenset[int]

    def has_role(self, role: Role) -> bool:
        return self.role.rank >= role.rank

    @property
    def is_coordinator(self) -> bool:
        return self.has_role(Role.COORDINATOR)

    @property
    def is_editor(self) -> bool:
        return self.has_role(Role.EDITOR)


def county_accesses(user: User) -> list[CountyAccess]:
    """Every county the user belongs to, with their highest role there."""
    by_county: dict[int, tuple[County, Role, set[int]]] = {}
    for membership in Membership.objects.filter(user=user).select_related("library__county"):
        county = membership.library.county
        role = Role(membership.role)
        _county, best, library_ids = by_county.get(county.pk, (county, role, set()))
        library_ids.add(membership.library_id)
        by_county[county.pk] = (county, role if role.rank > best.rank else best, library_ids)
    return sorted(
        (CountyAccess(county, role, frozenset(ids)) for county, role, ids in by_county.values()),
        key=lambda access: access.county.name,
    )


SESSION_COUNTY_KEY = "innspill_county_id"


def all_accesses(request: HttpRequest) -> list[CountyAccess]:
    """Every county of the logged-in user (computed once per request)."""
    cached: list[CountyAccess] | None = getattr(request, "_county_accesses", None)
    if cached is None:
        cached = county_accesses(request.user) if request.user.is_authenticated else []
        request._county_accesses = cached  # type: ignore[attr-defined]
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


# --- Production: concepts, ideas, recording days (DESIGN.md §2) ---
#
# Everyone in a county sees its concepts, ideas and announced recording days.
# Librarians submit ideas for their own libraries and change them while they
# wait for review; editors and coordinators review (accept or decline);
# coordinators change any idea and manage concepts and recording days.


def can_change_idea(access: CountyAccess, idea: Idea) -> bool:
    if access.is_coordinator:
        return True
    return idea.library_id in access.library_ids and idea.status == Idea.Status.SUBMITTED


def libraries_user_may_submit_for(access: CountyAccess) -> LibraryQuerySet:
    libraries = Library.objects.for_county(access.county).active()
    return libraries if access.is_coordinator else libraries.filter(pk__in=access.library_ids)


def memberships_user_may_sign_up(access: CountyAccess) -> MembershipQuerySet:
    """The people (as memberships: person and library) the user may put forward as presenters."""
    memberships = Membership.objects.for_county(access.county).select_related("user", "library")
    if not access.is_coordinator:
        memberships = memberships.filter(library_id__in=access.library_ids)
    return memberships.order_by("library__name", "user__name")


def ideas_for_user(request: HttpRequest) -> tuple[CountyAccess, IdeaQuerySet]:
    access = require_role(request, Role.LIBRARIAN)
    return access, Idea.objects.for_county(access.county)


def get_idea_for_user(request: HttpRequest, pk: int, *, role: Role = Role.LIBRARIAN, for_change: bool = False) -> Idea:
    """An idea of the user's county; `for_change` also requires that the user may edit it."""
    access = require_role(request, role)
    idea = get_object_or_404(
        Idea.objects.for_county(access.county).select_related("library__county", "concept", "submitted_by"), pk=pk
    )
    if for_change and not can_change_idea(access, idea):
        raise PermissionDenied("Only the idea's own library changes it, and only while it waits for review.")
    return idea


def get_idea_attachment_for_user(request: HttpRequest, pk: int) -> IdeaAttachment:
    access = require_role(request, Role.LIBRARIAN)
    return get_object_or_404(IdeaAttachment.objects.filter(idea__library__county=access.county), pk=pk)


def concepts_for_user(request: HttpRequest) -> tuple[CountyAccess, ConceptQuerySet]:
    access = require_role(request, Role.LIBRARIAN)
    return access, Concept.objects.for_county(access.county)


def get_concept_for_user(request: HttpRequest, pk: int, *, role: Role = Role.COORDINATOR) -> Concept:
    access = require_role(request, role)
    return get_object_or_404(Concept.objects.for_county(access.county), pk=pk)


def recording_days_for_user(request: HttpRequest) -> tuple[CountyAccess, RecordingDayQuerySet]:
    """The recording days the user may see: drafts only for county staff (editors and coordinators)."""
    access = require_role(request, Role.LIBRARIAN)
    days = RecordingDay.objects.for_county(access.county)
    return access, days if access.is_editor else days.visible_to_librarians()


def get_recording_day_for_user(request: HttpRequest, pk: int, *, role: Role = Role.LIBRARIAN) -> RecordingDay:
    require_role(request, role)
    _access, days = recording_days_for_user(request)
    return get_object_or_404(days.select_related("host_library", "county"), pk=pk)


def get_slot_for_user(request: HttpRequest, pk: int) -> RunSheetSlot:
    access = require_role(request, Role.COORDINATOR)
    return get_object_or_404(
        RunSheetSlot.objects.filter(recording_day__county=access.county).select_related(
            "recording_day__host_library", "recording_day__county", "idea"
        ),
        pk=pk,
    )


def get_signup_for_user(request: HttpRequest, pk: int) -> PresenterSignup:
    """A sign-up the user may withdraw: their own library's, or any in the county for a coordinator."""
    access = require_role(request, Role.LIBRARIAN)
    signup = get_object_or_404(
        PresenterSignup.objects.filter(recording_day__county=access.county).select_related(
            "recording_day__county", "library", "person"
        ),
        pk=pk,
    )
    if not access.is_coordinator and signup.library_id not in access.library_ids:
        raise PermissionDenied("Only the library that signed up changes its sign-up.")
    return signup


# --- Media: assets, the people shown and their consent (DESIGN.md §3, §5) ---
#
# Everyone in a county sees its media (the archive is shared). Editors and
# coordinators upload and change any of them; a librarian uploads to their own
# library's ideas and changes their own library's media. Recording days are
# the county's: only editors and coordinators upload to them. A consent's
# evidence (a signed form, often a child's guardian's) is shown only to the
# people who may change the asset.


def can_change_asset(access: CountyAccess, asset: Asset) -> bool:
    return access.is_editor or asset.library_id in access.library_ids


def can_upload_to_idea(access: CountyAccess, idea: Idea) -> bool:
    return access.is_editor or idea.library_id in access.library_ids


def assets_for_user(request: HttpRequest) -> tuple[CountyAccess, AssetQuerySet]:
    access = require_role(request, Role.LIBRARIAN)
    return access, Asset.objects.for_county(access.county)


def get_asset_for_user(request: HttpRequest, pk: int, *, for_change: bool = False) -> Asset:
    """An asset of the user's county; `for_change` also requires that the user may change it."""
    access = require_role(request, Role.LIBRARIAN)
    asset = get_object_or_404(
        Asset.objects.for_county(access.county).select_related("library", "idea", "recording_day__host_library"),
        pk=pk,
    )
    if for_change and not can_change_asset(access, asset):
        raise PermissionDenied("Only editors and the asset's own library change it.")
    return asset


def can_confirm_no_people(access: CountyAccess) -> bool:
    """Confirming that nobody in an asset can be recognised is an editor's call (DESIGN.md §3)."""
    return access.is_editor


def get_asset_for_consent_review(request: HttpRequest, pk: int) -> Asset:
    """An asset of the county that an editor or coordinator confirms to show no identifiable people."""
    require_role(request, Role.EDITOR)
    return get_asset_for_user(request, pk)


def get_idea_for_upload(request: HttpRequest, pk: int) -> Idea:
    """An idea the user may add media to: any in the county for an editor, their own library's for a librarian."""
    access = require_role(request, Role.LIBRARIAN)
    idea = get_object_or_404(Idea.objects.for_county(access.county).select_related("library__county"), pk=pk)
    if not can_upload_to_idea(access, idea):
        raise PermissionDenied("Librarians add media to their own library's ideas.")
    return idea


def get_recording_day_for_upload(request: HttpRequest, pk: int) -> RecordingDay:
    """A recording day of the county; only editors and coordinators add media to one."""
    access = require_role(request, Role.EDITOR)
    return get_object_or_404(
        RecordingDay.objects.for_county(access.county).select_related("host_library", "county"), pk=pk
    )


def get_asset_person_for_user(request: HttpRequest, pk: int) -> AssetPerson:
    """Someone shown in an asset the user may change (adding consents, removing the person)."""
    access = require_role(request, Role.LIBRARIAN)
    person = get_object_or_404(
        AssetPerson.objects.filter(asset__county=access.county).select_related("asset__library", "asset__county"),
        pk=pk,
    )
    if not can_change_asset(access, person.asset):
        raise PermissionDenied("Only editors and the asset's own library change who is shown.")
    return person


def get_consent_for_user(request: HttpRequest, pk: int) -> Consent:
    """A consent in an asset the user may change (to withdraw it, or to see its evidence)."""
    access = require_role(request, Role.LIBRARIAN)
    consent = get_object_or_404(
        Consent.objects.filter(person__asset__county=access.county).select_related(
            "person__asset__library", "person__asset__county"
        ),
        pk=pk,
    )
    if not can_change_asset(access, consent.person.asset):
        raise PermissionDenied("Only editors and the asset's own library see and change consents.")
    return consent


# --- Publishing: posts, the plan and the channel (DESIGN.md §2) ---
#
# Editors and coordinators compose, review and schedule posts; librarians see
# the plan (what is scheduled or out), not the county's drafts. Only
# coordinators manage the Instagram connection.


def posts_for_user(request: HttpRequest) -> tuple[CountyAccess, PostQuerySet]:
    """The posts the user may see: every post of the county for editors, the plan for librarians."""
    access = require_role(request, Role.LIBRARIAN)
    posts = Post.objects.for_county(access.county)
    return access, posts if access.is_editor else posts.visible_to_librarians()


def get_post_for_user(request: HttpRequest, pk: int, *, role: Role = Role.LIBRARIAN) -> Post:
    """A post of the user's county that their role lets them see; `role` for what the view does with it."""
    require_role(request, role)
    _access, posts = posts_for_user(request)
    return get_object_or_404(posts.select_related("county", "created_by", "responsible", "concept", "idea"), pk=pk)


def get_channel_for_user(request: HttpRequest, *, role: Role = Role.COORDINATOR) -> tuple[CountyAccess, Channel | None]:
    """The county's Instagram channel (None before it was ever connected); coordinators only by default."""
    access = require_role(request, role)
    return access, Channel.objects.for_county(access.county).instagram().first()


# --- The archive (DESIGN.md §2, §3) ---
#
# Every library in a county searches, downloads and reuses its archive;
# editors and coordinators archive assets and compose posts from it.


def archive_for_user(request: HttpRequest) -> tuple[CountyAccess, ArchiveItemQuerySet]:
    """The archive of the user's current county: everyone in the county searches all of it."""
    access = require_role(request, Role.LIBRARIAN)
    return access, ArchiveItem.objects.for_county(access.county)


def get_archive_item_for_user(request: HttpRequest, pk: int, *, role: Role = Role.LIBRARIAN) -> ArchiveItem:
    """One item of the county's archive; `role` for what the view does with it (reuse: editor)."""
    require_role(request, role)
    _access, items = archive_for_user(request)
    return get_object_or_404(items.select_related("county", "asset", "concept", "post", "archived_by"), pk=pk)


def archive_items_for_user(request: HttpRequest, pks: list[int], *, role: Role = Role.LIBRARIAN) -> list[ArchiveItem]:
    """Several items of the county's archive, in the order asked; one of another county (or none) is 404."""
    require_role(request, role)
    _access, items = archive_for_user(request)
    wanted = list(dict.fromkeys(pks))
    found = {item.pk: item for item in items.filter(pk__in=wanted).select_related("county", "asset", "concept")}
    if not wanted or len(found) != len(wanted):
        raise Http404
    return [found[pk] for pk in wanted]


def can_reuse_from_archive(access: CountyAccess) -> bool:
    """Reusing an item in a new post is composing one: editors and coordinators."""
    return access.is_editor


def get_asset_for_archiving(request: HttpRequest, pk: int) -> Asset:
    """An asset of the county that an editor or coordinator files in the archive."""
    require_role(request, Role.EDITOR)
    return get_asset_for_user(request, pk)


# --- After publishing: the comments inbox, insights, outcomes, reports (DESIGN.md §1, §2) ---
#
# Editors and coordinators answer comments. Librarians log their library's
# outcomes; editors and coordinators any in the county.
#
# Outcomes and the monthly report (publishing/outcomes.py, publishing/reports.py):
# outcomes are logged on published posts; a librarian logs, changes and
# deletes their own library's, editors and coordinators any library's in the
# county. Everyone in the county sees the county's monthly report; a
# librarian also their own library's, editors and coordinators every
# library's. Only coordinators send it to the libraries.


def outcome_libraries_for(access: CountyAccess) -> LibraryQuerySet:
    """The libraries the user may log outcomes for: their own, or any active one in the county for editors."""
    libraries = Library.objects.for_county(access.county).active()
    return libraries if access.is_editor else libraries.filter(pk__in=access.library_ids)


def can_change_outcome(access: CountyAccess, outcome: Outcome) -> bool:
    return access.is_editor or outcome.library_id in access.library_ids


def get_outcome_for_user(request: HttpRequest, pk: int) -> tuple[CountyAccess, Outcome]:
    """An outcome of a post of the user's county that they may change or delete."""
    access = require_role(request, Role.LIBRARIAN)
    outcome = get_object_or_404(
        Outcome.objects.filter(post__county=access.county).select_related("post__county", "library"), pk=pk
    )
    if not can_change_outcome(access, outcome):
        raise PermissionDenied("Librarians change their own library's outcomes.")
    return access, outcome


def report_libraries_for(access: CountyAccess) -> LibraryQuerySet:
    """The member libraries whose report the user may see: every one for editors, their own for librarians."""
    libraries = Library.objects.for_county(access.county).members()
    return libraries if access.is_editor else libraries.filter(pk__in=access.library_ids)


def get_report_library_for_user(request: HttpRequest, pk: int) -> tuple[CountyAccess, Library]:
    """A member library of the user's county whose monthly report they may see."""
    access = require_role(request, Role.LIBRARIAN)
    library = get_object_or_404(Library.objects.for_county(access.county).members(), pk=pk)
    if not access.is_editor and library.pk not in access.library_ids:
        raise PermissionDenied("Librarians see the county's report and their own library's.")
    return access, library


# The comments inbox (publishing/engagement_services.py): editors and coordinators
# read, answer and mark handled the comments on the county's posts; the post
# page shows everyone in the county its insights and comment counts.


def comments_for_user(request: HttpRequest) -> tuple[CountyAccess, InstagramCommentQuerySet]:
    """The comments on the county's posts (the inbox); editors and coordinators only."""
    access = require_role(request, Role.EDITOR)
    return access, InstagramComment.objects.for_county(access.county)


def get_comment_for_user(request: HttpRequest, pk: int) -> InstagramComment:
    """A comment on one of the county's posts, to answer or mark handled; editors and coordinators only."""
    access = require_role(request, Role.EDITOR)
    return get_object_or_404(
        InstagramComment.objects.for_county(access.county).select_related("county", "post__channel"), pk=pk
    )
