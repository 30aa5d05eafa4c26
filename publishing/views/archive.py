"""The shared archive: search with filters and facets, one item, downloads, and reuse in a new post."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseBase, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from libraries.access import AuthenticatedHttpRequest, CountyAccess, require_role
from libraries.http import error_text, kept_part
from libraries.models import Role
from production import release
from production.access import can_change_asset
from production.views.media_files import serve_file
from publishing.access import (
    archive_for_user,
    archive_items_for_user,
    can_reuse_from_archive,
    get_archive_item_for_user,
    get_asset_for_archiving,
)
from publishing.archive import downloads as archive_downloads
from publishing.archive import filing as archive
from publishing.archive.search import CONSENT_ALL, CONSENT_REUSABLE, ArchiveFilters, ArchiveSearch, Facets, FacetValue
from publishing.forms import ArchiveFilterForm, ArchiveSelectionForm
from publishing.models import ArchiveItem, Borrow, InsightSnapshot, Post
from publishing.views.sharing import network_panel

# The filters the facet links set; a new search keeps them (hidden fields in the search form).
FACET_PARAMETERS = ("content_type", "concept", "library", "media_kind", "orientation", "year", "consent")
# The shared pool's (publishing/views/network.py): a county facet, and no consent facet (the pool holds
# only what everyone shown lets travel).
POOL_FACET_PARAMETERS = ("content_type", "concept", "county", "library", "media_kind", "orientation", "year")


@dataclass(frozen=True)
class FacetLink:
    label: str
    count: int | None
    url: str
    active: bool


@dataclass(frozen=True)
class FacetGroup:
    name: str
    heading: str
    links: list[FacetLink]


def _urls_of(request: AuthenticatedHttpRequest, name: str) -> Callable[[str | None], str]:
    """This search's address with the parameter `name` set to a value (None: removed), back on the first
    page: for the many values of one facet, the other parameters encoded once."""
    query: QueryDict = request.GET.copy()
    for left_out in ("page", name):
        query.pop(left_out, None)
    others = query.urlencode()
    without = f"{request.path}?{others}" if others else request.path
    head = f"{without}&" if others else f"{without}?"
    return lambda value: without if value is None else head + urlencode({name: value})


def _group(
    request: AuthenticatedHttpRequest, name: str, heading: str, values: list[FacetValue], active: str, *, all_label: str
) -> FacetGroup:
    url = _urls_of(request, name)
    links = [FacetLink(all_label, None, url(None), not active)]
    links += [
        FacetLink(value.label, value.count, url(value.value), value.value == active)
        for value in values
        if value.count or value.value == active
    ]
    return FacetGroup(name, heading, links)


def facet_groups(
    request: AuthenticatedHttpRequest, filters: ArchiveFilters, facets: Facets, *, pool: bool = False
) -> list[FacetGroup]:
    """Each facet as links that set (or clear) its filter, with the counts; values with none are left out.
    `pool`: the shared pool's, with its county facet and without consent."""
    every = _("All")
    if pool:
        return [
            _group(request, "county", _("County"), facets.county, str(filters.county_id or ""), all_label=every),
            _group(request, "library", _("Library"), facets.library, str(filters.library_id or ""), all_label=every),
            _group(
                request, "content_type", _("Content type"), facets.content_type, filters.content_type, all_label=every
            ),
            _group(request, "media_kind", _("Kind"), facets.media_kind, filters.media_kind, all_label=every),
            _group(request, "concept", _("Concept"), facets.concept, str(filters.concept_id or ""), all_label=every),
            _group(request, "year", _("Year"), facets.year, str(filters.year or ""), all_label=every),
            _group(request, "orientation", _("Orientation"), facets.orientation, filters.orientation, all_label=every),
        ]
    consent_active = filters.consent if filters.consent != CONSENT_REUSABLE else ""
    consent_values = [
        FacetValue("", facets.consent[0].label, facets.consent[0].count),
        *facets.consent[1:],
        FacetValue(CONSENT_ALL, _("Reusable and blocked"), sum(value.count for value in facets.consent)),
    ]
    consent_url = _urls_of(request, "consent")
    consent = FacetGroup(
        "consent",
        _("Consent"),
        [
            FacetLink(value.label, value.count, consent_url(value.value or None), value.value == consent_active)
            for value in consent_values
        ],
    )
    return [
        _group(request, "content_type", _("Content type"), facets.content_type, filters.content_type, all_label=every),
        _group(request, "media_kind", _("Kind"), facets.media_kind, filters.media_kind, all_label=every),
        _group(request, "concept", _("Concept"), facets.concept, str(filters.concept_id or ""), all_label=every),
        _group(request, "library", _("Library"), facets.library, str(filters.library_id or ""), all_label=every),
        _group(request, "year", _("Year"), facets.year, str(filters.year or ""), all_label=every),
        _group(request, "orientation", _("Orientation"), facets.orientation, filters.orientation, all_label=every),
        consent,
    ]


@login_required
@require_GET
def archive_search(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Search and browse the county's archive; the facets count what each filter would leave. Kept for
    everyone of the role in the county at this address until the next write (libraries.http.kept_part)."""
    county_access, _items = archive_for_user(request)  # before anything kept is read
    kept_for = ["archive", county_access.county.pk, county_access.role, request.get_full_path()]
    content = kept_part(request, kept_for, "publishing/archive.html#content", lambda: _archive_search(request))
    return render(
        request, "publishing/archive.html", {"content": content, "filters": ArchiveFilterForm(request.GET).filters()}
    )


def _archive_search(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    county_access, items = archive_for_user(request)
    form = ArchiveFilterForm(request.GET)
    filters = form.filters()
    found = ArchiveSearch(items, filters, county=county_access.county).run(
        request.GET.get("page"), per_page=settings.ARCHIVE_PAGE_SIZE
    )
    facets, page = found.facets, found.page
    hidden = [(name, request.GET[name]) for name in FACET_PARAMETERS if request.GET.get(name)]
    return {
        "form": form,
        "filters": filters,
        "facets": facets,
        "facet_groups": facet_groups(request, filters, facets),
        "page": page,
        "cards": [(item, library_names(item, facets.library_names)) for item in found.items],
        "hidden_filters": hidden,
        "search_url": reverse("publishing:archive"),
        "corrections": found.corrections,
        "can_reuse": can_reuse_from_archive(county_access),
    }


def library_names(item: ArchiveItem, names: dict[int, str]) -> list[str]:
    # The library facet already holds every name the page's items show.
    return [names[pk] for pk in item.library_ids if pk in names]


# --- One item ---


def _metrics(post: Post | None) -> list[tuple[str, Any]]:
    """The latest insights Instagram reported for the post the item was first published in."""
    if post is None or not post.insights:
        return []
    fields = {field.name: field for field in InsightSnapshot._meta.get_fields()}
    rows = []
    for name, value in post.insights.items():
        field = fields.get(name) or fields.get({"saves": "saved"}.get(name, ""))
        label = str(getattr(field, "verbose_name", name)) if field is not None else name.replace("_", " ")
        rows.append((label, value))
    return rows


def _visible_post_ids(county_access: CountyAccess, reuses: list[Any]) -> set[int]:
    """The reusing posts the person may open (librarians see the plan, not the county's drafts)."""
    if county_access.is_editor:
        return {reuse.post_id for reuse in reuses}
    return {reuse.post_id for reuse in reuses if reuse.post.status in Post.PLANNED_STATUSES}


@login_required
@require_GET
def archive_item(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    county_access = require_role(request)
    item = get_archive_item_for_user(request, pk)
    item = archive.with_consents(
        ArchiveItem.objects.filter(pk=item.pk).select_related(
            "county", "asset__library", "concept", "post", "archived_by"
        )
    ).get()
    reuses = archive.item_reuses(item)
    libraries = list(item.libraries.order_by("name"))
    reason = archive.blocked_reason(item)
    return render(
        request,
        "publishing/archive_item.html",
        {
            "item": item,
            "asset": item.asset,
            "libraries": libraries,
            "blocked_reason": reason,
            "scope": archive.consent_scope(item),
            "reuses": reuses,
            "visible_posts": _visible_post_ids(county_access, reuses),
            "metrics": _metrics(item.post),
            "first_post_visible": item.post is not None
            and (county_access.is_editor or item.post.status in Post.PLANNED_STATUSES),
            "can_reuse": can_reuse_from_archive(county_access),
            "can_change_asset": can_change_asset(county_access, item.asset),
            "versions": archive.versions_for(county_access),
            "origin": _origin(item),
        }
        | network_panel(county_access, item, language=request.user.language),
    )


def _origin(item: ArchiveItem) -> Borrow | None:
    """Where a borrowed copy came from: the county and library that shared it, and its credit."""
    if item.source != ArchiveItem.Source.BORROWED:
        return None
    return Borrow.objects.filter(item=item).select_related("shared__county", "shared__item__asset__library").first()


# --- Downloads ---


@release.serves_media
@login_required
@require_http_methods(["GET", "HEAD"])
def archive_download(request: AuthenticatedHttpRequest, pk: int, version: str) -> HttpResponseBase:
    """One item's original (editors and coordinators) or Instagram version, as production/release.py
    allows; a consent refusal is audited and explained on the item's page."""
    if version not in archive_downloads.VERSIONS:
        return redirect("publishing:archive_item", pk=pk)
    county_access = require_role(request)
    item = get_archive_item_for_user(request, pk)
    item = archive.with_consents(ArchiveItem.objects.filter(pk=item.pk).select_related("county", "asset")).get()
    answer = archive.download_release(county_access, item, version)
    if answer.for_role:
        raise PermissionDenied(answer.reason)
    if not answer.allowed:
        messages.error(request, archive.refuse(by=request.user, item=item, reason=answer.reason, action="download"))
        return redirect(item)
    archive.record_download(by=request.user, item=item, version=version)
    return serve_file(
        request,
        archive_downloads.stored_file(item, version),
        content_type=archive_downloads.content_type(item, version),
        filename=archive_downloads.download_name(item, version),
        as_attachment=True,
    )


def _selected(request: AuthenticatedHttpRequest, data: QueryDict, *, role: Role = Role.LIBRARIAN) -> list[ArchiveItem]:
    form = ArchiveSelectionForm(data)
    ids = form.item_ids()[: settings.ARCHIVE_SELECTION_MAX_ITEMS]
    if not ids:
        return []
    chosen = archive_items_for_user(request, ids, role=role)
    with_people = archive.with_consents(
        ArchiveItem.objects.filter(pk__in=[item.pk for item in chosen]).select_related(
            "county", "asset__idea", "asset__recording_day", "concept", "post"
        )
    )
    by_pk = {item.pk: item for item in with_people}
    return [by_pk[item.pk] for item in chosen]


@login_required
@require_GET
def archive_selection(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The items chosen in a search: their credit lines and consent before a zip, or reuse as one post."""
    county_access = require_role(request)
    items = _selected(request, request.GET)
    if not items:
        messages.error(request, _("Choose at least one item in the archive first."))
        return redirect("publishing:archive")
    rows = [(item, archive.blocked_reason(item), archive.consent_scope(item)) for item in items]
    allowed = [item for item, reason, _scope in rows if not reason]
    too_many = len(request.GET.getlist("item")) > settings.ARCHIVE_SELECTION_MAX_ITEMS
    return render(
        request,
        "publishing/archive_selection.html",
        {
            "rows": rows,
            "allowed": allowed,
            "too_many": too_many,
            "max_items": settings.ARCHIVE_SELECTION_MAX_ITEMS,
            "versions": archive.versions_for(county_access),
            "can_reuse": can_reuse_from_archive(county_access),
            "carousel_max": archive.ARCHIVE_CAROUSEL_MAX,
        },
    )


def _selection_url(items: list[ArchiveItem]) -> str:
    query = QueryDict(mutable=True)
    query.setlist("item", [str(item.pk) for item in items])
    return f"{reverse('publishing:archive_selection')}?{query.urlencode()}"


@release.serves_media
@login_required
@require_GET
def archive_zip(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    """Several items as one zip, streamed, with a text file of their credits and consent scope; each item
    as production/release.py allows (originals for editors and coordinators)."""
    county_access = require_role(request)
    items = _selected(request, request.GET)
    version = request.GET.get("version", archive_downloads.INSTAGRAM)
    if not items or version not in archive_downloads.VERSIONS:
        messages.error(request, _("Choose at least one item in the archive first."))
        return redirect("publishing:archive")
    answers = [(item, archive.download_release(county_access, item, version)) for item in items]
    if role := next((answer for _item, answer in answers if answer.for_role), None):
        raise PermissionDenied(role.reason)
    refused = [
        archive.refuse(by=request.user, item=item, reason=answer.reason, action="download")
        for item, answer in answers
        if not answer.allowed
    ]
    if refused:
        # The selection page shows which items are blocked; nothing is sent until they are left out.
        for message in refused:
            messages.error(request, message)
        return redirect(_selection_url(items))
    entries = []
    credits = []
    for item in items:
        name = archive_downloads.download_name(item, version)
        entries.append(
            archive_downloads.ZipEntry(
                name=name, field_file=archive_downloads.stored_file(item, version), modified=item.published_at
            )
        )
        credits.append((item, name, archive.consent_scope(item)))
    entries.append(
        archive_downloads.ZipEntry(name=archive_downloads.CREDITS_NAME, text=archive_downloads.credits_text(credits))
    )
    for item in items:
        archive.record_download(by=request.user, item=item, version=version, zip=True)
    response = StreamingHttpResponse(archive_downloads.zip_stream(entries), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, archive_downloads.zip_name())
    response["Cache-Control"] = "private, no-store"
    return response


# --- Reuse ---


@login_required
@require_POST
def archive_reuse(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Reuse in a new post: one item, or 2 to 10 as a carousel; on to the draft's edit page."""
    items = _selected(request, request.POST, role=Role.EDITOR)
    if not items:
        messages.error(request, _("Choose at least one item in the archive first."))
        return redirect("publishing:archive")
    try:
        post = archive.reuse_in_new_post(by=request.user, items=items)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(items[0] if len(items) == 1 else _selection_url(items))
    message = _(
        "The draft “%(title)s” was made from the archive. Check the caption and the collaborators, "
        "then ask for approval."
    )
    messages.success(request, message % {"title": post})
    return redirect("publishing:post_edit", pk=post.pk)


# --- Archiving an asset that was never published ---


@login_required
@require_POST
def archive_asset(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    asset = get_asset_for_archiving(request, pk)
    try:
        item = archive.archive_asset(by=request.user, asset=asset)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(asset)
    messages.success(
        request, _("“%(title)s” is in the archive: every library in the county can find it.") % {"title": item}
    )
    return redirect(item)
