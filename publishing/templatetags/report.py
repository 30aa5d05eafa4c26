"""`{% report_post_rows figures %}`: the monthly report's rows of posts, rendered by their Jinja2 partial
(config/jinja2.py)."""

from collections.abc import Iterable

from django import template
from django.utils import timezone
from django.utils.safestring import SafeString

from libraries.dates import date_texts
from libraries.http import address_with_id
from libraries.partials import render_partial
from publishing.followup.reports import PostFigures

register = template.Library()


@register.simple_tag
def report_post_rows(rows: Iterable[PostFigures]) -> SafeString:
    """A table row per post: its title and page, the day it was published, its latest reach, views and
    engagement, and its address on Instagram."""
    zone = timezone.get_current_timezone()
    return render_partial(
        "publishing/_report_post_rows.html",
        rows=rows,
        post_url=address_with_id("publishing:post_detail"),
        local=lambda moment: timezone.localtime(moment, zone),
        date_text=date_texts(),
    )
