"""Small request helpers every app's views share."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from libraries.versions import kept_while_unchanged


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


KEPT_SECONDS = 24 * 60 * 60  # no older than a day, whatever happens to the cache's versions
# Rendered in a kept part of a page in place of the CSRF token, and replaced by the reader's own on the way out.
CSRF_STAND_IN = "csrf-stand-in-5f0c9e2a7b3d4c1e8a6f"


def kept_for_everyone[T](kept_for: Iterable[object], compute: Callable[[], T], *, per_minute: bool = False) -> T:
    """What a page shows the same to everyone `kept_for` names, computed once and kept until the next write to
    the database (libraries.versions.kept_while_unchanged).

    `kept_for` names everything it depends on besides the data (the county, the role, the address with its
    query), and the reader's language and time zone are added: two readers with the same get the same value.
    Nothing else of the reader may go into it. `per_minute`: for what the clock moves too (how long something
    has waited, today, a due post's note), also computed anew each minute (and kept no longer)."""
    parts = [*kept_for, get_language(), timezone.get_current_timezone_name()]
    if per_minute:
        parts.append(timezone.now().replace(second=0, microsecond=0))
    key = "kept:" + hashlib.sha256(repr(parts).encode()).hexdigest()
    return kept_while_unchanged(key, compute, seconds=120 if per_minute else KEPT_SECONDS)


def render_for_everyone(request: HttpRequest, template: str, context: dict[str, Any]) -> str:
    """`template` rendered to be kept for everyone (`kept_for_everyone`): with CSRF_STAND_IN for the CSRF
    token, which `with_readers_token` replaces. It renders with the request (`{% querystring %}` reads it),
    but nothing of the reader that the value is not kept for may be shown."""
    return render_to_string(template, {**context, "csrf_token": CSRF_STAND_IN}, request=request)


def kept_part(
    request: HttpRequest,
    kept_for: Iterable[object],
    template: str,
    build: Callable[[], dict[str, Any]],
    *,
    per_minute: bool = False,
) -> SafeString:
    """Part of a page: `template` rendered with `build()`'s context once and kept as `kept_for_everyone`,
    with the reader's own CSRF token put in (the part's forms post with it)."""
    kept = kept_for_everyone(kept_for, lambda: render_for_everyone(request, template, build()), per_minute=per_minute)
    return with_readers_token(request, kept)


def render_page(
    request: HttpRequest, template: str, title: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """A page whose main part is its template's `content` partial (shown by `{{ content }}` in its content
    block, with `{{ title }}` as its title), rendered for this request alone: a form with its errors."""
    content = render_to_string(f"{template}#content", context, request=request)
    return render(request, template, {"title": title, "content": content}, status=status)


def render_kept_page(
    request: HttpRequest,
    template: str,
    kept_for: Iterable[object],
    build: Callable[[], tuple[str, dict[str, Any]]],
    *,
    per_minute: bool = False,
) -> HttpResponse:
    """`render_page`'s page with its title and main part kept for everyone `kept_for` names at this address
    (`kept_for_everyone`); `build()` gives them (the gate first: a 404 is never kept). Kept, the value also
    stands for the gate: whatever moved the object out of the reader's reach since was a write, and moved
    the version on."""

    def title_and_content() -> tuple[str, str]:
        title, context = build()
        return title, render_for_everyone(request, f"{template}#content", context)

    title, content = kept_for_everyone([*kept_for, request.get_full_path()], title_and_content, per_minute=per_minute)
    return render(request, template, {"title": title, "content": with_readers_token(request, content)})


def with_readers_token(request: HttpRequest, html: str) -> SafeString:
    """A kept part rendered with CSRF_STAND_IN for the token, with the reader's own in its place."""
    if CSRF_STAND_IN in html:
        html = html.replace(CSRF_STAND_IN, get_token(request))
    return mark_safe(html)  # noqa: S308 - rendered by our templates, with the reader's token put in


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
