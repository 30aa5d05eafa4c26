"""After publishing: the comments inbox, replies, the Instagram webhook, and reading insights on request."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from libraries.access import AuthenticatedHttpRequest, CountyAccess
from libraries.http import act, error_text, is_htmx, safe_next_url
from libraries.models import Role
from publishing.access import comments_for_user, get_comment_for_user, get_post_for_user
from publishing.followup import comments, insights
from publishing.instagram.client import SIGNATURE_HEADER, verify_webhook_signature
from publishing.models import InstagramComment, InstagramCommentQuerySet, Post, PostQuerySet

logger = logging.getLogger(__name__)

COMMENTS_PER_PAGE = 50
ROW_TEMPLATE = "publishing/inbox.html#comment-row"


class InboxFilterForm(forms.Form):
    """The inbox's filters (GET): what is not answered yet, or everything; one post or all."""

    UNANSWERED = "unanswered"
    ALL = "all"

    show = forms.ChoiceField(
        label=gettext_lazy("Show"),
        required=False,
        choices=[(UNANSWERED, gettext_lazy("Not answered yet")), (ALL, gettext_lazy("All comments"))],
    )
    post = forms.ModelChoiceField(
        label=gettext_lazy("Post"), required=False, queryset=Post.objects.none(), empty_label=gettext_lazy("All posts")
    )

    def __init__(self, *args: Any, posts: PostQuerySet, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        fields["post"].queryset = posts

    @property
    def shows_all(self) -> bool:
        return self.is_valid() and self.cleaned_data["show"] == self.ALL

    def apply(self, listed: InstagramCommentQuerySet) -> InstagramCommentQuerySet:
        """The comments the filters ask for: unanswered ones oldest first (who waited longest at the
        top), or all of them newest first."""
        if self.is_valid() and self.cleaned_data["post"] is not None:
            listed = listed.filter(post=self.cleaned_data["post"])
        return listed.order_by("-commented_at", "-pk") if self.shows_all else listed.unanswered()


def _commented_posts(county_access: CountyAccess) -> PostQuerySet:
    """The county's posts that have comments, newest first (the post filter's choices)."""
    commented = InstagramComment.objects.filter(post=OuterRef("pk"))
    return Post.objects.for_county(county_access.county).filter(Exists(commented)).order_by("-published_at", "-pk")


@login_required
@require_GET
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    county_access, county_comments = comments_for_user(request)
    filters = InboxFilterForm(request.GET or None, posts=_commented_posts(county_access))
    listed = filters.apply(county_comments.from_followers())
    page = Paginator(comments.with_inbox_details(listed), COMMENTS_PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    return render(
        request,
        "publishing/inbox.html",
        {
            "filters": filters,
            "shows_all": filters.shows_all,
            "page": page,
            "rows": comments.inbox_rows(page.object_list, now=now),
            "median": comments.inbox_median(county_comments, now=now),
            "median_days": comments.INBOX_MEDIAN_DAYS,
            "max_reply_chars": comments.MAX_REPLY_CHARS,
            "next": request.get_full_path(),
        },
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
    return render(
        request,
        template,
        {
            "row": row,
            "next": safe_next_url(request) or reverse("publishing:inbox"),
            "max_reply_chars": comments.MAX_REPLY_CHARS,
        },
        status=status,
    )


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
