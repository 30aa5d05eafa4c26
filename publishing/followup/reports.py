"""The monthly report: a county's month (or one member library's) in figures, and sending it to the library leaders.

`build_report` reads everything in a fixed number of queries (named at each
read below), whatever the number of posts, libraries or comments; the page,
the print version, the CSV and the e-mail all show the same `Report`.

A month is a calendar month in Europe/Oslo (`Month`). A post belongs to the
month it was published in; its reach and engagement are its lifetime figures
as last read from Instagram (the latest `InsightSnapshot`), so a post of the
28th is counted in full once its 28-day reading is in. A figure Instagram has
not given yet is missing, never 0: a `Total` says how many posts it lacks.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, FilteredRelation, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from libraries.dates import day_start, duration_text
from libraries.models import AuditEntry, County, Library, User
from libraries.services import absolute_url, audit, send_templated_mail_on_commit
from publishing.followup.comments import reply_median
from publishing.models import (
    AccountSnapshot,
    ArchiveReuse,
    Channel,
    InsightSnapshot,
    InstagramComment,
    Outcome,
    Post,
    PostAsset,
    PostCollaborator,
    PostQuerySet,
    SharedItem,
    posts_elsewhere,
)

TOP_POSTS = 5
MOST_REUSED = 5
# The follower count "at the start of the month" may come from a reading up to this many days before it.
FOLLOWERS_LOOKBACK_DAYS = 7
# The audit action of a sent report; its entries are how Innspill knows a month was sent.
SENT_ACTION = "report.sent"


# --- The month ---


@dataclass(frozen=True)
class Month:
    """A calendar month in Europe/Oslo, the county's time."""

    first: date

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.replace(day=1))

    @classmethod
    def parse(cls, value: str) -> Month | None:
        """A "YYYY-MM" month, or None when it is not one."""
        try:
            year, month = (int(part) for part in value.split("-"))
            return cls(date(year, month, 1)) if 2000 <= year <= 2999 else None
        except ValueError:
            return None

    @classmethod
    def last(cls, today: date | None = None) -> Month:
        """The month before this one (the report's default: the last whole month)."""
        return cls.of(today or timezone.localdate()).previous

    @property
    def key(self) -> str:
        return self.first.strftime("%Y-%m")

    @property
    def last_day(self) -> date:
        return self.first.replace(day=calendar.monthrange(self.first.year, self.first.month)[1])

    @property
    def previous(self) -> Month:
        return Month.of(self.first - timedelta(days=1))

    @property
    def following(self) -> Month:
        return Month.of(self.last_day + timedelta(days=1))

    @property
    def start(self) -> datetime:
        """Midnight at the start of the 1st, Norwegian time (an aware datetime)."""
        return day_start(self.first)

    @property
    def end(self) -> datetime:
        """Midnight at the start of the next month: the month is [start, end)."""
        return self.following.start

    @property
    def label(self) -> str:
        return date_format(self.first, "YEAR_MONTH_FORMAT")

    def __str__(self) -> str:
        return self.key


# --- The figures ---


@dataclass(frozen=True)
class Total:
    """A sum over posts some of which may lack the figure: `value` is None when none has it (rather than 0)."""

    value: int | None
    missing: int

    @classmethod
    def of(cls, values: Iterable[int | None]) -> Total:
        values = list(values)
        known = [value for value in values if value is not None]
        return cls(value=sum(known) if known else None, missing=len(values) - len(known))


@dataclass(frozen=True)
class SharedReach:
    """The month's posts other counties published from what the county shared, and their reach."""

    posts: int
    counties: int
    reach: Total


@dataclass(frozen=True)
class PostFigures:
    """A post published in the month, with its latest insights reading (None: nothing read yet)."""

    post: Post
    reading: InsightSnapshot | None

    @property
    def reach(self) -> int | None:
        return self.reading.reach if self.reading else None

    @property
    def views(self) -> int | None:
        return self.reading.views if self.reading else None

    @property
    def engagement(self) -> int | None:
        return self.reading.engagement if self.reading else None


@dataclass(frozen=True)
class LibraryFigures:
    """One member library's part in the month."""

    library: Library
    posts: int  # posts it took part in: as collaborator, through its idea or its media
    as_collaborator: int  # of them, posts it was invited to as an Instagram collaborator (co-hosted)
    reach: Total
    engagement: Total
    outcomes: int  # outcomes logged for it that happened in the month


@dataclass(frozen=True)
class Followers:
    """The county account's followers: at the start and end of the month, and each day read."""

    start: int | None
    start_day: date | None
    end: int | None
    end_day: date | None
    days: list[tuple[date, int]]

    @property
    def change(self) -> int | None:
        return self.end - self.start if self.start is not None and self.end is not None else None


@dataclass(frozen=True)
class Replies:
    """Followers' comments written in the month (top-level, not the account's own), and how they were answered."""

    comments: int
    replied: int
    handled: int
    unanswered: int  # still waiting for an answer now
    median_seconds: float | None  # time to the first reply, of those replied to

    @property
    def median_minutes(self) -> int | None:
        return round(self.median_seconds / 60) if self.median_seconds is not None else None

    @property
    def median_text(self) -> str:
        return duration_text(self.median_seconds, short=True) if self.median_seconds is not None else ""


@dataclass(frozen=True)
class OutcomeFigures:
    """The outcomes of one kind that happened in the month."""

    kind: str
    label: str
    entries: list[Outcome]

    @property
    def quantity(self) -> int | None:
        """The numbers logged, summed (None when every entry is a note)."""
        return Total.of(entry.quantity for entry in self.entries).value

    @property
    def notes(self) -> list[Outcome]:
        return [entry for entry in self.entries if entry.note]


@dataclass(frozen=True)
class ReusedItem:
    item_id: int
    title: str
    times: int  # in the month
    total: int  # ever


@dataclass(frozen=True)
class Report:
    """The month in figures: the county's, or (`library`) one member library's part in it."""

    county: County
    library: Library | None
    month: Month
    posts: list[PostFigures]
    libraries: list[LibraryFigures]
    member_libraries: list[Library]  # the county's, active or not, by name: the libraries whose report one may open
    followers: Followers
    replies: Replies
    outcomes: list[OutcomeFigures]
    reuses: int
    items_reused: int
    most_reused: list[ReusedItem]
    # What the county's shared items did in other counties this month (the county's report, in the network).
    shared: SharedReach | None = None
    generated_at: datetime = field(default_factory=timezone.now)

    @property
    def posts_published(self) -> int:
        return len(self.posts)

    @property
    def posts_not_reviewed(self) -> list[Post]:
        """Posts their author approved alone (the county allows it) that no second editor has reviewed yet."""
        return [figures.post for figures in self.posts if figures.post.awaits_second_review]

    @property
    def posts_without_insights(self) -> int:
        return sum(1 for figures in self.posts if figures.reading is None)

    @property
    def reach(self) -> Total:
        return Total.of(figures.reach for figures in self.posts)

    @property
    def views(self) -> Total:
        return Total.of(figures.views for figures in self.posts)

    @property
    def engagement(self) -> Total:
        return Total.of(figures.engagement for figures in self.posts)

    @cached_property  # the page asks for it five times
    def top_posts(self) -> list[PostFigures]:
        """The most engaging posts (engagement, then reach); posts without insights are left out."""
        ranked = [figures for figures in self.posts if figures.engagement is not None]
        ranked.sort(key=lambda f: (-(f.engagement or 0), -(f.reach or 0), -f.post.pk))
        return ranked[:TOP_POSTS]

    @property
    def outcome_entries(self) -> int:
        return sum(len(figures.entries) for figures in self.outcomes)

    @property
    def libraries_taking_part(self) -> list[LibraryFigures]:
        """The libraries with posts in the month, most first (for the chart)."""
        return sorted((row for row in self.libraries if row.posts), key=lambda row: (-row.posts, row.library.name))

    def url(self, name: str = "publishing:report") -> str:
        """This report's page (or print version, `publishing:report_print`), with its month and library."""
        query = {"month": self.month.key} | ({"library": self.library.pk} if self.library else {})
        return f"{reverse(name)}?{urlencode(query)}"


def published_in(county: County, month: Month, library: Library | None = None) -> PostQuerySet:
    """The county's posts published in the month (those a library took part in, with `library`)."""
    posts = Post.objects.for_county(county).filter(
        status=Post.Status.PUBLISHED, published_at__gte=month.start, published_at__lt=month.end
    )
    if library is not None:
        posts = posts.of_library(library)
    return posts


def with_latest_reading(posts: PostQuerySet) -> PostQuerySet:
    """The posts with their latest insights reading joined in (`latest_reading`, `reading_of` reads it)."""
    latest = InsightSnapshot.objects.filter(post=OuterRef("pk")).order_by("-taken_at", "-pk").values("pk")[:1]
    return posts.annotate(
        latest_reading=FilteredRelation("insight_snapshots", condition=Q(insight_snapshots__pk=Subquery(latest)))
    ).select_related("latest_reading")  # type: ignore[misc]  # django-stubs knows no FilteredRelation here


def reading_of(post: Post) -> InsightSnapshot | None:
    """A post's latest reading from `with_latest_reading`: Django leaves the attribute unset when the post has
    none (the LEFT JOIN found no row), rather than setting it to None."""
    return getattr(post, "latest_reading", None)


def with_libraries(posts: PostQuerySet) -> PostQuerySet:
    """The posts with the ids of the libraries taking part in each, read in the same query as the posts:
    its collaborators, its media's libraries, and its idea's own library and the libraries the idea names.
    Unordered: the models' default orderings would join each subquery to the post, the library or the
    county, for every post of the month."""
    return posts.annotate(
        collaborator_library_ids=ArraySubquery(
            PostCollaborator.objects.filter(post=OuterRef("pk")).order_by().values("library_id")
        ),
        media_library_ids=ArraySubquery(
            PostAsset.objects.filter(post=OuterRef("pk")).order_by().values("asset__library_id")
        ),
        idea_library_id=F("idea__library_id"),
        idea_library_ids=ArraySubquery(
            Library.objects.filter(involved_ideas=OuterRef("idea_id")).order_by().values("pk")
        ),
    )


def involvement(posts: PostQuerySet) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """Which libraries take part in which posts: (all involved, as collaborators), library id → post ids.

    The bulk twin of `publishing.posts.services.involved_libraries` (collaborators,
    the media's libraries, the idea's libraries), in one query for any number of posts.
    """
    return involvement_of(with_libraries(posts))


def involvement_of(posts: Iterable[Post]) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """`involvement` of posts read `with_libraries` (no query)."""
    involved: dict[int, set[int]] = defaultdict(set)
    collaborating: dict[int, set[int]] = defaultdict(set)
    for post in posts:
        collaborators: list[int] = post.collaborator_library_ids  # type: ignore[attr-defined]  # with_libraries
        media: list[int] = post.media_library_ids  # type: ignore[attr-defined]  # with_libraries
        idea: list[int | None] = [post.idea_library_id, *post.idea_library_ids]  # type: ignore[attr-defined]
        for library_id in collaborators:
            collaborating[library_id].add(post.pk)
        for library_id in [*collaborators, *media, *(library_id for library_id in idea if library_id is not None)]:
            involved[library_id].add(post.pk)
    return involved, collaborating


# What the report (page, print, CSV, e-mails) shows of a post and its latest reading: a month holds a few hundred
# posts, and turning every column of each (and of its reading, with its JSON) into objects was a third of the
# report's time in Python.
REPORT_POST_FIELDS = {"id", "title", "published_at", "permalink", "awaits_second_review", "idea_id"}


def build_report(*, county: County, month: Month, library: Library | None = None) -> Report:
    """The month's figures for the county, or for one of its member libraries (6 queries for a library; 7
    for the county, one of them its shared reach: the posts made from its items elsewhere with their reach,
    or for a county outside the network whether it ever shared, and those posts only if it did)."""
    posts = published_in(county, month, library)
    # Query: the month's posts, each with its latest insights reading and the libraries taking part in it.
    post_list = list(
        with_libraries(with_latest_reading(posts))
        .defer(*(f.attname for f in Post._meta.concrete_fields if f.attname not in REPORT_POST_FIELDS))
        .defer("latest_reading__values", "latest_reading__taken_at", "latest_reading__round")  # type: ignore[misc]  # django-stubs knows no FilteredRelation here
        .order_by("-published_at", "-pk")
    )
    figures = [PostFigures(post=post, reading=reading_of(post)) for post in post_list]
    by_post = {f.post.pk: f for f in figures}
    involved, collaborating = involvement_of(post_list)

    outcomes = _outcomes(county, month, library)
    outcomes_per_library: dict[int | None, int] = defaultdict(int)
    for outcome in outcomes:
        outcomes_per_library[outcome.library_id] += 1
    # Query: the county's member libraries, active or not, by name (the pages offer each one's report); the
    # county report's table has the active ones, a library's report only its own row.
    member_libraries = list(Library.objects.for_county(county).members().order_by("name"))
    members = [library] if library is not None else [member for member in member_libraries if member.is_active]
    rows = []
    for member in sorted(members, key=lambda member: member.name):
        taking_part = [by_post[pk] for pk in involved.get(member.pk, set()) if pk in by_post]
        rows.append(
            LibraryFigures(
                library=member,
                posts=len(taking_part),
                as_collaborator=len(collaborating.get(member.pk, set()) & by_post.keys()),
                reach=Total.of(f.reach for f in taking_part),
                engagement=Total.of(f.engagement for f in taking_part),
                outcomes=outcomes_per_library[member.pk],
            )
        )
    reuses, items_reused, most_reused = _reuse(county, month, library)
    return Report(
        shared=_shared_reach(county, month) if library is None else None,
        county=county,
        library=library,
        month=month,
        posts=figures,
        libraries=rows,
        member_libraries=member_libraries,
        followers=_followers(county, month),
        replies=_replies(county, month, library),
        outcomes=_by_kind(outcomes),
        reuses=reuses,
        items_reused=items_reused,
        most_reused=most_reused,
    )


def _shared_reach(county: County, month: Month) -> SharedReach | None:
    """Query (and whether it ever shared, for a county outside the network): the posts other counties published
    this month from their copies of what the county shared (items' media, concepts, ideas), with their latest
    reach."""
    shared = SharedItem.objects.filter(county=county)
    if not county.in_network and not shared.exists():
        return None
    travelled = {made.post.pk: made for made in posts_elsewhere(shared, since=month.start, until=month.end)}
    return SharedReach(
        posts=len(travelled),
        counties=len({made.county.pk for made in travelled.values()}),
        reach=Total.of(made.reach for made in travelled.values()),
    )


def _followers(county: County, month: Month) -> Followers:
    # Query: the account's daily readings of the month and the week before it.
    readings = list(
        AccountSnapshot.objects.filter(
            channel__county=county,
            channel__kind=Channel.Kind.INSTAGRAM,
            day__gte=month.first - timedelta(days=FOLLOWERS_LOOKBACK_DAYS),
            day__lte=month.last_day,
        )
        .order_by("day")
        .values_list("day", "followers_count")
    )
    in_month = [(day, count) for day, count in readings if day >= month.first]
    before = [(day, count) for day, count in readings if day <= month.first]
    # The count on the 1st, or the last one read before it; a channel connected later starts at its first reading.
    start = before[-1] if before else (in_month[0] if in_month else None)
    end = in_month[-1] if in_month else None
    return Followers(
        start=start[1] if start else None,
        start_day=start[0] if start else None,
        end=end[1] if end else None,
        end_day=end[0] if end else None,
        days=in_month,
    )


def _replies(county: County, month: Month, library: Library | None) -> Replies:
    comments = InstagramComment.objects.for_county(county).filter(
        commented_at__gte=month.start, commented_at__lt=month.end
    )
    if library is not None:
        comments = comments.filter(post__in=Post.objects.of_library(library).values("pk"))
    Status = InstagramComment.Status
    # Query: the month's comments counted by how they were answered, and the median time to the first reply
    # (the inbox's own measure).
    counts = comments.from_followers().aggregate(
        comments=Count("pk"),
        replied=Count("pk", filter=Q(status=Status.REPLIED)),
        handled=Count("pk", filter=Q(status=Status.HANDLED)),
        unanswered=Count("pk", filter=Q(status=Status.UNANSWERED)),
        median=reply_median(),
    )
    median = counts.pop("median")
    return Replies(**counts, median_seconds=float(median) if median is not None else None)


def _outcomes(county: County, month: Month, library: Library | None) -> list[Outcome]:
    outcomes = Outcome.objects.filter(
        post__county=county, happened_on__gte=month.first, happened_on__lte=month.last_day
    ).select_related("post", "library")
    if library is not None:
        outcomes = outcomes.filter(library=library)
    # Query: the outcomes that happened in the month, with their posts and libraries.
    return list(outcomes.order_by("happened_on", "pk"))


def _by_kind(outcomes: list[Outcome]) -> list[OutcomeFigures]:
    grouped: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        grouped[outcome.kind].append(outcome)
    return [
        OutcomeFigures(kind=kind, label=str(label), entries=grouped[kind])
        for kind, label in Outcome.Kind.choices
        if grouped[kind]
    ]


def _reuse(county: County, month: Month, library: Library | None) -> tuple[int, int, list[ReusedItem]]:
    reuses = ArchiveReuse.objects.filter(item__county=county, at__gte=month.start, at__lt=month.end)
    if library is not None:
        reuses = reuses.filter(item__libraries=library)
    # Query: the items reused in the month, most reused first; the month's totals are their sum and their
    # number (a row an item reused that month, however often).
    per_item = list(
        reuses.values("item_id", "item__title", "item__reuse_count")
        .annotate(times=Count("pk"))
        .order_by("-times", "item__title", "item_id")
    )
    return (
        sum(row["times"] for row in per_item),
        len(per_item),
        [
            ReusedItem(
                item_id=row["item_id"], title=row["item__title"], times=row["times"], total=row["item__reuse_count"]
            )
            for row in per_item[:MOST_REUSED]
        ],
    )


# --- The CSV export ---


def csv_rows(report: Report) -> list[list[str | int]]:
    """The report's figures as CSV rows: one block per section, a heading row and column names each.

    Missing figures are empty cells, not 0. Numbers stay numbers (ints), so
    the writer (`publishing.views.reports`) neutralises only text.
    """

    def total(value: Total) -> str | int:
        return "" if value.value is None else value.value

    def number(value: int | None) -> str | int:
        return "" if value is None else value

    subject = report.library.name if report.library else report.county.name
    rows: list[list[str | int]] = [
        [_("Monthly report"), subject, report.month.key],
        [],
        [_("Summary")],
        [_("Figure"), _("Value"), _("Posts without this figure")],
        [_("Posts published"), report.posts_published, ""],
        [_("Reach"), total(report.reach), report.reach.missing],
        [_("Views"), total(report.views), report.views.missing],
        [_("Engagement"), total(report.engagement), report.engagement.missing],
        [_("Followers at the start of the month"), number(report.followers.start), ""],
        [_("Followers at the end of the month"), number(report.followers.end), ""],
        [_("Change in followers"), number(report.followers.change), ""],
        [_("Comments"), report.replies.comments, ""],
        [_("Comments replied to"), report.replies.replied, ""],
        [_("Comments not answered"), report.replies.unanswered, ""],
        [_("Median time to first reply (minutes)"), number(report.replies.median_minutes), ""],
        [_("Archive items reused"), report.items_reused, ""],
        [_("Reuses from the archive"), report.reuses, ""],
        [],
        [_("Libraries")],
        [_("Library"), _("Posts"), _("As collaborator"), _("Reach"), _("Engagement"), _("Outcomes")],
        *[
            [row.library.name, row.posts, row.as_collaborator, total(row.reach), total(row.engagement), row.outcomes]
            for row in report.libraries
        ],
        [],
        [_("Posts")],
        [_("Published"), _("Post"), _("Reach"), _("Views"), _("Engagement"), _("Permalink")],
        *[
            [
                timezone.localtime(f.post.published_at).strftime("%Y-%m-%d %H:%M") if f.post.published_at else "",
                f.post.title,
                number(f.reach),
                number(f.views),
                number(f.engagement),
                f.post.permalink,
            ]
            for f in report.posts
        ],
        [],
        [_("Outcomes")],
        [_("Date"), _("What"), _("How many"), _("Library"), _("Post"), _("Note")],
        *[
            [
                entry.happened_on.isoformat(),
                figures.label,
                number(entry.quantity),
                entry.library.name if entry.library else "",
                entry.post.title,
                entry.note,
            ]
            for figures in report.outcomes
            for entry in figures.entries
        ],
        [],
        [_("Most reused from the archive")],
        [_("Item"), _("Reused this month"), _("Reused in all")],
        *[[item.title, number(item.times), number(item.total)] for item in report.most_reused],
    ]
    return rows


# --- Sending the report to the library leaders ---


@dataclass(frozen=True)
class SendPlan:
    """Who would get the month's report: each active member library's contact address, and who has none."""

    month: Month
    recipients: list[Library]
    without_address: list[Library]
    last_sent: AuditEntry | None

    @property
    def last_sent_id(self) -> int:
        return self.last_sent.pk if self.last_sent else 0


def last_sent(county: County, month: Month) -> AuditEntry | None:
    """The latest sending of the month's report, from the audit log."""
    return (
        AuditEntry.objects.filter(county=county, action=SENT_ACTION, data__month=month.key)
        .select_related("actor")
        .order_by("-at", "-pk")
        .first()
    )


def send_plan(county: County, month: Month) -> SendPlan:
    members = list(Library.objects.for_county(county).members().active().order_by("name"))
    return SendPlan(
        month=month,
        recipients=[library for library in members if library.email],
        without_address=[library for library in members if not library.email],
        last_sent=last_sent(county, month),
    )


def send_report(*, by: User, county: County, month: Month, confirmed_last_sent_id: int) -> SendPlan:
    """E-mail the month's report to every member library with a contact address, after the commit.

    Each library gets its own figures and the county's summary, with a link
    to its report page. `confirmed_last_sent_id` is the last sending the
    coordinator saw when confirming (0: none); if the report was sent since
    (a second click, or another coordinator), nothing is sent and they are
    asked again: one confirmation sends once.
    """
    with transaction.atomic():
        # Serialise sendings of the county's reports: the check below and the audit entry are one step.
        County.objects.select_for_update().filter(pk=county.pk).first()
        plan = send_plan(county, month)
        if plan.last_sent_id != confirmed_last_sent_id:
            sent = plan.last_sent
            raise ValidationError(
                _("The report for %(month)s was sent on %(when)s by %(who)s after you opened this page.")
                % {
                    "month": month.label,
                    "when": date_format(timezone.localtime(sent.at), "SHORT_DATETIME_FORMAT") if sent else "",
                    "who": (sent.actor if sent and sent.actor else _("someone")),
                }
            )
        if not plan.recipients:
            raise ValidationError(_("No member library has a contact e-mail address: add them on the libraries page."))
        summary = build_report(county=county, month=month)
        for library in plan.recipients:
            own = build_report(county=county, month=month, library=library)
            send_templated_mail_on_commit(
                to=[library.email],
                template="monthly_report",
                context={
                    "library": library,
                    "report": own,
                    "county_report": summary,
                    "month": month,
                    "url": absolute_url(own.url()),
                    "county_url": absolute_url(summary.url()),
                },
            )
        audit(
            county=county,
            actor=by,
            action=SENT_ACTION,
            obj=county,
            summary=f"{month.key} → {len(plan.recipients)} libraries",
            month=month.key,
            libraries=[library.pk for library in plan.recipients],
            without_address=[library.pk for library in plan.without_address],
        )
    return plan
