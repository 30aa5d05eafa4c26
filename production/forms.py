from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.db.models import QuerySet
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from libraries.forms import JINJA2_FORMS, ObjectChoiceField, PlainSelect
from libraries.models import Library, LibraryQuerySet, Membership, User
from production import cadence
from production.models import Aspect, Asset, Audience, Concept, ContentType, Idea, IdeaQuerySet, Person, RecordingDay
from production.services.media import clean_tags

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MAX_ATTACHMENTS = 5


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile[bytes]]:
        single_clean = super().clean
        if isinstance(data, list | tuple):
            return [single_clean(item, initial) for item in data]
        return [single_clean(data, initial)] if data else []


class LibraryChoices(forms.ModelMultipleChoiceField[Library]):
    widget = forms.CheckboxSelectMultiple


# --- Concepts ---


class ConceptForm(forms.ModelForm[Concept]):
    cadence_kind = forms.ChoiceField(label=_("Cadence"), choices=cadence.KIND_CHOICES, widget=forms.RadioSelect)
    weekday = forms.ChoiceField(label=_("Weekday"), choices=[("", "—"), *cadence.WEEKDAY_CHOICES], required=False)
    ordinal = forms.TypedChoiceField(
        label=_("Which one in the month"),
        choices=[("", "—"), *cadence.ORDINAL_CHOICES],
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("For a monthly cadence, such as the last Tuesday of the month."),
    )

    class Meta:
        model = Concept
        fields = (
            "name",
            "description",
            "content_type",
            "cadence_kind",
            "weekday",
            "ordinal",
            "starts_on",
            "time_of_day",
            "holiday_rule",
            "owner",
            "is_active",
            "reposts_from_archive",
            "credit",
        )
        widgets = {
            "holiday_rule": forms.RadioSelect,
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "time_of_day": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args: Any, owners: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners  # type: ignore[attr-defined]  # a ModelChoiceField; the form's fields are typed as the base Field
        current = cadence.parse(self.instance.cadence_rule) if self.instance.cadence_rule else None
        if current is not None:
            self.initial.update(cadence_kind=current.kind, weekday=current.weekday, ordinal=current.ordinal)
        else:
            self.initial.setdefault("cadence_kind", cadence.AD_HOC if self.instance.pk else cadence.WEEKLY)

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        duplicate = Concept.objects.filter(county_id=self.instance.county_id, name__iexact=name)
        if duplicate.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("The county already has a concept with this name."))
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, weekday, ordinal = data.get("cadence_kind"), data.get("weekday"), data.get("ordinal")
        if kind in {cadence.WEEKLY, cadence.MONTHLY} and not weekday:
            self.add_error("weekday", _("Choose the weekday."))
        if kind == cadence.MONTHLY and ordinal is None:
            self.add_error("ordinal", _("Choose which weekday of the month, such as the last."))
        if data.get("reposts_from_archive"):
            if kind == cadence.AD_HOC:
                self.add_error("reposts_from_archive", _("Re-posts follow the cadence: choose weekly or monthly."))
            if not data.get("owner"):
                self.add_error("owner", _("Choose an owner: the re-posts are drafted for them to review."))
        if kind and not self.errors:
            self.instance.cadence_rule = cadence.Cadence(kind, weekday or "", ordinal).rule
        return data

    @property
    def changed_model_fields(self) -> list[str]:
        """The model fields to save: the cadence choices all land in cadence_rule."""
        cadence_fields = {"cadence_kind", "weekday", "ordinal"}
        fields = [name for name in self.changed_data if name not in cadence_fields]
        if cadence_fields & set(self.changed_data):
            fields.append("cadence_rule")
        return fields


# --- Ideas ---


class IdeaForm(forms.ModelForm[Idea]):
    audiences = forms.MultipleChoiceField(
        label=_("Audience"),
        choices=Audience.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Instagram is for people aged 13 and over, and the county aims at 15 and over: "
            "an idea only for children needs another way to reach them (parents, schools)."
        ),
    )
    libraries = LibraryChoices(
        label=_("Other libraries involved"),
        queryset=Library.objects.none(),
        required=False,
        help_text=_("They are added as collaborators when the post goes out."),
    )
    attachments = MultipleFileField(
        label=_("Reference files"),
        required=False,
        help_text=_("Up to 5 files of at most 20 MB each: screenshots, a script, examples."),
    )

    class Meta:
        model = Idea
        fields = (
            "library",
            "title",
            "pitch",
            "content_type",
            "concept",
            "audiences",
            "libraries",
            "credit_name",
            "credit_url",
            "reference_links",
            "attachments",
        )
        widgets = {"reference_links": forms.Textarea(attrs={"rows": 3})}

    def __init__(
        self,
        *args: Any,
        submit_libraries: LibraryQuerySet,
        other_libraries: LibraryQuerySet,
        concepts: QuerySet[Concept],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        library_field: Any = self.fields["library"]
        library_field.queryset = submit_libraries
        library_field.empty_label = None
        self.fields["libraries"].queryset = other_libraries  # type: ignore[attr-defined]  # a ModelChoiceField; the form's fields are typed as the base Field
        self.fields["concept"].queryset = concepts  # type: ignore[attr-defined]  # a ModelChoiceField; the form's fields are typed as the base Field
        self.fields["concept"].help_text = _("Optional: a fixed format this idea belongs to.")
        if self.instance.pk:
            # The submitting library stays; it is part of what the idea is.
            del self.fields["library"]
            self.initial["libraries"] = [
                library.pk for library in self.instance.libraries.all() if library.pk != self.instance.library_id
            ]

    def clean_reference_links(self) -> str:
        lines = [line.strip() for line in self.cleaned_data["reference_links"].splitlines() if line.strip()]
        validate = URLValidator(schemes=["http", "https"])
        for line in lines:
            try:
                validate(line)
            except forms.ValidationError as exc:
                raise forms.ValidationError(
                    _("“%(line)s” is not a web address (it should start with https://).") % {"line": line}
                ) from exc
        return "\n".join(lines)

    def clean_attachments(self) -> list[UploadedFile[bytes]]:
        files: list[UploadedFile[bytes]] = self.cleaned_data["attachments"]
        if len(files) > MAX_ATTACHMENTS:
            raise forms.ValidationError(_("At most 5 files at a time."))
        for upload in files:
            if (upload.size or 0) > MAX_ATTACHMENT_BYTES:
                raise forms.ValidationError(_("“%(name)s” is larger than 20 MB.") % {"name": upload.name})
        return files


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the idea declined?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The library sees this, so be kind and specific."),
    )


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}))


class PlanIdeaForm(forms.Form):
    recording_day = forms.ModelChoiceField(label=_("Recording day"), queryset=RecordingDay.objects.none())
    duration_minutes = forms.IntegerField(label=_("Duration in minutes"), min_value=5, max_value=480, initial=30)

    def __init__(self, *args: Any, days: QuerySet[RecordingDay], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["recording_day"]
        field.queryset = days
        field.label_from_instance = lambda day: (
            f"{date_format(day.date, 'DATE_FORMAT')}, {day.host_library} ({day.get_status_display().lower()})"
        )


class IdeaFilterForm(forms.Form):
    """The idea list's filters (GET); every field is optional. Its options are the county's libraries and
    concepts, read once by the page and written without a template per option (as the plan's filters)."""

    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *Idea.Status.choices], widget=PlainSelect
    )
    library = ObjectChoiceField(label=_("Library"), required=False, empty_label=_("All"))
    content_type = forms.ChoiceField(label=_("Content type"), required=False, widget=PlainSelect)
    concept = ObjectChoiceField(label=_("Concept"), required=False, empty_label=_("All"))

    def __init__(self, *args: Any, libraries: Iterable[Any], concepts: Iterable[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        fields["library"].set_objects(libraries)
        fields["concept"].set_objects(concepts)
        fields["content_type"].choices = [("", _("All")), *ContentType.choices]

    @property
    def narrows(self) -> bool:
        """Whether the filters leave out any idea (invalid ones are not applied)."""
        return self.is_valid() and any(self.cleaned_data.values())

    def apply(self, ideas: IdeaQuerySet) -> IdeaQuerySet:
        """The ideas narrowed by the valid filters."""
        if not self.is_valid():
            return ideas
        data = self.cleaned_data
        ideas = ideas.search(data["q"])
        if data["status"]:
            ideas = ideas.filter(status=data["status"])
        if data["library"]:
            ideas = ideas.filter(library_id=data["library"].pk)
        if data["content_type"]:
            ideas = ideas.filter(content_type=data["content_type"])
        if data["concept"]:
            ideas = ideas.filter(concept_id=data["concept"].pk)
        return ideas


# --- Recording days ---


class RecordingDayForm(forms.ModelForm[RecordingDay]):
    participating_libraries = LibraryChoices(
        label=_("Participating libraries"),
        queryset=Library.objects.none(),
        required=False,
        help_text=_("The host takes part anyway; libraries that sign up presenters are added."),
    )
    responsible = forms.ModelMultipleChoiceField(
        label=_("Responsible people"), queryset=User.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = RecordingDay
        fields = (
            "date",
            "starts_at",
            "ends_at",
            "host_library",
            "address",
            "responsible",
            "participating_libraries",
            "capacity",
            "notes",
        )
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "starts_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "ends_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "notes": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, libraries: LibraryQuerySet, staff: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["host_library"].queryset = libraries  # type: ignore[attr-defined]  # a ModelChoiceField; the form's fields are typed as the base Field
        self.fields["participating_libraries"].queryset = libraries  # type: ignore[attr-defined]  # a ModelChoiceField; the form's fields are typed as the base Field
        self.fields["responsible"].queryset = staff  # type: ignore[attr-defined]  # a ModelChoiceField; the form's fields are typed as the base Field

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The day must end after it starts."))
        return data


class SignupForm(forms.Form):
    """Put someone forward to present: one of `memberships` (read once, with their user and library)."""

    membership = ObjectChoiceField(label=_("Presenter"), empty_label="---------")
    note = forms.CharField(
        label=_("Note"), required=False, max_length=300, help_text=_("Optional: what they would like to present.")
    )

    def __init__(self, *args: Any, memberships: Iterable[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.memberships = list(memberships)
        field: Any = self.fields["membership"]
        field.set_objects(self.memberships, label=lambda membership: f"{membership.user} ({membership.library})")


class SlotForm(forms.Form):
    """A run-sheet slot (a plain form: the service compares the slot's old idea with the new one)."""

    idea = forms.ModelChoiceField(
        label=_("Idea"),
        queryset=Idea.objects.none(),
        required=False,
        help_text=_("Accepted ideas not yet on a run sheet."),
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        required=False,
        help_text=_("For a slot without an idea, such as a break or rigging."),
    )
    duration_minutes = forms.IntegerField(label=_("Duration in minutes"), min_value=5, max_value=480, initial=30)
    presenters = forms.ModelMultipleChoiceField(
        label=_("Presenters"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("People signed up for the day."),
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, ideas: QuerySet[Idea], presenters: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        idea_field: Any = self.fields["idea"]
        idea_field.queryset = ideas
        idea_field.label_from_instance = lambda idea: f"{idea.title} ({idea.library})"
        self.fields["presenters"].queryset = presenters  # type: ignore[attr-defined]  # a ModelChoiceField; the form's fields are typed as the base Field

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("idea") and not (data.get("title") or "").strip():
            self.add_error("title", _("Choose an idea, or give the slot a title (such as “Lunch”)."))
        return data


# --- Media: uploads, details, crops, subtitles, people and consent ---

MEDIA_ACCEPT = "image/jpeg,image/png,image/heic,image/heif,.heic,.heif,video/mp4,video/quicktime,.mov,.mp4"


class AssetUploadForm(forms.Form):
    """The plain upload form; with JavaScript the same input sends resumable uploads instead."""

    uploads = MultipleFileField(
        label=_("Photos and videos"),
        help_text=_("Photos as JPEG, PNG or HEIC (at most 50 MB each); videos as MP4 or MOV (at most 1 GB each)."),
        widget=MultipleFileInput(attrs={"accept": MEDIA_ACCEPT}),
        required=False,
    )
    # On a phone this opens the camera straight away (the field above offers the photo library).
    camera = forms.FileField(
        label=_("Take a photo or video"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/*,video/*", "capture": "environment"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        files = [*cleaned.get("uploads", []), *([cleaned["camera"]] if cleaned.get("camera") else [])]
        if not files and not self.errors:
            self.add_error("uploads", forms.ValidationError(_("Choose at least one photo or video."), code="required"))
        cleaned["files"] = files
        return cleaned


class AssetForm(forms.ModelForm[Asset]):
    default_renderer = JINJA2_FORMS  # the asset page's forms (libraries/forms.py)

    tags_text = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=1200,
        help_text=_("Words to find it by in the archive, separated by commas: crime, autumn, Friday tip."),
    )

    class Meta:
        model = Asset
        fields = ("title", "alt_text", "subtitles_burned_in", "credit_line")
        widgets = {"alt_text": forms.Textarea(attrs={"rows": 3, "maxlength": 1000})}
        help_texts = {
            "title": _("Empty: the file name is shown."),
            "credit_line": _(
                "Who took the photo or made the video, or whose idea it borrows, as it should be credited."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.is_image:
            del self.fields["subtitles_burned_in"]
            self.fields["alt_text"].help_text = _(
                "Describe what the photo shows for people who cannot see it: who, what, where, and any text in it. "
                "Required before it can be published (at most 1000 characters)."
            )
        else:
            del self.fields["alt_text"]
            self.fields["subtitles_burned_in"].help_text = _(
                "Tick this if the text is part of the picture itself; otherwise upload a subtitle file below."
            )
        self.initial["tags_text"] = ", ".join(self.instance.tags or [])

    def clean_tags_text(self) -> list[str]:
        try:
            return clean_tags(self.cleaned_data["tags_text"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc

    def save(self, commit: bool = True) -> Asset:
        self.instance.tags = self.cleaned_data["tags_text"]
        return super().save(commit=commit)

    @property
    def changed_model_fields(self) -> list[str]:
        fields = [name for name in self.changed_data if name != "tags_text"]
        if "tags_text" in self.changed_data:
            fields.append("tags")
        return fields


class RangeInput(forms.NumberInput):
    input_type = "range"


class CropForm(forms.Form):
    default_renderer = JINJA2_FORMS

    aspect = forms.ChoiceField(
        label=_("Shape on Instagram"),
        required=False,
        choices=[("", _("The photo's own shape (cropped only as far as Instagram requires)")), *Aspect.choices],
        widget=forms.RadioSelect,
    )
    focus_x = forms.IntegerField(
        label=_("Horizontal position of the crop"),
        min_value=0,
        max_value=100,
        widget=RangeInput(attrs={"step": 1, "data-crop-focus": "x"}),
        help_text=_("0 keeps the left edge, 100 the right edge, 50 the middle."),
    )
    focus_y = forms.IntegerField(
        label=_("Vertical position of the crop"),
        min_value=0,
        max_value=100,
        widget=RangeInput(attrs={"step": 1, "data-crop-focus": "y"}),
        help_text=_("0 keeps the top, 100 the bottom, 50 the middle."),
    )

    @classmethod
    def for_asset(cls, asset: Asset, data: Any = None) -> CropForm:
        return cls(
            data,
            initial={
                "aspect": asset.aspect,
                "focus_x": round(asset.crop_focus_x * 100),
                "focus_y": round(asset.crop_focus_y * 100),
            },
        )


class SubtitlesForm(forms.Form):
    default_renderer = JINJA2_FORMS

    file = forms.FileField(
        label=_("Subtitle file"),
        help_text=_("WebVTT (.vtt) or SRT (.srt), in UTF-8. SRT is converted to WebVTT."),
        widget=forms.ClearableFileInput(attrs={"accept": ".vtt,.srt,text/vtt"}),
    )


class PersonForm(forms.ModelForm[Person]):
    """A new person in the county's register (from an asset, or the register's own page)."""

    default_renderer = JINJA2_FORMS

    class Meta:
        model = Person
        fields = ("name", "category", "guardian", "contact_email", "language")
        help_texts = {"name": _("A name, or a description such as “boy with the red cap” when you do not know it.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The language of the consent page and e-mails; the county's default when not chosen.
        self.fields["language"].required = False


class ConsentForm(forms.Form):
    covers_publishing = forms.BooleanField(label=_("Publish on social media"), required=False, initial=True)
    covers_archive_reuse = forms.BooleanField(label=_("Keep in the archive for reuse"), required=False, initial=True)
    covers_sharing = forms.BooleanField(
        label=_("Share with other counties"),
        required=False,
        help_text=_("Other counties may borrow the media from the shared pool."),
    )
    given_at = forms.DateField(label=_("Given on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Empty: until it is withdrawn."),
    )
    person_is_minor = forms.BooleanField(required=False)
    given_by = forms.CharField(
        label=_("Given by (guardian)"),
        required=False,
        max_length=200,
        help_text=_("The name of the parent or guardian who consented for the child."),
    )
    evidence = forms.FileField(
        label=_("Signed form"),
        required=False,
        help_text=_("A PDF or a photo of the signed form, at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png,image/heic,.heic"}),
    )
    evidence_note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Without a signed form: how consent was given, by whom, and where it is kept."),
    )

    def __init__(self, *args: Any, minor_age: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person_is_minor"].label = _("The person is under %(age)s") % {"age": minor_age}
        self.fields["person_is_minor"].help_text = _("Then a parent or guardian must give the consent.")


class WithdrawConsentForm(forms.Form):
    note = forms.CharField(
        label=_("Why, and who asked"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the audit log and shown on the media page."),
    )


class ConsentLinkForm(forms.Form):
    """What a consent link asks the person (or a child's guardian) to agree to, and where it goes."""

    email = forms.EmailField(label=_("Send the link to"), help_text=_("The person's address, or a child's guardian's."))
    language = forms.ChoiceField(label=_("Language of the page and e-mail"), choices=settings.LANGUAGES)
    covers_publishing = forms.BooleanField(label=_("Publish on social media"), required=False, initial=True)
    covers_archive_reuse = forms.BooleanField(label=_("Keep in the archive for reuse"), required=False, initial=True)
    covers_sharing = forms.BooleanField(label=_("Share with other counties"), required=False)
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Empty: until it is withdrawn."),
    )


class ConsentAnswerForm(forms.Form):
    """The person on their link's page: the address the link was sent to, as a check against forwarding."""

    email = forms.EmailField(
        label=_("Your e-mail address"),
        help_text=_("The address this link was sent to."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class MergeForm(forms.Form):
    keep = forms.IntegerField(widget=forms.HiddenInput)
    other = forms.IntegerField(widget=forms.HiddenInput)
