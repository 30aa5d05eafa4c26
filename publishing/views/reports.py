"""Outcomes beyond likes, and the monthly report (page, print, CSV, e-mail to the library leaders)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from libraries.access import AuthenticatedHttpRequest, CountyAccess, require_role
from libraries.http import error_text, kept_for_everyone
from libraries.models import County, Library, Role
from publishing.access import get_outcome_for_user, get_post_for_user, get_report_library_for_user, report_libraries_for
from publishing.followup import charts, outcomes, reports
from publishing.followup.reports import Month, Report

# --- Outcomes ---


def _outcomes_anchor(post_id: int) -> str:
    return reverse("publishing:post_detail", args=[post_id]) + "#outcomes"


@login_required
@require_http_methods(["GET", "POST"])
def outcome_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Log what a published post led to (the post page's form posts here; errors come back on this page)."""
    post = get_post_for_user(request, pk)
    county_access = require_role(request)
    form = outcomes.outcome_form(county_access, post, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = outcomes.log_outcome(by=request.user, post=post, outcome=form.save(commit=False))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The outcome was logged: %(outcome)s.") % {"outcome": outcome})
            return redirect(_outcomes_anchor(post.pk))
    return _outcome_page(request, form, outcome=None)


@login_required
@require_http_methods(["GET", "POST"])
def outcome_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    county_access, outcome = get_outcome_for_user(request, pk)
    form = outcomes.outcome_form(county_access, outcome.post, data=request.POST or None, outcome=outcome)
    if request.method == "POST" and form.is_valid():
        try:
            outcomes.change_outcome(by=request.user, outcome=form.save(commit=False), changed=form.changed_fields())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The outcome was changed."))
            return redirect(_outcomes_anchor(outcome.post_id))
    return _outcome_page(request, form, outcome=outcome)


def _outcome_page(request: AuthenticatedHttpRequest, form: outcomes.OutcomeForm, *, outcome: Any) -> HttpResponse:
    return render(
        request,
        "publishing/outcome_form.html",
        {"form": form, "post": form.post, "outcome": outcome},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def outcome_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _county_access, outcome = get_outcome_for_user(request, pk)
    post_id = outcome.post_id
    outcomes.delete_outcome(by=request.user, outcome=outcome)
    messages.success(request, _("The outcome was deleted."))
    return redirect(_outcomes_anchor(post_id))


# --- The monthly report ---


def _chosen(request: AuthenticatedHttpRequest) -> tuple[CountyAccess, Month, Library | None]:
    """The county, month and library the query asks for (last month and the whole county by default)."""
    county_access = require_role(request)
    raw_month = request.GET.get("month", "")
    month = Month.parse(raw_month)
    if month is None:
        if raw_month:
            warning = _("“%(value)s” is not a month (write it as 2026-03); showing last month.")
            messages.warning(request, warning % {"value": raw_month})
        month = Month.last()
    library = None
    raw_library = request.GET.get("library", "")
    if raw_library.isdigit():
        county_access, library = get_report_library_for_user(request, int(raw_library))
    return county_access, month, library


@dataclass(frozen=True)
class KeptReport:
    """A month's report as its pages show it: its body rendered (the same for everyone who may open that
    report), and the county's member libraries (the page's choice of report)."""

    body: str
    member_libraries: list[Library]


def _kept_report(county: County, month: Month, library: Library | None) -> KeptReport:
    """Built and rendered once, and again after any write to the database (a post published, insights read,
    an outcome logged: libraries.http.kept_for_everyone)."""
    return kept_for_everyone(
        ["report", county.pk, month.key, library.pk if library else None],
        lambda: _render_report(reports.build_report(county=county, month=month, library=library)),
    )


def _render_report(report: Report) -> KeptReport:
    context = {
        "report": report,
        "month": report.month,
        "library_chart": charts.bar_chart([(row.library.name, row.posts) for row in report.libraries_taking_part]),
        "post_chart": charts.bar_chart([(f.post.title, f.engagement or 0) for f in report.top_posts]),
        "follower_chart": charts.line_chart(report.followers.days),
    }
    return KeptReport(render_to_string("publishing/report.html#body", context), report.member_libraries)


def _report_page(
    request: AuthenticatedHttpRequest, template: str, county_access: CountyAccess, month: Month, library: Library | None
) -> HttpResponse:
    kept = _kept_report(county_access.county, month, library)
    this_month = Month.of(timezone.localdate())
    query = {"month": month.key} | ({"library": library.pk} if library else {})
    context = {
        "body": kept.body,
        "county": county_access.county,
        "report_library": library,
        "month": month,
        "previous": month.previous,
        "following": month.following if month.following.first <= this_month.first else None,
        "library_choices": report_libraries_for(county_access, kept.member_libraries),
        "can_send": county_access.is_coordinator,
        "query": urlencode(query),
        "report_link": f"{reverse('publishing:report')}?{urlencode(query)}",
    }
    return render(request, template, context)


@login_required
@require_GET
def report(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The month's report for the county, or one library (`?library=`); `?format=csv` downloads its figures."""
    county_access, month, library = _chosen(request)
    if request.GET.get("format") == "csv":
        return _csv_response(reports.build_report(county=county_access.county, month=month, library=library))
    return _report_page(request, "publishing/report.html", county_access, month, library)


@login_required
@require_GET
def report_print(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The same report on a page of its own, without navigation or forms, for printing on A4."""
    return _report_page(request, "publishing/report_print.html", *_chosen(request))


NORWEGIAN_LETTERS = str.maketrans({"æ": "ae", "ø": "o", "å": "aa"})
# A cell starting with one of these is read as a formula by Excel and LibreOffice (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: str | int) -> str | int:
    """Text that a spreadsheet would run as a formula is prefixed with an apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_response(report: Report) -> HttpResponse:
    buffer = io.StringIO()
    # Semicolons: Norwegian and Danish Excel use them as the list separator (the comma is the decimal sign).
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for row in reports.csv_rows(report):
        writer.writerow([csv_cell(cell) for cell in row])
    name = report.library.name if report.library else report.county.name
    # An ASCII file name ("karmoy-bibliotek"): slugify would drop æ, ø and å altogether.
    subject = slugify(name.lower().translate(NORWEGIAN_LETTERS)) or "report"
    # The byte order mark makes Excel read the file as UTF-8 (æ, ø, å).
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="innspill-{subject}-{report.month.key}.csv"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def report_send(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Send the month's report to the library leaders: who gets it, who has no address, then send once."""
    county_access = require_role(request, Role.COORDINATOR)
    month = Month.parse(request.POST.get("month", "") or request.GET.get("month", "")) or Month.last()
    here = f"{reverse('publishing:report_send')}?{urlencode({'month': month.key})}"
    if request.method == "POST":
        seen = request.POST.get("last_sent", "")
        try:
            plan = reports.send_report(
                by=request.user,
                county=county_access.county,
                month=month,
                confirmed_last_sent_id=int(seen) if seen.isdigit() else 0,
            )
        except ValidationError as exc:
            messages.warning(request, error_text(exc))
            return redirect(here)
        messages.success(
            request,
            ngettext(
                "The report for %(month)s is on its way to %(count)s library.",
                "The report for %(month)s is on its way to %(count)s libraries.",
                len(plan.recipients),
            )
            % {"month": month.label, "count": len(plan.recipients)},
        )
        return redirect(f"{reverse('publishing:report')}?{urlencode({'month': month.key})}")
    return render(
        request, "publishing/report_send.html", {"plan": reports.send_plan(county_access.county, month), "month": month}
    )
