"""Ideas from the libraries, and the county's concepts."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from libraries.access import AuthenticatedHttpRequest, CountyAccess, require_role
from libraries.dates import date_text
from libraries.http import act, kept_part, render_kept_page, render_page
from libraries.models import Library, Role, User
from production.access import (
    concepts_for_user,
    get_concept_for_user,
    get_idea_attachment_for_user,
    get_idea_for_user,
    idea_actions,
    ideas_for_user,
    libraries_user_may_submit_for,
)
from production.forms import (
    CommentForm,
    ConceptForm,
    DeclineForm,
    IdeaFilterForm,
    IdeaForm,
    PlanIdeaForm,
)
from production.models import Concept, Idea, IdeaComment, RunSheetSlot
from production.overview import idea_list_overview
from production.services import planning as services
from production.views import error_text, plannable_days
from production.views.assets import asset_section_context

IDEAS_PER_PAGE = 50


# --- Ideas ---


@login_required
@require_GET
def idea_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Kept for everyone of the role in the county at this address (the filters and page; and the reader's
    libraries for `mine`) until the next write (libraries.http.kept_part)."""
    county_access, _ideas = ideas_for_user(request)  # before anything kept is read
    mine = request.GET.get("mine") == "1"
    kept_for = ["ideas", county_access.county.pk, county_access.role, request.get_full_path()]
    content = kept_part(
        request,
        [*kept_for, sorted(county_access.library_ids) if mine else None],
        "production/idea_list.html#content",
        lambda: _idea_list(request, mine),
    )
    return render(request, "production/idea_list.html", {"content": content})


def _idea_list(request: AuthenticatedHttpRequest, mine: bool) -> dict[str, Any]:
    county_access, ideas = ideas_for_user(request)
    overview = idea_list_overview(county_access.county)
    filters = IdeaFilterForm(request.GET or None, libraries=overview.libraries, concepts=overview.concepts)
    if mine:
        ideas = ideas.of_libraries(county_access.library_ids)
    paginator = Paginator(filters.apply(ideas).list_rows(), IDEAS_PER_PAGE)
    if not (mine or filters.narrows):
        paginator.count = overview.ideas  # every idea of the county, as kept
    page = paginator.get_page(request.GET.get("page"))
    return {"filters": filters, "page": page, "ideas": page.object_list, "mine": mine}


def _idea_form(request: AuthenticatedHttpRequest, county_access: CountyAccess, idea: Idea) -> IdeaForm:
    county_libraries = Library.objects.for_county(county_access.county).active().order_by("-kind", "name")
    return IdeaForm(
        request.POST or None,
        request.FILES or None,
        instance=idea,
        submit_libraries=libraries_user_may_submit_for(county_access).order_by("-kind", "name"),
        other_libraries=county_libraries,
        concepts=Concept.objects.for_county(county_access.county).active(),
    )


def _warn_if_for_children_only(request: HttpRequest, idea: Idea) -> None:
    if idea.is_for_children_only:
        messages.warning(
            request,
            _(
                "This idea is aimed only at children, but Instagram is for people aged 13 and over "
                "and the county aims at 15 and over. Consider reaching parents instead."
            ),
        )


@login_required
@require_http_methods(["GET", "POST"])
def idea_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    county_access = require_role(request, Role.LIBRARIAN)
    form = _idea_form(request, county_access, Idea())
    if not form.is_bound:
        # The user's own library first (for a coordinator: the county library).
        own = libraries_user_may_submit_for(county_access).filter(pk__in=county_access.library_ids)
        form.initial["library"] = own.values_list("pk", flat=True).first()
    if request.method == "POST" and form.is_valid():
        idea = services.submit_idea(
            by=request.user,
            idea=form.save(commit=False),
            libraries=form.cleaned_data["libraries"],
            attachments=form.cleaned_data["attachments"],
        )
        messages.success(request, _("Thank you! “%(title)s” was sent to the county for review.") % {"title": idea})
        _warn_if_for_children_only(request, idea)
        return redirect(idea)
    return render(
        request,
        "production/idea_form.html",
        {"form": form, "idea": None},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def idea_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    idea = get_idea_for_user(request, pk, for_change=True)
    county_access = require_role(request)
    form = _idea_form(request, county_access, idea)
    if request.method == "POST" and form.is_valid():
        services.update_idea(
            by=request.user,
            idea=form.save(commit=False),
            changed=form.changed_data,
            libraries=form.cleaned_data["libraries"],
            attachments=form.cleaned_data["attachments"],
        )
        messages.success(request, _("The changes to “%(title)s” were saved.") % {"title": idea})
        _warn_if_for_children_only(request, idea)
        return redirect(idea)
    return render(
        request,
        "production/idea_form.html",
        {"form": form, "idea": idea},
        status=400 if request.method == "POST" else 200,
    )


IDEA_PAGE = "production/idea_detail.html"


def _idea_context(request: AuthenticatedHttpRequest, idea: Idea, **forms: Any) -> dict[str, Any]:
    county_access = require_role(request)
    actions = idea_actions(county_access, idea)
    context: dict[str, Any] = {
        "idea": idea,
        "libraries": idea.libraries.order_by("name"),
        "attachments": idea.attachments.all(),
        "comments": IdeaComment.objects.filter(idea=idea).select_related("author"),
        "slot": RunSheetSlot.objects.filter(idea=idea).select_related("recording_day__host_library").first(),
        # The posts made from it that are on Instagram (publishing's posts, through the idea's reverse relation).
        "published_posts": idea.posts.filter(published_at__isnull=False).order_by("published_at", "pk"),
        "actions": actions,
        **asdict(actions),
        "comment_form": forms.get("comment_form") or CommentForm(),
        "decline_form": forms.get("decline_form") or DeclineForm(),
    }
    if actions.can_plan:
        context["plan_form"] = forms.get("plan_form") or PlanIdeaForm(days=plannable_days(county_access))
    context.update(asset_section_context(county_access, idea))
    return context


def _render_idea(request: AuthenticatedHttpRequest, idea: Idea, *, status: int = 200, **forms: Any) -> HttpResponse:
    """The idea's page with a form's errors, rendered for this request alone."""
    return render_page(request, IDEA_PAGE, idea.title, _idea_context(request, idea, **forms), status=status)


@login_required
@require_GET
def idea_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The idea's page as everyone of the role with the same libraries in the county sees it (what they may
    do with it: `idea_actions`, the media section's uploads), kept until the next write and for a minute at
    most (its media's consents end with their day; libraries.http)."""
    county_access = require_role(request)

    def build() -> tuple[str, dict[str, Any]]:
        idea = get_idea_for_user(request, pk)
        return idea.title, _idea_context(request, idea)

    kept_for = ["idea", pk, county_access.county.pk, county_access.role, sorted(county_access.library_ids)]
    return render_kept_page(request, IDEA_PAGE, kept_for, build, per_minute=True)


@login_required
@require_POST
def idea_accept(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    idea = get_idea_for_user(request, pk, role=Role.EDITOR)
    return act(
        request,
        lambda: services.accept_idea(by=request.user, idea=idea),
        success=_("“%(title)s” was accepted; the library has been told.") % {"title": idea},
        back=idea,
    )


@login_required
@require_POST
def idea_decline(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    idea = get_idea_for_user(request, pk, role=Role.EDITOR)
    form = DeclineForm(request.POST)
    if form.is_valid():
        return act(
            request,
            lambda: services.decline_idea(by=request.user, idea=idea, reason=form.cleaned_data["reason"]),
            success=_("“%(title)s” was declined; the library sees your reason.") % {"title": idea},
            back=idea,
        )
    return _render_idea(request, idea, status=400, decline_form=form)


@login_required
@require_POST
def idea_plan(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    idea = get_idea_for_user(request, pk, role=Role.COORDINATOR)
    county_access = require_role(request, Role.COORDINATOR)
    form = PlanIdeaForm(request.POST, days=plannable_days(county_access))
    if form.is_valid():
        day = form.cleaned_data["recording_day"]
        try:
            services.plan_idea(
                by=request.user, idea=idea, day=day, duration_minutes=form.cleaned_data["duration_minutes"]
            )
        except ValidationError as exc:
            messages.error(request, error_text(exc))
            return redirect(idea)
        messages.success(
            request,
            _("“%(title)s” is planned for the recording day on %(date)s.")
            % {"title": idea, "date": date_text(day.date)},
        )
        return redirect(day)
    return _render_idea(request, idea, status=400, plan_form=form)


@login_required
@require_POST
def idea_mark_used(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    idea = get_idea_for_user(request, pk, role=Role.COORDINATOR)
    return act(
        request,
        lambda: services.mark_idea_used(by=request.user, idea=idea),
        success=_("“%(title)s” is marked as used.") % {"title": idea},
        back=idea,
    )


@login_required
@require_POST
def idea_comment(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    idea = get_idea_for_user(request, pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.add_comment(by=request.user, idea=idea, body=form.cleaned_data["body"])
        except ValidationError as exc:
            form.add_error("body", exc)
        else:
            return redirect(reverse("production:idea_detail", args=[idea.pk]) + "#comments")
    return _render_idea(request, idea, status=400, comment_form=form)


@login_required
@require_GET
def idea_attachment(request: AuthenticatedHttpRequest, pk: int) -> FileResponse:
    attachment = get_idea_attachment_for_user(request, pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    # Always a download: an uploaded HTML or SVG file must never render on our origin.
    return FileResponse(handle, as_attachment=True, filename=attachment.name)


# --- Concepts ---


@login_required
@require_GET
def concept_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    county_access, concepts = concepts_for_user(request)
    today = timezone.localdate()
    concepts = concepts.select_related("owner", "county").order_by("-is_active", "name")
    rows = [(concept, concept.occurrences(today, today + timedelta(days=365))[:3]) for concept in concepts]
    return render(
        request,
        "production/concept_list.html",
        {"rows": rows, "can_manage": county_access.is_coordinator},
    )


@login_required
@require_GET
def concept_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    concept = get_concept_for_user(request, pk, role=Role.LIBRARIAN)
    county_access = require_role(request)
    today = timezone.localdate()
    return render(
        request,
        "production/concept_detail.html",
        {
            "concept": concept,
            "dates": concept.dates(today, today + timedelta(days=365))[:12],
            "ideas": concept.ideas.for_list().order_by("-created_at")[:50],
            "can_manage": county_access.is_coordinator,
        },
    )


def _concept_form(request: AuthenticatedHttpRequest, county_access: CountyAccess, concept: Concept) -> ConceptForm:
    return ConceptForm(request.POST or None, instance=concept, owners=User.objects.county_staff(county_access.county))


@login_required
@require_http_methods(["GET", "POST"])
def concept_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    county_access = require_role(request, Role.COORDINATOR)
    form = _concept_form(request, county_access, Concept(county=county_access.county, owner=request.user))
    if request.method == "POST" and form.is_valid():
        concept = services.save_concept(by=request.user, concept=form.save(commit=False))
        messages.success(request, _("The concept “%(name)s” was added.") % {"name": concept})
        return redirect(concept)
    return render(
        request,
        "production/concept_form.html",
        {"form": form, "concept": None},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def concept_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    concept = get_concept_for_user(request, pk)
    county_access = require_role(request, Role.COORDINATOR)
    form = _concept_form(request, county_access, concept)
    if request.method == "POST" and form.is_valid():
        services.save_concept(by=request.user, concept=form.save(commit=False), changed=form.changed_model_fields)
        messages.success(request, _("The changes to “%(name)s” were saved.") % {"name": concept})
        return redirect(concept)
    return render(
        request,
        "production/concept_form.html",
        {"form": form, "concept": concept},
        status=400 if request.method == "POST" else 200,
    )
