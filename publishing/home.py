"""The home page: what each role should look at first, gathered from every app.

It reads from libraries, production and publishing, so it lives in the top
layer; the view is publishing/views/home.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone

from libraries.access import CountyAccess
from libraries.dates import duration_text
from libraries.models import Invitation, Library, Membership, first_rows_and_count
from production.access import memberships_user_may_sign_up
from production.forms import SignupForm
from production.models import Idea, RecordingDay
from production.services import people as people_services
from publishing.instagram import channels
from publishing.models import InstagramComment, Post
from publishing.posts.plan import uncovered_concept_gaps

LOOKAHEAD_DAYS = 28  # "the next four weeks"
HOME_LIST_LENGTH = 8
UNANSWERED_ON_HOME = 5


def production_panels(access: CountyAccess) -> dict[str, Any]:
    """Ideas to review, recording days with open slots, concept gaps; a librarian's ideas and next day."""
    today = timezone.localdate()
    county = access.county
    context: dict[str, Any] = {"today": today}
    ideas = Idea.objects.for_county(county)

    if access.is_editor:
        context["ideas_waiting"], context["ideas_waiting_count"] = first_rows_and_count(
            ideas.waiting_for_review().for_list().order_by("created_at"), 10
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
    else:
        my_ideas = ideas.of_libraries(access.library_ids).for_list()
        context["my_ideas"] = my_ideas[:10]
        counts = dict(
            ideas.of_libraries(access.library_ids).order_by().values_list("status").annotate(count=Count("pk"))
        )
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
                candidates = memberships_user_may_sign_up(access).exclude(user_id__in=signed_up)
                if candidates.exists():  # everyone from the library may already be signed up
                    context["signup_form"] = SignupForm(memberships=candidates)
    return context


def publishing_panels(access: CountyAccess) -> dict[str, Any]:
    """Posts to approve and failed, comments waiting for an answer, the channel; a librarian's upcoming posts."""
    county = access.county
    now = timezone.now()
    posts = Post.objects.for_county(county)
    context: dict[str, Any] = {}
    if access.is_editor:
        context["posts_awaiting_approval"], context["posts_awaiting_approval_count"] = first_rows_and_count(
            posts.awaiting_approval().select_related("created_by").order_by("status_changed_at", "pk"), HOME_LIST_LENGTH
        )
        context["failed_posts"] = posts.filter(status=Post.Status.FAILED).order_by("-status_changed_at")[
            :HOME_LIST_LENGTH
        ]
        # "Don't post and ghost": who has waited longest for an answer (DESIGN.md §7).
        unanswered = InstagramComment.objects.for_county(county).from_followers().unanswered()
        oldest = list(unanswered.select_related("post")[:UNANSWERED_ON_HOME])
        context["unanswered_comments"] = [(c, duration_text(c.age(now), now=now)) for c in oldest]
        context["unanswered_comments_count"] = unanswered.count() if len(oldest) == UNANSWERED_ON_HOME else len(oldest)
        # Posts the worker holds, with why (the daily limit, the connection, Instagram's processing).
        held = posts.filter(status=Post.Status.PUBLISHING, media_id="").exclude(waiting_for=Post.Waiting.NOTHING)
        context["waiting_posts"], context["waiting_posts_count"] = first_rows_and_count(
            held.order_by("scheduled_at", "pk"), HOME_LIST_LENGTH
        )
    if access.is_coordinator:
        context["channel"] = channels.county_channel(county)
        if context["channel"] is not None and not context["channel"].is_connected:
            # Everything the stopped channel holds back: scheduled posts and those the worker holds.
            context["posts_waiting_for_channel"] = posts.filter(channel=context["channel"]).not_out_yet().count()
    else:
        context["upcoming_posts"] = (
            posts.filter(status=Post.Status.SCHEDULED, scheduled_at__gte=now)
            .order_by("scheduled_at", "pk")
            .only("pk", "title", "scheduled_at", "status")[:HOME_LIST_LENGTH]
        )
    return context


def library_panels(access: CountyAccess, user_id: int) -> dict[str, Any]:
    """The user's own libraries; for a coordinator the member libraries without Instagram and open invitations."""
    context: dict[str, Any] = {
        "my_memberships": Membership.objects.filter(user_id=user_id, library__county=access.county)
        .select_related("library")
        .order_by("library__name")
    }
    if access.is_coordinator:
        # One read of the county's few dozen member libraries gives both the count and those without Instagram.
        libraries = list(
            Library.objects.for_county(access.county)
            .members()
            .active()
            .order_by("name")
            .only("pk", "name", "instagram_username")
        )
        context["pending_invitations"] = (
            Invitation.objects.for_county(access.county).pending().select_related("library")[:10]
        )
        context["libraries_without_instagram"] = [library for library in libraries if not library.instagram_username]
        context["library_count"] = len(libraries)
    return context


def home_context(access: CountyAccess, user_id: int) -> dict[str, Any]:
    return {
        "access": access,
        **library_panels(access, user_id),
        **production_panels(access),
        **publishing_panels(access),
    }
