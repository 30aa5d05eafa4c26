from collections.abc import Callable
from typing import Any

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from libraries.access import all_accesses

# Pages a person without a second factor can still reach: logging in and out,
# setting up MFA, changing the language, and the machine endpoints.
MFA_EXEMPT_URL_NAMES = {"set_language", "healthz", "invitation_accept", "outbox"}
MFA_EXEMPT_PREFIXES = ("account_", "mfa_")


class RequireMFAMiddleware:
    """Coordinators and editors set up two-factor authentication before anything else.

    They can change data for the whole county; a stolen password alone must
    not be enough. REQUIRE_MFA=false turns this off (the local demo only).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable[..., Any], *args: Any) -> HttpResponse | None:
        if not settings.REQUIRE_MFA or not request.user.is_authenticated:
            return None
        match = request.resolver_match
        name = match.url_name if match else None
        if name is None or name in MFA_EXEMPT_URL_NAMES or name.startswith(MFA_EXEMPT_PREFIXES):
            return None
        if not any(access.is_editor for access in all_accesses(request)):
            return None
        if is_mfa_enabled(request.user):
            return None
        messages.warning(
            request,
            _(
                "Your role lets you change data for the whole county, so your account needs "
                "two-factor authentication. Set it up with an authenticator app to continue."
            ),
        )
        return redirect("mfa_activate_totp")
