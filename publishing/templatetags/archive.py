"""`{% archive_cards cards %}` and `{% archive_facets facet_groups %}`: the archive search's result cards and
its facet links, rendered by their Jinja2 partials (config/jinja2.py); the facets are the shared pool's too."""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.timezone import get_current_timezone, localtime
from django.utils.translation import ngettext

from libraries.dates import date_texts
from libraries.http import address_with_id
from libraries.partials import labels_of, render_partial
from production.models import Asset, ContentType
from publishing.models import ArchiveItem

register = template.Library()


def _reused(count: int) -> str:
    return ngettext("Reused once", "Reused %(count)s times", count) % {"count": count}


def _dated() -> Callable[[datetime], tuple[str, str]]:
    """A moment as its local day in ISO form and in the language's short date format (`date_texts`)."""
    short = date_texts()
    zone = get_current_timezone()

    def dated(moment: datetime) -> tuple[str, str]:
        day = localtime(moment, zone).date()
        return day.isoformat(), short(day)  # isoformat: Django's "Y-m-d"

    return dated


@register.simple_tag
def archive_cards(cards: Sequence[tuple[ArchiveItem, list[str]]]) -> SafeString:
    """A card per item (`cards`: each with the names of its libraries): its thumbnail, or why it is blocked,
    its facts and a box to choose it. What every card shares is worked out once: the two addresses, the
    labels in the page's language and today's date."""
    labels: dict[str, dict[Any, str]] = {
        "kind": labels_of(Asset.Kind.choices),
        "orientation": labels_of(ArchiveItem.Orientation.choices),
        "content_type": labels_of(ContentType.choices),
    }
    return render_partial(
        "publishing/_archive_cards.html",
        cards=cards,
        today=timezone.localdate(),
        dated=_dated(),
        labels=labels,
        item_url=address_with_id("publishing:archive_item"),
        thumbnail_url=Asset.file_addresses("thumbnail"),
        reused=_reused,
    )


@register.simple_tag
def archive_facets(groups: Sequence[Any]) -> SafeString:
    """Each facet with more than its "All" as a list of links (publishing.views.archive.FacetGroup)."""
    return render_partial("publishing/_archive_facets.html", groups=groups)
