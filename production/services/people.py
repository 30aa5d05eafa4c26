"""The county's register of people and their consent: search, digital consent links, the person's
rights (export, erase) and merging entries that are the same person (DESIGN.md §3, §5).

Tagging, recording and withdrawing consent live in production.services.media
next to what follows from them (`consent_lapsed`); this module builds on them.
Every change is audited; e-mails go after commit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from libraries.models import AuditEntry, County, User
from libraries.services import absolute_url, audit, send_templated_mail_on_commit
from production.models import (
    Asset,
    AssetPerson,
    Consent,
    ConsentLink,
    ConsentState,
    Person,
    PresenterSignup,
    people_with_consents,
)
from production.services import media as asset_services

SEARCH_LIMIT = 10
ERASED = "[erased]"


# --- Finding people ---


def search_register(county: County, query: str, *, limit: int = SEARCH_LIMIT) -> list[Person]:
    """People of the county whose name contains every word typed, the closest first (prefix before infix)."""
    words = query.split()
    if not words:
        return []
    people = Person.objects.for_county(county)
    for word in words:
        people = people.filter(name__icontains=word)
    found = list(people.with_consents().order_by(Lower("name"), "pk")[: limit * 3])
    first = words[0].lower()
    found.sort(key=lambda person: (not person.name.lower().startswith(first), person.name.lower(), person.pk))
    return found[:limit]


def expiring_consents(county: County, *, today: date | None = None) -> list[tuple[Person, Consent]]:
    """People whose current consent ends within 30 days (and has not ended), soonest first (the coordinator's home).

    One query however many: the consents ending soon that are their person's latest, with the person.
    """
    today = today or timezone.localdate()
    latest = Consent.objects.filter(person=OuterRef("person_id")).order_by("-given_at", "-pk").values("pk")[:1]
    ending = (
        Consent.objects.filter(
            person__county=county,
            valid_until__gte=today,
            valid_until__lte=today + Consent.EXPIRING_WITHIN,
            withdrawn_at__isnull=True,
        )
        .annotate(latest_pk=Subquery(latest))
        .filter(pk=F("latest_pk"))
        .select_related("person")
    )
    rows = [
        (consent.person, consent)
        for consent in ending
        if consent.state(today=today, child=consent.person.is_child) == ConsentState.EXPIRING
    ]
    return sorted(rows, key=lambda row: (row[1].valid_until, row[0].name))


# --- Digital consent through a one-time link ---


class ConsentLinkError(Exception):
    """The link cannot be used (unknown, expired, answered); the message says why, in the reader's language."""


def consent_text(link: ConsentLink) -> str:
    """What the person reads and agrees to, in the link's language: kept word for word as the evidence."""
    with translation.override(link.language):
        return render_to_string("production/consent_text.txt", {"link": link, "person": link.person}).strip()


def send_consent_link(
    *,
    by: User,
    person: Person,
    email: str,
    language: str = "",
    covers_publishing: bool = True,
    covers_archive_reuse: bool = True,
    covers_sharing: bool = False,
    valid_until: date | None = None,
) -> tuple[ConsentLink, str]:
    """Send the person (or a child's guardian) a one-time link to consent; returns the link and its token.

    Only the token's hash is stored. The e-mail goes in the person's language after commit.
    """
    email = email.strip()
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = _("Write the address the link goes to (a child's guardian's for a child).")
    if not (covers_publishing or covers_archive_reuse or covers_sharing):
        errors["covers_publishing"] = _("Choose what the consent covers: publishing, reuse from the archive, or both.")
    if valid_until is not None and valid_until < timezone.localdate():
        errors["valid_until"] = _("This consent has already expired; record one that is valid now.")
    if person.is_child and not person.guardian:
        errors["email"] = _("A child's consent is given by a guardian: write the guardian's name on the person first.")
    if errors:
        raise ValidationError(errors)
    token = ConsentLink.new_token()
    language = language or person.language or settings.LANGUAGE_CODE
    with transaction.atomic():
        link = ConsentLink.objects.create(
            person=person,
            token_hash=ConsentLink.hash_token(token),
            email=email,
            language=language,
            covers_publishing=covers_publishing,
            covers_archive_reuse=covers_archive_reuse,
            covers_sharing=covers_sharing,
            valid_until=valid_until,
            created_by=by,
            expires_at=timezone.now() + ConsentLink.VALID_FOR,
        )
        if not person.contact_email:
            Person.objects.filter(pk=person.pk).update(contact_email=email)
        audit(
            county=person.county,
            actor=by,
            action="consent.link_sent",
            obj=person,
            summary=person.name,
            link=link.pk,
            valid_until=valid_until.isoformat() if valid_until else None,
        )
        with translation.override(language):
            send_templated_mail_on_commit(
                to=[email],
                template="consent_link",
                context={
                    "person": person,
                    "county": person.county,
                    "url": absolute_url(reverse("production:consent_link", args=[token])),
                    "expires_at": link.expires_at,
                    "for_child": person.is_child,
                },
            )
    return link, token


def find_consent_link(token: str) -> ConsentLink:
    """The link for a token, whatever its state (the page says what it can still do); ConsentLinkError if unknown."""
    link = ConsentLink.objects.for_token(token).select_related("person__county", "consent").first()
    if link is None:
        raise ConsentLinkError(
            _(
                "This consent link is not valid. Check that the whole address was copied, "
                "or ask the library for a new one."
            )
        )
    return link


def answer_consent_link(*, token: str, confirm: bool, email: str, ip: str, text_seen: str) -> ConsentLink:
    """The person confirms or declines on the link's page. Confirming records the consent with its evidence:
    when, from which network address, the address the link was sent to, and the text they saw.

    Once per link: a second answer, an expired link, or an address other than the one the link was sent
    to (a forwarded link) is refused with the reason, and nothing changes.
    """
    with transaction.atomic():
        link = (
            ConsentLink.objects.select_for_update()
            .filter(pk=find_consent_link(token).pk)
            .select_related("person__county")
            .get()
        )
        if link.is_answered:
            raise ConsentLinkError(_("This link has already been answered. You can withdraw the consent on this page."))
        if link.is_expired():
            raise ConsentLinkError(_("This link has expired. Ask the library to send you a new one."))
        if email.strip().lower() != link.email.lower():
            raise ValidationError(
                {
                    "email": _(
                        "This is not the address the link was sent to. If the link was forwarded to you, "
                        "ask the library for a link of your own."
                    )
                }
            )
        person = link.person
        now = timezone.now()
        link.answered_at = now
        link.outcome = ConsentLink.Outcome.CONFIRMED if confirm else ConsentLink.Outcome.DECLINED
        if confirm:
            link.consent = asset_services.record_consent(
                by=None,
                person=person,
                covers_publishing=link.covers_publishing,
                covers_archive_reuse=link.covers_archive_reuse,
                covers_sharing=link.covers_sharing,
                given_at=timezone.localdate(),
                valid_until=link.valid_until,
                person_is_minor=person.is_child,
                given_by=person.guardian if person.is_child else "",
                digital_record={
                    "at": now.isoformat(),
                    "ip": ip,
                    "email": link.email,
                    "language": link.language,
                    "text": text_seen,
                    "link": link.pk,
                },
            )
        link.save(update_fields=["answered_at", "outcome", "consent"])
        audit(
            county=person.county,
            actor=None,
            action="consent.link_confirmed" if confirm else "consent.link_declined",
            obj=person,
            summary=person.name,
            link=link.pk,
            ip=ip,
        )
    return link


def withdraw_through_link(*, token: str, ip: str, note: str = "") -> list[Consent]:
    """The person withdraws on their link's page: everything they are in, as an editor's withdrawal does."""
    link = find_consent_link(token)
    consent = link.person.current_consent()
    if consent is None or consent.withdrawn_at is not None:
        raise ConsentLinkError(_("There is no consent in force to withdraw."))
    note = note.strip() or _("Withdrawn by the person through their consent link.")
    withdrawn = asset_services.withdraw_consent(by=None, consent=consent, note=f"{note} ({ip})")
    return withdrawn


# --- Correcting a register entry ---

EDITABLE_FIELDS = ("name", "category", "contact_email", "guardian", "language")


def update_person(*, by: User, person: Person, **values: str) -> list[str]:
    """Correct a register entry (name, category, contact address, guardian, language); audited with the fields
    changed, not their values. Returns the names of the fields that changed.

    What the person's consent allows can change with it (a child's consent counts only when a guardian gave
    it): approved and scheduled posts showing them that are no longer allowed go back to review, and the
    archive's copies are refreshed either way.
    """
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable here: {sorted(unknown)}")
    with transaction.atomic():
        person = Person.objects.select_for_update().with_consents().get(pk=person.pk)
        cleaned = {
            "name": asset_services._clean_name(values.get("name", person.name)),
            "category": values.get("category", person.category),
            "contact_email": values.get("contact_email", person.contact_email).strip(),
            "guardian": " ".join(values.get("guardian", person.guardian).split()),
            "language": values.get("language") or person.language or settings.LANGUAGE_CODE,
        }
        changed = [field for field, value in cleaned.items() if getattr(person, field) != value]
        if not changed:
            return []
        asset_ids = list(AssetPerson.objects.filter(person=person).values_list("asset_id", flat=True))
        allowed_before = _publishable(asset_ids)
        for field, value in cleaned.items():
            setattr(person, field, value)
        person.full_clean(exclude=["county", "created_by"])
        person.save(update_fields=changed)
        audit(
            county=person.county,
            actor=by,
            action="person.changed",
            obj=person,
            summary=person.name,
            person=person.pk,
            fields=changed,
        )
        if asset_ids:
            narrowed = sorted(allowed_before - _publishable(asset_ids))
            if narrowed:
                asset_services._media_changed(
                    asset_services.MediaChange(
                        asset_ids=narrowed,
                        by=by,
                        lapsed_reason=_(
                            "The register entry of someone shown was corrected, and their consent no longer "
                            "covers publishing (a child's consent must be given by a guardian)."
                        ),
                    )
                )
            if rest := [pk for pk in asset_ids if pk not in narrowed]:
                asset_services._media_changed(asset_services.MediaChange(asset_ids=rest, by=by))
    return changed


def _publishable(asset_ids: list[int]) -> set[int]:
    assets = Asset.objects.filter(pk__in=asset_ids).prefetch_related(people_with_consents())
    return {asset.pk for asset in assets if asset.allows_publishing()}


# --- Presenters on recording days ---


def register_presenter(*, by: User | None, county: County, user: User) -> Person:
    """The presenter as someone in the county's register, registered as staff when they are not yet.

    Found as the entry an earlier sign-up of theirs in the county has, else an adult entry with their
    e-mail as its contact address (the oldest); migration 0010 linked existing sign-ups the same way.
    """
    earlier = (
        PresenterSignup.objects.filter(recording_day__county=county, person=user, register_person__isnull=False)
        .select_related("register_person")
        .order_by("-created_at", "-pk")
        .first()
    )
    if earlier is not None and earlier.register_person is not None:
        return earlier.register_person
    if user.email:
        same_address = (
            Person.objects.for_county(county)
            .filter(contact_email__iexact=user.email)
            .exclude(category=Person.Category.CHILD)  # a child's contact address is their guardian's
            .order_by("created_at", "pk")
            .first()
        )
        if same_address is not None:
            return same_address
    return asset_services.create_person(
        by=by,
        county=county,
        name=user.name or user.email,
        category=Person.Category.STAFF,
        contact_email=user.email,
        language=user.language or settings.LANGUAGE_CODE,
    )


@dataclass(frozen=True)
class PresenterConsent:
    """Where a presenter's consent stands: in force, asked for through a link that is out and unanswered, or missing."""

    IN_FORCE: ClassVar[str] = "in_force"
    ASKED: ClassVar[str] = "asked"
    MISSING: ClassVar[str] = "missing"

    status: str
    consent: Consent | None = None
    link: ConsentLink | None = None

    @property
    def in_force(self) -> bool:
        return self.status == self.IN_FORCE


def presenter_consent(person: Person, *, today: date | None = None) -> PresenterConsent:
    """Whether the person's consent to publishing is in force, or a link asking for it is out and unanswered.

    Reads `consents` and `consent_links` (prefetch them for a list of sign-ups)."""
    today = today or timezone.localdate()
    if person.allows(publishing=True, today=today):
        return PresenterConsent(PresenterConsent.IN_FORCE, consent=person.current_consent())
    now = timezone.now()
    pending = [link for link in person.consent_links.all() if not link.is_answered and not link.is_expired(now)]
    if pending:
        return PresenterConsent(PresenterConsent.ASKED, link=max(pending, key=lambda link: link.created_at))
    return PresenterConsent(PresenterConsent.MISSING)


def ask_presenter_consent(*, by: User, person: Person) -> PresenterConsent:
    """On sign-up: a presenter without consent in force gets a consent link at their contact address,
    unless one is already out and unanswered (it is not sent twice)."""
    status = presenter_consent(person)
    if status.status != PresenterConsent.MISSING or not person.contact_email:
        return status
    if person.is_child and not person.guardian:
        return status
    link, _token = send_consent_link(by=by, person=person, email=person.contact_email, language=person.language)
    return PresenterConsent(PresenterConsent.ASKED, link=link)


# --- The person's rights: export and erase ---


def export_person(person: Person) -> dict[str, Any]:
    """Everything held about a person: their record, consents, the media and posts they are in."""
    from django.apps import apps  # publishing is above production: read its posts by name, not by import

    tags = list(AssetPerson.objects.filter(person=person).select_related("asset__library").order_by("asset_id"))
    asset_ids = [tag.asset_id for tag in tags]
    post_asset = apps.get_model("publishing", "PostAsset")
    posts = (
        post_asset.objects.filter(asset_id__in=asset_ids)
        .select_related("post")
        .order_by("post_id")
        .values_list("post_id", "post__title", "post__status", "post__published_at", "post__permalink")
        .distinct()
    )
    return {
        "exported_at": timezone.now().isoformat(),
        "county": person.county.name,
        "person": {
            "id": person.pk,
            "name": person.name,
            "category": person.category,
            "guardian": person.guardian,
            "contact_email": person.contact_email,
            "language": person.language,
            "registered_at": person.created_at.isoformat(),
        },
        "consents": [
            {
                "given_at": consent.given_at.isoformat(),
                "valid_until": consent.valid_until.isoformat() if consent.valid_until else None,
                "publishing": consent.covers_publishing,
                "archive_reuse": consent.covers_archive_reuse,
                "sharing_beyond_the_county": consent.covers_sharing,
                "given_by": consent.given_by,
                "minor": consent.person_is_minor,
                "evidence": "signed form" if consent.evidence else ("digital" if consent.digital_record else "note"),
                "evidence_note": consent.evidence_note,
                "digital_record": consent.digital_record,
                "withdrawn_at": consent.withdrawn_at.isoformat() if consent.withdrawn_at else None,
                "withdrawal_note": consent.withdrawal_note,
            }
            for consent in person.consents.order_by("given_at", "pk")
        ],
        "media": [
            {
                "id": tag.asset_id,
                "title": str(tag.asset),
                "library": tag.asset.library.name,
                "kind": tag.asset.kind,
                "uploaded_at": tag.asset.created_at.isoformat(),
            }
            for tag in tags
        ],
        "posts": [
            {
                "id": pk,
                "title": title,
                "status": status,
                "published_at": published_at.isoformat() if published_at else None,
                "permalink": permalink,
            }
            for pk, title, status, published_at, permalink in posts
        ],
    }


def export_json(person: Person, *, by: User) -> bytes:
    """The export as a file (audited: who took it out, not what is in it)."""
    data = export_person(person)
    audit(county=person.county, actor=by, action="person.exported", obj=person, summary=f"person #{person.pk}")
    return json.dumps(data, ensure_ascii=False, indent=2).encode()


def erase_person(*, by: User, person: Person) -> list[int]:
    """Erase a person at their request: the record and consents go (with signed forms), the tags stay
    without a name so the media showing them are blocked from any further use, approved and scheduled
    posts with them go back to review, and the audit keeps that it happened without the name.

    Returns the ids of the media that are now blocked.
    """
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        county = person.county
        asset_ids = list(AssetPerson.objects.filter(person=person).values_list("asset_id", flat=True))
        evidence = [name for name in person.consents.values_list("evidence", flat=True) if name]
        consent_ids = [str(pk) for pk in person.consents.values_list("pk", flat=True)]
        # The name leaves the audit log too: entries about the person, their consents and their tags.
        about = Q(object_type="production.person", object_id=str(person.pk)) | Q(
            object_type="production.consent", object_id__in=consent_ids
        )
        AuditEntry.objects.filter(about).update(summary=ERASED)
        AuditEntry.objects.filter(county=county, data__person=person.pk).update(summary=ERASED)
        AssetPerson.objects.filter(person=person).update(person=None)  # on_delete would too; say it
        person.delete()
        Asset.objects.filter(pk__in=asset_ids, consent_lapsed_at__isnull=True).update(consent_lapsed_at=timezone.now())
        # Keeps no link to a record that is gone: its type, never its id or name.
        AuditEntry.objects.create(
            county=county,
            actor=by,
            action="person.erased",
            object_type="production.person",
            object_id="",
            summary=ERASED,
            data={"assets": asset_ids},
        )
        if asset_ids:
            asset_services._media_changed(
                asset_services.MediaChange(
                    asset_ids=asset_ids,
                    by=by,
                    lapsed_reason=_("Someone shown in this post was erased from the register at their request."),
                )
            )
        if evidence:
            asset_services._delete_files_on_commit(evidence, Consent._meta.get_field("evidence").storage)
    return asset_ids


# --- Merging entries that are the same person ---


@dataclass(frozen=True)
class MergeProposal:
    name: str
    people: list[Person]


def merge_proposals(county: County) -> list[MergeProposal]:
    """Entries of the county with the same name (ignoring case and spacing): maybe the same person."""
    same = (
        Person.objects.for_county(county)
        .annotate(key=Lower("name"))
        .values("key")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .order_by("key")
        .values_list("key", flat=True)
    )
    keys = list(same[:200])
    if not keys:
        return []
    people = (
        Person.objects.for_county(county)
        .annotate(key=Lower("name"), tag_count=Count("tags", distinct=True))
        .filter(key__in=keys)  # type: ignore[misc]  # an annotation
        .with_consents()
        .order_by("key", "created_at", "pk")
    )
    grouped: dict[str, list[Person]] = {}
    for person in people:
        grouped.setdefault(person.key, []).append(person)  # type: ignore[attr-defined]  # annotated
    return [MergeProposal(name=group[0].name, people=group) for group in grouped.values()]


@dataclass(frozen=True)
class MergedConsent:
    """What the merged entry's consent will be, and why (the editor sees this before merging)."""

    consent: Consent | None
    reasons: list[str]
    # The consents disagree: `consent` (unsaved) is recorded on top when merging.
    disagree: bool = False
    # One of them was withdrawn: the withdrawal stands for both.
    withdrawn: bool = False


def merged_consent(keep: Person, other: Person, *, today: date | None = None) -> MergedConsent:
    """Two entries of one person whose consents may disagree: the narrower scope and the earlier expiry win;
    a withdrawal, or a missing consent, wins over everything."""
    today = today or timezone.localdate()
    a, b = keep.current_consent(), other.current_consent()
    if a is None and b is None:
        return MergedConsent(None, [_("Neither entry has a consent on record; the merged entry has none either.")])
    if a is None or b is None:
        return MergedConsent(a or b, [_("Only one entry has a consent on record; it now covers the media of both.")])
    reasons: list[str] = []
    withdrawn = next((c for c in (a, b) if c.withdrawn_at is not None), None)
    if withdrawn is not None:
        return MergedConsent(
            withdrawn, [_("One of the consents was withdrawn: the withdrawal stands for both.")], withdrawn=True
        )
    merged = Consent(
        person=keep,
        covers_publishing=a.covers_publishing and b.covers_publishing,
        covers_archive_reuse=a.covers_archive_reuse and b.covers_archive_reuse,
        covers_sharing=a.covers_sharing and b.covers_sharing,
        given_at=max(a.given_at, b.given_at),
        valid_until=min((c.valid_until for c in (a, b) if c.valid_until is not None), default=None),
        person_is_minor=a.person_is_minor or b.person_is_minor,
        given_by=a.given_by or b.given_by,
        evidence_note=_("Merged from two register entries: %(a)s and %(b)s.") % {"a": _describe(a), "b": _describe(b)},
    )
    if (a.covers_publishing, a.covers_archive_reuse, a.covers_sharing) != (
        b.covers_publishing,
        b.covers_archive_reuse,
        b.covers_sharing,
    ):
        reasons.append(
            _("The consents cover different things; the merged consent covers only what both cover: %(scope)s.")
            % {"scope": merged.full_scope_display}
        )
    if a.valid_until != b.valid_until:
        reasons.append(
            _("The consents end on different days; the earlier end wins: %(date)s.")
            % {"date": merged.valid_until.isoformat() if merged.valid_until else _("until withdrawn")}
        )
    if not reasons:
        return MergedConsent(a if (a.given_at, a.pk) >= (b.given_at, b.pk) else b, [_("The consents agree.")])
    return MergedConsent(merged, reasons, disagree=True)


def _describe(consent: Consent) -> str:
    until = consent.valid_until.isoformat() if consent.valid_until else _("until withdrawn")
    return f"{consent.full_scope_display}, {consent.given_at.isoformat()} - {until}"


def merge_people(*, by: User, keep: Person, other: Person) -> Person:
    """Merge `other` into `keep`: an explicit, audited editor's action, never automatic.

    Tags move to `keep` (one tag per asset), the consents' history moves too,
    and when the two disagree a merged consent is recorded on top (narrower
    scope, earlier expiry; `merged_consent`). A withdrawal on either side
    stands and its media stay blocked.
    """
    if keep.pk == other.pk or keep.county_id != other.county_id:
        raise ValidationError(_("Choose two different entries of the same county to merge."))
    with transaction.atomic():
        keep, other = (
            Person.objects.select_for_update().with_consents().get(pk=keep.pk),
            Person.objects.select_for_update().with_consents().get(pk=other.pk),
        )
        outcome = merged_consent(keep, other)
        both_assets = set(AssetPerson.objects.filter(person=keep).values_list("asset_id", flat=True))
        moved_assets = list(AssetPerson.objects.filter(person=other).values_list("asset_id", flat=True))
        AssetPerson.objects.filter(person=other, asset_id__in=both_assets).delete()
        AssetPerson.objects.filter(person=other).update(person=keep)
        Consent.objects.filter(person=other).update(person=keep)
        ConsentLink.objects.filter(person=other).update(person=keep)
        PresenterSignup.objects.filter(register_person=other).update(register_person=keep)
        for field in ("contact_email", "guardian"):
            if not getattr(keep, field) and getattr(other, field):
                setattr(keep, field, getattr(other, field))
        if other.category == Person.Category.CHILD:
            keep.category = Person.Category.CHILD  # the stricter rule wins
        keep.save(update_fields=["contact_email", "guardian", "category"])
        now = timezone.now()
        if outcome.disagree and outcome.consent is not None:
            outcome.consent.recorded_by = by
            outcome.consent.save()
        if outcome.withdrawn:
            Consent.objects.filter(person=keep, withdrawn_at__isnull=True).update(
                withdrawn_at=now, withdrawal_note=_("Withdrawn when two register entries were merged."),
                lapse_handled_at=now,
            )  # fmt: skip
        affected = sorted(both_assets | set(moved_assets))
        audit(
            county=keep.county,
            actor=by,
            action="person.merged",
            obj=keep,
            summary=keep.name,
            person=keep.pk,
            merged=other.pk,
            assets=affected,
            reasons=outcome.reasons,
        )
        other.delete()
        assets = list(Asset.objects.filter(pk__in=affected).prefetch_related(people_with_consents()))
        blocked = [asset.pk for asset in assets if not asset.allows_publishing()]
        if blocked:
            Asset.objects.filter(pk__in=blocked, consent_lapsed_at__isnull=True).update(consent_lapsed_at=now)
            asset_services._media_changed(
                asset_services.MediaChange(
                    asset_ids=blocked,
                    by=by,
                    lapsed_reason=_("Two register entries were merged and the consent of someone shown narrowed."),
                )
            )
        if rest := [pk for pk in affected if pk not in blocked]:
            asset_services._media_changed(asset_services.MediaChange(asset_ids=rest, by=by))
    return keep


def renewal_default(consent: Consent) -> date | None:
    """A renewal asks for as long again as the consent ran (a year when it had no end)."""
    if consent.valid_until is None:
        return None
    length = max(consent.valid_until - consent.given_at, timedelta(days=30))
    return timezone.localdate() + length
