"""Production's gate: concepts, ideas, recording days, assets and consent, on the core gate.

Every production object a view touches comes through a function here, built on
`libraries.access` (scoped to the user's current county, 404 for another
county's objects, 403 for a role too low).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.module_loading import import_string

from libraries.access import CountyAccess, require_role
from libraries.models import Library, LibraryQuerySet, Membership, MembershipQuerySet, Role
from production.models import (
    Asset,
    AssetPerson,
    AssetQuerySet,
    Concept,
    ConceptQuerySet,
    Consent,
    ConsentState,
    Idea,
    IdeaAttachment,
    IdeaQuerySet,
    Person,
    PersonQuerySet,
    PresenterSignup,
    RecordingDay,
    RecordingDayQuerySet,
    RunSheetSlot,
)

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


# --- What a person may do with an idea, a recording day or an asset: data the views, the templates and
# the access-matrix test read (STYLE.md convention 3) ---


@dataclass(frozen=True)
class IdeaActions:
    can_edit: bool
    can_review: bool  # accept or decline
    can_plan: bool  # put on a recording day's run sheet
    can_mark_used: bool
    can_make_post: bool  # "Make a post from this idea": the compose form, filled from it


# Ideas a post can be made from: accepted and after (not submitted or declined).
POSTABLE_IDEA_STATUSES = frozenset({Idea.Status.ACCEPTED, Idea.Status.PLANNED, Idea.Status.RECORDED, Idea.Status.USED})


def idea_actions(access: CountyAccess, idea: Idea) -> IdeaActions:
    return IdeaActions(
        can_make_post=access.is_editor and idea.status in POSTABLE_IDEA_STATUSES,
        can_edit=can_change_idea(access, idea),
        can_review=access.is_editor and idea.status == Idea.Status.SUBMITTED,
        can_plan=access.is_coordinator and idea.status == Idea.Status.ACCEPTED,
        can_mark_used=access.is_coordinator and idea.status == Idea.Status.RECORDED,
    )


@dataclass(frozen=True)
class RecordingDayActions:
    can_manage: bool  # change the day and its run sheet
    can_mark_recorded: bool
    can_announce: bool
    can_mark_done: bool
    can_make_posts: bool  # "Make a post from this idea" beside each idea on the run sheet
    can_open_register: bool  # presenters link to their entry in the register (editors and coordinators)


def recording_day_actions(access: CountyAccess, day: RecordingDay) -> RecordingDayActions:
    return RecordingDayActions(
        can_make_posts=access.is_editor,
        can_open_register=access.is_editor,
        can_manage=access.is_coordinator and day.status != RecordingDay.Status.DONE,
        can_mark_recorded=access.is_coordinator and day.status != RecordingDay.Status.DRAFT and day.has_begun,
        can_announce=access.is_coordinator and day.status == RecordingDay.Status.DRAFT,
        can_mark_done=access.is_coordinator and day.status == RecordingDay.Status.ANNOUNCED and day.has_begun,
    )


def can_see_presenter_consent(access: CountyAccess, signup: PresenterSignup) -> bool:
    """Whether a presenter's consent is in force: for editors, and for the presenter's own library."""
    return access.is_editor or signup.library_id in access.library_ids


def can_withdraw_signup(access: CountyAccess, day: RecordingDay, signup: PresenterSignup) -> bool:
    """Until the day is done, a library withdraws its own sign-ups (to `day`) and a coordinator any."""
    if day.status == RecordingDay.Status.DONE:
        return False
    return access.is_coordinator or signup.library_id in access.library_ids


@dataclass(frozen=True)
class AssetActions:
    can_change: bool
    can_confirm_no_people: bool
    can_archive: bool  # keep in the archive (the page shows the item instead once it is there)
    can_use_register: bool  # tag people from the county's register (editors and coordinators)


def asset_actions(access: CountyAccess, asset: Asset, *, consent_state: ConsentState | None = None) -> AssetActions:
    """`consent_state`: the asset's, when the caller has it already (it reads the people shown)."""
    state = consent_state if consent_state is not None else asset.consent_state()
    return AssetActions(
        can_change=can_change_asset(access, asset),
        can_confirm_no_people=can_confirm_no_people(access) and state == ConsentState.NOT_REVIEWED,
        can_archive=access.is_editor and asset.status == Asset.Status.READY,
        can_use_register=access.is_editor,
    )


# --- Media: assets, the people shown and their consent (DESIGN.md §3, §5) ---
#
# Everyone in a county sees its media (the archive is shared). Editors and
# coordinators upload and change any of them; a librarian uploads to their own
# library's ideas and changes their own library's media. Recording days are
# the county's: only editors and coordinators upload to them. A consent's
# evidence (a signed form, often a child's guardian's) is shown only to the
# people who may change the asset.


def can_change_asset(access: CountyAccess, asset: Asset) -> bool:
    """A borrowed copy is changed by nobody in the borrowing county: its files and people are the origin's."""
    if asset.borrowed_from_id is not None:
        return False
    return access.is_editor or asset.library_id in access.library_ids


def can_upload_to_idea(access: CountyAccess, idea: Idea) -> bool:
    return access.is_editor or idea.library_id in access.library_ids


def assets_for_user(request: HttpRequest) -> tuple[CountyAccess, AssetQuerySet]:
    access = require_role(request, Role.LIBRARIAN)
    return access, Asset.objects.for_county(access.county)


def get_asset_for_user(request: HttpRequest, pk: int, *, for_change: bool = False, for_page: bool = False) -> Asset:
    """An asset of the user's county; `for_change` also requires that the user may change it. `for_page`:
    read with what its page shows (`AssetQuerySet.for_page`), not read again for it."""
    access = require_role(request, Role.LIBRARIAN)
    assets = Asset.objects.for_county(access.county)
    assets = assets.for_page() if for_page else assets.select_related("library", "idea", "recording_day__host_library")
    asset = get_object_or_404(assets, pk=pk)
    if for_change and not can_change_asset(access, asset):
        raise PermissionDenied("Only editors and the asset's own library change it.")
    return asset


def get_shared_asset_for_user(request: HttpRequest, pk: int) -> Asset:
    """Another county's asset that the user's county sees in the network's shared pool, or 404.

    What is in the pool is publishing's to say (shared, approved, not hidden, its county and the
    user's in the network): the callable in settings.SHARED_ASSET_LOOKUP, given the user's county and
    the asset's id. Whether its bytes may travel is production/release.py's `Purpose.SHARE`.
    """
    access = require_role(request, Role.LIBRARIAN)
    asset: Asset | None = import_string(settings.SHARED_ASSET_LOOKUP)(county=access.county, asset_id=pk)
    if asset is None:
        raise Http404
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


def may_handle_persons_consent(access: CountyAccess, person: Person) -> bool:
    """Editors and coordinators, or a library with media the person is tagged in (they sort its consent out)."""
    return (
        access.is_editor or AssetPerson.objects.filter(person=person, asset__library_id__in=access.library_ids).exists()
    )


def get_consent_for_user(request: HttpRequest, pk: int) -> Consent:
    """A consent of someone in media the user may change (to withdraw it, or to see its evidence)."""
    access = require_role(request, Role.LIBRARIAN)
    consent = get_object_or_404(
        Consent.objects.filter(person__county=access.county).select_related("person__county"), pk=pk
    )
    if not may_handle_persons_consent(access, consent.person):
        raise PermissionDenied("Only editors and the libraries of the media they are in see and change consents.")
    return consent


# --- The county's register of people (DESIGN.md §3): editors and coordinators only ---


def people_for_user(request: HttpRequest) -> tuple[CountyAccess, PersonQuerySet]:
    access = require_role(request, Role.EDITOR)
    return access, Person.objects.for_county(access.county)


def get_person_for_user(request: HttpRequest, pk: int) -> Person:
    """A person in the register of the user's county (editors and coordinators)."""
    _access, people = people_for_user(request)
    return get_object_or_404(people.select_related("county"), pk=pk)
