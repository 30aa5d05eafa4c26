"""`{% idea_rows ideas %}`: the ideas list's rows, rendered by their Jinja2 partial (config/jinja2.py)."""

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext

from libraries.dates import date_texts
from libraries.http import address_with_id
from libraries.partials import labels_of, render_partial
from production.models import ContentType, Idea

register = template.Library()


def _comments(count: int) -> str:
    return ngettext("%(count)s comment", "%(count)s comments", count) % {"count": count}


@register.simple_tag
def idea_rows(ideas: Iterable[Any]) -> SafeString:
    """A table row per idea (`IdeaQuerySet.list_rows`): its title and page, its comments, library, content
    type, concept, status (with its recording day when planned), and when and by whom it was submitted. The
    labels (and the columns' names) are translated once for the page, not once per row."""
    return render_partial(
        "production/_idea_rows.html",
        ideas=ideas,
        idea_url=address_with_id("production:idea_detail"),
        statuses=labels_of(Idea.Status.choices),
        content_types=labels_of(ContentType.choices),
        comments=_comments,
        short_date=date_texts(),
        # Each cell's column, shown before it where the table is stacked on a phone (static/css/app.css).
        labels={
            "library": gettext("Library"),
            "content_type": gettext("Content type"),
            "concept": gettext("Concept"),
            "status": gettext("Status"),
            "submitted": gettext("Submitted"),
        },
    )
