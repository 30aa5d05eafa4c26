"""Workflows for concepts, ideas, recording days and run sheets.

Every status change goes through one function here: it checks the transition,
writes the audit entry, and sends e-mail or enqueues tasks only after the
transaction commits. Views call these; nothing else writes.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMessage, mailers
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from libraries.models import County, Library, Membership, User, hash_token
from libraries.services import (
    absolute_url,
    audit,
    render_templated_mail,
    run_task_on_commit,
    send_templated_mail_on_commit,
)
from production.models import (
    CalendarFeed,
    Concept,
    Idea,
    IdeaAttachment,
    IdeaComment,
    PresenterSignup,
    RecordingDay,
    RunSheetSlot,
)
from production.services import people

logger = logging.getLogger(__name__)


# --- Concepts ---


def save_concept(*, by: User, concept: Concept, changed: list[str] | None = None) -> Concept:
    """Create a concept, or save the named fields of an existing one."""
    created = concept.pk is None
    with transaction.atomic():
        if created:
            concept.save()
        else:
            concept.save(update_fields=changed or None)
        audit(
            county=concept.county,
            actor=by,
            action="concept.created" if created else "concept.changed",
            obj=concept,
            summary=concept.name,
            fields=changed or [],
        )
    return concept


# --- Ideas ---


def _add_attachments(*, by: User, idea: Idea, files: Iterable[UploadedFile[bytes]]) -> None:
    for upload in files:
        IdeaAttachment.objects.create(idea=idea, file=upload, name=(upload.name or "")[:200], uploaded_by=by)


def submit_idea(
    *,
    by: User,
    idea: Idea,
    libraries: Iterable[Library] = (),
    attachments: Sequence[UploadedFile[bytes]] = (),
) -> Idea:
    """A library pitches an idea; the submitting library is always among the libraries involved."""
    idea.submitted_by = by
    idea.status = Idea.Status.SUBMITTED
    with transaction.atomic():
        idea.save()
        idea.libraries.set({idea.library, *libraries})
        _add_attachments(by=by, idea=idea, files=attachments)
        audit(
            county=idea.library.county,
            actor=by,
            action="idea.submitted",
            obj=idea,
            summary=f"{idea.library.name}: {idea.title}",
        )
    return idea


def update_idea(
    *,
    by: User,
    idea: Idea,
    changed: list[str],
    libraries: Iterable[Library] | None = None,
    attachments: Sequence[UploadedFile[bytes]] = (),
) -> Idea:
    """Save the named fields of an idea (the access gate has checked who may)."""
    fields = [name for name in changed if name not in {"libraries", "attachments"}]
    with transaction.atomic():
        if fields:
            idea.save(update_fields=[*fields, "updated_at"])
        if libraries is not None:
            idea.libraries.set({idea.library, *libraries})
        _add_attachments(by=by, idea=idea, files=attachments)
        audit(
            county=idea.library.county,
            actor=by,
            action="idea.changed",
            obj=idea,
            summary=idea.title,
            fields=changed,
        )
    return idea


def _move_idea(*, by: User | None, idea: Idea, to: Idea.Status, **extra: Any) -> None:
    """Move an idea along one allowed transition, in the caller's transaction.

    The UPDATE names the status the idea had when it was read, so two people
    acting at once cannot both move it: the second finds no row and is told.
    """
    if not idea.can_move_to(to):
        raise ValidationError(
            _("An idea that is %(current)s cannot become %(next)s.")
            % {"current": idea.get_status_display().lower(), "next": Idea.Status(to).label.lower()}
        )
    moved = Idea.objects.filter(pk=idea.pk, status=idea.status).update(status=to, updated_at=timezone.now(), **extra)
    if moved != 1:
        raise ValidationError(_("Someone else changed this idea just now. Reload the page and try again."))
    old = idea.status
    idea.status = to
    for name, value in extra.items():
        setattr(idea, name, value)
    audit(
        county=idea.library.county,
        actor=by,
        action=f"idea.{to}",
        obj=idea,
        summary=f"{idea.title}: {old} → {to}",
        old=old,
        new=str(to),
    )


def _mail_submitter(idea: Idea, template: str, **context: Any) -> None:
    if idea.submitted_by is None or not idea.submitted_by.email:
        return
    send_templated_mail_on_commit(
        to=[idea.submitted_by.email],
        template=template,
        context={"idea": idea, "url": absolute_url(idea.get_absolute_url()), **context},
    )


def accept_idea(*, by: User, idea: Idea) -> Idea:
    with transaction.atomic():
        _move_idea(by=by, idea=idea, to=Idea.Status.ACCEPTED, reviewed_by=by, reviewed_at=timezone.now())
        _mail_submitter(idea, "idea_accepted", reviewer=by)
    return idea


def decline_idea(*, by: User, idea: Idea, reason: str) -> Idea:
    """Decline with a reason, which the submitter sees on the idea and in the e-mail."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say why the idea is declined: the library sees the reason."))
    with transaction.atomic():
        _move_idea(
            by=by,
            idea=idea,
            to=Idea.Status.DECLINED,
            reviewed_by=by,
            reviewed_at=timezone.now(),
            decline_reason=reason,
        )
        _mail_submitter(idea, "idea_declined", reviewer=by, reason=reason)
    return idea


def mark_idea_used(*, by: User | None, idea: Idea) -> Idea:
    """A recorded idea went out (publishing calls this when a post with it is published)."""
    with transaction.atomic():
        _move_idea(by=by, idea=idea, to=Idea.Status.USED)
    return idea


# An idea may go out before anyone marked it recorded (media uploaded straight to it): publishing it says so.
PUBLISHABLE_IDEA_STATUSES = frozenset({Idea.Status.ACCEPTED, Idea.Status.PLANNED, Idea.Status.RECORDED})


def idea_published(*, idea: Idea, post_title: str) -> bool:
    """A post made from the idea is on Instagram (publishing calls this once per post): the idea is used.

    Unlike `mark_idea_used`, this skips the recording step: the post is the proof. Audited with no
    actor (the worker); False when the idea was already used (a second post of the same idea).
    """
    with transaction.atomic():
        current = Idea.objects.select_for_update().select_related("library__county").get(pk=idea.pk)
        if current.status not in PUBLISHABLE_IDEA_STATUSES:
            return False
        old = current.status
        Idea.objects.filter(pk=idea.pk).update(status=Idea.Status.USED, updated_at=timezone.now())
        idea.status = Idea.Status.USED
        audit(
            county=current.library.county,
            actor=None,
            action="idea.used",
            obj=current,
            summary=f"{current.title}: {old} → {Idea.Status.USED} ({post_title})",
            old=old,
            new=str(Idea.Status.USED),
            post=post_title,
        )
    return True


def add_comment(*, by: User, idea: Idea, body: str) -> IdeaComment:
    body = body.strip()
    if not body:
        raise ValidationError(_("Write something before you send the comment."))
    with transaction.atomic():
        comment = IdeaComment.objects.create(idea=idea, author=by, body=body)
        audit(county=idea.library.county, actor=by, action="idea.commented", obj=idea, summary=idea.title)
    return comment


# --- Recording days ---


def save_recording_day(
    *,
    by: User,
    day: RecordingDay,
    changed: list[str] | None = None,
    responsible: Iterable[User] | None = None,
    participating_libraries: Iterable[Library] | None = None,
) -> RecordingDay:
    """Create a recording day (as a draft), or save the named fields of an existing one."""
    created = day.pk is None
    if day.status == RecordingDay.Status.DONE:
        raise ValidationError(_("This recording day is done and can no longer be changed."))
    fields = [name for name in changed or [] if name not in {"responsible", "participating_libraries"}]
    with transaction.atomic():
        if created:
            day.created_by = by
            day.status = RecordingDay.Status.DRAFT
            day.save()
        elif fields:
            day.save(update_fields=[*fields, "updated_at"])
        if responsible is not None:
            day.responsible.set(responsible)
        if participating_libraries is not None:
            day.participating_libraries.set({day.host_library, *participating_libraries})
        elif created:
            day.participating_libraries.add(day.host_library)
        audit(
            county=day.county,
            actor=by,
            action="recording_day.created" if created else "recording_day.changed",
            obj=day,
            summary=str(day),
            fields=changed or [],
        )
    return day


def _move_day(*, by: User, day: RecordingDay, frm: RecordingDay.Status, to: RecordingDay.Status, **extra: Any) -> None:
    moved = RecordingDay.objects.filter(pk=day.pk, status=frm).update(status=to, updated_at=timezone.now(), **extra)
    if moved != 1:
        raise ValidationError(_("Someone else changed this recording day just now. Reload the page and try again."))
    day.status = to
    for name, value in extra.items():
        setattr(day, name, value)
    audit(county=day.county, actor=by, action=f"recording_day.{to}", obj=day, summary=str(day), old=frm, new=str(to))


def announce_recording_day(*, by: User, day: RecordingDay) -> RecordingDay:
    """Publish a draft day to the libraries and e-mail everyone in the county (in a task, after commit)."""
    if day.status != RecordingDay.Status.DRAFT:
        raise ValidationError(_("Only a draft recording day can be announced."))
    if day.is_past:
        raise ValidationError(_("This recording day is in the past and cannot be announced."))
    language = translation.get_language() or settings.LANGUAGE_CODE
    with transaction.atomic():
        _move_day(
            by=by, day=day, frm=RecordingDay.Status.DRAFT, to=RecordingDay.Status.ANNOUNCED, announced_at=timezone.now()
        )
        day_id = day.pk
        run_task_on_commit("production.send_recording_day_announcement", day_id, language)
    return day


def mark_recording_day_done(*, by: User, day: RecordingDay) -> RecordingDay:
    if day.status != RecordingDay.Status.ANNOUNCED:
        raise ValidationError(_("Only an announced recording day can be marked as done."))
    if not day.has_begun:
        raise ValidationError(_("A recording day can be marked as done on the day or after it."))
    with transaction.atomic():
        _move_day(
            by=by, day=day, frm=RecordingDay.Status.ANNOUNCED, to=RecordingDay.Status.DONE, done_at=timezone.now()
        )
    return day


def _send_each(*, recipients: Iterable[User], template: str, context: dict[str, Any], language: str) -> int:
    """One message per person (nobody sees the others' addresses), in their language, over one connection.

    `language` is for people who have not used the site yet (User.language empty).
    """
    people = sorted({user.email: user for user in recipients if user.email and user.is_active}.items())
    rendered: dict[str, tuple[str, str]] = {}
    messages = []
    for address, user in people:
        own = user.language or language
        if own not in rendered:
            rendered[own] = render_templated_mail(template=template, context=context, language=own)
        subject, body = rendered[own]
        messages.append(EmailMessage(subject, body, None, [address]))
    if not messages:
        return 0
    return mailers.default.send_messages(messages) or 0


def _day_context(day: RecordingDay) -> dict[str, Any]:
    return {
        "day": day,
        "host": day.host_library,
        "place": day.place,
        "url": absolute_url(day.get_absolute_url()),
        "calendar_url": absolute_url(reverse("production:calendar_subscription")),
    }


def send_recording_day_announcement(*, day_id: int, language: str) -> int:
    """E-mail everyone in the county's libraries that a day was announced; at most once per day.

    The claim (a conditional UPDATE) commits before any mail goes out: a worker
    that dies while sending loses the rest of the mails rather than sending
    everyone the same announcement twice on redelivery.
    """
    with transaction.atomic():
        claimed = RecordingDay.objects.filter(
            pk=day_id, status=RecordingDay.Status.ANNOUNCED, announcement_sent_at__isnull=True
        ).update(announcement_sent_at=timezone.now())
    if not claimed:
        return 0
    day = RecordingDay.objects.select_related("host_library", "county").get(pk=day_id)
    people = User.objects.filter(memberships__library__county=day.county, is_active=True).distinct()
    sent = _send_each(
        recipients=people, template="recording_day_announced", context=_day_context(day), language=language
    )
    logger.info("Announced recording day %s to %s people", day_id, sent)
    return sent


def reminder_recipients(day: RecordingDay) -> list[User]:
    """Everyone expected on the day: responsible people, signed-up presenters and presenters on the run sheet."""
    return list(
        User.objects.filter(
            pk__in=[
                *day.responsible.values_list("pk", flat=True),
                *day.signups.values_list("person_id", flat=True),
                *RunSheetSlot.presenters.through.objects.filter(runsheetslot__recording_day=day).values_list(
                    "user_id", flat=True
                ),
            ]
        )
    )


def send_due_reminders(*, today: date | None = None) -> int:
    """Remind everyone expected on each announced day two days ahead; each day is reminded once.

    Each day is claimed with a conditional UPDATE before its mails go out, so
    beat ticking twice, or a task redelivered, sends nothing more.
    """
    today = today or timezone.localdate()
    sent = 0
    for day_id in RecordingDay.objects.due_for_reminder(today).values_list("pk", flat=True):
        with transaction.atomic():
            claimed = (
                RecordingDay.objects.due_for_reminder(today).filter(pk=day_id).update(reminder_sent_at=timezone.now())
            )
        if not claimed:
            continue
        day = (
            RecordingDay.objects.select_related("host_library", "county")
            .prefetch_related("slots__idea", "slots__presenters")
            .get(pk=day_id)
        )
        run_sheet = day.run_sheet()
        context = {**_day_context(day), "days_left": (day.date - today).days, "run_sheet": run_sheet}
        sent += _send_each(
            recipients=reminder_recipients(day),
            template="recording_day_reminder",
            context=context,
            language=settings.LANGUAGE_CODE,
        )
    return sent


# --- Presenter sign-ups ---


def sign_up_presenter(*, by: User, day: RecordingDay, membership: Membership, note: str = "") -> PresenterSignup:
    """Put a person forward to present for their library; the library then takes part in the day.

    The presenter is found in (or added to) the county's register, and asked for their consent by a link
    unless it is in force (`people.presenter_consent` says where it stands).
    """
    if not day.accepts_signups:
        raise ValidationError(_("Sign-ups are open only for announced recording days that have not passed."))
    if membership.library.county_id != day.county_id:
        raise ValidationError(_("Only people from the county's libraries can present."))
    if PresenterSignup.objects.filter(recording_day=day, person=membership.user).exists():
        raise ValidationError(_("%(person)s is already signed up for this day.") % {"person": membership.user})
    with transaction.atomic():
        register_person = people.register_presenter(by=by, county=day.county, user=membership.user)
        signup = PresenterSignup.objects.create(
            recording_day=day,
            library=membership.library,
            person=membership.user,
            register_person=register_person,
            note=note.strip(),
            signed_up_by=by,
        )
        day.participating_libraries.add(membership.library)
        audit(
            county=day.county,
            actor=by,
            action="recording_day.signup",
            obj=day,
            summary=f"{membership.user} ({membership.library.name})",
            person=membership.user_id,
        )
        # Their consent covers what is recorded of them: asked for now, unless it is in force or already asked.
        people.ask_presenter_consent(by=by, person=register_person)
    return signup


def withdraw_signup(*, by: User, signup: PresenterSignup) -> None:
    """Withdraw a presenter; they also leave any slot they were to present in."""
    day = signup.recording_day
    if day.status == RecordingDay.Status.DONE:
        raise ValidationError(_("This recording day is done and can no longer be changed."))
    with transaction.atomic():
        for slot in RunSheetSlot.objects.filter(recording_day=day, presenters=signup.person):
            slot.presenters.remove(signup.person)
        audit(
            county=day.county,
            actor=by,
            action="recording_day.signup_withdrawn",
            obj=day,
            summary=f"{signup.person} ({signup.library.name})",
            person=signup.person_id,
        )
        signup.delete()


# --- The run sheet ---


def _check_day_open(day: RecordingDay) -> None:
    if day.status == RecordingDay.Status.DONE:
        raise ValidationError(_("This recording day is done and its run sheet can no longer be changed."))


def _lock_day(day: RecordingDay) -> None:
    # Adding or moving slots reads the neighbours' positions; locking the day
    # row makes two coordinators editing the same run sheet take turns.
    RecordingDay.objects.select_for_update().filter(pk=day.pk).first()


def _check_presenters(day: RecordingDay, presenters: Iterable[User]) -> list[User]:
    presenters = list(presenters)
    signed_up = set(PresenterSignup.objects.filter(recording_day=day).values_list("person_id", flat=True))
    strangers = [person for person in presenters if person.pk not in signed_up]
    if strangers:
        raise ValidationError(
            _("Only people signed up for the day can present: %(people)s is not.")
            % {"people": ", ".join(str(person) for person in strangers)}
        )
    return presenters


def _mail_new_presenters(*, slot: RunSheetSlot, people: Iterable[User]) -> None:
    day = slot.recording_day
    for person in people:
        if person.email:
            send_templated_mail_on_commit(
                to=[person.email], template="run_sheet_presenter", context={**_day_context(day), "slot": slot}
            )


def add_slot(
    *,
    by: User,
    day: RecordingDay,
    idea: Idea | None = None,
    title: str = "",
    duration_minutes: int = 30,
    presenters: Iterable[User] = (),
    note: str = "",
) -> RunSheetSlot:
    """Add a slot at the end of the run sheet; an idea placed in it becomes planned."""
    _check_day_open(day)
    if idea is None and not title.strip():
        raise ValidationError(_("Choose an idea, or give the slot a title (such as “Lunch”)."))
    if idea is not None and idea.library.county_id != day.county_id:
        raise ValidationError(_("Only ideas from the county's libraries can be planned."))
    people = _check_presenters(day, presenters)
    with transaction.atomic():
        _lock_day(day)
        last = RunSheetSlot.objects.filter(recording_day=day).aggregate(last=Max("position"))["last"]
        slot = RunSheetSlot.objects.create(
            recording_day=day,
            position=(last or 0) + 1,
            title=title.strip(),
            duration_minutes=duration_minutes,
            note=note.strip(),
        )
        if idea is not None:
            _move_idea(by=by, idea=idea, to=Idea.Status.PLANNED)
            slot.idea = idea
            slot.save(update_fields=["idea"])
        slot.presenters.set(people)
        audit(county=day.county, actor=by, action="run_sheet.slot_added", obj=day, summary=slot.label, slot=slot.pk)
        _mail_new_presenters(slot=slot, people=people)
    return slot


def update_slot(
    *,
    by: User,
    slot: RunSheetSlot,
    idea: Idea | None,
    title: str,
    duration_minutes: int,
    presenters: Iterable[User],
    note: str,
) -> RunSheetSlot:
    """Change a slot; an idea taken out goes back to accepted, one put in becomes planned."""
    day = slot.recording_day
    _check_day_open(day)
    if idea is None and not title.strip():
        raise ValidationError(_("Choose an idea, or give the slot a title (such as “Lunch”)."))
    people = _check_presenters(day, presenters)
    with transaction.atomic():
        _lock_day(day)
        old_idea = slot.idea
        if old_idea != idea:
            if old_idea is not None:
                slot.idea = None
                slot.save(update_fields=["idea"])
                if old_idea.status == Idea.Status.PLANNED:
                    _move_idea(by=by, idea=old_idea, to=Idea.Status.ACCEPTED)
            if idea is not None:
                _move_idea(by=by, idea=idea, to=Idea.Status.PLANNED)
        slot.idea = idea
        slot.title = title.strip()
        slot.duration_minutes = duration_minutes
        slot.note = note.strip()
        slot.save(update_fields=["idea", "title", "duration_minutes", "note"])
        before = set(slot.presenters.values_list("pk", flat=True))
        slot.presenters.set(people)
        audit(county=day.county, actor=by, action="run_sheet.slot_changed", obj=day, summary=slot.label, slot=slot.pk)
        _mail_new_presenters(slot=slot, people=[person for person in people if person.pk not in before])
    return slot


def remove_slot(*, by: User, slot: RunSheetSlot) -> None:
    """Take a slot off the run sheet; its idea goes back to accepted, ready to plan again."""
    day = slot.recording_day
    _check_day_open(day)
    with transaction.atomic():
        _lock_day(day)
        idea = slot.idea
        label = slot.label
        slot.delete()
        if idea is not None and idea.status == Idea.Status.PLANNED:
            _move_idea(by=by, idea=idea, to=Idea.Status.ACCEPTED)
        audit(county=day.county, actor=by, action="run_sheet.slot_removed", obj=day, summary=label)


def move_slot(*, by: User, slot: RunSheetSlot, up: bool) -> bool:
    """Swap a slot with the one before (up) or after it; False when it is already first or last."""
    day = slot.recording_day
    _check_day_open(day)
    with transaction.atomic():
        _lock_day(day)
        slot.refresh_from_db(fields=["position"])
        neighbours = RunSheetSlot.objects.filter(recording_day=day)
        if up:
            neighbour = neighbours.filter(position__lt=slot.position).order_by("-position").first()
        else:
            neighbour = neighbours.filter(position__gt=slot.position).order_by("position").first()
        if neighbour is None:
            return False
        # The unique (day, position) constraint is deferred to the commit, so the swap may pass through a duplicate.
        slot.position, neighbour.position = neighbour.position, slot.position
        slot.save(update_fields=["position"])
        neighbour.save(update_fields=["position"])
        audit(
            county=day.county,
            actor=by,
            action="run_sheet.slot_moved",
            obj=day,
            summary=f"{slot.label} {'↑' if up else '↓'}",
            slot=slot.pk,
        )
    return True


def mark_slot_recorded(*, by: User, slot: RunSheetSlot) -> RunSheetSlot:
    """After the day: the slot was recorded, and its idea moves to recorded."""
    day = slot.recording_day
    if not day.has_begun:
        raise ValidationError(_("Slots can be marked as recorded on the day or after it."))
    if day.status == RecordingDay.Status.DRAFT:
        raise ValidationError(_("A draft recording day has not taken place."))
    with transaction.atomic():
        claimed = RunSheetSlot.objects.filter(pk=slot.pk, recorded_at__isnull=True).update(recorded_at=timezone.now())
        if not claimed:
            raise ValidationError(_("This slot is already marked as recorded."))
        slot.refresh_from_db(fields=["recorded_at"])
        if slot.idea is not None and slot.idea.status == Idea.Status.PLANNED:
            _move_idea(by=by, idea=slot.idea, to=Idea.Status.RECORDED)
        audit(county=day.county, actor=by, action="run_sheet.slot_recorded", obj=day, summary=slot.label, slot=slot.pk)
    return slot


def plan_idea(*, by: User, idea: Idea, day: RecordingDay, duration_minutes: int = 30) -> RunSheetSlot:
    """Place an accepted idea in a new slot at the end of a recording day's run sheet."""
    if idea.status != Idea.Status.ACCEPTED:
        raise ValidationError(_("Only an accepted idea can be placed on a recording day."))
    return add_slot(by=by, day=day, idea=idea, duration_minutes=duration_minutes)


# --- Calendar feeds ---


def create_calendar_feed(*, by: User, county: County) -> str:
    """A new secret feed address for the person (any old one stops working); returns the token once."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        CalendarFeed.objects.filter(user=by).delete()
        feed = CalendarFeed.objects.create(
            user=by, token_hash=hash_token(token), language=translation.get_language() or settings.LANGUAGE_CODE
        )
        audit(county=county, actor=by, action="calendar_feed.created", obj=feed, summary=by.email)
    return token


def revoke_calendar_feed(*, by: User, county: County) -> bool:
    with transaction.atomic():
        feed = CalendarFeed.objects.filter(user=by).first()
        if feed is None:
            return False
        audit(county=county, actor=by, action="calendar_feed.revoked", obj=feed, summary=by.email)
        feed.delete()
    return True


def feed_for_token(token: str) -> CalendarFeed | None:
    """The feed behind a token, noting when it was last fetched; None for an unknown or revoked token."""
    feed = (
        CalendarFeed.objects.select_related("user").filter(token_hash=hash_token(token), user__is_active=True).first()
    )
    if feed is not None:
        now = timezone.now()
        # Calendar apps poll often; write at most every few minutes.
        if feed.last_fetched_at is None or now - feed.last_fetched_at > timedelta(minutes=5):
            CalendarFeed.objects.filter(pk=feed.pk).update(last_fetched_at=now)
    return feed
