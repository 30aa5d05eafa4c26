"""After publishing: the comments inbox, replies, the Instagram webhook, and reading insights on request."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from libraries.access import AuthenticatedHttpRequest, CountyAccess, require_role
from libraries.forms import ObjectChoiceField, PlainSelect
from libraries.http import act, error_text, is_htmx, kept_part, safe_next_url
from libraries.models import Role
from publishing.access import comments_for_user, get_comment_for_user, get_post_for_user
from publishing.followup import comments, insights
from publishing.instagram.client import SIGNATURE_HEADER, verify_webhook_signature
from publishing.models import InstagramComment, InstagramCommentQuerySet, Post, PostQuerySet

logger = logging.getLogger(__name__)

COMMENTS_PER_PAGE = 50
ROW_TEMPLATE = "publishing/inbox.html#comment-row"


class InboxFilterForm(forms.Form):
    """The inbox's filters (GET): what is not answered yet, or everything; one post or all. Its options are
    written without a template per option (a county's commented posts are many)."""

    UNANSWERED = "unanswered"
    ALL = "all"

    show = forms.ChoiceField(
        label=gettext_lazy("Show"),
        required=False,
        choices=[(UNANSWERED, gettext_lazy("Not answered yet")), (ALL, gettext_lazy("All comments"))],
        widget=PlainSelect,
    )
    post = ObjectChoiceField(label=gettext_lazy("Post"), required=False, empty_label=gettext_lazy("All posts"))

    def __init__(self, *args: Any, posts: Iterable[Post], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        fields["post"].set_objects(posts)

    @property
    def shows_all(self) -> bool:
        return self.is_valid() and self.cleaned_data["show"] == self.ALL

    def apply(self, listed: InstagramCommentQuerySet) -> InstagramCommentQuerySet:
        """The comments the filters ask for: unanswered ones oldest first (who waited longest at the
        top), or all of them newest first."""
        if self.is_valid() and self.cleaned_data["post"] is not None:
            listed = listed.filter(post_id=self.cleaned_data["post"].pk)
        return listed.order_by("-commented_at", "-pk") if self.shows_all else listed.unanswered()


# How many posts the post filter offers: a county's posts with comments are thousands after a few years.
POSTS_OFFERED = 50


def _commented_posts(
    county_access: CountyAccess, *, chosen: str = "", unanswered: bool = False, only_chosen: bool = False
) -> PostQuerySet:
    """The post filter's choices, newest first, with their titles: the POSTS_OFFERED newest posts with
    comments from followers (with `unanswered`, comments not answered yet: what the list shows), and the post
    asked for (`chosen`, any of the county's commented posts: the post page links to its comments). With
    `only_chosen`, that one alone: the count above the list, asked every few seconds, checks the choice
    without reading the others.

    Found from the county's comments (their index on the county): looking for a comment under each of the
    county's posts read every post."""
    followers = InstagramComment.objects.filter(county=county_access.county).from_followers()
    posts = Post.objects.for_county(county_access.county).only("title").order_by("-published_at", "-pk")
    asked = Q(pk=int(chosen), pk__in=followers.values("post_id")) if chosen.isdigit() else Q(pk__in=[])
    if only_chosen:
        return posts.filter(asked)
    listed = followers.filter(status=InstagramComment.Status.UNANSWERED) if unanswered else followers
    newest = posts.filter(pk__in=listed.values("post_id")).values("pk")[:POSTS_OFFERED]
    return posts.filter(Q(pk__in=newest) | asked)


# How often the inbox asks how many comments its list has (new ones arrive by the webhook and the worker);
# a reply, "handled" or "undo" on the page asks at once (the event COMMENTS_CHANGED, sent with the row).
COUNT_POLL_SECONDS = 5
COMMENTS_CHANGED = "comments-changed"
# The count's own query parameters, besides the filters': when the page was opened (comments stored later
# are new to it), and a digest of what the count shows (the same digest: "204 No Content", nothing to redraw).
AFTER, SEEN = "after", "seen"


@dataclass(frozen=True)
class InboxCount:
    """The inbox's count of the comments its filters list, as it is now, and whether new ones came in."""

    count: int
    newer: bool  # comments came in that the list on the page does not have yet
    state: str
    url: str  # where the count asks again
    list_url: str  # the list with the same filters, from its first page
    seconds: int


def _filter_query(filters: InboxFilterForm) -> dict[str, str]:
    if not filters.is_valid():
        return {}
    chosen = {"show": filters.cleaned_data["show"] or ""}
    if filters.cleaned_data["post"] is not None:
        chosen["post"] = str(filters.cleaned_data["post"].pk)
    return {key: value for key, value in chosen.items() if value}


def _inbox_count(
    filters: InboxFilterForm, listed: InstagramCommentQuerySet, *, after: datetime, count: int | None = None
) -> InboxCount:
    """The count line of the inbox: two queries (the count, whether comments were stored `after` the page
    was opened), none when the page itself has just counted its list."""
    newer = False if count is not None else listed.filter(created_at__gt=after).exists()
    count = listed.count() if count is None else count
    state = hashlib.blake2b(repr((count, newer)).encode(), digest_size=8).hexdigest()
    query = _filter_query(filters)
    inbox_url = reverse("publishing:inbox")
    return InboxCount(
        count=count,
        newer=newer,
        state=state,
        url=f"{reverse('publishing:inbox_count')}?{urlencode({**query, AFTER: after.isoformat(), SEEN: state})}",
        list_url=f"{inbox_url}?{urlencode(query)}" if query else inbox_url,
        seconds=COUNT_POLL_SECONDS,
    )


@login_required
@require_GET
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Kept for everyone of the role in the county at this address (the filters and page) until the next
    write, for a minute at most (how long each comment has waited: libraries.http.kept_part)."""
    county_access = require_role(request, Role.EDITOR)  # before anything kept is read
    kept_for = ["inbox", county_access.county.pk, county_access.role, request.get_full_path()]
    content = kept_part(request, kept_for, "publishing/inbox.html#content", lambda: _inbox(request), per_minute=True)
    return render(request, "publishing/inbox.html", {"content": content})


def _inbox(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    county_access, county_comments = comments_for_user(request)
    asked = request.GET.get("post", "")
    unanswered = request.GET.get("show", "") != InboxFilterForm.ALL
    filters = InboxFilterForm(
        request.GET or None, posts=_commented_posts(county_access, chosen=asked, unanswered=unanswered)
    )
    listed = filters.apply(county_comments.from_followers())
    now = timezone.now()  # before the list is read: a comment stored meanwhile is offered as new, never lost
    page = Paginator(comments.with_inbox_details(listed), COMMENTS_PER_PAGE).get_page(request.GET.get("page"))
    return {
        "filters": filters,
        "shows_all": filters.shows_all,
        "page": page,
        "count_poll": _inbox_count(filters, listed, after=now, count=page.paginator.count),
        # An empty page is not asked for: compiling the rows' query (the post, the two people) costs as much.
        "rows": comments.inbox_rows(page.object_list, now=now) if page.paginator.count else [],
        "median": comments.inbox_median(county_comments, now=now),
        "median_days": comments.INBOX_MEDIAN_DAYS,
        "max_reply_chars": comments.MAX_REPLY_CHARS,
        "next": request.get_full_path(),
    }


@login_required
@require_GET
def inbox_count(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The inbox's count line, asked for every few seconds and after each reply on the page: "204 No
    Content" while it is the same, else the line as it is now (with a link when new comments came in)."""
    county_access, county_comments = comments_for_user(request)
    chosen = request.GET.get("post", "")
    posts = _commented_posts(county_access, chosen=chosen, only_chosen=True) if chosen else []
    filters = InboxFilterForm(request.GET, posts=posts)
    listed = filters.apply(county_comments.from_followers())
    try:
        after = parse_datetime(request.GET.get(AFTER, "")) or timezone.now()
    except ValueError:  # a date that looks right but is not one (month 13)
        after = timezone.now()
    if timezone.is_naive(after):
        after = timezone.make_aware(after)
    count_poll = _inbox_count(filters, listed, after=after)
    if request.GET.get(SEEN) == count_poll.state:
        return HttpResponse(status=204)
    return render(
        request, "publishing/inbox.html#inbox-count", {"count_poll": count_poll, "shows_all": filters.shows_all}
    )


def _row(
    request: AuthenticatedHttpRequest,
    comment: InstagramComment,
    *,
    template: str = ROW_TEMPLATE,
    reply_text: str = "",
    error: str = "",
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    """The comment's row again, as it is now, with a failed reply's text and reason or a notice: the
    row alone for htmx, or `template` around it."""
    fresh = comments.with_inbox_details(InstagramComment.objects.filter(pk=comment.pk)).get()
    row = comments.inbox_row(fresh, reply_text=reply_text, error=error, notice=notice)
    response = render(
        request,
        template,
        {
            "row": row,
            "next": safe_next_url(request) or reverse("publishing:inbox"),
            "max_reply_chars": comments.MAX_REPLY_CHARS,
        },
        status=status,
    )
    if is_htmx(request) and not error:
        response["HX-Trigger"] = COMMENTS_CHANGED  # the count above the list asks again at once
    return response


def _back(request: AuthenticatedHttpRequest) -> HttpResponse:
    return redirect(safe_next_url(request) or reverse("publishing:inbox"))


@login_required
@require_POST
def comment_reply(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    comment = get_comment_for_user(request, pk)
    text = request.POST.get("text", "")
    try:
        comments.reply_to_comment(by=request.user, comment=comment, text=text)
    except ValidationError as exc:
        error = error_text(exc)
        if is_htmx(request):
            # 200: htmx swaps only successful answers in, and the row must show why.
            return _row(request, comment, reply_text=text, error=error)
        # Without JavaScript: the comment alone, the reason, and the reply as it was typed.
        return _row(request, comment, template="publishing/inbox_reply.html", reply_text=text, error=error, status=400)
    if is_htmx(request):
        return _row(request, comment, notice=_("Your reply is on Instagram."))
    messages.success(request, _("Your reply to @%(username)s is on Instagram.") % {"username": comment.username})
    return _back(request)


def _comment_action(
    request: AuthenticatedHttpRequest,
    pk: int,
    change: Callable[..., None],
    *,
    notice: str,
    message: str,
) -> HttpResponse:
    """Mark a comment (handled, or not answered again): its row for htmx, else a message and back."""
    comment = get_comment_for_user(request, pk)
    return act(
        request,
        lambda: change(by=request.user, comment=comment),
        success=message % {"username": comment.username},
        back=safe_next_url(request) or reverse("publishing:inbox"),
        partial=lambda **shown: _row(request, comment, **shown),
        notice=notice,
    )


@login_required
@require_POST
def comment_handled(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _comment_action(
        request,
        pk,
        comments.mark_handled,
        notice=_("Marked handled."),
        message=_("The comment from @%(username)s is marked handled. Under “All comments” it can be undone."),
    )


@login_required
@require_POST
def comment_reopen(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _comment_action(
        request,
        pk,
        comments.reopen_comment,
        notice=_("Marked as not answered again."),
        message=_("The comment from @%(username)s waits for an answer again."),
    )


@login_required
@require_POST
def post_read_insights(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    post = get_post_for_user(request, pk, role=Role.EDITOR)
    return act(
        request,
        lambda: insights.read_insights_now(by=request.user, post=post),
        success=_("The insights were read from Instagram just now."),
        back=f"{post.get_absolute_url()}#engagement-heading",
    )


@csrf_exempt  # Meta cannot send a CSRF token; the signature proves where a delivery comes from.
@require_http_methods(["GET", "POST"])
def instagram_webhook(request: HttpRequest) -> HttpResponse:
    """Meta's webhook: the subscription handshake (GET) and signed deliveries (POST) of new comments."""
    if request.method == "GET":
        # Reference: https://developers.facebook.com/docs/graph-api/webhooks/getting-started#verification-requests
        expected = settings.INSTAGRAM_WEBHOOK_VERIFY_TOKEN
        given = request.GET.get("hub.verify_token", "")
        if (
            expected
            and request.GET.get("hub.mode") == "subscribe"
            and hmac.compare_digest(given.encode(), expected.encode())
        ):
            return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
        logger.warning("Instagram webhook: a subscription handshake with the wrong verify token was refused.")
        return HttpResponseForbidden()
    body = request.body
    if not verify_webhook_signature(body, request.headers.get(SIGNATURE_HEADER), settings.INSTAGRAM_APP_SECRET):
        logger.warning("Instagram webhook: a delivery without a valid signature was refused.")
        return HttpResponseForbidden()
    try:
        payload = json.loads(body)
    except ValueError:
        return HttpResponseBadRequest()
    stored = comments.receive_comment_webhook(payload)
    logger.info("Instagram webhook: %s comments stored.", stored)
    return HttpResponse("OK", content_type="text/plain")
