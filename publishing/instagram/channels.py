"""The county's Instagram channel: the Graph API configured from settings, connecting (Facebook Login
or a pasted token), refreshing the token before it lapses, and stopping the channel when it dies.

Each function that changes the channel writes the audit entry and sends its
e-mail after the commit (libraries.services).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from libraries.models import County, User, count_per_row
from libraries.services import absolute_url, audit, coordinator_emails, send_templated_mail_on_commit
from libraries.versions import kept_value, move_versions
from publishing.instagram import crypto
from publishing.instagram.client import AccessToken, Client, GraphAPIError, GraphConfig, InstagramAccount
from publishing.models import Channel, Post

logger = logging.getLogger(__name__)


# --- The Graph API, configured from settings ---


def graph_config(token: str = "") -> GraphConfig:
    return GraphConfig(
        base_url=settings.GRAPH_API_URL,
        version=settings.GRAPH_API_VERSION,
        access_token=token,
        timeout=float(settings.GRAPH_API_TIMEOUT),
    )


def graph_client(channel: Channel | None = None) -> Client:
    """A client as the channel's account (or as nobody, for the OAuth calls)."""
    return Client(graph_config(channel.access_token if channel is not None else ""))


def app_credentials_configured() -> bool:
    return bool(settings.INSTAGRAM_APP_ID and settings.INSTAGRAM_APP_SECRET)


# --- The channel ---


# Any channel written moves this version: the channels pages show are kept under it (`shown_channel`).
CHANNEL_VERSION = "channel:version"
CHANNEL_CACHE_SECONDS = 24 * 60 * 60


def channel_changed(sender: type | None = None, **kwargs: object) -> None:
    """A channel was saved, deleted or UPDATEd: no kept channel is shown again (publishing/apps.py connects
    this to saves and deletes; the UPDATEs here and in the publishing run call it)."""
    move_versions([CHANNEL_VERSION])


def shown_channel(county: County) -> Channel | None:
    """The county's channel as a page shows it (its connection, name and daily limit), kept in the cache
    under `CHANNEL_VERSION`: the plan, the post list and the post page ask on every request, and a channel
    changes a few times a year. Without its token; not for writing (a service reads `county_channel`)."""
    return kept_value(
        f"channel:{county.pk}:{county.created_at.timestamp()}",
        [CHANNEL_VERSION],
        lambda: Channel.objects.for_county(county).instagram().defer("token_ciphertext").first(),
        seconds=CHANNEL_CACHE_SECONDS,
    )


def county_channel(county: County, *, with_posts_waiting: bool = False) -> Channel | None:
    """The county's Instagram channel, if it was ever connected; `with_posts_waiting`: with how many posts it
    would hold back if it stopped (`posts_waiting`: scheduled ones and those the worker holds), read with it."""
    channels = Channel.objects.for_county(county).instagram()
    if with_posts_waiting:
        held = Post.objects.filter(channel=OuterRef("pk")).not_out_yet()
        channels = channels.annotate(posts_waiting=count_per_row(held, "channel"))
    return channels.first()


@dataclass(frozen=True)
class TokenCheck:
    """What a token gives access to, read from Meta before it is stored."""

    accounts: list[InstagramAccount]
    expires_at: datetime | None


def exchange_login_code(*, code: str, redirect_uri: str) -> AccessToken:
    """The login dialog's code for a long-lived token (about 60 days), server to server."""
    with graph_client() as graph:
        short = graph.exchange_code_for_token(
            app_id=settings.INSTAGRAM_APP_ID,
            app_secret=settings.INSTAGRAM_APP_SECRET,
            redirect_uri=redirect_uri,
            code=code,
        )
        return graph.exchange_long_lived_token(
            app_id=settings.INSTAGRAM_APP_ID,
            app_secret=settings.INSTAGRAM_APP_SECRET,
            short_lived_token=short.access_token,
        )


def check_token(token: str, *, expires_in: int | None = None) -> TokenCheck:
    """The Instagram accounts a token reaches and when it expires (from Meta when the app is configured)."""
    now = timezone.now()
    expires_at = now + timedelta(seconds=expires_in) if expires_in else None
    with Client(graph_config(token)) as graph:
        accounts = graph.list_instagram_accounts()
        if app_credentials_configured():
            info = graph.debug_token(token, app_id=settings.INSTAGRAM_APP_ID, app_secret=settings.INSTAGRAM_APP_SECRET)
            if not info.is_valid:
                raise ValidationError(_("Instagram says this token is not valid (any more)."))
            expires_at = info.expires_at
    return TokenCheck(accounts=accounts, expires_at=expires_at)


def connect_channel(
    *, by: User, county: County, token: str, expires_at: datetime | None, account: InstagramAccount
) -> Channel:
    """Store the token (encrypted) for the county's Instagram account; publishing may go on."""
    with transaction.atomic():
        channel = Channel.objects.select_for_update().filter(
            county=county, kind=Channel.Kind.INSTAGRAM
        ).first() or Channel(county=county, kind=Channel.Kind.INSTAGRAM)
        now = timezone.now()
        channel.status = Channel.Status.CONNECTED
        channel.status_reason = ""
        channel.account_id = account.ig_user_id
        channel.username = account.username
        channel.page_id = account.page_id
        channel.page_name = account.page_name
        channel.set_access_token(token)
        channel.token_expires_at = expires_at
        channel.token_refreshed_at = now
        channel.expiry_warning_sent_at = None
        channel.connected_by = by
        channel.connected_at = now
        channel.save()
        audit(
            county=county,
            actor=by,
            action="channel.connected",
            obj=channel,
            summary=f"@{account.username}",
            account_id=account.ig_user_id,
            expires_at=expires_at.isoformat() if expires_at else None,
        )
    return channel


def disconnect_channel(*, by: User, channel: Channel) -> Channel:
    """Forget the token; nothing is published on the channel until it is connected again."""
    with transaction.atomic():
        channel.status = Channel.Status.DISCONNECTED
        channel.status_reason = ""
        channel.token_ciphertext = ""
        channel.token_expires_at = None
        channel.save(update_fields=["status", "status_reason", "token_ciphertext", "token_expires_at"])
        audit(county=channel.county, actor=by, action="channel.disconnected", obj=channel, summary=str(channel))
    return channel


def stop_channel(*, channel_id: int, reason: str) -> bool:
    """The token no longer works (expired or revoked, code 190): stop publishing and tell the coordinators.

    Only the first caller moves the channel (a conditional UPDATE), so the
    coordinators hear about it once however many tasks notice at once.
    """
    with transaction.atomic():
        stopped = Channel.objects.filter(pk=channel_id, status=Channel.Status.CONNECTED).update(
            status=Channel.Status.RECONNECT_REQUIRED, status_reason=reason[:500]
        )
        if not stopped:
            return False
        channel_changed()
        channel = Channel.objects.select_related("county").get(pk=channel_id)
        waiting = Post.objects.filter(channel=channel).not_out_yet().count()
        audit(county=channel.county, actor=None, action="channel.stopped", obj=channel, summary=reason)
        send_templated_mail_on_commit(
            to=coordinator_emails(channel.county),
            template="channel_reconnect_required",
            context={
                "channel": channel,
                "reason": reason,
                "waiting": waiting,
                "url": absolute_url(reverse("publishing:channel")),
            },
        )
    logger.warning("Channel %s stopped: %s", channel_id, reason)
    return True


def refresh_channel_token(*, channel_id: int) -> bool:
    """Exchange a still valid token for a fresh long-lived one; a dead one stops the channel."""
    channel = Channel.objects.select_related("county").get(pk=channel_id)
    if not channel.is_connected or not app_credentials_configured():
        return False
    try:
        with graph_client() as graph:
            fresh = graph.refresh_token(
                app_id=settings.INSTAGRAM_APP_ID,
                app_secret=settings.INSTAGRAM_APP_SECRET,
                token=channel.access_token,
            )
    except GraphAPIError as error:
        if error.is_token_invalid:
            stop_channel(channel_id=channel.pk, reason=_("Instagram no longer accepts the token: %s") % error.reason)
        else:
            logger.warning("Refreshing the token of channel %s failed: %r", channel.pk, error)
        return False
    now = timezone.now()
    with transaction.atomic():
        channel.set_access_token(fresh.access_token)
        channel.token_expires_at = fresh.expires_at(now)
        channel.token_refreshed_at = now
        channel.expiry_warning_sent_at = None
        channel.save(
            update_fields=["token_ciphertext", "token_expires_at", "token_refreshed_at", "expiry_warning_sent_at"]
        )
        audit(
            county=channel.county,
            actor=None,
            action="channel.token_refreshed",
            obj=channel,
            summary=str(channel),
            expires_at=channel.token_expires_at.isoformat() if channel.token_expires_at else None,
        )
    return True


def look_after_tokens(*, now: datetime | None = None) -> dict[str, int]:
    """The daily round: refresh tokens before they lapse, stop expired ones, warn seven days ahead (once)."""
    now = now or timezone.now()
    refreshed = sum(
        refresh_channel_token(channel_id=pk)
        for pk in Channel.objects.tokens_to_refresh(now).values_list("pk", flat=True)
    )
    stopped = sum(
        stop_channel(channel_id=pk, reason=_("The token expired."))
        for pk in Channel.objects.tokens_expired(now).values_list("pk", flat=True)
    )
    warned = 0
    for channel in Channel.objects.tokens_to_warn_about(now).select_related("county"):
        with transaction.atomic():
            # Claimed before the mail goes out: a second run finds nothing to claim.
            claimed = Channel.objects.filter(pk=channel.pk, expiry_warning_sent_at__isnull=True).update(
                expiry_warning_sent_at=now
            )
            if not claimed:
                continue
            channel_changed()
            audit(county=channel.county, actor=None, action="channel.expiry_warned", obj=channel, summary=str(channel))
            send_templated_mail_on_commit(
                to=coordinator_emails(channel.county),
                template="channel_token_expiring",
                context={
                    "channel": channel,
                    "expires_at": channel.token_expires_at,
                    "url": absolute_url(reverse("publishing:channel")),
                },
            )
            warned += 1
    return {"refreshed": refreshed, "stopped": stopped, "warned": warned}


def reencrypt_tokens() -> int:
    """Encrypt every stored token again with the first of ENCRYPTION_KEYS (after putting a new key first)."""
    changed = 0
    for channel in Channel.objects.exclude(token_ciphertext=""):
        if crypto.needs_rotation(channel.token_ciphertext):
            Channel.objects.filter(pk=channel.pk, token_ciphertext=channel.token_ciphertext).update(
                token_ciphertext=crypto.rotate(channel.token_ciphertext)
            )
            channel_changed()
            changed += 1
    return changed


def graph_error_reason(error: GraphAPIError, channel: Channel) -> str:
    """What went wrong with a call made for a person, in their words; a dead token stops the channel."""
    if error.is_token_invalid:
        stop_channel(
            channel_id=channel.pk,
            reason=_("Instagram no longer accepts the connection: %(reason)s") % {"reason": error.reason},
        )
        return _("The Instagram connection stopped working; a coordinator must connect it again.")
    if error.is_rate_limit:
        return _("Instagram asks us to slow down. Try again in a few minutes.")
    if error.is_unknown_object:
        return _("It no longer exists on Instagram (it was deleted).")
    if not error.permanent:
        return _("Instagram did not answer properly. Try again in a moment.")
    return _("Instagram refused: %(reason)s") % {"reason": error.reason}


def change_channel_settings(*, by: User, channel: Channel, late_margin_hours: int) -> None:
    """The coordinator's choice of how late a post may go out after a reconnect (audited when it changes)."""
    before = channel.late_margin_hours
    if before == late_margin_hours:
        return
    with transaction.atomic():
        Channel.objects.filter(pk=channel.pk).update(late_margin_hours=late_margin_hours)
        channel_changed()
        channel.late_margin_hours = late_margin_hours
        audit(
            county=channel.county,
            actor=by,
            action="channel.settings_changed",
            obj=channel,
            summary=f"late_margin_hours {before} → {late_margin_hours}",
            late_margin_hours=late_margin_hours,
        )
