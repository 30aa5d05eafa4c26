"""Month and agenda views, and the calendar subscription and its feed."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from libraries import ical
from libraries.access import AuthenticatedHttpRequest, require_role
from libraries.services import absolute_url
from production import calendars
from production.access import recording_days_for_user
from production.models import RunSheetSlot
from production.services import planning as services

# --- Calendars ---


def _month_from(request: HttpRequest, today: date) -> tuple[int, int]:
    try:
        year, month = (int(part) for part in request.GET.get("month", "").split("-"))
        date(year, month, 1)
    except ValueError:
        return today.year, today.month
    return year, month


@login_required
@require_GET
def calendar_month(request: AuthenticatedHttpRequest) -> HttpResponse:
    county_access, days = recording_days_for_user(request)
    today = timezone.localdate()
    year, month = _month_from(request, today)
    first, last = calendars.month_bounds(year, month)
    previous, following = calendars.neighbour_months(year, month)
    month_days = list(days.filter(date__range=(first, last)).select_related("host_library"))
    return render(
        request,
        "production/calendar_month.html",
        {
            "month": first,
            "weeks": calendars.month_grid(year, month, month_days, today, country=county_access.county.country),
            "previous": previous,
            "following": following,
            "this_month": today.replace(day=1),
            "days_in_month": month_days,
        },
    )


@login_required
@require_GET
def calendar_agenda(request: AuthenticatedHttpRequest) -> HttpResponse:
    _county_access, days = recording_days_for_user(request)
    days = (
        days.upcoming()
        .select_related("host_library")
        .prefetch_related(
            Prefetch("slots", queryset=RunSheetSlot.objects.select_related("idea").prefetch_related("presenters"))
        )[:20]
    )
    return render(
        request,
        "production/calendar_agenda.html",
        {"agenda": [(day, day.run_sheet()) for day in days], "user_id": request.user.pk},
    )


FEED_TOKEN_SESSION_KEY = "innspill_calendar_feed_token"  # noqa: S105 - a session key name, not a secret


@login_required
@require_http_methods(["GET", "POST"])
def calendar_subscription(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The person's secret calendar address: make one (replacing any old one) or revoke it."""
    county_access = require_role(request)
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            if services.revoke_calendar_feed(by=request.user, county=county_access.county):
                messages.success(request, _("The calendar address was revoked; calendars using it stop updating."))
        else:
            token = services.create_calendar_feed(by=request.user, county=county_access.county)
            # Only the hash is stored: the address is shown once, on the next page.
            request.session[FEED_TOKEN_SESSION_KEY] = token
            messages.success(request, _("Your new calendar address is ready. Any older address no longer works."))
        return redirect("production:calendar_subscription")
    token = request.session.pop(FEED_TOKEN_SESSION_KEY, None)
    feed_url = absolute_url(reverse("production:calendar_feed", args=[token])) if token is not None else None
    feed = getattr(request.user, "calendar_feed", None)
    return render(request, "production/calendar_subscription.html", {"feed": feed, "feed_url": feed_url})


@never_cache
@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The iCalendar feed behind a secret address; no login (calendar apps cannot log in)."""
    feed = services.feed_for_token(token)
    if feed is None:
        raise Http404
    return ical.feed_response(calendars.build_feed(feed), filename="innspill.ics")
