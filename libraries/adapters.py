from typing import Any
from urllib.parse import quote, urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailConfirmation
from django.conf import settings
from django.contrib.sites.requests import RequestSite
from django.http import HttpRequest
from django.urls import reverse

from libraries.services import absolute_url


class PublicSite(RequestSite):
    """The site as e-mails name it: PUBLIC_BASE_URL, never the Host header of the request."""

    def __init__(self) -> None:
        self.domain = self.name = urlsplit(settings.PUBLIC_BASE_URL).netloc


class InvitationOnlyAccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]  # allauth ships no types
    """Accounts are made only by accepting an invitation (libraries.services.accept_invitation)."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    # --- Links in e-mails: on PUBLIC_BASE_URL. allauth builds them from the
    # request, whose Host header the sender of the request chooses (any name in
    # ALLOWED_HOSTS, in any case, with any port): a reset link on another host
    # hands the key to whoever answers there.

    def get_reset_password_from_key_url(self, key: str) -> str:
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return absolute_url(path.replace("UID-KEY", quote(key)))

    def get_email_confirmation_url(self, request: HttpRequest, emailconfirmation: EmailConfirmation) -> str:
        return absolute_url(reverse("account_confirm_email", args=[emailconfirmation.key]))

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        super().send_mail(template_prefix, email, {**context, "current_site": PublicSite()})

