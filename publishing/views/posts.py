"""Posts: the list, composing and changing, review, scheduling and moving."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from libraries.access import AuthenticatedHttpRequest, CountyAccess, require_role
from libraries.dates import datetime_text
from libraries.http import (
    act,
    kept_for_everyone,
    render_for_everyone,
    render_kept_page,
    safe_next_url,
    with_readers_token,
)
from libraries.models import AuditEntry, Role, User
from production.models import Asset, Concept, Idea, people_with_consents
from production.services import media as asset_services
from production.views.assets import upload_texts
from publishing.access import get_post_for_user, post_actions, posts_for_user
from publishing.archive import filing as archive
from publishing.followup import insights, outcomes
from publishing.forms import MoveForm, PostFilterForm, PostForm, ReturnForm, ScheduleForm
from publishing.instagram import channels
from publishing.models import Post
from publishing.posts import captions, gates, plan, preview, services
from publishing.views import collaborator_choices, library_filter_choices, visible_statuses

POSTS_PER_PAGE = 50
POST_LIST = "publishing/post_list.html"
# The post's audit entries in words (the history on the post page).
ACTION_LABELS = {
    "post.created": gettext_lazy("Draft saved"),
    "post.changed": gettext_lazy("Changed"),
    "post.submitted": gettext_lazy("Sent for approval"),
    "post.returned": gettext_lazy("Sent back to the author"),
    "post.approved": gettext_lazy("Approved"),
    "post.approved_alone": gettext_lazy("Approved by its author without a second review"),
    "post.reviewed_afterwards": gettext_lazy("Reviewed afterwards by a second editor"),
    "post.back_to_review": gettext_lazy("Changed after approval: waits for approval again"),
    "post.pulled_back": gettext_lazy("Pulled back to review (consent)"),
    "post.scheduled": gettext_lazy("Scheduled"),
    "post.rescheduled": gettext_lazy("Scheduled again"),
    "post.unscheduled": gettext_lazy("Taken off the plan"),
    "post.moved": gettext_lazy("Moved"),
    "post.cancelled": gettext_lazy("Cancelled"),
    "post.publishing": gettext_lazy("Publishing started"),
    "post.published": gettext_lazy("Published on Instagram"),
    "post.failed": gettext_lazy("Publishing failed"),
    "post.libraries_notified": gettext_lazy("Libraries told"),
}
# The compose form's "Fill in from the idea" (a button, and htmx when the idea is chosen), and its redraw
# after an upload from the form finished (htmx, the new media among the choices): nothing is saved.
FILL_FROM_IDEA = "fill_from_idea"
REDRAW_MEDIA = "redraw_media"


def _redraws(request: AuthenticatedHttpRequest) -> bool:
    return FILL_FROM_IDEA in request.POST or REDRAW_MEDIA in request.POST


# The newest media offered when composing (besides the post's own and its idea's).
ASSET_CHOICES = 60


@login_required
@require_GET
def post_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The county's posts (the plan's, for librarians), filtered, as everyone of the role sees them at this
    address: kept until the next write and for a minute at most (a post's checks follow its consents' days)."""
    county_access = require_role(request)
    kept_for = ["posts", county_access.county.pk, county_access.role]
    return render_kept_page(request, POST_LIST, kept_for, lambda: (_("Posts"), _post_list(request)), per_minute=True)


def _post_list(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    county_access, posts = posts_for_user(request)
    filters = PostFilterForm(
        request.GET or None,
        libraries=library_filter_choices(county_access),
        concepts=Concept.objects.for_county(county_access.county),
        statuses=visible_statuses(county_access),
    )
    posts = filters.apply(posts)
    # Undated posts (drafts) first, then by time, newest at the top.
    ordered = posts.for_gates().order_by("-scheduled_at", "-pk")
    page = Paginator(ordered, POSTS_PER_PAGE).get_page(request.GET.get("page"))
    channel = channels.shown_channel(county_access.county)
    rows = [
        (post, gates.failing_gates(post, channel=channel) if county_access.is_editor and post.is_editable else [])
        for post in page.object_list
    ]
    return {"filters": filters, "page": page, "rows": rows, "can_compose": county_access.is_editor, "keep": {}}


def _asset_choices(county_access: CountyAccess, post: Post | None, idea: Idea | None) -> QuerySet[Asset]:
    newest = list(
        Asset.objects.for_county(county_access.county)
        .exclude(status=Asset.Status.FAILED)
        .order_by("-created_at")
        .values_list("pk", flat=True)[:ASSET_CHOICES]
    )
    ids = set(newest)
    if post is not None and post.pk:
        ids |= set(post.post_assets.values_list("asset_id", flat=True))
    if idea is not None:
        ids |= set(idea.assets.values_list("pk", flat=True))
    # With the people shown and their consents: the picker says which may not be published (three queries).
    return (
        Asset.objects.filter(pk__in=ids)
        .select_related("library")
        .prefetch_related(people_with_consents())
        .order_by("-created_at")
    )


def _post_form(
    request: AuthenticatedHttpRequest,
    county_access: CountyAccess,
    post: Post,
    *,
    idea: Idea | None = None,
    initial: dict[str, Any] | None = None,
) -> PostForm:
    return PostForm(
        request.POST or None,
        instance=post,
        initial=initial,
        assets=_asset_choices(county_access, post, idea or post.idea),
        libraries=collaborator_choices(county_access),
        concepts=Concept.objects.for_county(county_access.county).active(),
        ideas=_idea_choices(county_access),
        staff=User.objects.county_staff(county_access.county),
    )


def _idea_of(county_access: CountyAccess, idea_id: str) -> Idea | None:
    if not idea_id.isdigit():
        return None
    return (
        Idea.objects.for_county(county_access.county)
        .exclude(status__in=[Idea.Status.SUBMITTED, Idea.Status.DECLINED])
        .select_related("concept", "library")
        .filter(pk=int(idea_id))
        .first()
    )


def _idea_values(county_access: CountyAccess, idea: Idea) -> dict[str, Any]:
    """What a post takes from its idea: title, credit, co-hosts, concept, content type and media."""
    return {
        "title": idea.title,
        "content_type": idea.content_type,
        "concept": idea.concept_id,
        "credit": captions.credit_line(idea.credit_name, idea.credit_url),
        "assets": list(idea.assets.values_list("pk", flat=True)),
        "collaborators": [
            library.pk
            for library in services.suggested_collaborators(
                county=county_access.county, idea=idea, recording_day=services.recording_day_of(idea)
            )
        ],
    }


def _initial_for(request: AuthenticatedHttpRequest, county_access: CountyAccess) -> tuple[dict[str, Any], Idea | None]:
    """A new post prefilled from the plan (a concept's slot) or an idea: its credit, media and libraries."""
    initial: dict[str, Any] = {"responsible": request.user.pk, "media_kind": Post.MediaKind.IMAGE}
    idea = _idea_of(county_access, request.GET.get("idea", ""))
    if idea is not None:
        initial |= {"idea": idea.pk, **_idea_values(county_access, idea)}
    if (concept_id := request.GET.get("concept", "")).isdigit():
        concept = Concept.objects.for_county(county_access.county).filter(pk=int(concept_id)).first()
        if concept is not None:
            initial |= {"concept": concept.pk, "content_type": concept.content_type}
            initial.setdefault("title", concept.name)
            if concept.credit and not initial.get("credit"):  # a borrowed concept credits where it came from
                initial["credit"] = captions.credit_line(concept.credit, "")
    at = parse_datetime(request.GET.get("at", ""))
    if at is not None:
        initial["scheduled_at"] = at if timezone.is_aware(at) else timezone.make_aware(at)
    return initial, idea


# The fields an idea fills, in the order the compose form shows them (for "Filled from the idea: …").
IDEA_FIELDS = ("title", "assets", "credit", "collaborators", "content_type", "concept")
MULTIPLE_FIELDS = ("assets", "collaborators")


@dataclass(frozen=True)
class IdeaFill:
    filled: list[str]  # the fields' labels that were empty and now hold the idea's
    kept: list[str]  # the fields' labels the editor had filled in already, left as they were


def _fill_from_idea(
    request: AuthenticatedHttpRequest, county_access: CountyAccess, post: Post
) -> tuple[PostForm, IdeaFill | None]:
    """The compose form as the editor left it, with the chosen idea's values in the fields still empty.

    Nothing is saved: the editor sees what was filled (and what was kept) and saves as usual.
    """
    data = request.POST
    idea = _idea_of(county_access, data.get("idea", ""))
    initial: dict[str, Any] = {
        name: data.getlist(name) if name in MULTIPLE_FIELDS else data.get(name, "")
        for name in PostForm.Meta.fields + MULTIPLE_FIELDS
    }
    filled: list[str] = []
    kept: list[str] = []
    form = _post_form_unbound(county_access, post, idea=idea, initial=initial)
    if FILL_FROM_IDEA not in data:  # only showing the media again (an upload from the form finished)
        return form, None
    if idea is not None:
        for name, value in _idea_values(county_access, idea).items():
            if not value:
                continue
            current = initial.get(name)
            label = str(form.fields[name].label)
            if name in MULTIPLE_FIELDS:
                empty, same = not current, sorted(map(str, current or [])) == sorted(map(str, value))
            else:
                empty, same = not str(current or "").strip(), str(current) == str(value)
            if empty:
                initial[name] = value
                filled.append(label)
            elif not same:
                kept.append(label)
        form = _post_form_unbound(county_access, post, idea=idea, initial=initial)
    order = [str(form.fields[name].label) for name in IDEA_FIELDS]
    return form, IdeaFill(
        filled=sorted(filled, key=order.index),
        kept=sorted(kept, key=order.index),
    )


def _post_form_unbound(
    county_access: CountyAccess, post: Post, *, idea: Idea | None, initial: dict[str, Any]
) -> PostForm:
    return PostForm(
        None,
        instance=post,
        initial=initial,
        assets=_asset_choices(county_access, post, idea or post.idea),
        libraries=collaborator_choices(county_access),
        concepts=Concept.objects.for_county(county_access.county).active(),
        ideas=_idea_choices(county_access),
        staff=User.objects.county_staff(county_access.county),
    )


def _idea_choices(county_access: CountyAccess) -> QuerySet[Idea]:
    return (
        Idea.objects.for_county(county_access.county)
        .exclude(status__in=[Idea.Status.SUBMITTED, Idea.Status.DECLINED])
        .order_by("-created_at")
    )


@login_required
@require_http_methods(["GET", "POST"])
def post_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    county_access = require_role(request, Role.EDITOR)
    initial, idea = _initial_for(request, county_access)
    post = Post(county=county_access.county)
    if request.method == "POST" and _redraws(request):
        form, fill = _fill_from_idea(request, county_access, post)
        return _form_page(request, form, county_access, None, fill=fill, redrawn=True)
    form = _post_form(request, county_access, post, idea=idea, initial=initial)
    if request.method == "POST" and form.is_valid():
        chosen = form.save(commit=False)
        if chosen.idea is not None and chosen.recording_day is None:
            chosen.recording_day = services.recording_day_of(chosen.idea)
        try:
            post = services.create_post(
                by=request.user,
                post=chosen,
                assets=form.cleaned_data["assets"],
                collaborators=form.cleaned_data["collaborators"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The draft “%(title)s” was saved.") % {"title": post})
            return redirect(post)
    return _form_page(request, form, county_access, None)


@login_required
@require_http_methods(["GET", "POST"])
def post_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    post = get_post_for_user(request, pk, role=Role.EDITOR)
    county_access = require_role(request, Role.EDITOR)
    if not post.is_editable:
        messages.error(
            request, _("A post that is “%(status)s” can no longer be changed.") % {"status": post.get_status_display()}
        )
        return redirect(post)
    current_assets = [link.asset_id for link in post.post_assets.order_by("position")]
    current_collaborators = list(post.post_collaborators.values_list("library_id", flat=True))
    if request.method == "POST" and _redraws(request):
        filled_form, fill = _fill_from_idea(request, county_access, post)
        return _form_page(request, filled_form, county_access, post, fill=fill, redrawn=True)
    form = _post_form(
        request,
        county_access,
        post,
        initial={"assets": current_assets, "collaborators": current_collaborators},
    )
    if request.method == "POST" and form.is_valid():
        assets = form.cleaned_data["assets"]
        collaborators = form.cleaned_data["collaborators"]
        was_approved = post.status in (Post.Status.APPROVED, Post.Status.SCHEDULED)
        try:
            services.update_post(
                by=request.user,
                post=form.save(commit=False),
                changed=form.changed_model_fields(),
                assets=assets if [a.pk for a in assets] != current_assets else None,
                collaborators=collaborators
                if sorted(library.pk for library in collaborators) != sorted(current_collaborators)
                else None,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if was_approved and post.status == Post.Status.IN_REVIEW:
                messages.warning(
                    request,
                    _("The changes were saved. The post changed after approval, so it waits for approval again."),
                )
            else:
                messages.success(request, _("The changes were saved."))
            return redirect(post)
    return _form_page(request, form, county_access, post)


def _asset_rows(form: PostForm, post: Post | None, typed: Any = None) -> list[tuple[Any, Asset, str, preview.Choice]]:
    """Each media choice with its checkbox, the position typed (`typed`: the request's data when the form
    was filled from an idea) or stored for it, and what the picker marks."""
    stored = {link.asset_id: str(link.position) for link in post.post_assets.all()} if post and post.pk else {}
    rows = []
    for widget in form["assets"]:
        asset: Asset = widget.data["value"].instance
        if form.is_bound:
            position = form.position_of(asset)
        elif typed is not None:
            position = str(typed.get(f"position-{asset.pk}", ""))
        else:
            position = stored.get(asset.pk, "")
        rows.append((widget, asset, position, preview.choices([asset])[0]))
    return rows


def _form_preview(county_access: CountyAccess, form: PostForm) -> preview.Preview:
    """The preview of what the form says now, valid or not: the chosen media in their order, caption, co-hosts."""
    kind = str(form["media_kind"].value() or "")
    kind = kind if kind in Post.MediaKind.values else Post.MediaKind.IMAGE
    chosen = {str(pk) for pk in form["assets"].value() or []}
    fields: dict[str, Any] = form.fields
    offered = [asset for asset in fields["assets"].queryset if str(asset.pk) in chosen]
    if form.is_bound:
        assets = form.in_typed_order(offered)
    else:
        order = [str(pk) for pk in form["assets"].value() or []]
        assets = sorted(offered, key=lambda asset: order.index(str(asset.pk)))
    picked = {str(pk) for pk in form["collaborators"].value() or []}
    libraries = [library for library in fields["collaborators"].queryset if str(library.pk) in picked]
    draft = Post(
        county=county_access.county,
        media_kind=kind,
        caption=captions.normalise(str(form["caption"].value() or "")),
        credit=str(form["credit"].value() or ""),
    )
    channel = channels.shown_channel(county_access.county)
    return preview.build(
        county_access,
        media_kind=kind,
        assets=assets,
        caption=draft.full_caption,
        collaborators=[preview.account_of(library) for library in libraries],
        channel=channel,
        failing=gates.content_gates(draft, assets, libraries, today=timezone.localdate()),
    )


@login_required
@require_POST
def post_preview(request: AuthenticatedHttpRequest, pk: int | None = None) -> HttpResponse:
    """The compose form's preview, again for what the editor has typed and chosen (htmx, nothing is saved)."""
    county_access = require_role(request, Role.EDITOR)
    post = get_post_for_user(request, pk, role=Role.EDITOR) if pk is not None else Post(county=county_access.county)
    form = _post_form(request, county_access, post)
    return render(
        request, "publishing/post_form.html#preview", {"post": post, "preview": _form_preview(county_access, form)}
    )


def _form_page(
    request: AuthenticatedHttpRequest,
    form: PostForm,
    county_access: CountyAccess,
    post: Post | None,
    *,
    fill: IdeaFill | None = None,
    redrawn: bool = False,
) -> HttpResponse:
    failed = request.method == "POST" and not redrawn
    return render(
        request,
        "publishing/post_form.html",
        {
            "form": form,
            "post": post,
            "actions": post_actions(county_access, post) if post is not None else None,
            "asset_rows": _asset_rows(form, post, typed=request.POST if redrawn else None),
            "media_kind": str(form["media_kind"].value() or ""),
            "preview": _form_preview(county_access, form),
            "fill": fill,
            "upload": _compose_upload(county_access, form, post),
            "limits": _limits(),
            "counts": captions.count(
                captions.full_caption(str(form["caption"].value() or ""), str(form["credit"].value() or ""))
            ),
        },
        status=400 if failed else 200,
    )


def _compose_upload(county_access: CountyAccess, form: PostForm, post: Post | None) -> dict[str, Any]:
    """The compose form's uploader: filed to the chosen idea, else the post's recording day, else the county
    (the script switches between the idea's address and the default as the idea is chosen)."""
    idea_id = str(form["idea"].value() or "")
    idea = _idea_of(county_access, idea_id)
    day = post.recording_day if post is not None and post.recording_day_id else None
    default = asset_services.media_upload_url(day if day is not None else county_access.county)
    return {
        "endpoint": asset_services.media_upload_url(idea) if idea is not None else default,
        "default_endpoint": default,
        "idea_endpoint": reverse("production:idea_upload_create", args=[0]),
        "default_target": str(day) if day is not None else str(county_access.county),
        "target": str(idea) if idea is not None else (str(day) if day is not None else str(county_access.county)),
        "texts": upload_texts(),
    }


def _limits() -> dict[str, int]:
    return {
        "characters": captions.MAX_CHARACTERS,
        "hashtags": captions.MAX_HASHTAGS,
        "mentions": captions.MAX_MENTIONS,
        "collaborators": captions.MAX_COLLABORATORS,
    }


POST_PAGE = "publishing/post_detail.html"


@login_required
@require_GET
def post_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The post's page as everyone of the role with the same libraries in the county sees it, and the same
    to the four-eyes rule (whether the reader wrote or last changed the post: what they may do with it),
    kept until the next write and for a minute at most (a waiting note, a consent ending with its day;
    libraries.http). Kept, it also says the post is one the reader may see: a post moved on or deleted
    since was not kept (the write moved the version), so it is read again, and the gate answers 404."""
    county_access = require_role(request)
    kept_for = [
        "post",
        pk,
        county_access.county.pk,
        county_access.role,
        sorted(county_access.library_ids),
        request.get_full_path(),
    ]
    page = kept_for_everyone(kept_for, lambda: _post_page(request, pk), per_minute=True)
    if (county_access.user_id in page.authors) != page.by_author:  # kept for the other side of four eyes
        page = kept_for_everyone([*kept_for, not page.by_author], lambda: _post_page(request, pk), per_minute=True)
    return render(request, POST_PAGE, {"title": page.title, "content": with_readers_token(request, page.content)})


@dataclass(frozen=True)
class PostPage:
    """The post page's title and content as one reader saw it: whether they wrote or last changed the post
    (`by_author`) decides what they may do with it (`services.may_approve`)."""

    title: str
    content: str  # with a stand-in for the CSRF token (libraries.http.render_for_everyone)
    authors: frozenset[int]
    by_author: bool


def _post_page(request: AuthenticatedHttpRequest, pk: int) -> PostPage:
    """The post's page for the reader: its gate, then everything on it."""
    post = checked = get_post_for_user(request, pk, for_gates=True)
    county_access = require_role(request)
    channel = channels.shown_channel(county_access.county)
    if channel is not None and post.channel_id == channel.pk:
        post.channel = channel  # the status part asks whether it is connected: not a second read
    failing = gates.failing_gates(checked, channel=channel) if post.is_editable else []
    is_editor = county_access.is_editor
    approval = checked.active_approval()
    actions = post_actions(county_access, post)
    approvals = list(checked.approvals.all())  # newest first, read with the post (`for_gates`)
    history = (  # editors see the post's history; librarians are not asked it
        AuditEntry.objects.filter(object_type=post._meta.label_lower, object_id=str(post.pk))
        .select_related("actor")
        .order_by("-at")[:30]
        if is_editor
        else []
    )
    context = {
        "post": checked,
        "assets": checked.ordered_assets(),
        "collaborators": list(checked.post_collaborators.all()),
        "failing_gates": failing,
        "approval": approval,
        "approvals": approvals,
        "history": [(entry, ACTION_LABELS.get(entry.action, entry.action)) for entry in history],
        "counts": captions.count(checked.full_caption),
        "limits": _limits(),
        "channel": channel,
        "is_editor": is_editor,
        "actions": actions,
        **asdict(actions),
        "schedule_form": ScheduleForm(initial={"at": post.scheduled_at}),
        "return_form": ReturnForm(),
        "move_form": MoveForm(initial={"at": post.scheduled_at}),
        "day_over_limit": plan.day_over_limit(checked, channel) if post.status in Post.PLANNED_STATUSES else None,
        **_gates_texts(post),
        "status_poll": status_poll(checked, shown=post.status),
    }
    # What follows the post: the archive items it reuses, insights and comments, outcomes.
    context["preview"] = preview.build(
        county_access,
        media_kind=checked.media_kind,
        assets=context["assets"],
        caption=checked.full_caption,
        collaborators=[preview.account_of(link.library, link.username) for link in context["collaborators"]],
        channel=channel,
    )
    context |= archive.archive_panel(county_access, checked)
    context |= insights.engagement_panel(county_access, checked)
    context |= outcomes.outcomes_panel(county_access, checked)
    authors = frozenset(author for author in (post.created_by_id, post.last_edited_by_id) if author is not None)
    content = render_for_everyone(request, f"{POST_PAGE}#content", context)
    return PostPage(post.title, content, authors, by_author=county_access.user_id in authors)


# How often the post page asks for its status while the worker may move the post.
STATUS_POLL_SECONDS = 3


@dataclass(frozen=True)
class StatusPoll:
    """The post page's status part: what it shows, whether and where it asks again, what changed."""

    note: str  # why the worker holds the post, if it does
    state: str  # a short digest of everything the part shows: the same digest, nothing to redraw
    url: str  # where the part asks for itself again; empty once the post cannot move by itself
    seconds: int
    moved: bool  # the status is no longer the one the page was opened with: its actions are stale
    announce: bool  # read the new status out (a redraw after a change, not the page itself)


def status_poll(post: Post, *, shown: str, announce: bool = False) -> StatusPoll:
    """The status part of a post page opened when the post was `shown` (a status)."""
    note = post.waiting_note
    shown_parts = (
        post.status,
        note,
        post.permalink,
        post.scheduled_at,
        post.awaits_second_review,
        post.failure_reason,
    )
    state = hashlib.blake2b(repr(shown_parts).encode(), digest_size=8).hexdigest()
    url = ""
    if post.may_change_by_itself:
        query = urlencode({"shown": shown, "seen": state})
        url = f"{reverse('publishing:post_status', args=[post.pk])}?{query}"
    return StatusPoll(
        note=note,
        state=state,
        url=url,
        seconds=STATUS_POLL_SECONDS,
        moved=post.status != shown,
        announce=announce,
    )


@login_required
@require_GET
def post_status(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The post page's status part, asked for every few seconds while the worker may move the post
    (scheduled, publishing or waiting): "204 No Content" while nothing it shows changed, else the part
    as it is now, which stops asking once the post cannot move by itself. The same gate as the page."""
    post = get_post_for_user(request, pk)
    county_access = require_role(request)
    shown = request.GET.get("shown", "")
    poll = status_poll(post, shown=shown if shown in Post.Status.values else post.status, announce=True)
    if request.GET.get("seen") == poll.state:
        return HttpResponse(status=204)
    context = {
        "post": post,
        "is_editor": county_access.is_editor,
        "approval": post.active_approval() if post.awaits_second_review else None,
        "status_poll": poll,
    }
    return render(request, f"{POST_PAGE}#post-status", context)


def _gates_texts(post: Post) -> dict[str, str]:
    """The checks section's heading and its all-clear, in the post's own state (a scheduled post is not
    waiting to be scheduled)."""
    if post.status == Post.Status.SCHEDULED:
        return {
            "gates_heading": _("Before it is published"),
            "gates_passing": _("Every check passes: the post goes out at its time."),
        }
    if post.status == Post.Status.FAILED:
        return {
            "gates_heading": _("Before it can be scheduled again"),
            "gates_passing": _("Every check passes: the post can be scheduled again."),
        }
    if post.status == Post.Status.APPROVED:
        return {
            "gates_heading": _("Before it can be scheduled"),
            "gates_passing": _("Every check passes: the post can be scheduled."),
        }
    return {
        "gates_heading": _("Before it can be approved and scheduled"),
        "gates_passing": _("Every check passes: once approved, the post can be scheduled."),
    }


def _back(request: AuthenticatedHttpRequest, post: Post) -> str:
    return safe_next_url(request) or post.get_absolute_url()


def _after_action(request: AuthenticatedHttpRequest, post: Post) -> HttpResponse:
    return redirect(_back(request, post))


@login_required
@require_POST
def post_submit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    post = get_post_for_user(request, pk, role=Role.EDITOR)
    return act(
        request,
        lambda: services.submit_post(by=request.user, post=post),
        success=_("“%(title)s” now waits for another editor's approval.") % {"title": post},
        back=_back(request, post),
    )


@login_required
@require_POST
def post_approve(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    post = get_post_for_user(request, pk, role=Role.EDITOR)
    return act(
        request,
        lambda: services.approve_post(by=request.user, post=post),
        success=_("“%(title)s” was approved.") % {"title": post},
        back=_back(request, post),
    )


@login_required
@require_POST
def post_approve_alone(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    post = get_post_for_user(request, pk, role=Role.EDITOR)
    return act(
        request,
        lambda: services.approve_post_alone(by=request.user, post=post),
        success=_(
            "“%(title)s” was approved without a second review; it is marked “not reviewed” "
            "until another editor reviews it."
        )
        % {"title": post},
        back=_back(request, post),
    )


@login_required
@require_POST
def post_mark_reviewed(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    post = get_post_for_user(request, pk, role=Role.EDITOR)
    return act(
        request,
        lambda: services.mark_reviewed(by=request.user, post=post),
        success=_("“%(title)s” is reviewed.") % {"title": post},
        back=_back(request, post),
    )


@login_required
@require_POST
def post_return(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    post = get_post_for_user(request, pk, role=Role.EDITOR)
    form = ReturnForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return act(
        request,
        lambda: services.return_post_to_draft(by=request.user, post=post, note=note),
        success=_("“%(title)s” went back to its author as a draft.") % {"title": post},
        back=_back(request, post),
    )


@login_required
@require_POST
def post_schedule(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    post = get_post_for_user(request, pk, role=Role.EDITOR)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for error in form.errors.get("at", [])))
        return _after_action(request, post)
    return act(
        request,
        lambda: services.schedule_post(by=request.user, post=post, at=form.cleaned_data["at"]),
        success=lambda: (
            _("“%(title)s” is scheduled for %(when)s.") % {"title": post, "when": datetime_text(post.scheduled_at)}
        ),
        failure=lambda reasons: _("The post cannot be scheduled yet: %(reasons)s") % {"reasons": reasons},
        back=_back(request, post),
    )


@login_required
@require_POST
def post_unschedule(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    post = get_post_for_user(request, pk, role=Role.EDITOR)
    return act(
        request,
        lambda: services.unschedule_post(by=request.user, post=post),
        success=_("“%(title)s” is no longer scheduled; it stays approved.") % {"title": post},
        back=_back(request, post),
    )


@login_required
@require_POST
def post_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    post = get_post_for_user(request, pk, role=Role.EDITOR)
    return act(
        request,
        lambda: services.cancel_post(by=request.user, post=post),
        success=_("“%(title)s” was cancelled.") % {"title": post},
        back=_back(request, post),
    )


@login_required
@require_POST
def post_move(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Another time for the post: from the plan's keyboard buttons and form, or its drag and drop."""
    post = get_post_for_user(request, pk, role=Role.EDITOR)
    form = MoveForm(request.POST)
    at = form.new_time(post.scheduled_at) if form.is_valid() else None
    if at is None:
        messages.error(request, _("Choose the new date and time."))
        return _after_action(request, post)
    return act(
        request,
        lambda: services.move_post(by=request.user, post=post, at=at),
        success=_("“%(title)s” moved to %(when)s.") % {"title": post, "when": datetime_text(at)},
        back=_back(request, post),
    )
