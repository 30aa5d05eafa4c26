"""Sharing with the network of counties, seen from the county that shares: an archive item's, a concept's or
an idea's "network of counties" section, and offering, approving and un-sharing it (the pool, where other
counties find and borrow it, is publishing/views/network.py)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from libraries.access import AuthenticatedHttpRequest, CountyAccess
from libraries.http import act
from libraries.models import Role
from production.models import Concept, Idea
from publishing.access import get_shareable_for_sharing, sharing_actions
from publishing.archive import network
from publishing.forms import ShareOfferForm
from publishing.models import ArchiveItem, Borrow, PostElsewhere, SharedItem, posts_elsewhere

# The offer, approve and un-share views' names for each kind (publishing/urls.py).
SHARE_URL_NAMES = {
    SharedItem.Kind.ITEM: ("archive_share", "archive_share_approve", "archive_unshare"),
    SharedItem.Kind.CONCEPT: ("concept_share", "concept_share_approve", "concept_unshare"),
    SharedItem.Kind.IDEA: ("idea_share", "idea_share_approve", "idea_unshare"),
}


def network_panel(access: CountyAccess, thing: ArchiveItem | Concept | Idea, *, language: str) -> dict[str, Any]:
    """What the "network of counties" section of an item's, a concept's or an idea's page shows: its sharing
    state, who borrowed it and what they posted from it, and the offer, approve and un-share forms."""
    shared = network.shared_of(thing)
    sharing = sharing_actions(access, thing, shared)
    kind = network.kind_of(thing)
    offer, approve, stop = (reverse(f"publishing:{name}", args=[thing.pk]) for name in SHARE_URL_NAMES[kind])
    return {
        "thing": thing,
        "kind": kind,
        "shared": shared,
        "sharing": sharing,
        "borrows": _borrows_with_posts(shared) if shared else [],
        "sharing_blocked_reason": network.cannot_offer(thing) if sharing.can_offer else "",
        "offer_form": ShareOfferForm(initial={"credit": network.credit_for(thing, language=language)})
        if sharing.can_offer
        else None,
        "share_urls": {"offer": offer, "approve": approve, "stop": stop},
    }


def _borrows_with_posts(shared: SharedItem) -> list[tuple[Borrow, list[PostElsewhere]]]:
    """Who borrowed it, each county with the posts it published from its copy and their reach (what the
    origin may see of another county: the post's date, its reach and its public link, nothing else)."""
    borrows = list(shared.borrows.select_related("county").order_by("county__name"))
    posts = posts_elsewhere(SharedItem.objects.filter(pk=shared.pk)) if borrows else []
    return [(borrow, [post for post in posts if post.county.pk == borrow.county_id]) for borrow in borrows]


# --- Offering, approving, un-sharing (the thing's own county) ---


@login_required
@require_POST
def share_offer(request: AuthenticatedHttpRequest, kind: str, pk: int) -> HttpResponse:
    """An editor offers an item, a concept or an idea to the other counties, with its credit; the
    coordinator approves it."""
    county_access, thing, _shared = get_shareable_for_sharing(request, kind, pk)
    form = ShareOfferForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for error in form.errors.get("credit", [])))
        return redirect(thing)
    return act(
        request,
        lambda: network.offer(by=request.user, access=county_access, item=thing, credit=form.cleaned_data["credit"]),
        success=_("“%(title)s” is offered to the network. It leaves the county when a coordinator approves it.")
        % {"title": thing},
        back=thing,
    )


def _sharing_of(shared: SharedItem | None) -> SharedItem:
    if shared is None:
        raise ValidationError(_("This item was never offered to the network."))
    return shared


@login_required
@require_POST
def share_approve(request: AuthenticatedHttpRequest, kind: str, pk: int) -> HttpResponse:
    """The coordinator lets an offered thing leave the county: other counties find it in the shared pool."""
    county_access, thing, shared = get_shareable_for_sharing(request, kind, pk, role=Role.COORDINATOR)
    return act(
        request,
        lambda: network.approve(by=request.user, access=county_access, shared=_sharing_of(shared)),
        success=_("“%(title)s” is shared: the other counties in the network can find and borrow it.")
        % {"title": thing},
        back=thing,
    )


@login_required
@require_POST
def share_stop(request: AuthenticatedHttpRequest, kind: str, pk: int) -> HttpResponse:
    """An editor takes it out of the pool (or withdraws the offer): no new borrows; the copies already
    borrowed stay usable, and the page says who has one."""
    county_access, thing, shared = get_shareable_for_sharing(request, kind, pk)
    holders: list[str] = []

    def unshare() -> None:
        holders.extend(
            county.name for county in network.unshare(by=request.user, access=county_access, shared=_sharing_of(shared))
        )

    def success() -> str:
        if not holders:
            return _("“%(title)s” is no longer shared.") % {"title": thing}
        return _("“%(title)s” is no longer shared. These counties borrowed it and keep their copies: %(counties)s.") % {
            "title": thing,
            "counties": ", ".join(holders),
        }

    return act(request, unshare, success=success, back=thing)
