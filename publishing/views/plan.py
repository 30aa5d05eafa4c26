"""The publishing plan: a month and a week of posts with the concepts' open slots, and its calendar feed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from libraries import holidays, ical
from libraries.access import AuthenticatedHttpRequest, CountyAccess, require_role
from libraries.http import kept_part
from libraries.services import absolute_url
from production.calendars import month_bounds, neighbour_months
from production.models import Concept
from production.services import planning as production_services
from publishing.access import posts_for_user
from publishing.forms import PostFilterForm
from publishing.instagram import channels
from publishing.models import PostQuerySet
from publishing.posts import plan
from publishing.views import library_filter_choices, visible_statuses


def _filters(request: HttpRequest, county_access: CountyAccess) -> PostFilterForm:
    return PostFilterForm(
        request.GET or None,
        libraries=library_filter_choices(county_access),
        concepts=Concept.objects.for_county(county_access.county),
        statuses=visible_statuses(county_access),
    )


def _plan_posts(request: AuthenticatedHttpRequest) -> tuple[CountyAccess, PostQuerySet, PostFilterForm]:
    county_access, posts = posts_for_user(request)
    filters = _filters(request, county_access)
    return county_access, filters.apply(posts.live()), filters


def _query_without(request: HttpRequest, *names: str) -> str:
    """The current filters as a query string, for the previous/next links."""
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def _month_from(request: HttpRequest, today: date) -> date:
    try:
        year, month = (int(part) for part in request.GET.get("month", "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


def _gaps(county_access: CountyAccess, filters: PostFilterForm, start: date, end: date) -> list[plan.Gap]:
    """Open concept slots: shown unless the filters ask for something a slot cannot be (a status, a library)."""
    if filters.is_valid() and (filters.cleaned_data["status"] or filters.cleaned_data["library"]):
        return []
    gaps = plan.concept_gaps(county_access.county, start, end, filters.concepts)
    if filters.is_valid() and filters.cleaned_data["concept"]:
        gaps = [gap for gap in gaps if gap.concept == filters.cleaned_data["concept"]]
    if filters.is_valid() and filters.cleaned_data["content_type"]:
        gaps = [gap for gap in gaps if gap.concept.content_type == filters.cleaned_data["content_type"]]
    return gaps


def _kept_plan(request: AuthenticatedHttpRequest, template: str, build: Callable[[], dict[str, Any]]) -> SafeString:
    """The plan's content for everyone of the role in the county at this address (its query: the month or
    week and the filters), kept until the next write (libraries.http.kept_part) and for a minute at most: the
    clock moves it too (today marked, the open slots from today on, a post due while Instagram is not
    connected says it waits)."""
    county_access = require_role(request)  # before anything kept is read
    kept_for = ["plan", template, county_access.county.pk, county_access.role, request.get_full_path()]
    return kept_part(request, kept_for, f"{template}#content", build, per_minute=True)


@login_required
@require_GET
def plan_month(request: AuthenticatedHttpRequest) -> HttpResponse:
    first = _month_from(request, timezone.localdate())
    content = _kept_plan(request, "publishing/plan_month.html", lambda: _month(request, first))
    return render(request, "publishing/plan_month.html", {"content": content, "month": first})


def _month(request: AuthenticatedHttpRequest, first: date) -> dict[str, Any]:
    county_access, posts, filters = _plan_posts(request)
    channel = channels.shown_channel(county_access.county)
    today = timezone.localdate()
    month_start, month_end = month_bounds(first.year, first.month)
    weeks = plan.month_weeks(first.year, first.month)
    grid_start, grid_end = weeks[0][0], weeks[-1][-1]
    plan_days = plan.days(
        grid_start,
        grid_end,
        in_range=(month_start, month_end),
        posts=plan.plan_posts(posts, grid_start, grid_end),
        gaps=_gaps(county_access, filters, max(grid_start, today), grid_end),
        over_limit=plan.days_over_limit(county_access.county, grid_start, grid_end, limit=plan.daily_limit(channel)),
        holidays_in_view=holidays.holidays_between(county_access.county.country, grid_start, grid_end),
    )
    previous, following = neighbour_months(first.year, first.month)
    return {
        "county_access": county_access,
        "month": first,
        "weeks": [plan_days[index : index + 7] for index in range(0, len(plan_days), 7)],
        "previous": previous,
        "following": following,
        "this_month": today.replace(day=1),
        "filters": filters,
        "query": _query_without(request, "month"),
        "keep": {"month": first.strftime("%Y-%m")},
        "can_change": county_access.is_editor,
        "plan_path": request.get_full_path(),  # where each post's Move form comes back to
        "channel": channel,
    }


@login_required
@require_GET
def plan_week(request: AuthenticatedHttpRequest) -> HttpResponse:
    today = timezone.localdate()
    try:
        chosen = date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        chosen = today
    start, end = plan.week_of(chosen)
    content = _kept_plan(request, "publishing/plan_week.html", lambda: _week(request, start, end))
    return render(request, "publishing/plan_week.html", {"content": content, "start": start})


def _week(request: AuthenticatedHttpRequest, start: date, end: date) -> dict[str, Any]:
    county_access, posts, filters = _plan_posts(request)
    channel = channels.shown_channel(county_access.county)
    today = timezone.localdate()
    plan_days = plan.days(
        start,
        end,
        in_range=(start, end),
        posts=plan.plan_posts(posts, start, end),
        gaps=_gaps(county_access, filters, max(start, today), end),
        over_limit=plan.days_over_limit(county_access.county, start, end, limit=plan.daily_limit(channel)),
        holidays_in_view=holidays.holidays_between(county_access.county.country, start, end),
    )
    return {
        "county_access": county_access,
        "start": start,
        "end": end,
        "days": plan_days,
        "previous": start - timedelta(days=7),
        "following": start + timedelta(days=7),
        "this_week": plan.week_of(today)[0],
        "filters": filters,
        "query": _query_without(request, "week"),
        "keep": {"week": start.isoformat()},
        "can_change": county_access.is_editor,
        "plan_path": request.get_full_path(),
        "channel": channel,
    }


FEED_TOKEN_SESSION_KEY = "innspill_plan_feed_token"  # noqa: S105 - a session key name, not a secret


@login_required
@require_http_methods(["GET", "POST"])
def plan_subscription(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The plan in Outlook or Google: the person's secret calendar address (shared with the recording days)."""
    county_access = require_role(request)
    if request.method == "POST":
        token = production_services.create_calendar_feed(by=request.user, county=county_access.county)
        # Only the hash is stored: the addresses are shown once, on the next page.
        request.session[FEED_TOKEN_SESSION_KEY] = token
        messages.success(request, _("Your new calendar addresses are ready. Any older address no longer works."))
        return redirect("publishing:plan_subscription")
    token = request.session.pop(FEED_TOKEN_SESSION_KEY, None)
    urls = None
    if token is not None:
        urls = {
            "plan": absolute_url(reverse("publishing:plan_feed", args=[token])),
            "days": absolute_url(reverse("production:calendar_feed", args=[token])),
        }
    feed = getattr(request.user, "calendar_feed", None)
    return render(request, "publishing/plan_subscription.html", {"feed": feed, "urls": urls})


@never_cache
@require_GET
def plan_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The plan's iCalendar feed behind the person's secret address; no login (calendar apps cannot log in)."""
    feed = production_services.feed_for_token(token)
    if feed is None:
        raise Http404
    return ical.feed_response(plan.build_feed(feed), filename="innspill-plan.ics")
