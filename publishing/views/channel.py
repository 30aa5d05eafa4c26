"""The county's Instagram connection: Facebook Login (OAuth) or a pasted long-lived token (coordinators)."""

from __future__ import annotations

import secrets
from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from libraries.access import AuthenticatedHttpRequest
from libraries.http import error_text
from libraries.services import absolute_url
from publishing.access import get_channel_for_user
from publishing.forms import AccountChoiceForm, ChannelSettingsForm, TokenForm
from publishing.instagram import channels, crypto
from publishing.instagram.client import GraphAPIError, InstagramAccount, oauth_dialog_url
from publishing.models import Channel, Post

OAUTH_STATE_SESSION_KEY = "innspill_oauth_state"
PENDING_TOKEN_SESSION_KEY = "innspill_pending_channel"  # noqa: S105 - a session key name, not a secret


def _redirect_uri() -> str:
    return absolute_url(reverse("publishing:channel_callback"))


@login_required
@require_GET
def channel(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _channel_page(request)


def _channel_page(
    request: AuthenticatedHttpRequest, *, settings_form: ChannelSettingsForm | None = None, status: int = 200
) -> HttpResponse:
    _county_access, current = get_channel_for_user(request)
    # Everything a stopped channel holds back (scheduled, and held by the worker), as the home page counts.
    waiting = (
        Post.objects.filter(channel=current).not_out_yet().count()
        if current is not None and not current.is_connected
        else 0
    )
    if settings_form is None and current is not None:
        settings_form = ChannelSettingsForm(instance=current)
    return render(
        request,
        "publishing/channel.html",
        {
            "channel": current,
            "token_form": TokenForm(),
            "settings_form": settings_form,
            "can_login": channels.app_credentials_configured(),
            "waiting": waiting,
        },
        status=status,
    )


@login_required
@require_POST
def channel_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The coordinator's choices for the channel (how late a post may go out after a reconnect)."""
    _access, current = get_channel_for_user(request)
    if current is None:
        return redirect("publishing:channel")
    form = ChannelSettingsForm(request.POST, instance=Channel.objects.get(pk=current.pk))
    if not form.is_valid():
        return _channel_page(request, settings_form=form, status=400)
    channels.change_channel_settings(
        by=request.user, channel=current, late_margin_hours=form.cleaned_data["late_margin_hours"]
    )
    hours = current.late_margin_hours
    messages.success(
        request,
        ngettext(
            "Saved: after a reconnect, a post more than %(hours)s hour late goes back to its editor.",
            "Saved: after a reconnect, a post more than %(hours)s hours late goes back to its editor.",
            hours,
        )
        % {"hours": hours},
    )
    return redirect("publishing:channel")


@login_required
@require_POST
def channel_connect(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Send the coordinator to Facebook Login; `state` ties the answer to this session (CSRF)."""
    get_channel_for_user(request)
    if not channels.app_credentials_configured():
        messages.error(request, _("Facebook Login is not set up for this installation; paste a token instead."))
        return redirect("publishing:channel")
    state = secrets.token_urlsafe(32)
    request.session[OAUTH_STATE_SESSION_KEY] = state
    url = oauth_dialog_url(
        channels.graph_config(), app_id=settings.INSTAGRAM_APP_ID, redirect_uri=_redirect_uri(), state=state
    )
    return redirect(url)


@login_required
@require_GET
def channel_callback(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Facebook Login comes back here with `code` and our `state` (or an error)."""
    get_channel_for_user(request)
    expected = request.session.pop(OAUTH_STATE_SESSION_KEY, None)
    if not expected or not constant_time_compare(request.GET.get("state", ""), expected):
        messages.error(request, _("The answer from Facebook did not belong to this login. Please start again."))
        return redirect("publishing:channel")
    if request.GET.get("error"):
        messages.error(
            request,
            _("Facebook Login was not completed: %(reason)s")
            % {"reason": request.GET.get("error_description") or request.GET["error"]},
        )
        return redirect("publishing:channel")
    code = request.GET.get("code", "")
    if not code:
        messages.error(request, _("Facebook did not send a login code. Please start again."))
        return redirect("publishing:channel")
    try:
        token = channels.exchange_login_code(code=code, redirect_uri=_redirect_uri())
    except GraphAPIError as error:
        messages.error(request, _("Facebook did not accept the login: %(reason)s") % {"reason": error.reason})
        return redirect("publishing:channel")
    return _connect_with(request, token.access_token, expires_in=token.expires_in)


@login_required
@require_POST
def channel_token(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Connect with a long-lived token pasted by the coordinator."""
    get_channel_for_user(request)
    form = TokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Paste the token first."))
        return redirect("publishing:channel")
    return _connect_with(request, form.cleaned_data["token"], expires_in=None)


def _connect_with(request: AuthenticatedHttpRequest, token: str, *, expires_in: int | None) -> HttpResponse:
    county_access, _current = get_channel_for_user(request)
    try:
        check = channels.check_token(token, expires_in=expires_in)
    except GraphAPIError as error:
        messages.error(request, _("Instagram did not accept the token: %(reason)s") % {"reason": error.reason})
        return redirect("publishing:channel")
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("publishing:channel")
    if not check.accounts:
        messages.error(
            request,
            _(
                "The token reaches no Instagram professional account. Link the county's Instagram account "
                "to a Facebook Page you manage, then try again."
            ),
        )
        return redirect("publishing:channel")
    if len(check.accounts) == 1:
        return _connected(request, token, check.expires_at, check.accounts[0])
    # Several accounts: the coordinator chooses. The token waits encrypted in the session meanwhile.
    request.session[PENDING_TOKEN_SESSION_KEY] = {
        "token": crypto.encrypt(token),
        "expires_at": check.expires_at.isoformat() if check.expires_at else None,
        "accounts": [asdict(account) for account in check.accounts],
        "county": county_access.county.pk,
    }
    return redirect("publishing:channel_choose")


def _connected(
    request: AuthenticatedHttpRequest, token: str, expires_at: datetime | None, account: InstagramAccount
) -> HttpResponse:
    county_access, _current = get_channel_for_user(request)
    channels.connect_channel(
        by=request.user, county=county_access.county, token=token, expires_at=expires_at, account=account
    )
    messages.success(
        request, _("Instagram is connected: posts go out as @%(username)s.") % {"username": account.username}
    )
    return redirect("publishing:channel")


@login_required
@require_http_methods(["GET", "POST"])
def channel_choose(request: AuthenticatedHttpRequest) -> HttpResponse:
    county_access, _current = get_channel_for_user(request)
    pending: dict[str, Any] | None = request.session.get(PENDING_TOKEN_SESSION_KEY)
    if not pending or pending.get("county") != county_access.county.pk:
        return redirect("publishing:channel")
    accounts = [InstagramAccount(**raw) for raw in pending["accounts"]]
    form = AccountChoiceForm(
        request.POST or None,
        accounts=[(a.ig_user_id, f"@{a.username} ({a.page_name})") for a in accounts],
    )
    if request.method == "POST" and form.is_valid():
        request.session.pop(PENDING_TOKEN_SESSION_KEY, None)
        account = next(a for a in accounts if a.ig_user_id == form.cleaned_data["account"])
        expires_at = datetime.fromisoformat(pending["expires_at"]) if pending["expires_at"] else None
        return _connected(request, crypto.decrypt(pending["token"]), expires_at, account)
    return render(request, "publishing/channel_choose.html", {"form": form})


@login_required
@require_POST
def channel_disconnect(request: AuthenticatedHttpRequest) -> HttpResponse:
    _county_access, current = get_channel_for_user(request)
    if current is not None:
        channels.disconnect_channel(by=request.user, channel=current)
        messages.success(request, _("Instagram was disconnected. Scheduled posts wait until it is connected again."))
    return redirect("publishing:channel")


@login_required
@require_POST
def channel_refresh(request: AuthenticatedHttpRequest) -> HttpResponse:
    _county_access, current = get_channel_for_user(request)
    if current is not None and channels.refresh_channel_token(channel_id=current.pk):
        messages.success(request, _("The token was renewed."))
    else:
        messages.error(request, _("The token could not be renewed. Connect again if it keeps failing."))
    return redirect("publishing:channel")
