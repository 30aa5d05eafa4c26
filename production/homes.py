"""What production adds to each role's home page (libraries/views.py `home`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from libraries.access import CountyAccess
from libraries.models import County
from production.access import memberships_user_may_sign_up
from production.forms import SignupForm
from production.models import Concept, Idea, RecordingDay
from publishing.posts.plan import posted_concept_days

LOOKAHEAD_DAYS = 28  # "the next four weeks"


@dataclass(frozen=True)
class ConceptGap:
    concept: Concept
    date: date


def concept_gaps(county: County, start: date, end: date) -> list[ConceptGap]:
    """Occurrences of the county's active concepts from `start` to `end` that have no content yet.

    An occurrence is covered by a post of that concept on that day (the
    publishing plan). The others count as covered when an idea of that
    concept is planned or recorded and not yet used (content on its way): the
    earliest occurrences are covered first, one idea each.
    """
    concepts = list(
        Concept.objects.for_county(county)
        .active()
        .recurring()
        .annotate(content_count=Count("ideas", filter=Q(ideas__status__in=[Idea.Status.PLANNED, Idea.Status.RECORDED])))
    )
    with_posts = posted_concept_days(county, start, end)
    gaps: list[ConceptGap] = []
    for concept in concepts:
        open_days = [day for day in concept.occurrences(start, end) if (concept.pk, day) not in with_posts]
        # Ideas on their way cover the earliest open days, one idea each.
        on_their_way: int = concept.content_count  # type: ignore[attr-defined]  # the annotation above
        gaps += [ConceptGap(concept, day) for day in open_days[on_their_way:]]
    return sorted(gaps, key=lambda gap: (gap.date, gap.concept.name))


def home_context(access: CountyAccess) -> dict[str, Any]:
    today = timezone.localdate()
    county = access.county
    context: dict[str, Any] = {"today": today}
    ideas = Idea.objects.for_county(county)

    if access.is_editor:
        waiting = ideas.waiting_for_review()
        context["ideas_waiting"] = waiting.for_list().order_by("created_at")[:10]
        context["ideas_waiting_count"] = waiting.count()

    if access.is_coordinator:
        context["days_with_open_slots"] = (
            RecordingDay.objects.for_county(county)
            .not_done()
            .upcoming(today)
            .with_slot_counts()
            .with_open_slots()
            .select_related("host_library")[:5]
        )
        context["concept_gaps"] = concept_gaps(county, today, today + timedelta(days=LOOKAHEAD_DAYS - 1))
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
