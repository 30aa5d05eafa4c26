"""`{% plan_day day %}`: one day of the publishing plan, rendered by its Jinja2 partial (config/jinja2.py)."""

from typing import Any

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString

from libraries.partials import render_partial

register = template.Library()


@register.simple_tag(takes_context=True)
def plan_day(context: template.Context, day: Any) -> SafeString:
    """The day's holiday, over-limit note, posts (with their Move forms when the person may move them) and
    open slots; `can_change` and `plan_path` from the page, the CSRF token from the request."""
    return render_partial(
        "publishing/_plan_day.html",
        day=day,
        can_change=context.get("can_change", False),
        plan_path=context.get("plan_path", ""),
        csrf_token=context.get("csrf_token", ""),
        fill_url=reverse("publishing:post_create"),
    )
