"""The publishing plan: posts per day in a week or a month, concept slots without a post, and the iCalendar feed."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import icalendar
from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Count, OuterRef
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from libraries import holidays, ical
from libraries.dates import day_start, local_zone
from libraries.http import address_with_id
from libraries.models import County, User, count_per_row
from libraries.partials import labels_of
from production.models import CalendarFeed, Concept, Idea
from publishing.models import Channel, Post, PostQuerySet

FEED_PAST_DAYS = 180
# Instagram's daily publishing limit until the channel has read its own (content_publishing_limit).
DEFAULT_PUBLISH_QUOTA = 50
Day = date  # the type, where Gap.date hides the name

# A post is a moment; calendars show it as a short event.
FEED_EVENT_MINUTES = 15


@dataclass(frozen=True)
class Gap:
    """A concept's slot with no post yet: something to fill."""

    concept: Concept
    at: datetime  # aware, in the local time zone
    # The public holiday the cadence's date falls on: the slot is on it (the concept publishes
    # anyway), or was moved from it (`moved_from`, the concept moves to the next working day).
    holiday: str = ""
    moved_from: Day | None = None

    @property
    def date(self) -> Day:
        return self.at.date()


@dataclass(frozen=True)
class PlanPost:
    """A post on the plan, with the addresses, local times and status its card shows, worked out once.

    A month can hold a few hundred posts; formatting four dates and reversing
    two URLs per card in the template was a third of the month view's time
    (bench/ and BENCHMARKS.md), and strftime on a datetime already in local
    time does the same for a fraction of it. The addresses are reversed once
    per page (`CardAddresses`), the status labels translated once per page.
    """

    post: Post
    url: str
    move_url: str
    status_label: str
    iso: str  # <time datetime>
    time: str  # 14:30
    date: str  # 2026-12-01, for drag and drop
    local_input: str  # 2026-12-01T14:30, the Move form's datetime-local value

    @classmethod
    def of(cls, post: Post, local: datetime, cards: CardAddresses) -> PlanPost:
        return cls(
            post=post,
            url=cards.detail(post.pk),
            move_url=cards.move(post.pk),
            status_label=cards.status_labels.get(post.status, post.status),
            iso=local.isoformat(),
            time=local.strftime("%H:%M"),
            date=local.strftime("%Y-%m-%d"),
            local_input=local.strftime("%Y-%m-%dT%H:%M"),
        )


class CardAddresses:
    """What every card of one page shares: its two addresses, reversed once (`address_with_id`), and the
    status labels in the page's language."""

    def __init__(self) -> None:
        self.detail = address_with_id("publishing:post_detail")
        self.move = address_with_id("publishing:post_move")
        self.status_labels = labels_of(Post.Status.choices)


@dataclass
class PlanDay:
    date: date
    in_range: bool
    is_today: bool
    chips: list[PlanPost] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    # (posts that day, Instagram's daily limit) when the day holds more than the limit.
    over_limit: tuple[int, int] | None = None
    holiday: str = ""  # the public holiday's name in the county's country, when the day is one

    @property
    def posts(self) -> list[Post]:
        return [chip.post for chip in self.chips]


def window(start: date, end: date) -> tuple[datetime, datetime]:
    """From local midnight of `start` to local midnight after `end`."""
    return day_start(start), day_start(end + timedelta(days=1))


def _taken_window(start: date, end: date) -> tuple[datetime, datetime]:
    """When a post takes a concept's slot from `start` to `end`: from further back, since a slot moved into
    the window may have a post on the holiday it left."""
    return window(start - timedelta(days=holidays.LONGEST_BREAK_DAYS), end)


def _posts_of_concepts(county: County, since: datetime, until: datetime) -> PostQuerySet:
    """The posts that take a concept's slot from `since` to `until` (cancelled ones do not count)."""
    return Post.objects.for_county(county).live().filter(concept__isnull=False).scheduled_between(since, until)


def posted_concept_days(county: County, since: datetime, until: datetime) -> set[tuple[int, date]]:
    """(concept id, local day) for every post of a concept from `since` to `until`."""
    return {
        (concept_id, timezone.localtime(moment).date())
        for concept_id, moment in _posts_of_concepts(county, since, until).values_list("concept_id", "scheduled_at")
    }


def concept_gaps(county: County, start: date, end: date, concepts: Iterable[Concept] | None = None) -> list[Gap]:
    """The plan's gaps: occurrences of the county's active concepts from `start` to `end` with no post of
    that concept that day (cancelled posts do not count).

    Two queries whatever the window: the concepts, and the (concept, time)
    pairs of the posts in it; one when the page has read the county's
    concepts already (`concepts`, every one of the county: the inactive and
    the one-off are left out here).
    """
    if concepts is None:
        concepts = Concept.objects.for_county(county).active().recurring()
    else:
        concepts = [concept for concept in concepts if concept.is_active and concept.cadence_rule]
    taken = posted_concept_days(county, *_taken_window(start, end))
    return _open_slots(county, start, end, concepts, taken, lambda _c: 0)


def uncovered_concept_gaps(county: County, start: date, end: date) -> list[Gap]:
    """The home's gaps: the plan's gaps less those content is on its way for.

    An idea of the concept that is planned or recorded and not used yet
    covers one gap, the earliest first. One query: the concepts, each with
    the times of its posts and how many ideas are on their way.
    """
    on_their_way = Idea.objects.filter(concept=OuterRef("pk"), status__in=[Idea.Status.PLANNED, Idea.Status.RECORDED])
    posted = _posts_of_concepts(county, *_taken_window(start, end)).filter(concept=OuterRef("pk"))
    concepts = list(
        Concept.objects.for_county(county)
        .active()
        .recurring()
        .annotate(
            on_their_way=count_per_row(on_their_way, "concept"),
            posted_at=ArraySubquery(posted.order_by().values("scheduled_at")),
        )
    )
    taken = {(concept.pk, timezone.localtime(moment).date()) for concept in concepts for moment in concept.posted_at}  # type: ignore[attr-defined]  # the annotation above
    return _open_slots(county, start, end, concepts, taken, lambda concept: concept.on_their_way)  # type: ignore[attr-defined]  # the annotation above


def _open_slots(
    county: County,
    start: date,
    end: date,
    concepts: Iterable[Concept],
    taken: set[tuple[int, date]],
    covered: Callable[[Concept], int],
) -> list[Gap]:
    """Each concept's dates (after its holiday rule) with no post that day (`taken`: (concept id, local day)),
    less the first `covered(concept)` of them. A slot moved off a holiday is filled by a post on either day."""
    gaps: list[Gap] = []
    for concept in concepts:
        open_slots = [
            Gap(
                concept,
                concept.time_on(entry.date),
                holiday=entry.holiday,
                moved_from=entry.original if entry.moved else None,
            )
            for entry in concept.dates(start, end, country=county.country)
            if not entry.skipped and (concept.pk, entry.date) not in taken and (concept.pk, entry.original) not in taken
        ]
        gaps += open_slots[covered(concept) :]
    return sorted(gaps, key=lambda gap: (gap.at, gap.concept.name))


def plan_posts(posts: PostQuerySet, start: date, end: date) -> list[Post]:
    """The posts with a time from `start` to `end`, with what a chip on the plan shows."""
    since, until = window(start, end)
    return list(
        posts.scheduled_between(since, until)
        # Only what a chip shows (jinja2/publishing/_plan_day.html, `Post.waiting_note`): a month holds hundreds
        # of posts, and turning each column of each into Python was most of what reading them cost.
        .only(*CHIP_FIELDS)
        # The channel answers a due post's "waiting for the connection" (`Post.waiting_note`) without a query
        # for each: a stopped channel holds back every post due.
        .select_related("channel")
        .order_by("scheduled_at", "pk")
    )


# A chip's fields (any other read on a chip would be a query per post: the plan's query-count tests catch it).
CHIP_FIELDS = (
    "title",
    "status",
    "scheduled_at",
    "awaits_second_review",
    "media_kind",
    "media_id",
    "waiting_for",
    "next_attempt_at",
    "status_polls",
    "channel__status",
)


def daily_limit(channel: Channel | None) -> int:
    """Instagram's daily limit for the channel: as last read, 50 until then."""
    return channel.publish_quota if channel is not None else DEFAULT_PUBLISH_QUOTA


def days_over_limit(county: County, start: date, end: date, *, limit: int) -> dict[date, tuple[int, int]]:
    """Days from `start` to `end` with more planned posts than Instagram publishes in a day (`limit`: the
    channel's, `daily_limit`). Counted over every planned post, whatever the plan's filters show."""
    since, until = window(start, end)
    rows = (
        Post.objects.for_county(county)
        .filter(status__in=Post.PLANNED_STATUSES)
        .scheduled_between(since, until)
        .annotate(day=TruncDate("scheduled_at", tzinfo=local_zone()))
        .values("day")
        .annotate(count=Count("pk"))
        .filter(count__gt=limit)
    )
    return {row["day"]: (row["count"], limit) for row in rows}


def day_over_limit(post: Post, channel: Channel | None) -> tuple[int, int] | None:
    """(posts, limit) when the post's day holds more posts than Instagram publishes in a day (the county's
    `channel`'s limit)."""
    if post.scheduled_at is None:
        return None
    limit = daily_limit(channel)
    counted: int | None = getattr(post, "posts_that_day", None)  # read with the post (`with_posts_that_day`)
    if counted is not None:
        return (counted, limit) if counted > limit else None
    day = post.scheduled_at.astimezone(local_zone()).date()
    return days_over_limit(post.county, day, day, limit=limit).get(day)


def days(
    start: date,
    end: date,
    *,
    in_range: tuple[date, date],
    posts: list[Post],
    gaps: list[Gap],
    over_limit: dict[date, tuple[int, int]] | None = None,
    holidays_in_view: dict[date, str] | None = None,
) -> list[PlanDay]:
    today = timezone.localdate()
    by_day: dict[date, PlanDay] = {}
    current = start
    while current <= end:
        by_day[current] = PlanDay(
            date=current,
            in_range=in_range[0] <= current <= in_range[1],
            is_today=current == today,
            over_limit=(over_limit or {}).get(current),
            holiday=(holidays_in_view or {}).get(current, ""),
        )
        current += timedelta(days=1)
    zone = local_zone()
    cards = CardAddresses()
    for post in posts:
        if post.scheduled_at is None:  # plan_posts never gives one, but the type allows it
            continue
        local = post.scheduled_at.astimezone(zone)
        day = by_day.get(local.date())
        if day is not None:
            day.chips.append(PlanPost.of(post, local, cards))
    for gap in gaps:
        day = by_day.get(gap.at.date())
        if day is not None:
            day.gaps.append(gap)
    return list(by_day.values())


def month_weeks(year: int, month: int) -> list[list[date]]:
    return calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(year, month)


def week_of(day: date) -> tuple[date, date]:
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


# --- The iCalendar feed (same secret address as the recording days: production's CalendarFeed; libraries/ical.py) ---


def feed_posts(user: User) -> list[Post]:
    """Scheduled and published posts in every county the person belongs to."""
    since = timezone.now() - timedelta(days=ical.FEED_PAST_DAYS)
    return list(
        Post.objects.filter(county__libraries__memberships__user=user, scheduled_at__gte=since)
        .visible_to_librarians()
        .distinct()
        .select_related("concept", "county")
        .order_by("scheduled_at", "pk")
    )


def build_feed(feed: CalendarFeed) -> bytes:
    """The publishing plan as iCalendar bytes, in the language chosen when the address was made."""
    return ical.feed_bytes(
        prodid="-//Innspill//Publishing plan//EN",
        name=gettext_lazy("Innspill: publishing plan"),
        language=feed.language,
        events=lambda stamp: feed_events(feed.user, stamp),
    )


def feed_events(user: User, stamp: datetime) -> Iterator[icalendar.Event]:
    for post in feed_posts(user):
        moment = post.published_at or post.scheduled_at
        if moment is None:  # feed_posts filters on the time
            continue
        start = timezone.localtime(moment, local_zone())
        url = settings.PUBLIC_BASE_URL + post.get_absolute_url()
        summary = _("Instagram: %(title)s") % {"title": post.title}
        if post.status == Post.Status.PUBLISHED:
            summary = _("Published on Instagram: %(title)s") % {"title": post.title}
        description = "\n\n".join(part for part in [post.full_caption[:500], post.permalink, url] if part)
        yield ical.event(
            uid=ical.uid("post", post.pk),
            stamp=stamp,
            start=start,
            end=start + timedelta(minutes=FEED_EVENT_MINUTES),
            summary=summary,
            description=description,
            url=url,
            last_modified=post.updated_at,
            categories=[post.concept.name] if post.concept else (),
        )
