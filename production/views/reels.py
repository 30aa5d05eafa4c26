"""A video's Instagram version on its page: progress while the worker makes it, cancelling, and the reel's cover.

Small partials of their own (templates/production/_asset_progress.html, _asset_cover.html), included by the
asset's page, so this stays apart from the page's view (production/views/assets.py).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from libraries.access import AuthenticatedHttpRequest, require_role
from production.access import can_change_asset, get_asset_for_user
from production.models import Asset
from production.services import media as asset_services
from production.views import error_text, is_htmx
from production.views.assets import ASSET_PROCESSED


def _progress(request: AuthenticatedHttpRequest, asset: Asset, *, status: int = 200) -> HttpResponse:
    county_access = require_role(request)
    context = {"asset": asset, "can_change": can_change_asset(county_access, asset)}
    response = render(request, "production/_asset_progress.html", context, status=status)
    if not asset.is_processing:
        # The progress bar is the page's only loop while a video is made; once it is done the status
        # part (the preview and the Instagram check, asset_detail.html) is asked for once, by this event.
        response["HX-Trigger"] = ASSET_PROCESSED
    return response


@login_required
@require_GET
def asset_progress(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """How far the Instagram version of a video has come; polled every 2 s while it is being made."""
    return _progress(request, get_asset_for_user(request, pk))


@login_required
@require_POST
def asset_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Stop making a video's Instagram version; the upload is kept and can be tried again."""
    asset = get_asset_for_user(request, pk, for_change=True)
    try:
        asset = asset_services.cancel_processing(by=request.user, asset=asset)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Making the Instagram version was cancelled. The upload is kept."))
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = asset.get_absolute_url()
        return response
    return redirect(asset)


@login_required
@require_POST
def asset_cover(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Choose a reel's cover: a moment of the video (seconds), or an uploaded picture."""
    asset = get_asset_for_user(request, pk, for_change=True)
    try:
        image = request.FILES.get("image")
        if image is not None:
            asset_services.set_cover_image(by=request.user, asset=asset, upload=image)
            messages.success(request, _("The cover picture was saved."))
        else:
            try:
                seconds = Decimal(request.POST.get("seconds", "").replace(",", ".").strip())
            except InvalidOperation as exc:
                raise ValidationError(_("Write the moment in seconds, for example 2.5.")) from exc
            asset_services.set_cover_frame(by=request.user, asset=asset, offset_ms=int(seconds * 1000))
            messages.success(
                request, _("The cover was saved: the video at %(seconds)s seconds.") % {"seconds": seconds}
            )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect(asset.get_absolute_url() + "#cover")
