"""The network's shared pool: other counties' shared items, concepts and ideas, searched like the archive,
borrowed, hidden."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from libraries.access import AuthenticatedHttpRequest
from libraries.http import act, error_text
from libraries.models import Role
from production.models import Concept, Idea
from publishing.access import get_shared_item_for_user, pool_actions, pool_for_user
from publishing.archive import network
from publishing.forms import ArchiveFilterForm, HideSharedItemForm
from publishing.models import Borrow, SharedItem
from publishing.views.archive import POOL_FACET_PARAMETERS, facet_groups, library_names


@login_required
@require_GET
def pool(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Search the other counties' shared things: photos and videos with the archive's search plus county and
    library facets; concepts and ideas (a tab each) by their words."""
    county_access = pool_for_user(request)
    county = county_access.county
    kind = request.GET.get("kind", "")
    kind = kind if kind in (SharedItem.Kind.CONCEPT, SharedItem.Kind.IDEA) else SharedItem.Kind.ITEM
    form = ArchiveFilterForm(request.GET, pool=True)
    if kind != SharedItem.Kind.ITEM:  # found by their words alone (before the form's fields are bound)
        form.fields["q"].help_text = (
            _("Words from the concept's name or description.")
            if kind == SharedItem.Kind.CONCEPT
            else _("Words from the idea's title or pitch.")
        )
    filters = form.filters()
    moderator = request.user.is_network_moderator
    context = {
        "form": form,
        "filters": filters,
        "kind": kind,
        "kinds": SharedItem.Kind,
        "counts": network.pool_counts(county, filters.q),
        "search_url": reverse("publishing:pool"),
        "in_network": county.in_network,
        # The coordinator's queue: what the county's editors offered, waiting to leave the county.
        "awaiting": list(
            SharedItem.objects.for_county(county)
            .awaiting_approval()
            .select_related("item", "concept", "idea", "offered_by")
            .order_by("offered_at")[:50]
        )
        if county_access.is_coordinator
        else [],
    }
    if kind != SharedItem.Kind.ITEM:
        shared_page = Paginator(network.pool_of_kind(county, kind, filters.q), settings.ARCHIVE_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        copies = dict(
            Borrow.objects.filter(county=county, shared__in=shared_page.object_list).values_list(
                "shared_id", f"{kind}_id"
            )
        )
        return render(
            request,
            "publishing/pool.html",
            context
            | {
                "page": shared_page,
                "shared_cards": [
                    (
                        shared,
                        pool_actions(county_access, has_copy=shared.pk in copies, moderator=moderator, kind=kind),
                        copies.get(shared.pk),
                    )
                    for shared in shared_page.object_list
                ],
                "hidden_filters": [("kind", kind)],
            },
        )
    found = network.search_pool(county, filters, page=request.GET.get("page"), per_page=settings.ARCHIVE_PAGE_SIZE)
    facets, page = found.facets, found.page
    copies = dict(
        Borrow.objects.filter(county=county, shared__item__in=found.items).values_list("shared__item_id", "item_id")
    )
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
        context
        | {
            "facets": facets,
            "facet_groups": facet_groups(request, filters, facets, pool=True),
            "page": page,
            "corrections": found.corrections,
            "cards": cards,
            "hidden_filters": [(name, request.GET[name]) for name in POOL_FACET_PARAMETERS if request.GET.get(name)],
        },
    )


@login_required
@require_GET
def pool_item(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """One shared thing as another county sees it: an item's picture and caption, a concept's description and
    cadence with examples, an idea's pitch; its origin and credit."""
    county_access, shared = get_shared_item_for_user(request, pk)
    kind = shared.kind
    copy = Borrow.objects.filter(county=county_access.county, shared=shared).select_related(kind).first()
    context = {
        "shared": shared,
        "actions": pool_actions(
            county_access, has_copy=copy is not None, moderator=request.user.is_network_moderator, kind=kind
        ),
        "copy": copy.copy if copy is not None else None,
        "hide_form": HideSharedItemForm() if request.user.is_network_moderator else None,
    }
    thing = shared.thing
    if isinstance(thing, Concept):
        examples = network.examples_of(county_access.county, thing)
        return render(request, "publishing/pool_concept.html", context | {"concept": thing, "examples": examples})
    if isinstance(thing, Idea):
        return render(request, "publishing/pool_idea.html", context | {"idea": thing})
    return render(
        request,
        "publishing/pool_item.html",
        context
        | {
            "item": thing,
            "asset": thing.asset,
            "libraries": list(thing.libraries.order_by("name")),
        },
    )


@login_required
@require_POST
def pool_borrow(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Borrow: a copy enters the county (its archive, concepts or ideas) with its origin and credit; on to
    the copy's page."""
    county_access, shared = get_shared_item_for_user(request, pk, role=Role.EDITOR)
    try:
        copy = network.borrow(by=request.user, access=county_access, shared=shared)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("publishing:pool_item", pk=shared.pk)
    said = {
        SharedItem.Kind.ITEM: _(
            "“%(title)s” is in your archive, borrowed from %(county)s. Posts made from it carry the credit."
        ),
        SharedItem.Kind.CONCEPT: _(
            "“%(title)s” is one of your concepts now, borrowed from %(county)s. It is inactive: check its "
            "cadence and turn it on when your libraries are ready. Its posts start with the credit."
        ),
        SharedItem.Kind.IDEA: _(
            "“%(title)s” is in your ideas, borrowed from %(county)s, waiting for review. Posts made from it "
            "start with the credit."
        ),
    }[shared.kind]
    messages.success(request, said % {"title": copy, "county": shared.county})
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
        % {"title": shared, "county": shared.county},
        back=reverse("publishing:pool"),
    )
