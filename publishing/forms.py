"""Forms for composing posts, reviewing and scheduling them, the plan's filters, and the channel."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from libraries.forms import JINJA2_FORMS, ObjectChoiceField, PlainSelect
from libraries.models import Library, LibraryQuerySet, User
from production.models import Asset, Concept, ContentType, Idea
from publishing.archive.downloads import VERSIONS
from publishing.archive.search import CONSENT_ALL, CONSENT_BLOCKED, CONSENT_REUSABLE, ArchiveFilters
from publishing.models import ArchiveItem, Channel, Post, PostQuerySet
from publishing.posts import captions

DATETIME_INPUT_FORMAT = "%Y-%m-%dT%H:%M"


class LocalDateTimeField(forms.DateTimeField):
    """A `datetime-local` input: the person types Norwegian time (the active time zone); stored in UTC."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT_FORMAT)
    input_formats = [DATETIME_INPUT_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


class PostForm(forms.ModelForm[Post]):
    """Compose or change a post. The media come as ticked checkboxes with a position each (`position-<id>`)."""

    assets = forms.ModelMultipleChoiceField(
        label=_("Media"), queryset=Asset.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    collaborators = forms.ModelMultipleChoiceField(
        label=_("Collaborators"),
        queryset=Library.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        # Lazy with its number filled in: `_() % {}` here would translate once, at import, in the default language.
        help_text=lazy(
            lambda: (
                gettext(
                    "Libraries invited to the post on Instagram (a Collab post shows on their profiles too). "
                    "At most %(max)s; only libraries with an Instagram username."
                )
                % {"max": captions.MAX_COLLABORATORS}
            ),
            str,
        )(),
    )
    scheduled_at = LocalDateTimeField(
        label=_("Publish at"),
        required=False,
        help_text=_("Norwegian time (Europe/Oslo). You can also set it when you schedule the post."),
    )

    class Meta:
        model = Post
        fields = (
            "title",
            "media_kind",
            "caption",
            "credit",
            "content_type",
            "concept",
            "idea",
            "responsible",
            "scheduled_at",
        )
        widgets = {
            "media_kind": forms.RadioSelect,
            "caption": forms.Textarea(attrs={"rows": 8, "data-caption-input": ""}),
            "credit": forms.TextInput(attrs={"data-caption-credit": ""}),
        }

    def __init__(
        self,
        *args: Any,
        assets: QuerySet[Asset],
        libraries: LibraryQuerySet,
        concepts: QuerySet[Concept],
        ideas: QuerySet[Idea],
        staff: QuerySet[User],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        fields["assets"].queryset = assets
        fields["collaborators"].queryset = libraries
        fields["concept"].queryset = concepts
        fields["idea"].queryset = ideas
        fields["responsible"].queryset = staff
        fields["content_type"].choices = [("", "—"), *ContentType.choices]
        fields["caption"].help_text = _(
            "At most %(characters)s characters, %(hashtags)s hashtags and %(mentions)s mentions (@), "
            "the credit included."
        ) % {
            "characters": captions.MAX_CHARACTERS,
            "hashtags": captions.MAX_HASHTAGS,
            "mentions": captions.MAX_MENTIONS,
        }

    def position_of(self, asset: Asset) -> str:
        """The position typed for an asset (for re-showing the form)."""
        return str(self.data.get(f"position-{asset.pk}", "")) if self.is_bound else ""

    def clean_assets(self) -> list[Asset]:
        return self.in_typed_order(list(self.cleaned_data.get("assets") or []))

    def in_typed_order(self, chosen: list[Asset]) -> list[Asset]:
        """The chosen media in the order of the positions typed (unnumbered last)."""

        def position(asset: Asset) -> tuple[int, int]:
            raw = str(self.data.get(f"position-{asset.pk}", "")).strip()
            return (int(raw) if raw.isdigit() else 1000, asset.pk)

        return sorted(chosen, key=position)

    def clean_collaborators(self) -> list[Library]:
        chosen: list[Library] = list(self.cleaned_data.get("collaborators") or [])
        if len(chosen) > captions.MAX_COLLABORATORS:
            raise forms.ValidationError(
                _("Instagram takes at most %(max)s collaborators; you chose %(count)s.")
                % {"max": captions.MAX_COLLABORATORS, "count": len(chosen)}
            )
        return chosen

    def clean_caption(self) -> str:
        return captions.normalise(self.cleaned_data.get("caption") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        full = captions.full_caption(data.get("caption") or "", data.get("credit") or "")
        for problem in captions.count(full).problems:
            self.add_error("caption", problem)
        assets: list[Asset] = data.get("assets") or []
        kind = data.get("media_kind")
        if assets and kind == Post.MediaKind.IMAGE and (len(assets) != 1 or not assets[0].is_image):
            self.add_error("assets", _("A photo post shows exactly one photo."))
        elif assets and kind == Post.MediaKind.REEL and (len(assets) != 1 or not assets[0].is_video):
            self.add_error("assets", _("A reel shows exactly one video."))
        elif assets and kind == Post.MediaKind.CAROUSEL and not 2 <= len(assets) <= 10:
            self.add_error("assets", _("A carousel shows 2 to 10 photos or videos."))
        return data

    def changed_model_fields(self) -> list[str]:
        return [name for name in self.changed_data if name in self.Meta.fields]


class ScheduleForm(forms.Form):
    at = LocalDateTimeField(label=_("Publish at"), help_text=_("Norwegian time (Europe/Oslo)."))

    def clean_at(self) -> datetime:
        at: datetime = self.cleaned_data["at"]
        if at < timezone.now() - timedelta(minutes=1):
            raise forms.ValidationError(_("Choose a time that has not passed yet."))
        return at


class MoveForm(forms.Form):
    """Another time for a post: a new date and time, or a number of days earlier or later."""

    at = LocalDateTimeField(label=_("New time"), required=False)
    days = forms.IntegerField(required=False, min_value=-366, max_value=366, widget=forms.HiddenInput)
    # The plan's drag and drop sends the day only; the time of day stays.
    date = forms.DateField(required=False, widget=forms.HiddenInput)

    def new_time(self, current: datetime | None) -> datetime | None:
        """The buttons (a day earlier or later) win over the drag and drop's day, which wins over the time field."""
        data = self.cleaned_data
        local = timezone.localtime(current) if current is not None else None
        if data.get("days") and local is not None:
            # Wall-clock arithmetic: 12:00 stays 12:00 across a daylight-saving change.
            return timezone.make_aware(local.replace(tzinfo=None) + timedelta(days=data["days"]))
        if data.get("date") is not None and local is not None:
            return timezone.make_aware(datetime.combine(data["date"], local.time().replace(tzinfo=None)))
        at: datetime | None = data.get("at")
        return at


class ReturnForm(forms.Form):
    note = forms.CharField(
        label=_("What should change?"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=500
    )


class PostFilterForm(forms.Form):
    """The post list's and the plan's filters (GET); every field is optional. Its options are the county's
    libraries and concepts, read once by the page and written without a template per option."""

    library = ObjectChoiceField(label=_("Library"), required=False, empty_label=_("All"))
    content_type = forms.ChoiceField(label=_("Content type"), required=False, widget=PlainSelect)
    concept = ObjectChoiceField(label=_("Concept"), required=False, empty_label=_("All"))
    status = forms.ChoiceField(label=_("Status"), required=False, widget=PlainSelect)

    def __init__(
        self,
        *args: Any,
        libraries: Iterable[Library],
        concepts: Iterable[Concept],
        statuses: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.concepts = list(concepts)  # every concept of the county, for the plan's open slots too
        fields: dict[str, Any] = self.fields
        fields["library"].set_objects(libraries)
        fields["concept"].set_objects(self.concepts)
        fields["content_type"].choices = [("", _("All")), *ContentType.choices]
        fields["status"].choices = [("", _("All")), *statuses]

    def apply(self, posts: PostQuerySet) -> PostQuerySet:
        """The posts narrowed by the valid filters."""
        if not self.is_valid():
            return posts
        data = self.cleaned_data
        if data["library"]:
            posts = posts.of_library(data["library"])
        if data["content_type"]:
            posts = posts.filter(content_type=data["content_type"])
        if data["concept"]:
            posts = posts.filter(concept=data["concept"])
        if data["status"]:
            posts = posts.filter(status=data["status"])
        return posts


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Long-lived access token"),
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_(
            "From Meta's Graph API Explorer or Business settings, with the permissions to publish "
            "on Instagram. It is stored encrypted."
        ),
        max_length=1000,
        strip=True,
    )


class ChannelSettingsForm(forms.ModelForm[Channel]):
    """What the coordinator decides about the channel: how late a post may still go out after a reconnect."""

    # A week at most: a post that much late has lost its moment; 0 sends every late post back.
    late_margin_hours = forms.IntegerField(
        label=_("Hours a post may be late"),
        min_value=0,
        max_value=168,
        help_text=_(
            "When Instagram is connected again after a stop, a post whose time passed more than this many hours "
            "ago goes back to its editor instead of out. 0 sends every late post back; at most 168 (a week)."
        ),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "input--narrow"}),
    )

    class Meta:
        model = Channel
        fields = ("late_margin_hours",)


class AccountChoiceForm(forms.Form):
    account = forms.ChoiceField(label=_("Instagram account"), widget=forms.RadioSelect)

    def __init__(self, *args: Any, accounts: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["account"]  # a ChoiceField; the stubs know only Field
        field.choices = accounts


# --- The archive ---


class ArchiveFilterForm(forms.Form):
    """The archive's search and filters (GET); every field optional, and a wrong one is only left out.

    Concept and library are ids: the search is already scoped to the county,
    so another county's id simply finds nothing, and no query is spent here.
    """

    default_renderer = JINJA2_FORMS  # the search box and the dates (libraries/forms.py)

    q = forms.CharField(
        label=_("Search the archive"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "spellcheck": "true"}),
        help_text=_(
            "Words from the title, caption, alt text, tags, concept or libraries. "
            "Use quotes for a phrase, a minus before a word to leave it out, or “or” between words."
        ),
    )
    content_type = forms.ChoiceField(label=_("Content type"), required=False)
    concept = forms.IntegerField(label=_("Concept"), required=False, min_value=1, widget=forms.HiddenInput)
    library = forms.IntegerField(label=_("Library"), required=False, min_value=1, widget=forms.HiddenInput)
    media_kind = forms.ChoiceField(label=_("Kind"), required=False)
    orientation = forms.ChoiceField(label=_("Orientation"), required=False)
    consent = forms.ChoiceField(label=_("Consent"), required=False)
    year = forms.IntegerField(label=_("Year"), required=False, min_value=1900, max_value=2200, widget=forms.HiddenInput)
    # The shared pool's own facet (publishing/archive/network.py); the archive leaves it out.
    county = forms.IntegerField(label=_("County"), required=False, min_value=1, widget=forms.HiddenInput)
    date_from = forms.DateField(
        label=_("Filed from"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("Filed until"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args: Any, pool: bool = False, **kwargs: Any) -> None:
        """`pool`: the network's shared pool, searched from another county: its own county filter, and the
        search box says what it searches."""
        super().__init__(*args, **kwargs)
        self.pool = pool
        fields: dict[str, Any] = self.fields
        if pool:
            fields["q"].label = _("Search the shared pool")
        else:
            del fields["county"]
        fields["content_type"].choices = [("", _("All")), *ContentType.choices]
        fields["media_kind"].choices = [("", _("All")), *Asset.Kind.choices]
        fields["orientation"].choices = [("", _("All")), *ArchiveItem.Orientation.choices]
        fields["consent"].choices = [
            (CONSENT_REUSABLE, _("Reusable")),
            (CONSENT_ALL, _("Reusable and blocked")),
            (CONSENT_BLOCKED, _("Blocked (consent)")),
        ]
        for name in ("content_type", "media_kind", "orientation", "consent"):
            fields[name].widget = forms.HiddenInput()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
            data.pop("date_from", None)  # neither date applies until they make sense together
        return data

    def filters(self) -> ArchiveFilters:
        """What to search for: the valid fields (a wrong one is shown with its error and left out)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return ArchiveFilters(
            q=(data.get("q") or "").strip(),
            content_type=data.get("content_type") or "",
            concept_id=data.get("concept"),
            library_id=data.get("library"),
            county_id=data.get("county") if self.pool else None,
            media_kind=data.get("media_kind") or "",
            orientation=data.get("orientation") or "",
            consent=data.get("consent") or CONSENT_REUSABLE,
            year=data.get("year"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


class ShareOfferForm(forms.Form):
    """An editor offers an archive item to the network, with the credit every borrowed copy carries."""

    credit = forms.CharField(
        label=_("Credit"),
        max_length=300,
        required=False,
        help_text=_(
            "Put in the caption of every post another county makes from it. Empty: the library's name and "
            "Instagram account."
        ),
    )


class HideSharedItemForm(forms.Form):
    """A network moderator hides a shared item from the pool; its county reads the reason."""

    reason = forms.CharField(
        label=_("Why is it hidden?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The county that shared it sees this on the item's page."),
    )


class ArchiveSelectionForm(forms.Form):
    """Items chosen in the archive (`item`, repeated), to download together or reuse as one post."""

    item = forms.TypedMultipleChoiceField(coerce=int, required=True)
    version = forms.ChoiceField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        # Any whole number is a choice here; libraries.access decides which items the person may have.
        chosen = self.data.getlist("item") if isinstance(self.data, QueryDict) else []
        fields["item"].choices = [(value, value) for value in chosen if str(value).isdigit()]
        fields["item"].error_messages["required"] = _("Choose at least one item.")
        fields["version"].choices = [(key, label) for key, label in VERSIONS.items()]

    def item_ids(self) -> list[int]:
        return list(dict.fromkeys(self.cleaned_data["item"])) if self.is_valid() else []
