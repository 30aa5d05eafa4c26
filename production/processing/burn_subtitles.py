"""The editor's WebVTT/SRT subtitles as an ASS file that FFmpeg's `subtitles` filter (libass) burns in.

Instagram's Graph API takes no subtitle file, so the people who need
subtitles only see them when they are in the pictures. The sidecar file
stays with the original; this module only makes what the reel shows:

* **Readable**: the font size follows the frame's height, capped so that a
  full line of `MAX_LINE_CHARS` fits the width; white bold Noto Sans (Debian's
  fonts-noto-core, installed by `make fonts`) with a black outline and a
  soft shadow, so it reads on any picture.
* **Short**: at most `MAX_LINE_CHARS` characters a line, wrapped at words,
  and at most `MAX_LINES` lines on screen; a longer cue becomes consecutive
  captions sharing its time in proportion to their length.
* **In order**: a cue that overlaps the next is cut where the next begins
  (cues starting together are joined), cues after the video's end are
  dropped and the last is cut at the end.
* **Above Instagram's buttons**: Meta documents no safe area (GRAPH_API.md
  says nothing), so we take the common reading that the caption, account
  name and buttons cover the bottom fifth of the 9:16 screen. The captions
  sit above that part of the *video*: a 9:16 reel fills the screen, so the
  bottom 20 % of its frame is avoided; a wider video is shown with bars, so
  less of it (or none) is covered.
* **Any script**: right-to-left text (Arabic, Hebrew) is laid out by
  libass with FriBidi and HarfBuzz; the style's encoding -1 tells libass to
  find each line's base direction from its text. Letters Noto Sans lacks come
  from the other Noto fonts through fontconfig.

Cue text is plain text here: WebVTT/SRT markup is dropped and the characters
that mean something to ASS (`\\`, `{`, `}`) are escaped (see `escape`).
"""

from __future__ import annotations

import html
import re
import textwrap
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from production.processing.subtitles import read_cues

MAX_LINE_CHARS = 42
MAX_LINES = 2
FONT_NAME = "Noto Sans"
FONTS_DIR = Path("/usr/share/fonts/truetype/noto")
# Instagram's caption, names and buttons over the bottom of the 9:16 screen (no Meta figure; see above).
COVERED_SCREEN_FRACTION = 0.20
SCREEN_ASPECT = 9 / 16
# Captions starting this close together are one caption.
_SAME_START_SECONDS = 0.05
# Glyph advance of Noto Sans Bold in ems, averaged over ordinary text; sets the size a full line fits.
_AVERAGE_CHAR_EM = 0.56

_TAG = re.compile(r"<[^>]*>|\{\\[^}]*\}")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Caption:
    start: float  # seconds
    end: float
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Layout:
    """Sizes in pixels of the output frame (the ASS file's PlayRes)."""

    font_size: int
    margin_bottom: int
    margin_side: int
    outline: float
    shadow: float


def captions_from(data: bytes, *, duration: float) -> list[Caption]:
    """The subtitle file as captions for a video of `duration` seconds; `MediaRejected` if the file is bad."""
    cues = read_cues(data)
    timed: list[tuple[float, float, str]] = []
    for cue in cues:
        text = _plain(" ".join(cue.text))
        if not text:
            continue
        if timed and cue.start - timed[-1][0] < _SAME_START_SECONDS:
            start, end, before = timed[-1]
            timed[-1] = (start, max(end, cue.end), f"{before} {text}")
        else:
            timed.append((cue.start, cue.end, text))
    captions: list[Caption] = []
    for index, (start, end, text) in enumerate(timed):
        if index + 1 < len(timed):
            end = min(end, timed[index + 1][0])  # no overlap: cut where the next begins
        end = min(end, duration)
        if end - start < 0.01:  # starts at or after the end of the video
            continue
        captions.extend(_split(start, end, wrap(text)))
    return captions


def wrap(text: str) -> list[str]:
    """Lines of at most MAX_LINE_CHARS characters, broken between words (a longer word is cut)."""
    return textwrap.wrap(text, width=MAX_LINE_CHARS, break_long_words=True, break_on_hyphens=False)


def _split(start: float, end: float, lines: list[str]) -> list[Caption]:
    """Groups of MAX_LINES lines, one after another, each shown for its share of the characters."""
    groups = [lines[i : i + MAX_LINES] for i in range(0, len(lines), MAX_LINES)]
    total = sum(len(" ".join(group)) for group in groups)
    captions = []
    at = start
    for number, group in enumerate(groups, start=1):
        until = end if number == len(groups) else at + (end - start) * len(" ".join(group)) / total
        captions.append(Caption(start=at, end=until, lines=tuple(group)))
        at = until
    return captions


def _plain(text: str) -> str:
    """Cue text without WebVTT/SRT markup or entities, on one line."""
    text = html.unescape(_TAG.sub("", text))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cc")
    return _SPACE.sub(" ", text).strip()


def covered_fraction(width: int, height: int) -> float:
    """The share of the video's height (from the bottom) under Instagram's controls on a 9:16 screen."""
    aspect = width / height
    if aspect <= SCREEN_ASPECT:
        return COVERED_SCREEN_FRACTION  # fills the screen (a narrower video is cropped to it)
    shown = SCREEN_ASPECT / aspect  # the video's height as a share of the screen's; bars share the rest
    bar = (1 - shown) / 2
    return max(0.0, COVERED_SCREEN_FRACTION - bar) / shown


def layout(width: int, height: int) -> Layout:
    fits_width = 0.9 * width / (MAX_LINE_CHARS * _AVERAGE_CHAR_EM)
    font_size = max(8, round(min(0.05 * height, fits_width)))
    margin = max(covered_fraction(width, height), 0.05) + 0.02
    return Layout(
        font_size=font_size,
        margin_bottom=round(margin * height),
        margin_side=round(0.05 * width),
        outline=round(max(1.0, font_size * 0.08), 1),
        shadow=round(max(0.5, font_size * 0.04), 1),
    )


def ass_document(captions: list[Caption], *, width: int, height: int) -> str:
    """An ASS script for a `width` x `height` frame (its PlayRes), so sizes are the frame's pixels."""
    box = layout(width, height)
    style = (
        f"Style: Default,{FONT_NAME},{box.font_size},&H00FFFFFF,&H00FFFFFF,&H00000000,&H80000000,"
        f"-1,0,0,0,100,100,0,0,1,{box.outline},{box.shadow},2,{box.margin_side},{box.margin_side},"
        f"{box.margin_bottom},-1"
    )
    lines = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        # Smart wrapping only as a safety net: our lines are already short enough.
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: TV.709",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, "
        "Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, "
        "MarginL, MarginR, MarginV, Encoding",
        style,
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    for caption in captions:
        start, end = _ass_time(caption.start), _ass_time(caption.end)
        if start == end:
            continue  # shorter than a hundredth of a second
        text = r"\N".join(escape(line) for line in caption.lines)
        lines.append(f"Dialogue: 0,{start},{end},Default,,0,0,0,,{text}")
    return "\n".join(lines) + "\n"


def escape(text: str) -> str:
    r"""Text ASS shows as it is, on one line.

    `{` and `}` become `\{` and `\}` (libass's escapes). libass has no escape
    for a backslash (`\\` shows two), so a word joiner (U+2060, invisible)
    goes after each one: `\N` in the text stays those two characters.
    """
    out = []
    for ch in text:
        if ch in "{}":
            out.append("\\" + ch)
        elif ch == "\\":
            out.append("\\\u2060")
        else:
            out.append(" " if ch in "\n\r" else ch)
    return "".join(out)


def _ass_time(seconds: float) -> str:
    centis = round(seconds * 100)
    hours, centis = divmod(centis, 360_000)
    minutes, centis = divmod(centis, 6000)
    return f"{hours}:{minutes:02d}:{centis // 100:02d}.{centis % 100:02d}"


def write_ass(data: bytes, dest: Path, *, duration: float, width: int, height: int) -> int:
    """Write the ASS file for the subtitle file `data`; the number of captions."""
    captions = captions_from(data, duration=duration)
    dest.write_text(ass_document(captions, width=width, height=height), encoding="utf-8")
    return len(captions)
