"""Whether bytes showing people may leave the server: the one rule (DESIGN.md §5).

Every path that sends an asset's bytes asks `media_release` first and sends
nothing when it says no: the asset's files in the app
(production/views/media_files.py), the archive's downloads and zips
(publishing/views/archive.py), the signed address Instagram fetches, and the
publishing gates and worker before they hand that address out. None of them
derives consent on its own; a new path marks its view with `serves_media`
and joins the walk in tests/reliability/test_media_release.py, which fails
for a view that sends media bytes without being walked.

What the consents allow comes from the asset's people and their consents
(`Asset.consent_state`, `allows_publishing`, `allows_archive_reuse` in
production/assets.py, with the SQL twin the archive's search filters on);
this module adds who is asking and what for. The table (README.md, "Media
and consent"):

* **view** (inside the app: thumbnail, Instagram version, poster frame,
  subtitles): everyone of the county while everyone shown has a valid
  consent (of any scope) or an editor confirmed that nobody can be
  recognised. Otherwise only those who sort the consent out: editors,
  coordinators and the asset's own library.
* **take away** (a download of the Instagram version or the subtitles, alone
  or in a zip): everyone of the county, only while everyone shown allows
  reuse from the archive (a download is reuse); nobody otherwise.
* **original** (the file as uploaded, always a download): editors and
  coordinators, on the same consent as taking away; each download audited.
* **publish** (the signed address for Instagram): only while everyone shown
  allows publishing.
* **share** (the bytes go to another county: the shared pool's thumbnails, a
  borrowed copy): only while everyone shown consented to sharing beyond the
  county (a guardian's consent for a minor), or nobody can be recognised.

A **borrowed copy** (an asset of another county's archive, `Asset.borrowed_from`)
is decided on its origin's people: every purpose above asks, on top of its
own scope, that everyone shown consented to sharing beyond the county. A
withdrawal or expiry in the origin county therefore blocks every copy at once.

An asset with nobody registered and no confirmation is *not reviewed*: not
in order for anything above.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

from django.utils import timezone
from django.utils.translation import gettext as _

from libraries.access import CountyAccess
from libraries.models import User
from libraries.services import audit
from production.access import can_change_asset
from production.models import CONSENT_IN_ORDER, Asset

type Scope = Literal["view", "publishing", "reuse", "sharing"]


class Purpose(StrEnum):
    """What the bytes are for."""

    VIEW = "view"  # shown inside the app
    TAKE_AWAY = "take_away"  # downloaded: the Instagram version or the subtitles, alone or in a zip
    ORIGINAL = "original"  # the original as uploaded
    PUBLISH = "publish"  # fetched by Instagram from the signed address
    SHARE = "share"  # sent to another county: the shared pool, a borrowed copy


@dataclass(frozen=True)
class Release:
    """The answer: may the bytes go, and if not, why (in the active language)."""

    allowed: bool
    reason: str = ""
    # Refused for who is asking (their role), not for the consent: a plain 403.
    for_role: bool = False
    # An original: each download goes into the audit log.
    audited: bool = False


def consent_reason(asset: Asset, *, scope: Scope, today: date | None = None) -> str:
    """Why the consents of the people shown do not allow `scope`, in words; "" when they do.

    Reads the asset's people and their consents (prefetch them for a list:
    `production.models.people_with_consents`).
    """
    today = today or timezone.localdate()
    if asset.borrowed_from is not None:
        # A borrowed copy: the origin's people decide, and they must allow sharing beyond their county.
        origin = asset.borrowed_from
        return consent_reason(origin, scope=scope, today=today) or consent_reason(origin, scope="sharing", today=today)
    if scope == "view" and asset.consent_state(today=today) in CONSENT_IN_ORDER:
        return ""
    if scope == "publishing" and asset.allows_publishing(today=today):
        return ""
    if scope == "reuse" and asset.allows_archive_reuse(today=today):
        return ""
    if scope == "sharing" and asset.allows_sharing(today=today):
        return ""
    people = list(asset.people.all())
    if not people:
        return _("nobody is registered as shown, and no editor has confirmed that it shows no identifiable people")
    if any(person.is_erased for person in people):
        return _("someone shown was erased from the register at their request")
    consents = [(person, person.current_consent()) for person in people]
    if any(consent is not None and consent.withdrawn_at is not None for _person, consent in consents):
        return _("someone shown has withdrawn their consent")
    if any(consent is not None and consent.expired(today=today) for _person, consent in consents):
        return _("the consent of someone shown has expired")
    if any(consent is None for _person, consent in consents):
        return _("someone shown has no consent on record")
    if any(
        consent is not None and (consent.person_is_minor or person.is_child) and not consent.given_by
        for person, consent in consents
    ):
        return _("a child shown has no guardian's consent on record")
    if scope == "reuse":
        return _("the consent of someone shown does not cover reuse from the archive")
    if scope == "sharing":
        return _("the consent of someone shown does not cover sharing with other counties")
    return _("the consent of someone shown does not cover publishing")


def media_release(asset: Asset, *, purpose: Purpose, access: CountyAccess | None, today: date | None = None) -> Release:
    """May the asset's bytes go out for `purpose` to the person with `access` (None: Instagram)?

    `access` must be the asking person's access to the asset's county (the
    gate in libraries/access.py has checked that already), except for `SHARE`,
    where it is their access to their own county; only `PUBLISH` takes None,
    as Instagram fetches without a login.
    """
    if purpose == Purpose.PUBLISH:
        return _on_consent(consent_reason(asset, scope="publishing", today=today))
    if purpose == Purpose.SHARE:
        # Whether the asset is in the pool at all is the network's question (publishing/network.py),
        # asked before this one; this is whether the people shown let it leave the county.
        if access is None:
            return Release(False, _("log in to see this file"), for_role=True)
        return _on_consent(consent_reason(asset, scope="sharing", today=today))
    if access is None:
        return Release(False, _("log in to see this file"), for_role=True)
    if purpose == Purpose.VIEW:
        if can_change_asset(access, asset) and not asset.is_borrowed:
            # Those who sort the consent out see the asset whatever its state (they record who is shown);
            # nobody sorts out a borrowed copy's consent in the borrowing county.
            return Release(True)
        return _on_consent(consent_reason(asset, scope="view", today=today))
    if purpose == Purpose.ORIGINAL and not may_fetch_originals(access):
        return Release(False, _("originals are for editors and coordinators"), for_role=True)
    found = _on_consent(consent_reason(asset, scope="reuse", today=today))
    return Release(True, audited=True) if found.allowed and purpose == Purpose.ORIGINAL else found


def may_fetch_originals(access: CountyAccess) -> bool:
    """Originals are for editors and coordinators (DESIGN.md §2); everyone else gets the Instagram version."""
    return access.is_editor


def _on_consent(reason: str) -> Release:
    return Release(not reason, reason)


@dataclass(frozen=True)
class AssetReleases:
    """What one person may fetch of one asset, computed once for its page (the templates read it)."""

    view: Release
    take_away: Release
    original: Release


def asset_releases(access: CountyAccess, asset: Asset, *, today: date | None = None) -> AssetReleases:
    today = today or timezone.localdate()
    return AssetReleases(
        view=media_release(asset, purpose=Purpose.VIEW, access=access, today=today),
        take_away=media_release(asset, purpose=Purpose.TAKE_AWAY, access=access, today=today),
        original=media_release(asset, purpose=Purpose.ORIGINAL, access=access, today=today),
    )


def serves_media[View: Callable[..., object]](view: View) -> View:
    """Mark a view that sends an asset's bytes: the consent walk must cover it (see the module docstring)."""
    view.serves_media = True  # type: ignore[attr-defined]  # a marker the tests read off the URL resolver
    return view


# --- The audit trail of what was sent (and refused) ---


def record_original_download(*, by: User, access: CountyAccess, asset: Asset, byte_range: str = "") -> None:
    """Audit an original sent to an editor or coordinator (`byte_range`: the request's Range, if any)."""
    audit(
        county=access.county,
        actor=by,
        action="asset.original_downloaded",
        obj=asset,
        summary=str(asset),
        range=byte_range,
    )


def record_refused_download(*, by: User, access: CountyAccess, asset: Asset, reason: str, file: str) -> None:
    """Audit a download the consent did not allow (the person is sent back to the asset's page)."""
    audit(
        county=access.county,
        actor=by,
        action="asset.download_refused",
        obj=asset,
        summary=f"{asset}: {reason}",
        file=file,
    )
