"""Subtitle files: checking WebVTT and SRT (naming the line that is wrong) and turning SRT into WebVTT."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from django.template.defaultfilters import filesizeformat
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from production.processing.files import MediaRejected

SUBTITLE_MAX_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class SubtitleInfo:
    format: Literal["vtt", "srt"]
    cue_count: int
    last_cue_end: float  # seconds


_VTT_TIME = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_VTT_TIMING = re.compile(rf"^{_VTT_TIME}[ \t]+-->[ \t]+{_VTT_TIME}(?:[ \t].*)?$")
# SRT is written by many tools; accept one-digit hours and a full stop for the comma.
_SRT_TIME = r"(\d{1,3}):([0-5]\d):([0-5]\d)[,.](\d{3})"
_SRT_TIMING = re.compile(rf"^[ \t]*{_SRT_TIME}[ \t]+-->[ \t]+{_SRT_TIME}(?:[ \t].*)?$")


@dataclass(frozen=True)
class Cue:
    line: int  # of the timing line, from 1
    identifier: str
    start: float
    end: float
    text: list[str]


def validate_subtitles(data: bytes, *, max_bytes: int = SUBTITLE_MAX_BYTES) -> SubtitleInfo:
    """Check a WebVTT or SRT file (UTF-8, with or without BOM), or raise `MediaRejected` naming the line."""
    if not data.strip():
        raise MediaRejected(gettext_lazy("The subtitle file is empty."), code="empty")
    if len(data) > max_bytes:
        raise MediaRejected(
            gettext_lazy("The subtitle file is %(size)s; subtitle files can be at most %(limit)s."),
            code="too_large",
            params={"size": filesizeformat(len(data)), "limit": filesizeformat(max_bytes)},
        )
    lines = _subtitle_lines(data)
    if lines[0].startswith("WEBVTT"):
        subtitle_format: Literal["vtt", "srt"] = "vtt"
        cues = _parse_vtt(lines)
    elif lines[_first_filled(lines)].strip().isdigit() or "-->" in lines[_first_filled(lines)]:
        subtitle_format = "srt"
        cues = _parse_srt(lines)
    else:
        raise MediaRejected(
            gettext_lazy("This is not a subtitle file: it should be WebVTT (starting with “WEBVTT”) or SRT."),
            code="not_subtitles",
        )
    if not cues:
        raise MediaRejected(gettext_lazy("The subtitle file contains no subtitles."), code="no_cues")
    return SubtitleInfo(format=subtitle_format, cue_count=len(cues), last_cue_end=max(cue.end for cue in cues))


def read_cues(data: bytes, *, max_bytes: int = SUBTITLE_MAX_BYTES) -> list[Cue]:
    """The file's cues in order (for burning them in); `MediaRejected` where `validate_subtitles` refuses it."""
    info = validate_subtitles(data, max_bytes=max_bytes)
    lines = _subtitle_lines(data)
    return _parse_vtt(lines) if info.format == "vtt" else _parse_srt(lines)


def srt_to_vtt(data: bytes) -> str:
    """The same subtitles as WebVTT, so that we store one format; `MediaRejected` when `data` is not valid SRT."""
    info = validate_subtitles(data)
    if info.format != "srt":
        raise MediaRejected(gettext_lazy("This subtitle file is not SRT."), code="not_srt")
    blocks = ["WEBVTT"]
    for cue in _parse_srt(_subtitle_lines(data)):
        timing = f"{_vtt_time(cue.start)} --> {_vtt_time(cue.end)}"
        blocks.append("\n".join([cue.identifier, timing, *(_srt_text_to_vtt(text) for text in cue.text)]))
    return "\n\n".join(blocks) + "\n"


def _subtitle_lines(data: bytes) -> list[str]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise MediaRejected(
            gettext_lazy("Line %(line)s is not UTF-8 text. Save the subtitles as UTF-8 and upload them again."),
            code="not_utf8",
            params={"line": data[: error.start].count(b"\n") + 1},
        ) from error
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _first_filled(lines: list[str]) -> int:
    return next((number for number, line in enumerate(lines) if line.strip()), 0)


def _blocks(lines: list[str], start: int) -> Iterator[tuple[int, list[str]]]:
    """Groups of non-blank lines with the number (from 1) of their first line."""
    block: list[str] = []
    first = 0
    for index in range(start, len(lines)):
        if lines[index].strip():
            if not block:
                first = index + 1
            block.append(lines[index])
        elif block:
            yield first, block
            block = []
    if block:
        yield first, block


def _bad_line(message: str | Promise, line: int, text: str, code: str = "invalid_subtitles") -> MediaRejected:
    return MediaRejected(message, code=code, params={"line": line, "text": text.strip()[:80]})


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def _timed_cue(
    match: re.Match[str], *, line: int, identifier: str, text: list[str], previous: Cue | None, raw: str
) -> Cue:
    groups = match.groups()
    start, end = _seconds(*groups[0:4]), _seconds(*groups[4:8])
    if end <= start:
        raise _bad_line(
            gettext_lazy("Line %(line)s: the subtitle ends before it starts (“%(text)s”)."), line, raw, "bad_timing"
        )
    if previous is not None and start < previous.start:
        raise _bad_line(
            gettext_lazy(
                "Line %(line)s: this subtitle starts before the one above it (“%(text)s”); keep them in order."
            ),
            line,
            raw,
            "bad_timing",
        )
    return Cue(line=line, identifier=identifier, start=start, end=end, text=text)


def _parse_vtt(lines: list[str]) -> list[Cue]:
    if not re.match(r"^WEBVTT(?:[ \t].*)?$", lines[0]):
        raise _bad_line(gettext_lazy("Line %(line)s must be “WEBVTT”, optionally followed by a space and text."), 1, "")
    # The header runs to the first blank line.
    start = next((index for index, line in enumerate(lines) if not line.strip()), len(lines))
    for index in range(1, start):
        if "-->" in lines[index]:
            raise _bad_line(
                gettext_lazy("Line %(line)s: a blank line must come between “WEBVTT” and the first subtitle."),
                index + 1,
                lines[index],
            )
    cues: list[Cue] = []
    for first, block in _blocks(lines, start):
        keyword = block[0].split(maxsplit=1)[0] if block[0].strip() else ""
        if keyword == "NOTE" or (keyword in ("STYLE", "REGION") and not cues):
            continue
        identifier, timing_offset = ("", 0) if "-->" in block[0] else (block[0], 1)
        line = first + timing_offset
        if timing_offset >= len(block) or "-->" not in block[timing_offset]:
            raise _bad_line(
                gettext_lazy(
                    "Line %(line)s: expected a time line such as “00:00:01.000 --> 00:00:04.000” (found “%(text)s”)."
                ),
                line,
                block[timing_offset] if timing_offset < len(block) else "",
            )
        raw = block[timing_offset]
        match = _VTT_TIMING.match(raw.strip())
        if match is None:
            raise _bad_line(
                gettext_lazy(
                    "Line %(line)s: “%(text)s” is not a valid time line; write it as “00:00:01.000 --> 00:00:04.000”."
                ),
                line,
                raw,
                "bad_timing",
            )
        text = block[timing_offset + 1 :]
        for offset, text_line in enumerate(text, start=line + 1):
            if "-->" in text_line:
                raise _bad_line(
                    gettext_lazy(
                        "Line %(line)s: subtitle text cannot contain “-->”; is a blank line missing before it?"
                    ),
                    offset,
                    text_line,
                )
        cues.append(
            _timed_cue(match, line=line, identifier=identifier, text=text, previous=cues[-1] if cues else None, raw=raw)
        )
    return cues


def _parse_srt(lines: list[str]) -> list[Cue]:
    cues: list[Cue] = []
    for first, block in _blocks(lines, 0):
        number = block[0].strip()
        if not number.isdigit():
            raise _bad_line(
                gettext_lazy(
                    "Line %(line)s: expected the number of a subtitle (found “%(text)s”); "
                    "is there a blank line inside a subtitle?"
                ),
                first,
                block[0],
            )
        raw = block[1] if len(block) > 1 else ""
        match = _SRT_TIMING.match(raw)
        if match is None:
            raise _bad_line(
                gettext_lazy(
                    "Line %(line)s: “%(text)s” is not a valid time line; write it as “00:00:01,000 --> 00:00:04,000”."
                ),
                first + 1,
                raw,
                "bad_timing",
            )
        cues.append(
            _timed_cue(
                match, line=first + 1, identifier=number, text=block[2:], previous=cues[-1] if cues else None, raw=raw
            )
        )
    return cues


def _vtt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours:02d}:{minutes:02d}:{millis // 1000:02d}.{millis % 1000:03d}"


_SRT_MARKUP = re.compile(r"(</?[biu]>)|</?font\b[^>]*>|\{\\[^}]*\}", re.IGNORECASE)


def _srt_text_to_vtt(text: str) -> str:
    """SRT cue text as WebVTT cue text: <b>, <i>, <u> kept, <font> and {\\an8} tags dropped, the rest escaped."""
    parts: list[str] = []
    position = 0
    for match in _SRT_MARKUP.finditer(text):
        parts.append(_escape_vtt(text[position : match.start()]))
        if match.group(1):
            parts.append(match.group(1).lower())
        position = match.end()
    parts.append(_escape_vtt(text[position:]))
    return "".join(parts)


def _escape_vtt(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
