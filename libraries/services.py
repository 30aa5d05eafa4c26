"""Workflows that change libraries, memberships and invitations.

Each function checks its rule, writes the audit entry and sends e-mail only
after the transaction commits. Views call these; nothing else writes.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Sequence
from datetime import timedelta
from functools import partial
from typing import Any, NamedTuple

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from libraries.models import AuditEntry, County, Invitation, Library, Membership, Role, User, hash_token
from libraries.overview import libraries_changed

logger = logging.getLogger(__name__)


def audit(*, county: County, actor: User | None, action: str, obj: Model, summary: str, **data: Any) -> AuditEntry:
    """Write one audit log entry (in the caller's transaction)."""
    entry = audit_entry(county=county, actor=actor, action=action, obj=obj, summary=summary, **data)
    entry.save(force_insert=True)
    return entry


def audit_entry(
    *, county: County, actor: User | None, action: str, obj: Model, summary: str, **data: Any
) -> AuditEntry:
    """One audit log entry, not written yet: for `write_audit`, which writes many in one INSERT."""
    return AuditEntry(
        county=county,
        actor=actor,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        summary=summary[:500],
        data=data,
    )


def write_audit(entries: Sequence[AuditEntry]) -> None:
    """Write `audit_entry`s (in the caller's transaction), all in one INSERT."""
    AuditEntry.objects.bulk_create(entries)


def absolute_url(path: str) -> str:
    """A path on this site as the address people (and Instagram) use, for e-mails and feeds."""
    return settings.PUBLIC_BASE_URL + path


def coordinator_emails(county: County) -> list[str]:
    """Where notices for the county go: its active coordinators."""
    emails = (
        Membership.objects.for_county(county)
        .filter(role=Role.COORDINATOR, user__is_active=True)
        .values_list("user__email", flat=True)
        .distinct()
    )
    return sorted(emails)


def run_task_on_commit(name: str, *args: Any) -> None:
    """Queue the Celery task registered as `name` once the current transaction commits.

    By name, so a service does not import the tasks module that imports it (the
    tasks are thin wrappers around the services); routes, time limits and eager
    mode in tests apply as for `task.delay`.
    """
    transaction.on_commit(lambda: current_app.signature(name, args=args).delay())


def recipients_by_language(
    to: list[str], *, fallback: str, known: dict[str, str] | None = None
) -> dict[str, list[str]]:
    """The addresses grouped by the language their person reads the site in.

    An address with no account (an invitation, a library's contact address) or
    whose person has not used the site yet gets `fallback`. `known` is
    `readers_languages` of these addresses (or more), when the caller read it already.
    """
    known = readers_languages(to) if known is None else known
    groups: dict[str, list[str]] = {}
    for address in to:
        groups.setdefault(known.get(address.lower()) or fallback, []).append(address)
    return groups


def readers_languages(addresses: Iterable[str]) -> dict[str, str]:
    """The language each address's person reads the site in (lower-cased address → language), in one query."""
    return {
        email.lower(): language
        for email, language in User.objects.filter(
            email__in=sorted({address.lower() for address in addresses})
        ).values_list("email", "language")
    }


def render_templated_mail(*, template: str, context: dict[str, Any], language: str) -> tuple[str, str]:
    """The subject and body of `emails/<template>_subject.txt` and `.txt`, written in `language`."""
    with translation.override(language):
        # One line whatever a title holds: a line break in a header is refused (and would be a header).
        subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
        body = render_to_string(f"emails/{template}.txt", context)
    return subject, body


def send_templated_mail_on_commit(*, to: list[str], template: str, context: dict[str, Any]) -> None:
    """Render `emails/<template>_subject.txt` and `.txt` and send them after commit, each in its reader's language.

    Every recipient gets the mail in the language they use the site in (User.language),
    one message per language; addresses without one get the language active now
    (the sender's on a page, LANGUAGE_CODE in the worker). Pass lazy or raw values
    in `context`, not text already translated, so the templates translate them.
    """
    send_templated_mails_on_commit([TemplatedMail(to=to, template=template, context=context)])


class TemplatedMail(NamedTuple):
    """One mail for `send_templated_mails_on_commit`: its addresses, template and context."""

    to: list[str]
    template: str
    context: dict[str, Any]


def send_templated_mails_on_commit(mails: Sequence[TemplatedMail]) -> None:
    """`send_templated_mail_on_commit` for several mails (a post's libraries, one each): their readers'
    languages are read in one query for all of them, not one a mail."""
    fallback = translation.get_language() or settings.LANGUAGE_CODE

    def send() -> None:
        known = readers_languages(address for mail in mails for address in mail.to)
        for mail in mails:
            for language, addresses in recipients_by_language(mail.to, fallback=fallback, known=known).items():
                subject, body = render_templated_mail(template=mail.template, context=mail.context, language=language)
                send_mail(subject, body, None, addresses)

    if mails:
        transaction.on_commit(send)


# --- People ---


def remember_language(*, user: User, language: str) -> None:
    """Keep the language a person uses the site in, for their e-mails (one of LANGUAGES, else nothing)."""
    if language in dict(settings.LANGUAGES) and user.language != language:
        user.language = language
        User.objects.filter(pk=user.pk).update(language=language)


# --- Libraries ---


def save_library(*, by: User, library: Library, changed: list[str] | None = None) -> Library:
    """Create a member library, or save the named fields of an existing one."""
    created = library.pk is None
    with transaction.atomic():
        if created:
            library.kind = Library.Kind.MEMBER
            library.save()
        else:
            library.save(update_fields=changed or None)
        audit(
            county=library.county,
            actor=by,
            action="library.created" if created else "library.changed",
            obj=library,
            summary=library.name,
            fields=changed or [],
        )
    return library


def change_county_settings(*, by: User, county: County, changed: list[str]) -> County:
    """Save the county's settings its coordinator changed (only those fields), with an audit entry."""
    if not changed:
        return county
    with transaction.atomic():
        county.save(update_fields=changed)
        audit(
            county=county,
            actor=by,
            action="county.settings_changed",
            obj=county,
            summary=county.name,
            **{field: getattr(county, field) for field in changed},
        )
    return county


# --- Memberships ---


def _lock_county(county: County) -> None:
    # Two coordinators demoting each other at once would each see the other
    # still in place; locking the county row serialises the check.
    County.objects.select_for_update().filter(pk=county.pk).first()


def _would_leave_county_without_coordinator(membership: Membership) -> bool:
    if membership.role != Role.COORDINATOR:
        return False
    return (
        not Membership.objects.for_county(membership.library.county)
        .filter(role=Role.COORDINATOR)
        .exclude(pk=membership.pk)
        .exists()
    )


def change_role(*, by: User, membership: Membership, role: Role) -> Membership:
    if role == membership.role:
        return membership
    if role == Role.COORDINATOR and membership.library.kind != Library.Kind.COUNTY:
        raise ValidationError(_("Coordinators belong to the county library."))
    with transaction.atomic():
        _lock_county(membership.library.county)
        if _would_leave_county_without_coordinator(membership):
            raise ValidationError(_("The county needs at least one coordinator."))
        old = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit(
            county=membership.library.county,
            actor=by,
            action="membership.role_changed",
            obj=membership,
            summary=f"{membership.user.email}: {old} → {role}",
            old=old,
            new=str(role),
        )
    return membership


def remove_membership(*, by: User, membership: Membership) -> None:
    with transaction.atomic():
        _lock_county(membership.library.county)
        if _would_leave_county_without_coordinator(membership):
            raise ValidationError(_("The county needs at least one coordinator."))
        audit(
            county=membership.library.county,
            actor=by,
            action="membership.removed",
            obj=membership,
            summary=f"{membership.user.email} @ {membership.library.name}",
        )
        user_id, library_id = membership.user_id, membership.library_id
        membership.delete()
        # The apps above register what follows a removal in settings rather than being imported
        # here (libraries is the ground floor). After the commit, so a removal that is rolled back
        # deletes nothing; robust, so a failing hook is logged and stops neither the others nor the
        # coordinator's request.
        for path in settings.MEMBERSHIP_REMOVED_HOOKS:
            transaction.on_commit(partial(import_string(path), user_id=user_id, library_id=library_id), robust=True)


# --- Invitations ---


class InvitationError(Exception):
    """An invitation link that cannot be used, with a message for the person holding it."""


def _issue_token(invitation: Invitation) -> str:
    token = secrets.token_urlsafe(32)
    invitation.token_hash = hash_token(token)
    invitation.sent_at = timezone.now()
    invitation.expires_at = invitation.sent_at + timedelta(days=settings.INVITATION_VALID_DAYS)
    return token


def _send_invitation(invitation: Invitation, token: str) -> None:
    send_templated_mail_on_commit(
        to=[invitation.email],
        template="invitation",
        context={
            "invitation": invitation,
            "library": invitation.library,
            "role": Role(invitation.role).label,  # lazy: in the reader's language
            "invited_by": invitation.invited_by,
            "url": absolute_url(reverse("invitation_accept", args=[token])),
            "valid_days": settings.INVITATION_VALID_DAYS,
        },
    )


def invite(*, by: User, library: Library, email: str, role: Role, name: str = "") -> Invitation:
    """Invite a person by e-mail to a library with a role; the link is single-use and expires."""
    email = email.strip().lower()
    if role == Role.COORDINATOR and library.kind != Library.Kind.COUNTY:
        raise ValidationError(_("Coordinators belong to the county library."))
    if Membership.objects.filter(library=library, user__email__iexact=email).exists():
        raise ValidationError(_("%(email)s is already a member of %(library)s.") % {"email": email, "library": library})
    invitation = Invitation(email=email, name=name.strip(), library=library, role=role, invited_by=by)
    token = _issue_token(invitation)
    try:
        with transaction.atomic():
            invitation.save()
            audit(
                county=library.county,
                actor=by,
                action="invitation.sent",
                obj=invitation,
                summary=f"{email} → {library.name} ({role})",
                role=str(role),
            )
            _send_invitation(invitation, token)
    except IntegrityError as exc:
        raise ValidationError(
            _("%(email)s already has an open invitation to %(library)s. Send it again from the list instead.")
            % {"email": email, "library": library}
        ) from exc
    return invitation


def resend_invitation(*, by: User, invitation: Invitation) -> Invitation:
    """Send a fresh link (the old one stops working) and restart the expiry."""
    if invitation.status in (Invitation.Status.ACCEPTED, Invitation.Status.REVOKED):
        raise ValidationError(_("This invitation was accepted or revoked and cannot be sent again."))
    with transaction.atomic():
        token = _issue_token(invitation)
        invitation.save(update_fields=["token_hash", "sent_at", "expires_at"])
        audit(
            county=invitation.library.county,
            actor=by,
            action="invitation.resent",
            obj=invitation,
            summary=invitation.email,
        )
        _send_invitation(invitation, token)
    return invitation


def revoke_invitation(*, by: User, invitation: Invitation) -> None:
    with transaction.atomic():
        changed = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if not changed:
            raise ValidationError(_("This invitation was already accepted or revoked."))
        libraries_changed()  # an UPDATE: no receiver sees it
        audit(
            county=invitation.library.county,
            actor=by,
            action="invitation.revoked",
            obj=invitation,
            summary=invitation.email,
        )


def check_invitation(token: str) -> Invitation:
    """The invitation behind a link, or InvitationError saying why it cannot be used."""
    invitation = Invitation.objects.select_related("library__county").filter(token_hash=hash_token(token)).first()
    if invitation is None:
        raise InvitationError(_("This invitation link is not valid. Check that you copied the whole link."))
    status = invitation.status
    if status == Invitation.Status.ACCEPTED:
        raise InvitationError(_("This invitation has already been used. Log in with your e-mail address instead."))
    if status == Invitation.Status.REVOKED:
        raise InvitationError(_("This invitation was withdrawn. Ask your county library for a new one."))
    if status == Invitation.Status.EXPIRED:
        raise InvitationError(_("This invitation has expired. Ask your county library to send it again."))
    return invitation


def accept_invitation(*, token: str, user: User | None = None, name: str = "", password: str = "") -> User:
    """Use an invitation once: join the library, creating the account when there is none.

    `user` is the logged-in person when they already have an account (it must
    be the invited address); otherwise `name` and `password` create one.
    """
    with transaction.atomic():
        invitation = check_invitation(token)
        # Single use even when the link is opened twice at once: only one
        # transaction can move accepted_at from NULL.
        claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
            accepted_at=timezone.now()
        )
        if claimed != 1:
            raise InvitationError(_("This invitation has already been used. Log in with your e-mail address instead."))
        if user is None:
            if User.objects.filter(email__iexact=invitation.email).exists():
                raise InvitationError(_("You already have an account. Log in first, then open the link again."))
            user = User.objects.create_user(email=invitation.email, password=password, name=name.strip())
        elif user.email.lower() != invitation.email.lower():
            raise InvitationError(
                _("This invitation is for %(email)s, but you are logged in as %(current)s.")
                % {"email": invitation.email, "current": user.email}
            )
        membership, created = Membership.objects.get_or_create(
            user=user, library=invitation.library, defaults={"role": invitation.role}
        )
        if not created and Role(invitation.role).rank > Role(membership.role).rank:
            membership.role = invitation.role
            membership.save(update_fields=["role"])
        Invitation.objects.filter(pk=invitation.pk).update(accepted_by=user)
        libraries_changed()  # the UPDATEs above: no receiver sees them
        audit(
            county=invitation.library.county,
            actor=user,
            action="invitation.accepted",
            obj=invitation,
            summary=f"{user.email} → {invitation.library.name} ({invitation.role})",
        )
    return user
