"""The county's Instagram channel: its account, token and publishing limits."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from libraries.models import County, User
from publishing.instagram import crypto


class ChannelQuerySet(models.QuerySet["Channel"]):
    def for_county(self, county: County) -> ChannelQuerySet:
        return self.filter(county=county)

    def instagram(self) -> ChannelQuerySet:
        return self.filter(kind=Channel.Kind.INSTAGRAM)

    def connected(self) -> ChannelQuerySet:
        return self.filter(status=Channel.Status.CONNECTED)

    def tokens_to_refresh(self, now: datetime) -> ChannelQuerySet:
        """Connected channels whose token expires within the refresh window (and has not expired)."""
        horizon = now + timedelta(days=settings.INSTAGRAM_TOKEN_REFRESH_DAYS)
        return self.connected().filter(token_expires_at__gt=now, token_expires_at__lte=horizon)

    def tokens_to_warn_about(self, now: datetime) -> ChannelQuerySet:
        """Connected channels whose token expires within the warning window and nobody was told yet."""
        horizon = now + timedelta(days=settings.INSTAGRAM_TOKEN_WARNING_DAYS)
        return self.connected().filter(
            token_expires_at__gt=now, token_expires_at__lte=horizon, expiry_warning_sent_at__isnull=True
        )

    def tokens_expired(self, now: datetime) -> ChannelQuerySet:
        return self.connected().filter(token_expires_at__lte=now)


class Channel(models.Model):
    """Where a county publishes: its Instagram professional account (Facebook Pages may follow: `kind`)."""

    class Kind(models.TextChoices):
        # TikTok and Telegram are out of scope by policy (DESIGN.md §1).
        INSTAGRAM = "instagram", _("Instagram")

    class Status(models.TextChoices):
        CONNECTED = "connected", _("Connected")
        RECONNECT_REQUIRED = "reconnect_required", _("Must be connected again")
        DISCONNECTED = "disconnected", _("Not connected")

    county = models.ForeignKey(County, on_delete=models.CASCADE, related_name="channels", verbose_name=_("county"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.INSTAGRAM)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DISCONNECTED)
    status_reason = models.CharField(_("reason"), max_length=500, blank=True)
    # The Instagram account: its id (the "IG user id" the Graph API publishes to) and username.
    account_id = models.CharField(_("account id"), max_length=64, blank=True)
    username = models.CharField(_("Instagram username"), max_length=30, blank=True)
    page_id = models.CharField(max_length=64, blank=True)
    page_name = models.CharField(_("Facebook Page"), max_length=200, blank=True)
    # Fernet ciphertext (publishing/crypto.py); never the token itself.
    token_ciphertext = models.TextField(blank=True, editable=False)
    token_expires_at = models.DateTimeField(_("token expires"), null=True, blank=True)
    token_refreshed_at = models.DateTimeField(null=True, blank=True)
    # Claimed (a conditional UPDATE) before the warning is sent: each token is warned about once.
    expiry_warning_sent_at = models.DateTimeField(null=True, blank=True)
    connected_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    connected_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Instagram's publishing limit as last read (content_publishing_limit): the plan warns of days above it.
    publish_quota = models.PositiveSmallIntegerField(_("posts a day Instagram allows"), default=50)
    # A post whose time passed by more than this while the channel was stopped goes back to the editor
    # instead of out when the channel is connected again.
    late_margin_hours = models.PositiveSmallIntegerField(
        _("hours a post may be late"),
        default=6,
        help_text=_(
            "When the connection comes back, a post whose time passed more than this many hours ago goes back "
            "to its editor instead of out."
        ),
    )

    objects = ChannelQuerySet.as_manager()

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        constraints = [models.UniqueConstraint(fields=["county", "kind"], name="one_channel_per_county_and_kind")]

    def __str__(self) -> str:
        return f"@{self.username}" if self.username else str(self.get_kind_display())

    @property
    def is_connected(self) -> bool:
        return self.status == self.Status.CONNECTED

    @property
    def access_token(self) -> str:
        return crypto.decrypt(self.token_ciphertext) if self.token_ciphertext else ""

    def set_access_token(self, token: str) -> None:
        self.token_ciphertext = crypto.encrypt(token) if token else ""
