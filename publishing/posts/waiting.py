"""Why a post is not out yet, in words: the post page, the plan card and the home page say the same."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from publishing.models import Channel, Post


def _time(moment: object) -> str:
    """14:05 today, else 05.12 14:05 (local time)."""
    if moment is None or not hasattr(moment, "astimezone"):
        return ""
    local = timezone.localtime(moment)  # type: ignore[arg-type]
    return local.strftime("%H:%M") if local.date() == timezone.localdate() else local.strftime("%d.%m %H:%M")


def waiting_note(post: Post) -> str:
    """The reason a post the worker holds (or a due one) is not published yet; empty when there is none.

    A transient error the worker will retry is not a problem and is not shown;
    only what someone may wonder about (a long wait) or act on (the connection).
    """
    if post.media_id and post.waiting_for != Post.Waiting.FINDING_MEDIA:
        return ""
    waiting = post.waiting_for
    if post.status == Post.Status.PUBLISHING:
        if waiting == Post.Waiting.QUOTA:
            return _("Waiting for Instagram's daily limit — next try %(time)s") % {"time": _time(post.next_attempt_at)}
        if waiting == Post.Waiting.CONNECTION:
            return _("Waiting for the Instagram connection")
        if waiting == Post.Waiting.PROCESSING:
            values = {"polls": post.status_polls, "max": settings.PUBLISH_MAX_POLLS}
            if post.media_kind == Post.MediaKind.IMAGE:
                return _("Instagram is still processing the photo (%(polls)s of %(max)s checks)") % values
            return _("Instagram is still processing the video (%(polls)s of %(max)s checks)") % values
        if waiting == Post.Waiting.FINDING_MEDIA:
            return _("Published, looking for the link")
        return ""
    if (
        post.status == Post.Status.SCHEDULED
        and post.scheduled_at is not None
        and post.scheduled_at <= timezone.now()
        and post.channel_id is not None
        and not Channel.objects.filter(pk=post.channel_id, status=Channel.Status.CONNECTED).exists()
    ):
        return _("Waiting for the Instagram connection")
    return ""
