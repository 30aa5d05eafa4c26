"""Instagram's caption limits, counted the way the fake (and Instagram) count them.

The live counter in static/js/publishing.js mirrors `count`: characters are
Unicode code points (not UTF-16 units: an emoji is one), hashtags are `#`
followed by letters, digits or underscores and not preceded by one, mentions
are `@` followed by letters, digits, underscores or full stops. The server is
the authority; the browser only helps while typing.

Reference: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media
(caption: at most 2200 characters, 30 hashtags and 20 @ tags).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

MAX_CHARACTERS = 2200
MAX_HASHTAGS = 30
MAX_MENTIONS = 20
# Collaborators on one post (GRAPH_API.md §2: Meta's pages say 3 and 5; 3 is safe).
MAX_COLLABORATORS = 3

HASHTAG = re.compile(r"(?<![\w#])#\w+")
MENTION = re.compile(r"(?<![\w@])@[\w.]+")


@dataclass(frozen=True)
class CaptionCounts:
    characters: int
    hashtags: int
    mentions: int

    @property
    def problems(self) -> list[str]:
        """What is over Instagram's limits, in plain words (empty when the caption fits)."""
        problems = []
        if self.characters > MAX_CHARACTERS:
            problems.append(
                _("The caption has %(count)s characters; Instagram allows at most %(max)s.")
                % {"count": self.characters, "max": MAX_CHARACTERS}
            )
        if self.hashtags > MAX_HASHTAGS:
            problems.append(
                ngettext(
                    "The caption has %(count)s hashtag; Instagram allows at most %(max)s.",
                    "The caption has %(count)s hashtags; Instagram allows at most %(max)s.",
                    self.hashtags,
                )
                % {"count": self.hashtags, "max": MAX_HASHTAGS}
            )
        if self.mentions > MAX_MENTIONS:
            problems.append(
                ngettext(
                    "The caption mentions %(count)s account; Instagram allows at most %(max)s.",
                    "The caption mentions %(count)s accounts; Instagram allows at most %(max)s.",
                    self.mentions,
                )
                % {"count": self.mentions, "max": MAX_MENTIONS}
            )
        return problems

    @property
    def fits(self) -> bool:
        return not self.problems


def normalise(text: str) -> str:
    """Line ends as the browser counts them (a textarea submits CRLF but shows LF)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def count(text: str) -> CaptionCounts:
    text = normalise(text)
    return CaptionCounts(characters=len(text), hashtags=len(HASHTAG.findall(text)), mentions=len(MENTION.findall(text)))


def full_caption(caption: str, credit: str) -> str:
    """What is published: the caption, and the inspiration credit on a paragraph of its own."""
    caption, credit = normalise(caption).strip(), normalise(credit).strip()
    if not credit:
        return caption
    return f"{caption}\n\n{credit}" if caption else credit


def credit_line(name: str, url: str) -> str:
    """The idea's inspiration credit as a caption line (steal with style: always name the source)."""
    name, url = name.strip(), url.strip()
    if not name and not url:
        return ""
    # Instagram does not link URLs in captions: the name is what readers can follow.
    return _("Inspired by %(source)s") % {"source": name or url}
