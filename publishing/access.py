"""Publishing's gate: posts, the channel, the archive, comments, outcomes and reports, on the core gate.

Every publishing object a view touches comes through a function here, built on
`libraries.access` and `production.access`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from libraries.access import CountyAccess, require_role
from libraries.models import Library, LibraryQuerySet, Role, count_per_row
from production.access import get_asset_for_user, get_concept_for_user, get_idea_for_user
from production.models import Asset, Concept, Idea
from publishing.archive import filing, network
from publishing.models import (
    ArchiveItem,
    ArchiveItemQuerySet,
    Channel,
    InstagramComment,
    InstagramCommentQuerySet,
    Outcome,
    Post,
    PostQuerySet,
    SharedItem,
)
from publishing.posts.services import CHANGE_NEEDS_APPROVAL_STATUSES, may_approve, may_approve_alone

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


def get_post_for_user(request: HttpRequest, pk: int, *, role: Role = Role.LIBRARIAN, for_gates: bool = False) -> Post:
    """A post of the user's county that their role lets them see; `role` for what the view does with it,
    `for_gates` with everything the gates and the post page read (`PostQuerySet.for_gates`, the posts planned
    that day, the archive items it reuses (`publishing.archive.filing.reused_items`) and how many comments
    from followers it has, how many of them unanswered: the post page's panels read these)."""
    require_role(request, role)
    _access, posts = posts_for_user(request)
    if for_gates:
        comments = InstagramComment.objects.filter(post=OuterRef("pk")).from_followers()
        unanswered = comments.filter(status=InstagramComment.Status.UNANSWERED)
        post = (
            posts.for_gates()
            .with_posts_that_day()
            .annotate(
                archive_reused_rows=filing.reused_items(),
                comment_count=count_per_row(comments, "post"),
                unanswered_count=count_per_row(unanswered, "post"),
            )
        )
        return get_object_or_404(post, pk=pk)
    return get_object_or_404(posts.select_related("county", "created_by", "responsible", "concept", "idea"), pk=pk)


@dataclass(frozen=True)
class PostActions:
    """What a person may do with a post now: the post page, the change form and the matrix test read these."""

    can_edit: bool
    can_submit: bool
    can_approve: bool
    can_approve_alone: bool  # the author, where the county allows publishing without a second review
    can_mark_reviewed: bool  # another editor, on a post its author approved alone
    is_own_post: bool  # in review, and this editor wrote or last changed it: another editor approves it
    can_schedule: bool
    can_unschedule: bool
    can_cancel: bool
    can_move: bool
    offers_move: bool  # the post page's Move form: a failed post or one to schedule is scheduled instead
    change_needs_approval: bool  # a change of content sends the post back to review
    has_actions: bool  # the post page's "What next" section has something in it


def post_actions(access: CountyAccess, post: Post) -> PostActions:
    is_editor = access.is_editor
    status = post.status
    in_review = status == Post.Status.IN_REVIEW
    approvable = in_review and may_approve(by=access.user_id, post=post)
    alone = is_editor and in_review and may_approve_alone(by=access.user_id, post=post)
    can_mark_reviewed = is_editor and post.awaits_second_review and may_approve(by=access.user_id, post=post)
    can_submit = is_editor and post.is_submittable
    can_schedule = is_editor and post.can_move_to(Post.Status.SCHEDULED)
    can_unschedule = is_editor and status == Post.Status.SCHEDULED
    can_cancel = is_editor and post.can_move_to(Post.Status.CANCELLED)
    can_move = is_editor and post.is_movable
    flags = (can_submit, is_editor and approvable, in_review and not approvable, can_schedule, can_unschedule)
    return PostActions(
        can_edit=is_editor and post.is_editable,
        can_submit=can_submit,
        can_approve=is_editor and approvable,
        can_approve_alone=alone,
        can_mark_reviewed=can_mark_reviewed,
        is_own_post=in_review and not approvable,
        can_schedule=can_schedule,
        can_unschedule=can_unschedule,
        can_cancel=can_cancel,
        can_move=can_move,
        offers_move=can_move and status != Post.Status.FAILED and not can_schedule,
        change_needs_approval=is_editor and status in CHANGE_NEEDS_APPROVAL_STATUSES,
        has_actions=any((*flags, can_move, can_cancel, alone, can_mark_reviewed)) or status == Post.Status.PUBLISHING,
    )


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
    found = {item.pk: item for item in items.filter(pk__in=wanted).select_related("county", "asset", "concept", "post")}
    if not wanted or len(found) != len(wanted):
        raise Http404
    return [found[pk] for pk in wanted]


@dataclass(frozen=True)
class SharingActions:
    """What a person may do about an archive item and the network of counties (DESIGN.md §8): the item
    page and the access-matrix test read these. Consent is the service's question (it says why not)."""

    shows_sharing: bool  # the item page's "The network" section: an item of the county, not a borrowed copy
    can_offer: bool  # an editor offers it (again, after an un-share) while the county takes part
    can_approve: bool  # the coordinator lets an offered item leave the county
    can_unshare: bool  # an editor withdraws an offer or takes a shared item out of the pool


def sharing_actions(
    access: CountyAccess, item: ArchiveItem | Concept | Idea, shared: SharedItem | None
) -> SharingActions:
    """`item`: an archive item, a concept or an idea; `shared` its `SharedItem` (None: never offered)."""
    borrowed = item.source == ArchiveItem.Source.BORROWED if isinstance(item, ArchiveItem) else item.borrowed_from_id
    own = network.county_id_of(item) == access.county.pk and not borrowed
    status = shared.status if shared is not None else None
    in_network = access.county.in_network
    return SharingActions(
        shows_sharing=own and (in_network or shared is not None),
        can_offer=own and access.is_editor and in_network and status in (None, SharedItem.Status.UNSHARED),
        can_approve=own and access.is_coordinator and in_network and status == SharedItem.Status.OFFERED,
        can_unshare=own and access.is_editor and status in (SharedItem.Status.OFFERED, SharedItem.Status.SHARED),
    )


def get_shareable_for_sharing(
    request: HttpRequest, kind: str, pk: int, *, role: Role = Role.EDITOR
) -> tuple[CountyAccess, ArchiveItem | Concept | Idea, SharedItem | None]:
    """An archive item, a concept or an idea of the county and its place in the network (None: never
    offered), for the offer, approve and un-share views; `role` for what the view does."""
    access = require_role(request, role)
    thing: ArchiveItem | Concept | Idea
    if kind == SharedItem.Kind.ITEM:
        thing = get_archive_item_for_user(request, pk, role=role)
    elif kind == SharedItem.Kind.CONCEPT:
        thing = get_concept_for_user(request, pk, role=role)
    elif kind == SharedItem.Kind.IDEA:
        thing = get_idea_for_user(request, pk, role=role)
    else:
        raise Http404
    return access, thing, network.shared_of(thing)


# --- The network's shared pool (DESIGN.md §8) ---
#
# Everyone in a county that takes part searches the pool of the other counties' shared items;
# editors and coordinators borrow; a network moderator (set in the admin) hides an item.


def pool_for_user(request: HttpRequest) -> CountyAccess:
    """The shared pool is searched from the user's current county (empty when it does not take part)."""
    return require_role(request, Role.LIBRARIAN)


def get_shared_item_for_user(
    request: HttpRequest, pk: int, *, role: Role = Role.LIBRARIAN
) -> tuple[CountyAccess, SharedItem]:
    """An item another county shares, while the user's county sees it in the pool; 404 otherwise
    (never offered, waiting for approval, un-shared, hidden, consent lapsed, or either county outside)."""
    access = require_role(request, role)
    shared = network.visible_shared(access.county, pk)
    if shared is None:
        raise Http404
    return access, shared


@dataclass(frozen=True)
class PoolActions:
    """What a person may do with an item in the shared pool: the pool's pages and the matrix test read these."""

    can_borrow: bool  # editors and coordinators (a concept: coordinators), until the county has a copy
    has_copy: bool  # the county borrowed it already: its copy is in the archive
    can_hide: bool  # a network moderator


def pool_actions(
    access: CountyAccess, *, has_copy: bool, moderator: bool, kind: str = SharedItem.Kind.ITEM
) -> PoolActions:
    return PoolActions(
        can_borrow=network.may_borrow(access, kind) and not has_copy,
        has_copy=has_copy,
        can_hide=moderator,
    )


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


def can_see_library_report(access: CountyAccess, library: Library) -> bool:
    """Editors see every member library's report, librarians their own library's (and the county's)."""
    return access.is_editor or library.pk in access.library_ids


def report_libraries_for(access: CountyAccess, member_libraries: Iterable[Library]) -> list[Library]:
    """Of the county's member libraries (`Report.member_libraries`, read with the report), those whose report
    the user may see, in the order given."""
    return [library for library in member_libraries if can_see_library_report(access, library)]


def get_report_library_for_user(request: HttpRequest, pk: int) -> tuple[CountyAccess, Library]:
    """A member library of the user's county whose monthly report they may see."""
    access = require_role(request, Role.LIBRARIAN)
    library = get_object_or_404(Library.objects.for_county(access.county).members(), pk=pk)
    if not can_see_library_report(access, library):
        raise PermissionDenied("Librarians see the county's report and their own library's.")
    return access, library


# The comments inbox (publishing/followup/comments.py): editors and coordinators
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
