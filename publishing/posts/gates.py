"""The gates that protect trust (DESIGN.md §5): what must hold before a post may be scheduled.

`failing_gates` reads only what `Post.objects.for_gates()` prefetches, so a
list of posts costs the same number of queries however many rows it has.
Each failure is a sentence in plain words, in the active language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from libraries.models import Library
from production.models import Asset, ConsentState
from production.release import Purpose, media_release
from publishing.models import Channel, Post
from publishing.posts import captions


@dataclass(frozen=True)
class Gate:
    """One failing gate: a stable code (for tests and styling) and what to do, in words."""

    code: str
    message: str


def _names(assets: list[Asset]) -> str:
    return ", ".join(f"“{asset}”" for asset in assets)


def _media_gates(post: Post, assets: list[Asset], today: date) -> list[Gate]:
    gates: list[Gate] = []
    images = [a for a in assets if a.is_image]
    videos = [a for a in assets if a.is_video]
    kind = post.media_kind
    if not assets:
        gates.append(Gate("media", _("Choose the photo or video to publish.")))
    elif kind == Post.MediaKind.IMAGE and (len(assets) != 1 or videos):
        gates.append(Gate("media", _("A photo post shows exactly one photo.")))
    elif kind == Post.MediaKind.REEL and (len(assets) != 1 or images):
        gates.append(Gate("media", _("A reel shows exactly one video.")))
    elif kind == Post.MediaKind.CAROUSEL and not 2 <= len(assets) <= 10:
        gates.append(
            Gate(
                "media",
                ngettext(
                    "A carousel shows 2 to 10 photos or videos; this one has %(count)s.",
                    "A carousel shows 2 to 10 photos or videos; this one has %(count)s.",
                    len(assets),
                )
                % {"count": len(assets)},
            )
        )

    missing_alt = [a for a in images if not a.alt_text.strip()]
    if missing_alt:
        gates.append(
            Gate(
                "alt_text",
                ngettext(
                    "Write alt text for the photo %(names)s.",
                    "Write alt text for the photos %(names)s.",
                    len(missing_alt),
                )
                % {"names": _names(missing_alt)},
            )
        )
    missing_subtitles = [a for a in videos if not a.has_subtitles]
    if missing_subtitles:
        gates.append(
            Gate(
                "subtitles",
                ngettext(
                    "Add subtitles to the video %(names)s, or confirm that they are burned in.",
                    "Add subtitles to the videos %(names)s, or confirm that they are burned in.",
                    len(missing_subtitles),
                )
                % {"names": _names(missing_subtitles)},
            )
        )
    refused = [a for a in assets if not media_release(a, purpose=Purpose.PUBLISH, access=None, today=today).allowed]
    not_reviewed = [a for a in refused if a.consent_state(today=today) == ConsentState.NOT_REVIEWED]
    without_consent = [a for a in refused if a not in not_reviewed]
    if not_reviewed:
        gates.append(
            Gate(
                "consent",
                ngettext(
                    "Nobody is registered as shown in %(names)s: add the people shown, or have an editor "
                    "confirm on its page that it shows no identifiable people.",
                    "Nobody is registered as shown in %(names)s: add the people shown, or have an editor "
                    "confirm on their pages that they show no identifiable people.",
                    len(not_reviewed),
                )
                % {"names": _names(not_reviewed)},
            )
        )
    if without_consent:
        gates.append(
            Gate(
                "consent",
                ngettext(
                    "Someone shown in %(names)s has no valid consent to publishing "
                    "(a guardian's for a child). Record it, or choose other media.",
                    "Someone shown in %(names)s has no valid consent to publishing "
                    "(a guardian's for a child). Record it, or choose other media.",
                    len(without_consent),
                )
                % {"names": _names(without_consent)},
            )
        )
    not_ready = [a for a in assets if a.status != Asset.Status.READY or not a.rendition]
    if not_ready:
        gates.append(
            Gate(
                "rendition",
                _("Wait until the Instagram version of %(names)s is ready, or choose other media.")
                % {"names": _names(not_ready)},
            )
        )
    for asset in assets:
        check = instagram_check(asset, post.media_kind)
        if check.get("verdict") == "rejected":
            reasons = " ".join(str(reason) for reason in check.get("reasons") or [])
            gates.append(
                Gate(
                    "specs",
                    _("“%(name)s” does not meet Instagram's requirements: %(reasons)s")
                    % {"name": asset, "reasons": reasons or _("see the media page for why.")},
                )
            )
    return gates


def origin_mention(asset: Asset) -> str:
    """What a caption must keep of a borrowed copy's credit: the origin library's @username, or its name."""
    origin = asset.borrowed_from
    if origin is None:
        return ""
    library = origin.library
    return f"@{library.instagram_username}" if library.instagram_username else library.name


def _credit_gates(post: Post, assets: list[Asset]) -> list[Gate]:
    """A post made from a borrowed copy credits its origin (steal with style): the credit is put in the
    caption when the post is made, may be reworded, but never silently dropped."""
    caption = post.full_caption.casefold()
    missing = [mention for a in assets if (mention := origin_mention(a)) and mention.casefold() not in caption]
    if not missing:
        return []
    return [
        Gate(
            "credit",
            _("The caption must credit the library a borrowed photo or video came from: mention %(names)s.")
            % {"names": ", ".join(dict.fromkeys(missing))},
        )
    ]


def instagram_check(asset: Asset, media_kind: str) -> dict[str, Any]:
    """The stored verdict for how the post uses the asset: a video in a carousel has limits of its own.

    `Asset.instagram_check` is `{verdict, reasons, use}`, and for a video also
    `carousel: {verdict, reasons}` (production.processing.instagram.instagram_check_video).
    """
    check = asset.instagram_check if isinstance(asset.instagram_check, dict) else {}
    carousel = check.get("carousel")
    if media_kind == Post.MediaKind.CAROUSEL and asset.is_video and isinstance(carousel, dict):
        return carousel
    return check


def asset_gates(asset: Asset, *, today: date | None = None) -> list[Gate]:
    """What stops one asset from being published in any post (alt text, subtitles, consent, readiness, specs).

    The media picker marks each choice with these, in the gates' own words.
    """
    kind = Post.MediaKind.REEL if asset.is_video else Post.MediaKind.IMAGE
    found = _media_gates(Post(media_kind=kind), [asset], today or timezone.localdate())
    return [gate for gate in found if gate.code != "media"]


def failing_gates(post: Post, *, channel: Channel | None, today: date | None = None) -> list[Gate]:
    """Everything that stops `post` from being scheduled; empty when it may go out."""
    today = today or timezone.localdate()
    gates: list[Gate] = []
    approval = post.active_approval()
    if approval is None:
        gates.append(Gate("approval", _("An editor other than the author must approve the post.")))
    gates.extend(content_gates(post, post.ordered_assets(), post.collaborator_libraries(), today=today))
    if post.scheduled_at is None:
        gates.append(Gate("time", _("Choose when to publish.")))
    if channel is None or not channel.is_connected:
        gates.append(Gate("channel", _("The county's Instagram account is not connected.")))
    return gates


def content_gates(post: Post, assets: list[Asset], collaborators: list[Library], *, today: date) -> list[Gate]:
    """The gates on what the post says and shows (media, caption, collaborators): also for a post being composed."""
    gates = _media_gates(post, assets, today)
    gates.extend(_credit_gates(post, assets))
    counts = captions.count(post.full_caption)
    gates.extend(Gate("caption", problem) for problem in counts.problems)
    if not post.full_caption.strip():
        gates.append(Gate("caption", _("Write a caption.")))
    if len(collaborators) > captions.MAX_COLLABORATORS:
        gates.append(
            Gate(
                "collaborators",
                _("Instagram takes at most %(max)s collaborators; this post has %(count)s.")
                % {"max": captions.MAX_COLLABORATORS, "count": len(collaborators)},
            )
        )
    without_username = [library for library in collaborators if not library.instagram_username]
    if without_username:
        gates.append(
            Gate(
                "collaborators",
                _("%(names)s has no Instagram username, so it cannot be a collaborator.")
                % {"names": ", ".join(str(library) for library in without_username)},
            )
        )
    return gates
