"""Small request helpers every app's views share."""

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def is_htmx(request: HttpRequest) -> bool:
    """The request came from htmx and wants a partial, not a whole page."""
    return request.headers.get("HX-Request") == "true"


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
