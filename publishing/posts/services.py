"""Workflows for posts and their review, consent pulling posts back, and the beat tick that feeds the worker.

The channel's workflows (connecting, tokens) live in publishing/channels.py.

Every status change goes through one function here: it checks the
transition, writes the audit entry, and sends e-mail or enqueues tasks only
after the transaction commits. Views and tasks call these; the worker's own
steps live in publishing/publish.py and change a post's status only through
`record_published` and `fail_publishing` below.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Field, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from libraries.models import AuditEntry, County, Library, Membership, User
from libraries.services import (
    TemplatedMail,
    absolute_url,
    audit,
    audit_entry,
    coordinator_emails,
    run_task_on_commit,
    send_templated_mail_on_commit,
    send_templated_mails_on_commit,
    write_audit,
)
from production.models import Asset, Idea, RecordingDay
from production.services import planning
from publishing.instagram.channels import county_channel
from publishing.models import Approval, Channel, Post, PostAsset, PostCollaborator
from publishing.posts import captions, gates

logger = logging.getLogger(__name__)


# --- Composing posts ---


def suggested_collaborators(*, county: County, idea: Idea | None, recording_day: RecordingDay | None) -> list[Library]:
    """The idea's and the recording day's libraries that have an Instagram username, at most Instagram's limit.

    The idea's own libraries come first (they made it), then the day's host
    and participants; the county library is the account that publishes.
    """
    candidates: list[Library] = []
    if idea is not None:
        candidates += [idea.library, *idea.libraries.order_by("name")]
    if recording_day is not None:
        candidates += [recording_day.host_library, *recording_day.participating_libraries.order_by("name")]
    chosen: list[Library] = []
    for library in candidates:
        if (
            library.county_id == county.pk
            and library.kind == Library.Kind.MEMBER
            and library.instagram_username
            and library.is_active
            and library not in chosen
        ):
            chosen.append(library)
    return chosen[: captions.MAX_COLLABORATORS]


def recording_day_of(idea: Idea | None) -> RecordingDay | None:
    """The recording day an idea was (or will be) recorded on, from its run-sheet slot."""
    if idea is None:
        return None
    slot = getattr(idea, "slot", None)
    return slot.recording_day if slot is not None else None


# The fields whose change means the approved post is no longer the one that was approved.
CONTENT_FIELDS = frozenset({"caption", "credit", "media_kind", "assets", "collaborators"})


def _set_assets(post: Post, assets: Sequence[Asset]) -> None:
    PostAsset.objects.filter(post=post).delete()
    PostAsset.objects.bulk_create(
        PostAsset(post=post, asset=asset, position=index) for index, asset in enumerate(assets, start=1)
    )


def _set_collaborators(post: Post, libraries: Iterable[Library]) -> None:
    wanted = {library.pk for library in libraries}
    PostCollaborator.objects.filter(post=post).exclude(library_id__in=wanted).delete()
    existing = set(PostCollaborator.objects.filter(post=post).values_list("library_id", flat=True))
    PostCollaborator.objects.bulk_create(PostCollaborator(post=post, library_id=pk) for pk in sorted(wanted - existing))


def _check_assets(county: County, assets: Sequence[Asset]) -> None:
    if any(asset.county_id != county.pk for asset in assets):
        raise ValidationError(_("Media from another county cannot be used."))


def _check_collaborators(county: County, libraries: Sequence[Library]) -> None:
    if len(libraries) > captions.MAX_COLLABORATORS:
        raise ValidationError(_("Instagram takes at most %(max)s collaborators.") % {"max": captions.MAX_COLLABORATORS})
    if any(library.county_id != county.pk for library in libraries):
        raise ValidationError(_("Only the county's own libraries can be collaborators."))


def create_post(
    *,
    by: User,
    post: Post,
    assets: Sequence[Asset],
    collaborators: Sequence[Library],
) -> Post:
    """Save a new draft with its media (in this order) and collaborators."""
    _check_assets(post.county, assets)
    _check_collaborators(post.county, collaborators)
    with transaction.atomic():
        post.status = Post.Status.DRAFT
        post.created_by = by
        post.last_edited_by = by
        post.caption = captions.normalise(post.caption)
        post.save()
        _set_assets(post, assets)
        _set_collaborators(post, collaborators)
        audit(county=post.county, actor=by, action="post.created", obj=post, summary=post.title)
    return post


def _withdraw_approval(post: Post, reason: str) -> None:
    Approval.objects.filter(post=post, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now(), withdrawn_reason=reason[:300]
    )


def _lock(post: Post) -> Post:
    """The post's row, locked for this transaction, with its current status (the worker may have moved it)."""
    locked = Post.objects.select_for_update().get(pk=post.pk)
    post.status = locked.status
    return locked


def _moved(
    post: Post, to: Post.Status, at: datetime, /, *, by: User | None, action: str, summary: str = "", **extra: Any
) -> AuditEntry:
    """Move a post along TRANSITIONS in memory; its audit entry, for the caller to write with the row.
    (Positional-only, so that no name of the audit entry's data can clash.)"""
    if not post.can_move_to(to):
        raise ValidationError(
            _("A post that is “%(status)s” cannot become “%(to)s”.")
            % {"status": post.get_status_display(), "to": to.label}
        )
    old = post.status
    post.status = to
    post.status_changed_at = at
    return audit_entry(
        county=post.county,
        actor=by,
        action=action,
        obj=post,
        summary=summary or post.title,
        old=old,
        new=str(to),
        **extra,
    )


def _move(*, by: User | None, post: Post, to: Post.Status, action: str, summary: str = "", **extra: Any) -> None:
    """Move a post along TRANSITIONS (the caller holds the row lock) and write the audit entry."""
    entry = _moved(post, to, timezone.now(), by=by, action=action, summary=summary, **extra)
    post.save(update_fields=["status", "status_changed_at", "updated_at"])
    write_audit([entry])


def _field_label(name: str) -> str:
    """A post field's translated name, for messages people read."""
    field = Post._meta.get_field(name)
    return str(field.verbose_name) if isinstance(field, Field) else name


def update_post(
    *,
    by: User,
    post: Post,
    changed: Iterable[str],
    assets: Sequence[Asset] | None = None,
    collaborators: Sequence[Library] | None = None,
) -> Post:
    """Save the named fields (and media or collaborators when given). A change to what the approval
    covered (caption, credit, media, collaborators) sends an approved or scheduled post back to review."""
    changed = set(changed)
    if assets is not None:
        _check_assets(post.county, assets)
        changed.add("assets")
    if collaborators is not None:
        _check_collaborators(post.county, collaborators)
        changed.add("collaborators")
    with transaction.atomic():
        locked = _lock(post)
        if not locked.is_editable:
            raise ValidationError(
                _("A post that is “%(status)s” can no longer be changed.") % {"status": locked.get_status_display()}
            )
        post.caption = captions.normalise(post.caption)
        post.last_edited_by = by
        model_fields = sorted((changed - {"assets", "collaborators"}) | {"last_edited_by", "updated_at"})
        post.save(update_fields=model_fields)
        if assets is not None:
            _set_assets(post, assets)
        if collaborators is not None:
            _set_collaborators(post, collaborators)
        content_changed = sorted(changed & CONTENT_FIELDS)
        audit(county=post.county, actor=by, action="post.changed", obj=post, summary=post.title, fields=sorted(changed))
        if content_changed and post.status in CHANGE_NEEDS_APPROVAL_STATUSES:
            # The fields by their translated names ("bildetekst, media"), not their code names.
            labels = ", ".join(_field_label(name) for name in content_changed)
            _withdraw_approval(post, reason=_("Changed after approval: %s") % labels)
            _move(
                by=by,
                post=post,
                to=Post.Status.IN_REVIEW,
                action="post.back_to_review",
                fields=content_changed,
            )
        if content_changed:
            _forget_containers(post)
    return post


def _forget_containers(post: Post) -> None:
    """Containers carry the old caption and media: the worker must make new ones. The ids media_publish
    was called for stay in `publish_attempts`, so the worker still asks about them first."""
    Post.objects.filter(pk=post.pk, media_id="").update(
        publish_step=Post.Step.START, child_container_ids=[], container_id="", containers_created_at=None
    )


def submit_post(*, by: User, post: Post) -> Post:
    """Ask for approval (a draft, or a failed post after it was fixed)."""
    with transaction.atomic():
        _lock(post)
        if not post.is_submittable:  # e.g. a post the worker is publishing: it is not the editor's to take back
            raise ValidationError(
                _("A post that is “%(status)s” cannot be sent for approval.") % {"status": post.get_status_display()}
            )
        _move(by=by, post=post, to=Post.Status.IN_REVIEW, action="post.submitted")
    return post


def return_post_to_draft(*, by: User, post: Post, note: str = "") -> Post:
    """The reviewer sends the post back to its author for changes."""
    with transaction.atomic():
        _lock(post)
        _move(by=by, post=post, to=Post.Status.DRAFT, action="post.returned", note=note[:500])
        if post.created_by is not None and post.created_by.email:
            send_templated_mail_on_commit(
                to=[post.created_by.email],
                template="post_returned",
                context={"post": post, "by": by, "note": note, "url": absolute_url(post.get_absolute_url())},
            )
    return post


# A change of content withdraws the approval of a post in these (update_post); the change form says so.
CHANGE_NEEDS_APPROVAL_STATUSES = frozenset({Post.Status.APPROVED, Post.Status.SCHEDULED, Post.Status.FAILED})


def may_approve(*, by: User | int, post: Post) -> bool:
    """Four eyes: whoever wrote or last changed the post does not approve it (`by`: the person or their id)."""
    authors = {post.created_by_id, post.last_edited_by_id} - {None}
    return (by if isinstance(by, int) else by.pk) not in authors


def approve_post(*, by: User, post: Post) -> Post:
    """An editor other than the author approves the post as it is now."""
    with transaction.atomic():
        # Checked on the locked row: whoever changed the post a moment ago counts as its author too.
        if not may_approve(by=by, post=_lock(post)):
            raise ValidationError(_("Another editor must approve this post: you wrote or last changed it."))
        _move(by=by, post=post, to=Post.Status.APPROVED, action="post.approved")
        _withdraw_approval(post, reason="superseded")
        Approval.objects.create(post=post, by=by)
        _set_awaits_second_review(post, False)
    return post


def _set_awaits_second_review(post: Post, value: bool) -> None:
    if post.awaits_second_review != value:
        post.awaits_second_review = value
        post.save(update_fields=["awaits_second_review", "updated_at"])


def may_approve_alone(*, by: User | int, post: Post) -> bool:
    """The county allows publishing without a second review, and this editor is the one four eyes exclude."""
    return post.county.allow_single_review and not may_approve(by=by, post=post)


def approve_post_alone(*, by: User, post: Post) -> Post:
    """The author approves their own post, where the county allows it (one editor on duty): the post is
    flagged "not reviewed" until another editor reviews it afterwards; audited with the county's reason."""
    with transaction.atomic():
        locked = _lock(post)
        county = County.objects.get(pk=locked.county_id)
        if not county.allow_single_review:
            raise ValidationError(_("The county requires another editor to approve every post."))
        if may_approve(by=by, post=locked):
            raise ValidationError(_("You did not write this post: approve it the usual way."))
        _move(
            by=by,
            post=post,
            to=Post.Status.APPROVED,
            action="post.approved_alone",
            reason=county.single_review_reason,
        )
        _withdraw_approval(post, reason="superseded")
        Approval.objects.create(post=post, by=by, without_second_review=True)
        _set_awaits_second_review(post, True)
    return post


def mark_reviewed(*, by: User, post: Post) -> Post:
    """Another editor reviews, afterwards, a post its author approved alone: the "not reviewed" flag goes."""
    with transaction.atomic():
        locked = Post.objects.select_for_update().get(pk=post.pk)
        if not locked.awaits_second_review:
            raise ValidationError(_("This post does not wait for a review."))
        if not may_approve(by=by, post=locked):
            raise ValidationError(_("Another editor must review this post: you wrote or last changed it."))
        now = timezone.now()
        Approval.objects.filter(post=post, without_second_review=True, reviewed_by__isnull=True).update(
            reviewed_by=by, reviewed_at=now
        )
        post.awaits_second_review = False
        post.save(update_fields=["awaits_second_review", "updated_at"])
        audit(county=post.county, actor=by, action="post.reviewed_afterwards", obj=post, summary=post.title)
    return post


def schedule_post(*, by: User, post: Post, at: datetime | None = None) -> Post:
    """Put an approved (or failed, once fixed) post on the plan; only when every gate passes."""
    now = timezone.now()
    with transaction.atomic():
        _lock(post)
        if at is not None:
            post.scheduled_at = at
        if post.scheduled_at is not None and post.scheduled_at < now - timedelta(minutes=1):
            raise ValidationError(_("Choose a time that has not passed yet."))
        channel = county_channel(post.county)
        checked = Post.objects.for_gates().get(pk=post.pk)
        checked.scheduled_at = post.scheduled_at
        failing = gates.failing_gates(checked, channel=channel)
        if failing:
            raise ValidationError([gate.message for gate in failing])
        from_failed = post.status == Post.Status.FAILED
        post.channel = channel
        post.failure_reason = ""
        post.attempts = post.rate_limit_waits = post.status_polls = post.container_rounds = 0
        post.save(
            update_fields=[
                "scheduled_at",
                "channel",
                "failure_reason",
                "attempts",
                "rate_limit_waits",
                "status_polls",
                "container_rounds",
            ]
        )
        _move(
            by=by,
            post=post,
            to=Post.Status.SCHEDULED,
            action="post.rescheduled" if from_failed else "post.scheduled",
            at=post.scheduled_at.isoformat() if post.scheduled_at else None,
        )
    return post


def unschedule_post(*, by: User, post: Post) -> Post:
    """Take a scheduled post off the plan; it stays approved."""
    with transaction.atomic():
        _lock(post)
        _move(by=by, post=post, to=Post.Status.APPROVED, action="post.unscheduled")
    return post


def move_post(*, by: User, post: Post, at: datetime) -> Post:
    """Give the post another time (the plan's drag and drop, or its keyboard form)."""
    with transaction.atomic():
        locked = _lock(post)
        if not locked.is_movable:
            raise ValidationError(
                _("A post that is “%(status)s” cannot be moved.") % {"status": locked.get_status_display()}
            )
        if locked.status == Post.Status.SCHEDULED and at < timezone.now() - timedelta(minutes=1):
            raise ValidationError(_("Choose a time that has not passed yet."))
        old = post.scheduled_at
        post.scheduled_at = at
        post.save(update_fields=["scheduled_at", "updated_at"])
        audit(
            county=post.county,
            actor=by,
            action="post.moved",
            obj=post,
            summary=post.title,
            old=old.isoformat() if old else None,
            new=at.isoformat(),
        )
    return post


def cancel_post(*, by: User, post: Post) -> Post:
    with transaction.atomic():
        _lock(post)
        _move(by=by, post=post, to=Post.Status.CANCELLED, action="post.cancelled")
        _withdraw_approval(post, reason="cancelled")
    return post


def pull_back_posts_showing(
    *, asset_ids: Iterable[int], reason: str, by: User | None = None, notify: bool = True
) -> list[Post]:
    """Consent was withdrawn or lapsed: approved and scheduled posts showing these assets go back to review.

    Each post's approval is withdrawn and the move audited; the county's
    coordinators get one e-mail listing the posts (unless `notify=False`: the
    caller's own e-mail lists them). Returns the posts moved.
    """
    ids = sorted(set(asset_ids))
    if not ids:
        return []
    pulled: list[Post] = []
    with transaction.atomic():
        posts = (
            Post.objects.showing_assets(ids)
            .filter(status__in=[Post.Status.APPROVED, Post.Status.SCHEDULED])
            .select_for_update(of=("self",))
            .select_related("county")
            .order_by("scheduled_at", "pk")
        )
        for post in posts:
            _withdraw_approval(post, reason=reason)
            _move(by=by, post=post, to=Post.Status.IN_REVIEW, action="post.pulled_back", summary=reason, assets=ids)
            _forget_containers(post)
            pulled.append(post)
        by_county: dict[int, list[Post]] = {}
        for post in pulled:
            by_county.setdefault(post.county_id, []).append(post)
        for county_posts in by_county.values() if notify else ():
            county = county_posts[0].county
            send_templated_mail_on_commit(
                to=coordinator_emails(county),
                template="posts_pulled_back",
                context={
                    "posts": [(post, absolute_url(post.get_absolute_url())) for post in county_posts],
                    "reason": reason,
                },
            )
    return pulled


# --- The worker's status changes (publishing/publish.py calls these with its lease) ---


def record_published(
    *, post: Post, lease_token: uuid.UUID, media_id: str, published_at: datetime | None = None
) -> bool:
    """The post is live: store the media id at once, before anything else can go wrong.

    `published_at` is Instagram's time of the media when we know it (a recovered
    publish); otherwise now, until the permalink step reads Instagram's time.
    `post` (with its county) is changed to match the row as stored, without reading it again.
    False when this worker no longer holds the post.
    """
    now = timezone.now()
    fields: dict[str, Any] = {
        "media_id": media_id,
        "status": Post.Status.PUBLISHED,
        "status_changed_at": now,
        "published_at": published_at or now,
        "failure_reason": "",
        "attempts": 0,
        "waiting_for": Post.Waiting.NOTHING,
        "waiting_since": None,
        # The first insights reading (publishing/followup/insights.py) an hour after publishing.
        "insights_due_at": now + timedelta(hours=1),
        "insights_round": 0,
    }
    with transaction.atomic():
        if not Post.objects.filter(pk=post.pk, lease_token=lease_token, media_id="").update(**fields):
            return False
        for name, value in fields.items():
            setattr(post, name, value)
        audit(county=post.county, actor=None, action="post.published", obj=post, summary=post.title, media_id=media_id)
    return True


def fail_publishing(*, post_id: int, lease_token: uuid.UUID, reason: str, detail: str = "") -> bool:
    """The worker gives up: the post fails with the reason in words; it can be fixed and scheduled again."""
    with transaction.atomic():
        moved = Post.objects.filter(
            pk=post_id, lease_token=lease_token, status=Post.Status.PUBLISHING, media_id=""
        ).update(
            status=Post.Status.FAILED,
            status_changed_at=timezone.now(),
            failure_reason=reason,
            last_error=detail[:2000],
            lease_token=None,
            lease_expires_at=None,
            next_attempt_at=None,
        )
        if not moved:
            return False
        post = Post.objects.select_related("county", "responsible", "created_by").get(pk=post_id)
        audit(county=post.county, actor=None, action="post.failed", obj=post, summary=reason)
        recipients = {person.email for person in (post.responsible, post.created_by) if person is not None}
        if recipients:
            send_templated_mail_on_commit(
                to=sorted(recipients),
                template="post_failed",
                context={"post": post, "reason": reason, "url": absolute_url(post.get_absolute_url())},
            )
    logger.warning("Post %s failed: %s (%s)", post_id, reason, detail)
    return True


def back_to_review_at_publish(*, post_id: int, lease_token: uuid.UUID, reasons: list[str]) -> bool:
    """A gate fails when the worker is about to publish: back to review, the failing gates listed; nothing sent."""
    with transaction.atomic():
        post = (
            Post.objects.select_for_update(of=("self",))
            .select_related("county", "responsible", "created_by")
            .filter(pk=post_id, lease_token=lease_token, status=Post.Status.PUBLISHING, media_id="")
            .first()
        )
        if post is None:
            return False
        reason = _("Not published: the post no longer passes every check.") + " " + " ".join(reasons)
        Post.objects.filter(pk=post_id).update(
            failure_reason=reason,
            waiting_for=Post.Waiting.NOTHING,
            waiting_since=None,
            lease_token=None,
            lease_expires_at=None,
            next_attempt_at=None,
        )
        _withdraw_approval(post, reason=reason)
        _move(by=None, post=post, to=Post.Status.IN_REVIEW, action="post.gates_failed", summary=reason, gates=reasons)
        recipients = {person.email for person in (post.responsible, post.created_by) if person is not None}
        if recipients:
            send_templated_mail_on_commit(
                to=sorted(recipients),
                template="post_failed",
                context={"post": post, "reason": reason, "url": absolute_url(post.get_absolute_url())},
            )
    logger.warning("Post %s went back to review at publish time: %s", post_id, reasons)
    return True


def return_to_review_after_admin_change(*, by: User, post: Post, fields: list[str]) -> bool:
    """The admin changed an approved or scheduled post: like any change, it goes back to review."""
    with transaction.atomic():
        locked = _lock(post)
        if locked.status not in (Post.Status.APPROVED, Post.Status.SCHEDULED):
            return False
        _withdraw_approval(post, reason=_("Changed after approval: %s") % ", ".join(fields))
        _move(by=by, post=post, to=Post.Status.IN_REVIEW, action="post.back_to_review", fields=fields)
        _forget_containers(post)
    return True


def alert_media_missing(*, post: Post, container_id: str) -> bool:
    """A published container whose media has not been found for a long time: tell the coordinators, once."""
    with transaction.atomic():
        already = AuditEntry.objects.filter(action="post.media_missing", object_id=str(post.pk)).exists()
        if already:
            return False
        audit(
            county=post.county,
            actor=None,
            action="post.media_missing",
            obj=post,
            summary=post.title,
            container_id=container_id,
        )
        send_templated_mail_on_commit(
            to=coordinator_emails(post.county),
            template="post_media_missing",
            context={"post": post, "url": absolute_url(post.get_absolute_url())},
        )
    logger.warning("Post %s: container %s is published but its media is still not found.", post.pk, container_id)
    return True


def return_late_posts(*, now: datetime) -> list[Post]:
    """Posts whose time passed by more than the channel's margin while it was stopped go back to the editor.

    Two kinds: posts the worker holds waiting for the connection (nothing of
    them reached media_publish), and scheduled posts whose time came before the
    channel was connected again. Each becomes approved again (not scheduled);
    its responsible and author get one e-mail each listing theirs.
    """
    returned: list[Post] = []
    candidates = (
        Post.objects.filter(channel__status=Channel.Status.CONNECTED, scheduled_at__lte=now)
        .filter(
            Q(status=Post.Status.PUBLISHING, waiting_for=Post.Waiting.CONNECTION, media_id="", publish_attempts=[])
            | Q(status=Post.Status.SCHEDULED, channel__connected_at__gt=F("scheduled_at"))
        )
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("county", "channel", "responsible", "created_by")
        .order_by("scheduled_at", "pk")
    )
    for post in candidates:
        channel = post.channel
        if channel is None or post.scheduled_at is None:
            continue
        if post.scheduled_at >= now - timedelta(hours=channel.late_margin_hours):
            continue
        reason = _(
            "The Instagram connection was down until %(time)s, more than %(hours)s hours after the post's time; "
            "it was not published. Choose a new time and schedule it again."
        ) % {
            "time": timezone.localtime(channel.connected_at or now).strftime("%d.%m %H:%M"),
            "hours": channel.late_margin_hours,
        }
        Post.objects.filter(pk=post.pk).update(
            waiting_for=Post.Waiting.NOTHING,
            waiting_since=None,
            lease_token=None,
            lease_expires_at=None,
            next_attempt_at=None,
            failure_reason=reason,
        )
        _move(by=None, post=post, to=Post.Status.APPROVED, action="post.too_late", summary=reason)
        _forget_containers(post)
        returned.append(post)
        recipients = {person.email for person in (post.responsible, post.created_by) if person is not None}
        if recipients:
            send_templated_mail_on_commit(
                to=sorted(recipients),
                template="post_too_late",
                context={"post": post, "reason": reason, "url": absolute_url(post.get_absolute_url())},
            )
    return returned


def involved_libraries(post: Post, assets: Sequence[Asset] | None = None) -> list[Library]:
    """The member libraries a post is about: its collaborators, the idea's libraries, whose media it shows.

    One query: each source is a subquery. No query when what it reads is in hand: the post's collaborators
    prefetched with their libraries and its media (`assets`) read with theirs, as the gates read them at
    publish time, and no idea (whose libraries are not read with the post)."""
    if (
        assets is not None
        and post.idea_id is None
        and "post_collaborators" in getattr(post, "_prefetched_objects_cache", {})
    ):
        found = {link.library for link in post.post_collaborators.all()}
        found |= {asset.library for asset in assets}
        members = [lib for lib in found if lib.county_id == post.county_id and lib.kind == Library.Kind.MEMBER]
        return sorted(members, key=lambda library: (library.name, library.pk))
    about = Q(pk__in=PostCollaborator.objects.filter(post=post).values("library_id")) | Q(
        pk__in=PostAsset.objects.filter(post=post).values("asset__library_id")
    )
    if post.idea is not None:
        about |= Q(pk=post.idea.library_id) | Q(pk__in=post.idea.libraries.values("pk"))
    libraries = Library.objects.filter(about, county_id=post.county_id, kind=Library.Kind.MEMBER)
    return list(libraries.order_by("name"))


def mark_idea_published(post: Post) -> bool:
    """The idea the post came from says it went out (its page links the post and its permalink)."""
    if post.idea is None:
        return False
    return planning.idea_published(idea=post.idea, post_title=post.title)


def notify_libraries_on_commit(post: Post, libraries: Sequence[Library] | None = None) -> int:
    """Tell each involved library (its contact address and its people) where the post is: one mail each,
    sent after the commit; the audit entry names how many. The idea's library (and whoever sent the
    idea) is told that its idea is out. `libraries` is `involved_libraries(post)` when the caller has it."""
    idea = post.idea
    libraries = involved_libraries(post) if libraries is None else libraries
    mails: list[TemplatedMail] = []
    # Every library's people in one query, not one a library.
    people: dict[int, set[str]] = {library.pk: set() for library in libraries}
    for library_id, email in Membership.objects.filter(library_id__in=list(people), user__is_active=True).values_list(
        "library_id", "user__email"
    ):
        people[library_id].add(email)
    for library in libraries:
        recipients = {library.email} if library.email else set()
        recipients |= people[library.pk]
        sent_the_idea = idea is not None and idea.library_id == library.pk
        if sent_the_idea and idea is not None and idea.submitted_by is not None and idea.submitted_by.email:
            recipients.add(idea.submitted_by.email)
        recipients.discard("")
        if not recipients:
            continue
        mails.append(
            TemplatedMail(
                to=sorted(recipients),
                template="post_published",
                context={
                    "post": post,
                    "library": library,
                    "permalink": post.permalink,
                    "url": absolute_url(post.get_absolute_url()),
                    "idea": idea if sent_the_idea else None,
                    "idea_url": absolute_url(idea.get_absolute_url()) if sent_the_idea and idea is not None else "",
                },
            )
        )
    send_templated_mails_on_commit(mails)  # the readers' languages in one query for all of them
    sent = len(mails)
    audit(
        county=post.county,
        actor=None,
        action="post.libraries_notified",
        obj=post,
        summary=post.title,
        libraries=sent,
    )
    return sent


# --- The beat tick ---


def _start_publishing(posts: Sequence[Post], now: datetime) -> None:
    """The due posts (their rows locked) move to publishing as `_move` moves one, all in one UPDATE and
    their audit entries in one INSERT, not three statements a post (a tick hands over up to a hundred)."""
    if not posts:
        return
    moved_at = timezone.now()
    entries = [_moved(post, Post.Status.PUBLISHING, moved_at, by=None, action="post.publishing") for post in posts]
    Post.objects.filter(pk__in=[post.pk for post in posts]).update(
        status=Post.Status.PUBLISHING, status_changed_at=moved_at, next_attempt_at=now, updated_at=moved_at
    )
    write_audit(entries)


def enqueue_due_posts(*, now: datetime | None = None, limit: int = 100) -> list[int]:
    """Hand due posts to the worker: one publish task each, enqueued after the commit.

    `SKIP LOCKED` lets two ticks (two beats by mistake, or a slow one) run at
    once: each takes rows the other has not locked, and a post moves from
    scheduled to publishing only once. Posts a dead worker left behind (their
    lease ran out) are enqueued again; the task resumes from the stored step.
    """
    now = now or timezone.now()
    with transaction.atomic():
        return_late_posts(now=now)
        # First the posts that waited (for the daily limit, or the connection), in the order they were due.
        waiting = list(
            Post.objects.waiting_due(now)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("scheduled_at", "pk")[:limit]
        )
        Post.objects.filter(pk__in=[post.pk for post in waiting]).update(next_attempt_at=now)
        due = list(
            Post.objects.due(now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("county")
            .order_by("scheduled_at", "pk")[:limit]
        )
        _start_publishing(due, now)
        stranded = list(
            Post.objects.stranded(now)
            .exclude(pk__in=[post.pk for post in waiting])
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("pk")[:limit]
        )
        for post in stranded:
            logger.warning(
                "Post %s was left behind by its worker (step %s); enqueueing it again.", post.pk, post.publish_step
            )
        Post.objects.filter(pk__in=[post.pk for post in stranded]).update(next_attempt_at=now)
        ids = [post.pk for post in waiting] + [post.pk for post in due] + [post.pk for post in stranded]

        for post_id in ids:
            run_task_on_commit("publishing.publish_post", post_id)
    return ids
