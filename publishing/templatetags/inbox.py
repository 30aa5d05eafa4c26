"""`{% inbox_rows rows %}`: the inbox's comments, and `{% inbox_row row %}` one of them (the row a reply or
"handled" sends back), rendered by their Jinja2 partial (config/jinja2.py)."""

from collections.abc import Iterable

from django import template
from django.utils.safestring import SafeString

from libraries.http import address_with_id
from libraries.partials import labels_of, render_partial
from publishing.followup.comments import InboxRow
from publishing.models import InstagramComment

register = template.Library()


@register.simple_tag(takes_context=True)
def inbox_rows(context: template.Context, rows: Iterable[InboxRow]) -> SafeString:
    """A list item per comment: its post, who wrote it and when, its status, our replies, who answered it,
    and its reply and handled (or undo) forms, which come back to `next`. The addresses are reversed and the
    labels translated once for the page, not once per comment."""
    return render_partial(
        "publishing/_inbox_rows.html",
        rows=rows,
        next=context.get("next", ""),
        max_reply_chars=context.get("max_reply_chars", ""),
        csrf_token=context.get("csrf_token", ""),
        statuses=labels_of(InstagramComment.Status.choices),
        post_url=address_with_id("publishing:post_detail"),
        reply_url=address_with_id("publishing:comment_reply"),
        handled_url=address_with_id("publishing:comment_handled"),
        reopen_url=address_with_id("publishing:comment_reopen"),
    )


@register.simple_tag(takes_context=True)
def inbox_row(context: template.Context, row: InboxRow) -> SafeString:
    return inbox_rows(context, [row])
