import logging
from typing import Any
from urllib.parse import quote, urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailConfirmation
from allauth.core.internal import ratelimit
from django.conf import settings
from django.contrib.sites.requests import RequestSite
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.urls import reverse

from libraries.services import absolute_url

# Failed password logins are counted under a name of their own. allauth's
# two-factor step counts wrong codes as "login_failed" (per address and per
# account alike); sharing that name would let one person mistyping codes use
# up the per-address allowance of everyone behind the same address.
PASSWORD_LOGIN_FAILED = "password_login_failed"  # noqa: S105 - a rate limit's name, no password

logger = logging.getLogger(__name__)


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

    # --- Failed logins: one count per account, however the address or the host is spelt.

    def get_client_ip(self, request: HttpRequest) -> str:
        # With TRUSTED_PROXY_COUNT set, allauth raises ImproperlyConfigured (a 500 on the login page)
        # when X-Forwarded-For holds fewer hops than the proxies counted: a request that reached us
        # past a proxy. Its nearest peer is then the only address we can trust.
        try:
            return str(super().get_client_ip(request))
        except ImproperlyConfigured:
            logger.warning(
                "X-Forwarded-For has fewer hops than TRUSTED_PROXY_COUNT; limiting by the peer address instead."
            )
            return str(request.META.get("REMOTE_ADDR") or "unknown")

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # allauth prefixes the site's domain, which is the request's Host header
        # without the sites framework: "Example.org:443" would count apart from
        # "example.org". One installation is one site; the account is the key.
        login = credentials.get("email", credentials.get("username", "")) or ""
        return f"login:{login.strip().lower()}"

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        # allauth's own, counted as PASSWORD_LOGIN_FAILED (see there); a
        # successful login rolls the usage back as allauth's authenticate() does.
        self._login_failed_rl_usage = ratelimit.consume(
            request,
            app="allauth.account",
            action=PASSWORD_LOGIN_FAILED,
            key=self._get_login_attempts_cache_key(request, **credentials),
        )
        if not self._login_failed_rl_usage:
            raise self.validation_error("too_many_login_attempts")

    def _delete_login_attempts_cached_email(self, request: HttpRequest, **credentials: Any) -> None:
        # After a successful password reset, as allauth does, under our name.
        ratelimit.clear(
            request,
            app="allauth.account",
            action=PASSWORD_LOGIN_FAILED,
            key=self._get_login_attempts_cache_key(request, **credentials),
        )
