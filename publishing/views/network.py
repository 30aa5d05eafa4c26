"""The network's shared pool: other counties' shared items, searched like the archive, borrowed, hidden."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from libraries.access import AuthenticatedHttpRequest
from libraries.http import act, error_text
from libraries.models import Role
from publishing.access import get_shared_item_for_user, pool_actions, pool_for_user
from publishing.archive import network
from publishing.forms import ArchiveFilterForm, HideSharedItemForm
from publishing.models import Borrow, SharedItem
from publishing.views.archive import POOL_FACET_PARAMETERS, facet_groups, library_names


@login_required
@require_GET
def pool(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Search the other counties' shared items with the archive's search, plus county and library facets."""
    county_access = pool_for_user(request)
    form = ArchiveFilterForm(request.GET, pool=True)
    filters = form.filters()
    found = network.search_pool(
        county_access.county, filters, page=request.GET.get("page"), per_page=settings.ARCHIVE_PAGE_SIZE
    )
    facets, page = found.facets, found.page
    copies = dict(
        Borrow.objects.filter(county=county_access.county, shared__item__in=found.items).values_list(
            "shared__item_id", "item_id"
        )
    )
    moderator = request.user.is_network_moderator
    cards = [
        (
            item,
            library_names(item, facets.library_names),
            pool_actions(county_access, has_copy=item.pk in copies, moderator=moderator),
            copies.get(item.pk),
        )
        for item in found.items
    ]
    return render(
        request,
        "publishing/pool.html",
        {
            "form": form,
            "filters": filters,
            "facets": facets,
            "facet_groups": facet_groups(request, filters, facets, pool=True),
            "page": page,
            "cards": cards,
            "hidden_filters": [(name, request.GET[name]) for name in POOL_FACET_PARAMETERS if request.GET.get(name)],
            "search_url": reverse("publishing:pool"),
            "in_network": county_access.county.in_network,
            # The coordinator's queue: what the county's editors offered, waiting to leave the county.
            "awaiting": list(
                SharedItem.objects.for_county(county_access.county)
                .awaiting_approval()
                .select_related("item", "offered_by")
                .order_by("offered_at")[:50]
            )
            if county_access.is_coordinator
            else [],
        },
    )


@login_required
@require_GET
def pool_item(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """One shared item as another county sees it: the picture, the caption, its origin and credit."""
    county_access, shared = get_shared_item_for_user(request, pk)
    copy = Borrow.objects.filter(county=county_access.county, shared=shared).values_list("item_id", flat=True).first()
    return render(
        request,
        "publishing/pool_item.html",
        {
            "shared": shared,
            "item": shared.item,
            "asset": shared.item.asset,
            "libraries": list(shared.item.libraries.order_by("name")),
            "actions": pool_actions(
                county_access, has_copy=copy is not None, moderator=request.user.is_network_moderator
            ),
            "copy_id": copy,
            "hide_form": HideSharedItemForm() if request.user.is_network_moderator else None,
        },
    )


@login_required
@require_POST
def pool_borrow(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Borrow: a copy enters the county's archive with its origin and credit; on to the copy's page."""
    county_access, shared = get_shared_item_for_user(request, pk, role=Role.EDITOR)
    try:
        copy = network.borrow(by=request.user, access=county_access, shared=shared)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("publishing:pool_item", pk=shared.pk)
    messages.success(
        request,
        _("“%(title)s” is in your archive, borrowed from %(county)s. Posts made from it carry the credit.")
        % {"title": copy, "county": shared.county},
    )
    return redirect(copy)


@login_required
@require_POST
def pool_hide(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A network moderator takes an item out of the pool, with a reason its county reads on the item's page."""
    # Only an item in the pool of the moderator's county: never their own county's, none outside the network.
    county_access, shared = get_shared_item_for_user(request, pk)
    if not request.user.is_network_moderator:
        raise PermissionDenied("Network moderators hide shared items.")
    form = HideSharedItemForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return act(
        request,
        lambda: network.hide(by=request.user, access=county_access, shared=shared, reason=reason),
        success=_("“%(title)s” is hidden from the shared pool; %(county)s sees why.")
        % {"title": shared.item, "county": shared.county},
        back=reverse("publishing:pool"),
    )
