"""The home page: what each role should look at first, gathered from every app.

It reads from libraries, production and publishing, so it lives in the top
layer; the view is publishing/views/home.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Case, Count, F, Q, When, Window
from django.db.models.functions import JSONObject, RowNumber
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from libraries.access import CountyAccess
from libraries.dates import duration_text
from libraries.http import kept_for_everyone, kept_part
from libraries.models import first_rows_and_count
from libraries.overview import county_libraries
from production.access import memberships_user_may_sign_up
from production.forms import SignupForm
from production.models import Idea, RecordingDay
from production.services import people as people_services
from publishing.instagram import channels
from publishing.models import InstagramComment, Post, PostQuerySet
from publishing.posts.plan import uncovered_concept_gaps

LOOKAHEAD_DAYS = 28  # "the next four weeks"
HOME_LIST_LENGTH = 8
UNANSWERED_ON_HOME = 5


def production_panels(access: CountyAccess) -> dict[str, Any]:
    """Ideas to review, recording days with open slots, concept gaps, expiring consents: the same for everyone
    of the role in the county."""
    today = timezone.localdate()
    county = access.county
    context: dict[str, Any] = {}
    if access.is_editor:
        # What the card shows (title, library, day): the ideas list's joins and counts cost more to plan than
        # to run.
        context["ideas_waiting"], context["ideas_waiting_count"] = first_rows_and_count(
            Idea.objects.for_county(county)
            .waiting_for_review()
            .select_related("library")
            .only("title", "created_at", "library__name")
            .order_by("created_at", "pk"),
            10,
        )
    if access.is_coordinator:
        context["days_with_open_slots"] = (
            RecordingDay.objects.for_county(county)
            .not_done()
            .upcoming(today)
            .with_slot_counts()
            .with_open_slots()
            .select_related("host_library")[:5]
        )
        context["concept_gaps"] = uncovered_concept_gaps(county, today, today + timedelta(days=LOOKAHEAD_DAYS - 1))
        # Consents of people in the register that end within 30 days, with a renewal link to send.
        context["expiring_consents"] = people_services.expiring_consents(county, today=today)[:HOME_LIST_LENGTH]
    return context


def own_panels(access: CountyAccess) -> dict[str, Any]:
    """Everyone but the coordinator: their libraries' ideas and the next recording day, with their sign-ups."""
    if access.is_coordinator:
        return {}
    today = timezone.localdate()
    county = access.county
    context: dict[str, Any] = {}
    mine = Idea.objects.for_county(county).of_libraries(access.library_ids)
    # How many of the library's ideas are in each status, counted once (a subquery that does not depend
    # on the row: an InitPlan) and carried by the first rows; no rows, no ideas to count.
    by_status = mine.order_by().values("status").annotate(row=JSONObject(status="status", n=Count("pk")))
    context["my_ideas"] = my_ideas = list(
        mine.for_list().annotate(status_counts=ArraySubquery(by_status.values("row")))[:10]
    )
    counts = {row["status"]: row["n"] for row in my_ideas[0].status_counts} if my_ideas else {}  # type: ignore[attr-defined]  # the annotation above
    context["my_idea_counts"] = [(label, counts[value]) for value, label in Idea.Status.choices if value in counts]
    next_day = (
        RecordingDay.objects.for_county(county)
        .visible_to_librarians()
        .not_done()
        .upcoming(today)
        .select_related("host_library")
        .with_signup_of(access.library_ids)
        .first()
    )
    context["next_day"] = next_day
    if next_day is not None:
        context["next_day_signups"] = list(
            next_day.signups.filter(library_id__in=access.library_ids).select_related("person", "library")
        )
        if next_day.accepts_signups:
            signed_up = {signup.person_id for signup in context["next_day_signups"]}
            form = SignupForm(memberships=memberships_user_may_sign_up(access).exclude(user_id__in=signed_up))
            if form.memberships:  # everyone from the library may already be signed up
                context["signup_form"] = form
    return context


# The editor's lists of posts, each with what its card says first: awaiting approval (the oldest first),
# failed (the latest first), held by the worker (the soonest first) and, for an editor who is not the
# coordinator, the scheduled posts coming up (the soonest first).
AWAITING, FAILED, HELD, UPCOMING = "awaiting", "failed", "held", "upcoming"
LIST_OF_STATUS: dict[str, str] = {
    Post.Status.IN_REVIEW: AWAITING,
    Post.Status.FAILED: FAILED,
    Post.Status.PUBLISHING: HELD,
    Post.Status.SCHEDULED: UPCOMING,
}


# What the three cards show of a post (templates/publishing/home.html, `Post.waiting_note`): compiling and
# reading every column of the post and its author was most of the lists' cost.
CARD_FIELDS = (
    "title",
    "status",
    "scheduled_at",
    "failure_reason",
    "media_kind",
    "media_id",
    "waiting_for",
    "next_attempt_at",
    "status_polls",
    "created_by__name",
    "created_by__email",
)


def _posts_to_look_at(posts: PostQuerySet, *, upcoming_after: datetime | None) -> dict[str, tuple[list[Post], int]]:
    """The first HOME_LIST_LENGTH posts of each editor's list and how many it has in all, in one query; the
    upcoming list only with `upcoming_after` (the posts scheduled after it)."""
    held = Q(status=Post.Status.PUBLISHING, media_id="") & ~Q(waiting_for=Post.Waiting.NOTHING)
    upcoming = (
        Q(status=Post.Status.SCHEDULED, scheduled_at__gte=upcoming_after)
        if upcoming_after is not None
        else Q(pk=None)  # no post: the list stays empty
    )
    # Each list is one status (the filter below keeps only the posts of the four lists), so the lists are
    # partitions by status and their orders cases of it: conditions on the status alone, where repeating the
    # lists' own conditions in each expression made Django compile them five times (most of the query's cost).
    Status = Post.Status
    ascending = Case(
        When(status__in=[Status.PUBLISHING, Status.SCHEDULED], then=F("scheduled_at")),
        When(status=Status.IN_REVIEW, then=F("status_changed_at")),
    )
    descending = Case(When(status=Status.FAILED, then=F("status_changed_at")))
    rows = (
        posts.filter(Q(status__in=[Status.IN_REVIEW, Status.FAILED]) | held | upcoming)
        .annotate(
            place=Window(
                RowNumber(),
                partition_by=F("status"),
                order_by=[ascending.asc(nulls_last=True), descending.desc(nulls_last=True), F("pk").asc()],
            ),
            in_list=Window(Count("pk"), partition_by=F("status")),
        )
        .filter(place__lte=HOME_LIST_LENGTH)
        .select_related("created_by")
        .only(*CARD_FIELDS)
        .order_by("place")
    )
    shown: dict[str, list[Post]] = {AWAITING: [], FAILED: [], HELD: [], UPCOMING: []}
    in_all = dict.fromkeys(shown, 0)
    for post in rows:
        name = LIST_OF_STATUS[post.status]
        shown[name].append(post)
        in_all[name] = post.in_list  # type: ignore[attr-defined]  # the annotation above
    return {name: (posts_shown, in_all[name]) for name, posts_shown in shown.items()}


def publishing_panels(access: CountyAccess) -> dict[str, Any]:
    """Posts to approve and failed, comments waiting for an answer, the channel; a librarian's upcoming posts."""
    county = access.county
    now = timezone.now()
    posts = Post.objects.for_county(county)
    context: dict[str, Any] = {}
    if access.is_editor:
        lists = _posts_to_look_at(posts, upcoming_after=None if access.is_coordinator else now)
        context["posts_awaiting_approval"], context["posts_awaiting_approval_count"] = lists[AWAITING]
        context["failed_posts"], _count = lists[FAILED]
        context["waiting_posts"], context["waiting_posts_count"] = lists[HELD]
        if not access.is_coordinator:
            context["upcoming_posts"], _count = lists[UPCOMING]
        # "Don't post and ghost": who has waited longest for an answer (DESIGN.md §7).
        unanswered = InstagramComment.objects.for_county(county).from_followers().unanswered()
        oldest, context["unanswered_comments_count"] = first_rows_and_count(
            unanswered.select_related("post"), UNANSWERED_ON_HOME
        )
        context["unanswered_comments"] = [(c, duration_text(c.age(now), now=now)) for c in oldest]
    if access.is_coordinator:
        # With everything a stopped channel holds back: scheduled posts and those the worker holds.
        context["channel"] = channels.county_channel(county, with_posts_waiting=True)
        context["posts_waiting_for_channel"] = getattr(context["channel"], "posts_waiting", 0)
    elif not access.is_editor:
        context["upcoming_posts"] = (
            posts.filter(status=Post.Status.SCHEDULED, scheduled_at__gte=now)
            .order_by("scheduled_at", "pk")
            .only("pk", "title", "scheduled_at", "status")[:HOME_LIST_LENGTH]
        )
    return context


def library_panels(access: CountyAccess) -> dict[str, Any]:
    """For a coordinator the member libraries without Instagram and the pending invitations (the user's own
    libraries come with their access)."""
    if not access.is_coordinator:
        return {}
    libraries = county_libraries(access.county)
    return {
        "pending_invitations": libraries.invitations,
        "libraries_without_instagram": libraries.without_instagram,
        "library_count": len(libraries.members),
    }


@dataclass(frozen=True)
class CountyCards:
    """The home's cards that are the same for everyone of a role in the county, rendered."""

    cards: str  # the channel's notice, the coordinator's and the editor's cards
    coming_up: str  # "Coming up on Instagram" (everyone but the coordinator)


def county_cards(access: CountyAccess) -> CountyCards:
    """Rendered once for the county, role and minute, and again after any write to the database
    (libraries.http.kept_for_everyone): the cards read a dozen tables, and most visits to the home change
    nothing. The minute is for what the clock moves (how long a comment has waited, the next four weeks)."""
    return kept_for_everyone(
        ["home", access.county.pk, access.role], lambda: _render_county_cards(access), per_minute=True
    )


def _render_county_cards(access: CountyAccess) -> CountyCards:
    # Only the role of the access: what is rendered here is kept for everyone of it in the county.
    context = {
        "is_editor": access.is_editor,
        "is_coordinator": access.is_coordinator,
        **library_panels(access),
        **production_panels(access),
        **publishing_panels(access),
    }
    return CountyCards(
        cards=render_to_string("publishing/_home_cards.html", context),
        coming_up="" if access.is_coordinator else render_to_string("publishing/_home_coming_up.html", context),
    )


def own_cards(request: HttpRequest, access: CountyAccess, coming_up: str) -> SafeString:
    """Everyone but the coordinator: their libraries' ideas, "Coming up on Instagram" (`coming_up`, the county's)
    and the next recording day with its sign-up form, rendered once for the county, role and libraries and kept
    as the county's cards are."""
    if access.is_coordinator:
        return SafeString()
    return kept_part(
        request,
        ["home-own", access.county.pk, access.role, sorted(access.library_ids)],
        "publishing/_home_own.html",
        lambda: {**own_panels(access), "coming_up": coming_up},
        per_minute=True,
    )


def home_context(request: HttpRequest, access: CountyAccess) -> dict[str, Any]:
    cards = county_cards(access)
    return {"access": access, "county_cards": cards, "own_cards": own_cards(request, access, cards.coming_up)}
