"""Small request helpers every app's views share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def is_htmx(request: HttpRequest) -> bool:
    """The request came from htmx and wants a partial, not a whole page."""
    return request.headers.get("HX-Request") == "true"


def address_with_id(view_name: str, *after: str) -> Callable[[int], str]:
    """The address of `view_name` for an object's id (then the arguments `after`, the same for every
    object), reversed once: a page listing hundreds of objects reversed the same address for each (a tenth
    of the month plan's time), while only the id changes."""
    marker = "2147483647"  # a number found nowhere else in the address
    head, tail = reverse(view_name, args=[marker, *after]).split(marker)
    return lambda pk: f"{head}{pk}{tail}"


def error_text(error: ValidationError) -> str:
    """A service's ValidationError as one sentence for a message."""
    return " ".join(error.messages)


def safe_next_url(request: HttpRequest) -> str | None:
    """The form's `next` field when it points back into this site, else None."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


class HasPage(Protocol):
    def get_absolute_url(self) -> str: ...


def act(
    request: HttpRequest,
    change: Callable[[], object],
    *,
    success: str | Callable[[], str],
    back: str | HasPage,
    failure: Callable[[str], str] = lambda reason: reason,
    partial: Callable[..., HttpResponse] | None = None,
    notice: str = "",
) -> HttpResponse:
    """The shape of a view that changes one thing, after its gate: call the service (`change`); its
    ValidationError becomes an error message (`failure` words the reason), else `success` a success
    message (a callable when it reads what the service changed); then back to `back` (an address, or an object's page).

    With `partial`, an htmx request gets `partial(error=..., notice=...)` instead (the comments inbox's
    row): 200 either way, since htmx swaps only successful answers in and the partial shows why.
    """
    try:
        change()
    except ValidationError as exc:
        reason = failure(error_text(exc))
        if partial is not None and is_htmx(request):
            return partial(error=reason, notice="")
        messages.error(request, reason)
    else:
        if partial is not None and is_htmx(request):
            return partial(error="", notice=notice)
        messages.success(request, success() if callable(success) else success)
    return redirect(back)
