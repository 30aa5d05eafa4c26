"""The Instagram preview of a post, and what the media picker says about each choice.

The preview shows the post as Instagram will: the frame the feed crops to (the
first item's shape, kept between 4:5 and 1.91:1, for every item of a carousel;
9:16 for a reel, with the parts the reel's buttons and caption cover shaded),
the Collab header, the caption cut where Instagram shows "… more", and the alt
text. Media bytes come from the asset's own addresses, which ask
production/release.py; the preview asks the same rule first, so an asset the
reader may not see is named with the reason instead of shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from libraries.access import CountyAccess
from libraries.models import Library
from production.models import Asset
from production.processing.images import IG_FEED_MAX_ASPECT, IG_FEED_MIN_ASPECT
from production.release import Purpose, media_release
from publishing.models import Channel, Post
from publishing.posts import gates

# Where Instagram's feed cuts a caption and shows "… more": about 125 characters, or two lines,
# whichever comes first (Instagram's own guidance for ads and what the apps show in 2025).
CAPTION_CUT_CHARACTERS = 125
CAPTION_CUT_LINES = 2
# A cut falls back to the last space this close to the limit, as the apps do not split words.
_WORD_BACKOFF = 20
# Named shapes (ratio, label, CSS slug); others are labelled by their ratio.
_SHAPES = ((4 / 5, "4:5", "4x5"), (1.0, "1:1", "1x1"), (1.91, "1.91:1", "191x100"), (9 / 16, "9:16", "9x16"))
_SAME_SHAPE = 0.015
# The frame's pixel size for a given shape: wide as the feed's 1080 px.
FRAME_WIDTH = 1080


@dataclass(frozen=True)
class Frame:
    """The box Instagram shows the media in: its size (for the img/video width and height) and name."""

    width: int
    height: int
    label: str  # "4:5", "1:1", "1.91:1", "9:16" or "1.50:1"
    slug: str  # for the CSS class: "4x5", "1x1", "191x100", "9x16" or "free"

    @classmethod
    def of_ratio(cls, ratio: float) -> Frame:
        known, label, slug = next(
            (shape for shape in _SHAPES if abs(ratio - shape[0]) / shape[0] <= _SAME_SHAPE),
            (ratio, f"{ratio:.2f}:1", "free"),
        )
        return cls(FRAME_WIDTH, round(FRAME_WIDTH / known), label, slug)


@dataclass(frozen=True)
class Slide:
    asset: Asset
    src: str = ""  # the Instagram version (or its poster frame while it is being made)
    poster: str = ""
    subtitles: str = ""  # the WebVTT file, for a <track> (only while the Instagram version does not carry them)
    playable: bool = False
    hidden_reason: str = ""  # why the reader may not see it (the release rule's words)


@dataclass(frozen=True)
class Account:
    name: str
    username: str  # without the @; "" when the library has none (it cannot be a collaborator)


@dataclass(frozen=True)
class Preview:
    media_kind: str
    frame: Frame
    slides: list[Slide]
    account: Account
    collaborators: list[Account]
    caption_shown: str
    caption_cut: bool
    caption_full: str
    gates: list[gates.Gate] = field(default_factory=list)

    @property
    def is_reel(self) -> bool:
        return self.media_kind == Post.MediaKind.REEL

    @property
    def is_carousel(self) -> bool:
        return len(self.slides) > 1


def cut_caption(text: str) -> tuple[str, bool]:
    """The caption as the feed shows it before "… more", and whether it was cut.

    Counts code points (an emoji counts once, as the counters do). The cut is at
    the end of the second line or after 125 characters, whichever comes first,
    and goes back to the last space when one is near, so no word is split.
    """
    text = text.strip()
    lines = text.split("\n")
    shown = "\n".join(lines[:CAPTION_CUT_LINES])
    cut = len(lines) > CAPTION_CUT_LINES
    characters = list(shown)
    if len(characters) > CAPTION_CUT_CHARACTERS:
        head = "".join(characters[:CAPTION_CUT_CHARACTERS])
        space = max(head.rfind(" "), head.rfind("\n"))
        shown = head[:space] if space >= CAPTION_CUT_CHARACTERS - _WORD_BACKOFF else head
        cut = True
    return shown.rstrip(), cut


def _shape_of(asset: Asset) -> float | None:
    made = (asset.renditions or {}).get("rendition") if isinstance(asset.renditions, dict) else None
    width, height = (made.get("width"), made.get("height")) if isinstance(made, dict) else (None, None)
    width, height = width or asset.width, height or asset.height
    return width / height if width and height else None


def frame_for(media_kind: str, assets: list[Asset]) -> Frame:
    """A reel is 9:16; the feed shows the first item's shape, kept within 4:5 to 1.91:1, for every item."""
    if media_kind == Post.MediaKind.REEL:
        return Frame.of_ratio(9 / 16)
    ratio = _shape_of(assets[0]) if assets else None
    if ratio is None:
        return Frame.of_ratio(1.0)  # Instagram's default for a carousel
    return Frame.of_ratio(min(max(ratio, IG_FEED_MIN_ASPECT), IG_FEED_MAX_ASPECT))


def _captions_burned_into_rendition(asset: Asset) -> bool:
    return bool(((asset.renditions or {}).get("reel") or {}).get("captions"))


def _slide(access: CountyAccess, asset: Asset, today: date) -> Slide:
    seen = media_release(asset, purpose=Purpose.VIEW, access=access, today=today)
    if not seen.allowed:
        return Slide(asset, hidden_reason=seen.reason)
    if asset.is_video:
        return Slide(
            asset,
            src=asset.rendition_url if asset.status == Asset.Status.READY else "",
            poster=asset.poster_url or asset.thumbnail_url,
            # The worker burns the subtitle file into the Instagram version; a track as well would show them twice.
            subtitles="" if _captions_burned_into_rendition(asset) else asset.subtitles_url,
            playable=asset.status == Asset.Status.READY and bool(asset.rendition),
        )
    return Slide(asset, src=asset.rendition_url or asset.thumbnail_url)


def account_of(library: Library, username: str = "") -> Account:
    return Account(str(library), (username or library.instagram_username or "").lstrip("@"))


def build(
    access: CountyAccess,
    *,
    media_kind: str,
    assets: list[Asset],
    caption: str,
    collaborators: list[Account],
    channel: Channel | None,
    failing: list[gates.Gate] | None = None,
    today: date | None = None,
) -> Preview:
    today = today or timezone.localdate()
    shown, cut = cut_caption(caption)
    return Preview(
        media_kind=media_kind,
        frame=frame_for(media_kind, assets),
        slides=[_slide(access, asset, today) for asset in assets],
        account=Account(str(access.county), channel.username if channel and channel.username else ""),
        collaborators=collaborators,
        caption_shown=shown,
        caption_cut=cut,
        caption_full=caption.strip(),
        gates=failing or [],
    )


# --- The media picker: what each choice can be used for ---


@dataclass(frozen=True)
class Choice:
    """One asset in the picker: its shape and the reasons it cannot go into each kind of post or out at all."""

    asset: Asset
    shape: str  # "4:5", "9:16", …; "" when unknown
    # Post kind -> why the asset cannot go into that kind of post ("" when it can).
    unfit: dict[str, str]
    # Why it cannot be published whatever the kind (the gates' own sentences).
    blocked: list[gates.Gate]


def _unfit_for(asset: Asset, media_kind: str) -> str:
    ratio = _shape_of(asset)
    if media_kind == Post.MediaKind.IMAGE and asset.is_video:
        return _("A photo post shows exactly one photo.")
    if media_kind == Post.MediaKind.REEL and asset.is_image:
        return _("A reel shows exactly one video.")
    if media_kind == Post.MediaKind.CAROUSEL and asset.is_video:
        check = gates.instagram_check(asset, Post.MediaKind.CAROUSEL)
        if ratio is not None and ratio < IG_FEED_MIN_ASPECT - 0.01:
            return _("A video in a carousel must be 4:5 to 16:9; this one is taller (post it as a reel).")
        if asset.instagram_check.get("carousel") and check.get("verdict") == "rejected":
            return " ".join(str(reason) for reason in check.get("reasons") or []) or _(
                "Instagram will refuse this video in a carousel."
            )
    return ""


def choices(assets: list[Asset], today: date | None = None) -> list[Choice]:
    """For each asset: its shape, which kinds of post it cannot go into, and what stops it being published."""
    today = today or timezone.localdate()
    rows = []
    for asset in assets:
        ratio = _shape_of(asset)
        rows.append(
            Choice(
                asset=asset,
                shape=Frame.of_ratio(ratio).label if ratio else "",
                unfit={kind: _unfit_for(asset, kind) for kind in Post.MediaKind.values},
                blocked=gates.asset_gates(asset, today=today),
            )
        )
    return rows
