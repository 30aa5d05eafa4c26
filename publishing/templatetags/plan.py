"""`{% plan_day day %}`: one day of the publishing plan, rendered by its Jinja2 partial (config/jinja2.py)."""

from functools import cache
from typing import Any

from django import template
from django.template import engines
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

register = template.Library()


@cache
def _day_template() -> Any:
    return engines["jinja2"].get_template("publishing/_plan_day.html").template  # type: ignore[attr-defined]  # Jinja2's own Template


@cache
def _translated(language: str | None, message: str) -> str:
    """A day repeats the same few strings for every post: each is looked up once per language and process
    (the catalogues do not change while the process runs)."""
    return gettext(message)


@register.simple_tag(takes_context=True)
def plan_day(context: template.Context, day: Any) -> SafeString:
    """The day's holiday, over-limit note, posts (with their Move forms when the person may move them) and
    open slots; `can_change` and `plan_path` from the page, the CSRF token from the request."""
    language = get_language()
    html: str = _day_template().render(
        _=lambda message: _translated(language, message),
        day=day,
        can_change=context.get("can_change", False),
        plan_path=context.get("plan_path", ""),
        csrf_token=context.get("csrf_token", ""),
        fill_url=reverse("publishing:post_create"),
    )
    return mark_safe(html)  # noqa: S308  # Jinja2 escaped everything it inserted (autoescape is on)
