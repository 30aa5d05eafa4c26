"""Counties, their libraries, the people in them and how they were invited."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Count, F, Func, Q, Subquery
from django.db.models.functions import Coalesce, Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from datetime import datetime


def first_rows_and_count[M: models.Model](queryset: models.QuerySet[M], limit: int) -> tuple[list[M], int]:
    """The first `limit` rows of `queryset` and how many rows it has in all, in one query.

    For a panel that lists the oldest few of something and says how many there are. The count is a subquery
    that does not depend on the row (PostgreSQL runs it once, an InitPlan) over the rows' filter alone, without
    the joins and order the rows bring: counted as a window over the rows (COUNT(*) OVER ()), every matching
    row was joined and sorted to show five.
    """
    count = queryset.order_by().select_related(None).values(n=Func(F("pk"), function="COUNT"))
    rows = list(queryset.annotate(rows_in_all=Subquery(count))[:limit])
    return rows, (rows[0].rows_in_all if rows else 0)  # type: ignore[attr-defined]  # the annotation above


def count_per_row(queryset: models.QuerySet[Any], outer: str) -> Coalesce:
    """How many rows of `queryset` (filtered on `outer`=OuterRef(...)) each row of the outer query has, as an
    annotation: a subquery per outer row, so the outer query needs no GROUP BY and keeps its LIMIT."""
    counts = queryset.order_by().values(outer).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counts), 0)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)

    def county_staff(self, county: County) -> models.QuerySet[User]:
        """The county's active editors and coordinators, by name: who may own a concept, be responsible
        for a recording day or a post."""
        return (
            self.filter(
                memberships__library__county=county,
                memberships__role__in=[Role.EDITOR, Role.COORDINATOR],
                is_active=True,
            )
            .distinct()
            .order_by("name")
        )


class User(AbstractUser):
    """A person, who logs in with their e-mail address."""

    username = None  # type: ignore[assignment]  # e-mail is the login
    first_name = None  # type: ignore[assignment]  # AbstractUser's field removed (one name field)
    last_name = None  # type: ignore[assignment]  # AbstractUser's field removed (one name field)
    email = models.EmailField(_("e-mail address"), unique=True)
    name = models.CharField(_("name"), max_length=150)
    # The language the person last used the site in (the language menu, or the
    # one the site was in when they logged in); their e-mails are written in it.
    # Empty until then: e-mails go out in LANGUAGE_CODE.
    language = models.CharField(_("language"), max_length=10, blank=True, choices=settings.LANGUAGES)
    # The network's moderators (set in the admin): they may hide a shared item from the pool, with a reason.
    is_network_moderator = models.BooleanField(_("network moderator"), default=False)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["name"]

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]  # a manager for e-mail logins in place of Django's

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.name or self.email

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email

    @property
    def mail_language(self) -> str:
        """The language this person's e-mails are written in."""
        return self.language or settings.LANGUAGE_CODE


class Role(models.TextChoices):
    """A person's role at a library. Order matters: later roles can do more."""

    LIBRARIAN = "librarian", _("Librarian")
    EDITOR = "editor", _("Editor")
    COORDINATOR = "coordinator", _("Coordinator")

    @property
    def rank(self) -> int:
        return list(Role).index(self)


class County(models.Model):
    class Country(models.TextChoices):
        """The country whose public holidays the county's plan follows (libraries/holidays.py)."""

        NORWAY = "NO", _("Norway")
        DENMARK = "DK", _("Denmark")

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("short name"), unique=True)
    country = models.CharField(
        _("country"),
        max_length=2,
        choices=Country.choices,
        default=Country.NORWAY,
        help_text=_("Its public holidays are marked in the publishing plan and on recording days."),
    )
    # Off: location and personal metadata leave every original at upload (production/metadata/).
    keep_original_metadata = models.BooleanField(
        _("keep location and camera details in originals"),
        default=False,
        help_text=_(
            "Off: the location (GPS), the camera's make, model and serial numbers, XMP and comments are removed "
            "from photos and videos when they are uploaded, without touching the picture or the sound. "
            "On: originals are stored exactly as uploaded. Applies to files uploaded from now on."
        ),
    )
    # The network (publishing/network.py): off, nothing of the county is offered and it sees no shared pool.
    in_network = models.BooleanField(
        _("take part in the network of counties"),
        default=False,
        help_text=_(
            "On: editors may offer archive items to the other counties of the network, the coordinator approves "
            "what leaves the county, and the county may borrow from the shared pool. Nothing is shared by default."
        ),
    )
    # Off: four eyes on every post. On: an editor alone may approve their own post (holidays, small
    # counties); such posts are flagged "not reviewed" until another editor reviews them afterwards.
    allow_single_review = models.BooleanField(
        _("allow publishing without a second review"),
        default=False,
        help_text=_(
            "Off: another editor approves every post. On: an editor who is alone on duty may approve their "
            "own post; it is marked “not reviewed” on the post, the plan and the report until another "
            "editor reviews it afterwards."
        ),
    )
    single_review_reason = models.TextField(
        _("why a second review may be skipped"),
        blank=True,
        max_length=500,
        help_text=_("Required when publishing without a second review is allowed; editors see it."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("county")
        verbose_name_plural = _("counties")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


instagram_username_validator = RegexValidator(
    # Instagram: 1 to 30 letters, digits, full stops and underscores; no full stop
    # first or last, and never two in a row.
    regex=r"^(?!\.)(?!.*\.\.)(?!.*\.$)[A-Za-z0-9._]{1,30}$",
    message=_(
        "An Instagram username has at most 30 characters: letters, digits, full stops "
        "and underscores, without a full stop at the start or end or two in a row. "
        "Leave out the @."
    ),
)


class LibraryQuerySet(models.QuerySet["Library"]):
    def for_county(self, county: County) -> LibraryQuerySet:
        return self.filter(county=county)

    def members(self) -> LibraryQuerySet:
        return self.filter(kind=Library.Kind.MEMBER)

    def active(self) -> LibraryQuerySet:
        return self.filter(is_active=True)

    def with_member_counts(self) -> LibraryQuerySet:
        # Two correlated subqueries, not two Counts over joins: joining both
        # memberships and invitations multiplies their rows per library.
        members = (
            Membership.objects.filter(library=models.OuterRef("pk"))
            .order_by()
            .values("library")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        invitations = (
            Invitation.objects.pending()
            .filter(library=models.OuterRef("pk"))
            .order_by()
            .values("library")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        return self.annotate(
            member_count=Coalesce(models.Subquery(members), 0),
            pending_invitation_count=Coalesce(models.Subquery(invitations), 0),
        )


class Library(models.Model):
    class Kind(models.TextChoices):
        COUNTY = "county", _("County library")
        MEMBER = "member", _("Member library")

    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="libraries", verbose_name=_("county"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.MEMBER)
    name = models.CharField(_("name"), max_length=150)
    municipality = models.CharField(_("municipality"), max_length=100)
    address = models.CharField(_("address"), max_length=250, blank=True)
    email = models.EmailField(
        _("contact e-mail"), blank=True, help_text=_("Where reports and notices for the library leader go.")
    )
    instagram_username = models.CharField(
        _("Instagram username"),
        max_length=30,
        blank=True,
        validators=[instagram_username_validator],
        help_text=_("Used to add the library as a collaborator on posts. Without the @."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LibraryQuerySet.as_manager()

    class Meta:
        verbose_name = _("library")
        verbose_name_plural = _("libraries")
        ordering = ("county", "-kind", "name")  # the county library first, then by name
        constraints = [
            models.UniqueConstraint(fields=["county", "name"], name="library_name_unique_in_county"),
            models.UniqueConstraint(
                fields=["county"], condition=Q(kind="county"), name="one_county_library_per_county"
            ),
            models.UniqueConstraint(
                Lower("instagram_username"),
                condition=~Q(instagram_username=""),
                name="library_instagram_username_unique",
                violation_error_message=_("Another library already uses this Instagram username."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("libraries:detail", args=[self.pk])


class MembershipQuerySet(models.QuerySet["Membership"]):
    def for_county(self, county: County) -> MembershipQuerySet:
        return self.filter(library__county=county)


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ("library", "user__name")
        constraints = [models.UniqueConstraint(fields=["user", "library"], name="one_membership_per_library")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.library})"


def hash_token(token: str) -> str:
    """Invitation links carry a random token; only its hash is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def for_county(self, county: County) -> InvitationQuerySet:
        return self.filter(library__county=county)

    def open(self) -> InvitationQuerySet:
        """Neither accepted nor revoked: pending, or expired and worth sending again."""
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)

    def pending(self, now: datetime | None = None) -> InvitationQuerySet:
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now or timezone.now())


class Invitation(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

    email = models.EmailField(_("e-mail address"))
    name = models.CharField(_("name"), max_length=150, blank=True)
    library = models.ForeignKey(
        Library, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("library")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ("-sent_at",)
        constraints = [
            # One open invitation per person and library: resend it instead.
            models.UniqueConstraint(
                Lower("email"),
                "library",
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_email_and_library",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.library}"

    @property
    def status(self) -> Invitation.Status:
        if self.accepted_at:
            return self.Status.ACCEPTED
        if self.revoked_at:
            return self.Status.REVOKED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.PENDING

    def get_status_display(self) -> str:
        return str(self.status.label)


class AuditEntry(models.Model):
    """Who did what, when: approvals, consent changes, publishing, access changes."""

    county = models.ForeignKey(County, on_delete=models.CASCADE, related_name="audit_entries")
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    summary = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ("-at",)
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.summary}"


class OutboxMessage(models.Model):
    """A sent e-mail, kept when EMAIL_BACKEND=outbox (the local demo's inbox)."""

    to = models.JSONField(default=list)
    subject = models.CharField(max_length=500)
    body = models.TextField()
    html_body = models.TextField(blank=True)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-sent_at",)

    def __str__(self) -> str:
        return self.subject
