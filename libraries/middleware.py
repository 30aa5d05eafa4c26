from collections.abc import Callable
from typing import Any

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from libraries.access import all_accesses
from libraries.services import remember_language

# The only pages a powerful account without a second factor may open: logging
# in and out, confirming the password and setting up MFA (allauth asks for the
# password before the set-up page), resetting a forgotten password, accepting
# an invitation, changing the language, and the machine endpoints. Everything
# else, allauth's own account pages included, waits: the e-mail page, for one,
# records an unverified address that would make allauth refuse the set-up.
MFA_SETUP_VIEW_NAMES = {
    "account_login",
    "account_logout",
    "account_inactive",
    "account_reauthenticate",
    "account_reset_password",
    "account_reset_password_done",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
    "mfa_index",
    "mfa_activate_totp",
    "mfa_authenticate",
    "mfa_reauthenticate",
    "admin:login",
    "admin:logout",
    "invitation_accept",
    "set_language",
    "healthz",
}


def needs_second_factor(request: HttpRequest) -> bool:
    """Whether the logged-in person's account is powerful enough to need MFA.

    Staff and superusers reach the admin (every county's data); coordinators and
    editors change data for a whole county. A stolen password alone must not be
    enough for any of them.
    """
    user = request.user
    if user.is_staff or user.is_superuser:
        return True
    return any(access.is_editor for access in all_accesses(request))


def has_second_factor(request: HttpRequest) -> bool:
    """Whether the person has set up a second factor: read with their memberships (libraries.access), asked of
    allauth only for an account in no county (staff)."""
    accesses = all_accesses(request)
    return accesses[0].has_second_factor if accesses else is_mfa_enabled(request.user)


class RequireMFAMiddleware:
    """Powerful accounts set up two-factor authentication before anything else.

    REQUIRE_MFA=false turns this off (the local demo only).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable[..., Any], *args: Any) -> HttpResponse | None:
        if not settings.REQUIRE_MFA or not request.user.is_authenticated:
            return None
        match = request.resolver_match
        if match is not None and match.view_name in MFA_SETUP_VIEW_NAMES:
            return None
        if not needs_second_factor(request) or has_second_factor(request):
            return None
        if request.user.is_staff or request.user.is_superuser:
            warning = _(
                "Your account reaches the administration of the whole installation, so it needs "
                "two-factor authentication. Set it up with an authenticator app to continue."
            )
        else:
            warning = _(
                "Your role lets you change data for the whole county, so your account needs "
                "two-factor authentication. Set it up with an authenticator app to continue."
            )
        messages.warning(request, warning)
        return redirect("mfa_activate_totp")


class PrivatePagesMiddleware:
    """What a logged-in person is shown is kept by no cache: not a shared proxy's, not the browser's.

    A page for one person (their county's plan, a consent form, a download) must
    not be served to the next person behind the same proxy, nor read back from
    the disk of a shared library computer after logging out. A response that
    set its own Cache-Control (media files, feeds) knows better and keeps it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response


class UserLanguageMiddleware:
    """A logged-in person's own language (User.language) on a browser that has not chosen one.

    LocaleMiddleware reads the language cookie, then the browser's Accept-Language;
    a person who chose English on one computer gets English on the next one too.
    A choice made on this browser (the cookie) wins. After AuthenticationMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and user.language
            and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES
            and user.language != translation.get_language()
        ):
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


def remember_language_on_login(sender: object, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """user_logged_in: the language the person logs in with becomes theirs.

    A language chosen on this browser (the cookie) always; the browser's own
    (Accept-Language) only when the person has none yet, so that a stored choice
    follows them to the next computer (UserLanguageMiddleware).
    """
    if request is None:
        return
    chosen = settings.LANGUAGE_COOKIE_NAME in request.COOKIES
    browser = bool(request.META.get("HTTP_ACCEPT_LANGUAGE"))
    if chosen or (browser and not user.language):
        # From the request (the cookie, else Accept-Language), as LocaleMiddleware chose the page's language.
        remember_language(user=user, language=translation.get_language_from_request(request))
