"""Recording days: planning, announcing, sign-ups and the run sheet."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from libraries.access import AuthenticatedHttpRequest, CountyAccess, require_role
from libraries.dates import time_text
from libraries.http import act, render_kept_page, render_page
from libraries.models import Library, Role, User
from production.access import (
    can_see_presenter_consent,
    can_withdraw_signup,
    get_recording_day_for_user,
    get_signup_for_user,
    get_slot_for_user,
    memberships_user_may_sign_up,
    recording_day_actions,
    recording_days_for_user,
)
from production.forms import (
    RecordingDayForm,
    SignupForm,
    SlotForm,
)
from production.models import Idea, PresenterSignup, RecordingDay, RunSheetSlot
from production.services import people
from production.services import planning as services
from production.views import error_text, is_htmx, safe_next_url
from production.views.assets import asset_section_context

# --- Recording days ---


@login_required
@require_GET
def recording_day_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    county_access, days = recording_days_for_user(request)
    today = timezone.localdate()
    days = days.select_related("host_library", "county").with_slot_counts().with_signup_of(county_access.library_ids)
    past = request.GET.get("past") == "1"
    # Days on the same date and time in the order they were made.
    days = days.filter(date__lt=today).order_by("-date", "-starts_at", "pk") if past else days.upcoming(today)
    return render(
        request,
        "production/recording_day_list.html",
        {"days": days, "past": past, "can_manage": county_access.is_coordinator},
    )


def _day_form(request: AuthenticatedHttpRequest, county_access: CountyAccess, day: RecordingDay) -> RecordingDayForm:
    return RecordingDayForm(
        request.POST or None,
        instance=day,
        libraries=Library.objects.for_county(county_access.county).active().order_by("-kind", "name"),
        staff=User.objects.county_staff(county_access.county),
    )


@login_required
@require_http_methods(["GET", "POST"])
def recording_day_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    county_access = require_role(request, Role.COORDINATOR)
    form = _day_form(request, county_access, RecordingDay(county=county_access.county))
    if not form.is_bound:
        form.initial["responsible"] = [request.user.pk]
    if request.method == "POST" and form.is_valid():
        day = services.save_recording_day(
            by=request.user,
            day=form.save(commit=False),
            responsible=form.cleaned_data["responsible"],
            participating_libraries=form.cleaned_data["participating_libraries"],
        )
        messages.success(
            request,
            _("The recording day was created as a draft. Announce it when the libraries may sign up."),
        )
        _warn_if_holiday(request, day)
        return redirect(day)
    return render(
        request,
        "production/recording_day_form.html",
        {"form": form, "day": None},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def recording_day_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    day = get_recording_day_for_user(request, pk, role=Role.COORDINATOR)
    county_access = require_role(request, Role.COORDINATOR)
    form = _day_form(request, county_access, day)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_recording_day(
                by=request.user,
                day=form.save(commit=False),
                changed=form.changed_data,
                responsible=form.cleaned_data["responsible"],
                participating_libraries=form.cleaned_data["participating_libraries"],
            )
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("The changes to the recording day were saved."))
            if "date" in form.changed_data:
                _warn_if_holiday(request, day)
        return redirect(day)
    return render(
        request,
        "production/recording_day_form.html",
        {"form": form, "day": day},
        status=400 if request.method == "POST" else 200,
    )


def _warn_if_holiday(request: AuthenticatedHttpRequest, day: RecordingDay) -> None:
    """A day put on a public holiday is allowed (some counties record then), but said out loud."""
    if holiday := day.holiday:
        messages.warning(
            request,
            _(
                "%(date)s is a public holiday (%(holiday)s). Make sure the host library is open and the "
                "presenters are free, or choose another date."
            )
            % {"date": date_format(day.date, "DATE_FORMAT"), "holiday": holiday},
        )


def _day_with_run_sheet(day: RecordingDay) -> RecordingDay:
    """The day again with its slots (ideas, libraries, presenters) fetched in three queries."""
    return (
        RecordingDay.objects.select_related("host_library", "county")
        .prefetch_related(
            Prefetch(
                "slots",
                queryset=RunSheetSlot.objects.select_related("idea__library").prefetch_related("presenters"),
            ),
        )
        .get(pk=day.pk)
    )


def _run_sheet_context(request: AuthenticatedHttpRequest, day: RecordingDay) -> dict[str, Any]:
    county_access = require_role(request)
    day = _day_with_run_sheet(day)
    actions = recording_day_actions(county_access, day)
    return {"day": day, "run_sheet": day.run_sheet(), "actions": actions, **asdict(actions)}


DAY_PAGE = "production/recording_day_detail.html"


def _day_title(day: RecordingDay) -> str:
    return _("Recording day %(date)s") % {"date": date_format(day.date, "SHORT_DATE_FORMAT")}


def _render_day(
    request: AuthenticatedHttpRequest,
    day: RecordingDay,
    *,
    status: int = 200,
    signup_form: SignupForm | None = None,
    slot_form: SlotForm | None = None,
) -> HttpResponse:
    """The day's page with a form's errors, rendered for this request alone."""
    context = _day_context(request, day, signup_form=signup_form, slot_form=slot_form)
    return render_page(request, DAY_PAGE, _day_title(day), context, status=status)


def _day_context(
    request: AuthenticatedHttpRequest,
    day: RecordingDay,
    *,
    signup_form: SignupForm | None = None,
    slot_form: SlotForm | None = None,
) -> dict[str, Any]:
    county_access = require_role(request)
    context = _run_sheet_context(request, day)
    day = context["day"]
    signups = list(
        PresenterSignup.objects.filter(recording_day=day)
        .select_related("person", "library", "register_person")
        .prefetch_related("register_person__consents", "register_person__consent_links")
        .order_by("library__name", "person__name")
    )
    for signup in signups:  # where each presenter's consent stands, for editors and their own library
        signup.consent_status = (  # type: ignore[attr-defined]  # shown by the template only
            people.presenter_consent(signup.register_person) if signup.register_person is not None else None
        )
    context.update(
        signups=signups,
        signup_rows=[
            (
                signup,
                can_withdraw_signup(county_access, day, signup),
                can_see_presenter_consent(county_access, signup),
            )
            for signup in signups
        ],
        my_library_ids=county_access.library_ids,
        is_coordinator=county_access.is_coordinator,
        is_editor=county_access.is_editor,
        participating_libraries=day.participating_libraries.order_by("name"),
        responsible=day.responsible.order_by("name"),
    )
    if day.accepts_signups:
        signed_up = {signup.person_id for signup in signups}
        candidates = memberships_user_may_sign_up(county_access).exclude(user_id__in=signed_up)
        form = signup_form or SignupForm(memberships=candidates, auto_id="signup-%s")
        if signup_form is not None or form.memberships:  # everyone the user may sign up may already be signed up
            context["signup_form"] = form
    if context["can_manage"]:
        context["slot_form"] = slot_form or _slot_form(None, day)
    context.update(asset_section_context(county_access, day))
    return context


def _slot_form(
    request: AuthenticatedHttpRequest | None, day: RecordingDay, slot: RunSheetSlot | None = None
) -> SlotForm:
    ideas = Idea.objects.for_county(day.county).ready_to_plan()
    if slot is not None and slot.idea_id:
        ideas = Idea.objects.filter(pk=slot.idea_id) | ideas
    presenters = User.objects.filter(presenter_signups__recording_day=day).order_by("name")
    initial = {}
    if slot is not None:
        initial = {
            "idea": slot.idea_id,
            "title": slot.title,
            "duration_minutes": slot.duration_minutes,
            "presenters": [person.pk for person in slot.presenters.all()],
            "note": slot.note,
        }
    return SlotForm(
        request.POST if request is not None else None,
        initial=initial,
        ideas=ideas.select_related("library").order_by("title"),
        presenters=presenters,
        auto_id="slot-%s",  # the sign-up form on the same page has a note too: ids stay unique
    )


@login_required
@require_GET
def recording_day_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The day's page as everyone of the role with the same libraries in the county sees it (their own
    sign-ups and the presenters' consents, who they may sign up, what they may do: `recording_day_actions`),
    kept until the next write and for a minute at most (whether the day has begun, consents ending with
    their day; libraries.http)."""
    county_access = require_role(request)

    def build() -> tuple[str, dict[str, Any]]:
        day = get_recording_day_for_user(request, pk)
        return _day_title(day), _day_context(request, day)

    kept_for = ["recording day", pk, county_access.county.pk, county_access.role, sorted(county_access.library_ids)]
    return render_kept_page(request, DAY_PAGE, kept_for, build, per_minute=True)


@login_required
@require_GET
def recording_day_print(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    day = get_recording_day_for_user(request, pk)
    context = _run_sheet_context(request, day)
    context["signups"] = PresenterSignup.objects.filter(recording_day=day).select_related("person", "library")
    context["responsible"] = context["day"].responsible.order_by("name")
    return render(request, "production/recording_day_print.html", context)


@login_required
@require_POST
def recording_day_announce(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    day = get_recording_day_for_user(request, pk, role=Role.COORDINATOR)
    return act(
        request,
        lambda: services.announce_recording_day(by=request.user, day=day),
        success=_("The recording day is announced; everyone in the county gets an e-mail."),
        back=day,
    )


@login_required
@require_POST
def recording_day_done(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    day = get_recording_day_for_user(request, pk, role=Role.COORDINATOR)
    return act(
        request,
        lambda: services.mark_recording_day_done(by=request.user, day=day),
        success=_("The recording day is done. Mark each slot that was recorded."),
        back=day,
    )


@login_required
@require_POST
def signup_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    day = get_recording_day_for_user(request, pk)
    county_access = require_role(request)
    form = SignupForm(request.POST, memberships=memberships_user_may_sign_up(county_access), auto_id="signup-%s")
    if form.is_valid():
        membership = form.cleaned_data["membership"]
        try:
            signup = services.sign_up_presenter(
                by=request.user, day=day, membership=membership, note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            form.add_error("membership", exc)
        else:
            messages.success(
                request,
                _("%(person)s is signed up to present for %(library)s.")
                % {"person": membership.user, "library": membership.library},
            )
            if signup.register_person is not None:
                _say_where_consent_stands(request, people.presenter_consent(signup.register_person))
            return redirect(safe_next_url(request) or reverse("production:recording_day_detail", args=[day.pk]))
    return _render_day(request, day, status=400, signup_form=form)


def _say_where_consent_stands(request: AuthenticatedHttpRequest, status: people.PresenterConsent) -> None:
    if status.in_force and status.consent is not None:
        if status.consent.valid_until:
            text = _("Their consent to be shown in the day's media is in force until %(date)s.") % {
                "date": date_format(status.consent.valid_until, "SHORT_DATE_FORMAT")
            }
        else:
            text = _("Their consent to be shown in the day's media is in force until they withdraw it.")
        messages.info(request, text)
    elif status.link is not None:
        messages.info(
            request,
            _(
                "They are asked for their consent to be shown in the day's media: a link was e-mailed to %(email)s. "
                "Until they answer, media of them cannot be published."
            )
            % {"email": status.link.email},
        )
    else:
        messages.warning(
            request,
            _(
                "Their consent is not on record, and there is no address to ask for it: "
                "an editor records it in the register."
            ),
        )


@login_required
@require_POST
def signup_withdraw(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    signup = get_signup_for_user(request, pk)
    day = signup.recording_day
    return act(
        request,
        lambda: services.withdraw_signup(by=request.user, signup=signup),
        success=_("%(person)s is no longer signed up.") % {"person": signup.person},
        back=day,
    )


# --- The run sheet (coordinator) ---


@login_required
@require_POST
def slot_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    day = get_recording_day_for_user(request, pk, role=Role.COORDINATOR)
    form = _slot_form(request, day)
    if form.is_valid():
        data = form.cleaned_data
        try:
            slot = services.add_slot(
                by=request.user,
                day=day,
                idea=data["idea"],
                title=data["title"],
                duration_minutes=data["duration_minutes"],
                presenters=data["presenters"],
                note=data["note"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("“%(slot)s” was added to the run sheet.") % {"slot": slot.label})
            return redirect(reverse("production:recording_day_detail", args=[day.pk]) + f"#slot-{slot.pk}")
    return _render_day(request, day, status=400, slot_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def slot_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    slot = get_slot_for_user(request, pk)
    day = slot.recording_day
    form = _slot_form(request if request.method == "POST" else None, day, slot)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_slot(
                by=request.user,
                slot=slot,
                idea=data["idea"],
                title=data["title"],
                duration_minutes=data["duration_minutes"],
                presenters=data["presenters"],
                note=data["note"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The slot was saved."))
            return redirect(reverse("production:recording_day_detail", args=[day.pk]) + f"#slot-{slot.pk}")
    return render(
        request,
        "production/slot_form.html",
        {"form": form, "slot": slot, "day": day},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def slot_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    slot = get_slot_for_user(request, pk)
    day = slot.recording_day
    label = slot.label
    return act(
        request,
        lambda: services.remove_slot(by=request.user, slot=slot),
        success=_("“%(slot)s” was taken off the run sheet.") % {"slot": label},
        back=reverse("production:recording_day_detail", args=[day.pk]) + "#run-sheet",
    )


@login_required
@require_POST
def slot_move(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    slot = get_slot_for_user(request, pk)
    day = slot.recording_day
    up = request.POST.get("direction") == "up"
    error = ""
    try:
        services.move_slot(by=request.user, slot=slot, up=up)
    except ValidationError as exc:
        error = error_text(exc)
    if is_htmx(request):
        context = _run_sheet_context(request, day)
        row = context["run_sheet"].for_slot(slot.pk)
        context.update(
            moved_slot_id=slot.pk,
            focus_id=f"move-{'up' if up else 'down'}-{slot.pk}",
            run_sheet_error=error,
            run_sheet_status=(
                _("“%(slot)s” is now number %(number)s, at %(time)s.")
                % {"slot": slot.label, "number": row.number, "time": time_text(row.starts)}
                if row and not error
                else ""
            ),
        )
        return render(request, f"{DAY_PAGE}#run-sheet", context)
    if error:
        messages.error(request, error)
    return redirect(reverse("production:recording_day_detail", args=[day.pk]) + f"#slot-{slot.pk}")


@login_required
@require_POST
def slot_recorded(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    slot = get_slot_for_user(request, pk)
    day = slot.recording_day
    return act(
        request,
        lambda: services.mark_slot_recorded(by=request.user, slot=slot),
        success=_("“%(slot)s” is marked as recorded.") % {"slot": slot.label},
        back=reverse("production:recording_day_detail", args=[day.pk]) + f"#slot-{slot.pk}",
    )
