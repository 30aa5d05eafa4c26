"""`{% idea_rows ideas %}`: the ideas list's rows, rendered by their Jinja2 partial (config/jinja2.py)."""

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from django import template
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.timezone import localtime
from django.utils.translation import ngettext

from libraries.http import address_with_id
from libraries.partials import render_partial
from production.models import ContentType, Idea

register = template.Library()


def _comments(count: int) -> str:
    return ngettext("%(count)s comment", "%(count)s comments", count) % {"count": count}


def _short_dates() -> Callable[[date], str]:
    """A day (a moment: its local day) in the short date format, each day formatted once for the page: a
    page's fifty ideas were mostly submitted on a few days."""
    formatted: dict[date, str] = {}

    def short_date(value: date) -> str:
        day = localtime(value).date() if isinstance(value, datetime) else value
        if day not in formatted:
            formatted[day] = date_format(day, "SHORT_DATE_FORMAT")
        return formatted[day]

    return short_date


@register.simple_tag
def idea_rows(ideas: Iterable[Any]) -> SafeString:
    """A table row per idea (`IdeaQuerySet.list_rows`): its title and page, its comments, library, content
    type, concept, status (with its recording day when planned), and when and by whom it was submitted. The
    labels are translated once for the page, not once per row."""
    return render_partial(
        "production/_idea_rows.html",
        ideas=ideas,
        idea_url=address_with_id("production:idea_detail"),
        statuses={value: str(label) for value, label in Idea.Status.choices},
        content_types={value: str(label) for value, label in ContentType.choices},
        comments=_comments,
        short_date=_short_dates(),
    )
