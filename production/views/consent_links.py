"""The page a person (or a child's guardian) opens from their one-time consent link; no login.

The token in the address is the permission: only its hash is stored
(production.models.ConsentLink). The page is in the link's language, says
what the consent covers, for how long and how to withdraw, and takes one
answer. Afterwards the same address shows the answer and lets the person
withdraw. Nothing here names other people or media.
"""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from production.forms import ConsentAnswerForm
from production.models import ConsentState
from production.services import people as people_services


def _client_ip(request: HttpRequest) -> str:
    return str(get_adapter(request).get_client_ip(request))


def _private(response: HttpResponse) -> HttpResponse:
    # A consent page (often about a child) stays out of every cache, and its address out of Referer headers
    # to other sites. Not "no-referrer": Chromium then sends its own form's POST with "Origin: null", which
    # Django's CSRF check refuses, so nobody could answer (tests/browser/test_consent_on_phone.py).
    patch_cache_control(response, private=True, no_store=True)
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_http_methods(["GET", "POST"])
def consent_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = people_services.find_consent_link(token)
    except people_services.ConsentLinkError as exc:
        return _private(render(request, "production/consent_link_invalid.html", {"reason": str(exc)}, status=410))
    with translation.override(link.language):
        form = ConsentAnswerForm(request.POST or None)
        error = ""
        if request.method == "POST":
            action = request.POST.get("action", "")
            try:
                if action == "withdraw":
                    people_services.withdraw_through_link(token=token, ip=_client_ip(request))
                    return _private(redirect(request.path + "?done=withdrawn"))
                if action in ("confirm", "decline") and form.is_valid():
                    people_services.answer_consent_link(
                        token=token,
                        confirm=action == "confirm",
                        email=form.cleaned_data["email"],
                        ip=_client_ip(request),
                        text_seen=people_services.consent_text(link),
                    )
                    return _private(redirect(request.path + f"?done={action}"))
            except people_services.ConsentLinkError as exc:
                error = str(exc)
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    for message in messages:
                        form.add_error(field if field in form.fields else None, message)
            link.refresh_from_db()
        person = link.person
        current = person.current_consent()
        state = person.consent_state()
        response = render(
            request,
            "production/consent_link.html",
            {
                "link": link,
                "person": person,
                "text": people_services.consent_text(link),
                "form": form,
                "error": error,
                "done": request.GET.get("done", ""),
                "current": current,
                "in_force": state in (ConsentState.OK, ConsentState.EXPIRING),
                "expired": link.is_expired(),
                "now": timezone.now(),
                "page_language": link.language,
                "title": _("Consent"),
            },
            status=400 if (form.errors or error) else 200,
        )
    return _private(response)
