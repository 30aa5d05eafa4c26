from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.db.models import QuerySet
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from libraries.models import Library, LibraryQuerySet, Membership, User
from production import cadence
from production.models import Audience, Concept, Idea, RecordingDay

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
            "owner",
            "is_active",
        )
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "time_of_day": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args: Any, owners: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners  # type: ignore[attr-defined]
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
        self.fields["libraries"].queryset = other_libraries  # type: ignore[attr-defined]
        self.fields["concept"].queryset = concepts  # type: ignore[attr-defined]
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
    """The idea list's filters (GET); every field is optional."""

    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *Idea.Status.choices])
    library = forms.ModelChoiceField(
        label=_("Library"), required=False, queryset=Library.objects.none(), empty_label=_("All")
    )
    content_type = forms.ChoiceField(label=_("Content type"), required=False)
    concept = forms.ModelChoiceField(
        label=_("Concept"), required=False, queryset=Concept.objects.none(), empty_label=_("All")
    )

    def __init__(self, *args: Any, libraries: LibraryQuerySet, concepts: QuerySet[Concept], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["library"].queryset = libraries  # type: ignore[attr-defined]
        self.fields["concept"].queryset = concepts  # type: ignore[attr-defined]
        self.fields["content_type"].choices = [("", _("All")), *Idea._meta.get_field("content_type").choices]  # type: ignore[attr-defined, misc]


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
        self.fields["host_library"].queryset = libraries  # type: ignore[attr-defined]
        self.fields["participating_libraries"].queryset = libraries  # type: ignore[attr-defined]
        self.fields["responsible"].queryset = staff  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The day must end after it starts."))
        return data


class SignupForm(forms.Form):
    membership = forms.ModelChoiceField(label=_("Presenter"), queryset=Membership.objects.none())
    note = forms.CharField(
        label=_("Note"), required=False, max_length=300, help_text=_("Optional: what they would like to present.")
    )

    def __init__(self, *args: Any, memberships: QuerySet[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["membership"]
        field.queryset = memberships
        field.label_from_instance = lambda membership: f"{membership.user} ({membership.library})"


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
        self.fields["presenters"].queryset = presenters  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("idea") and not (data.get("title") or "").strip():
            self.add_error("title", _("Choose an idea, or give the slot a title (such as “Lunch”)."))
        return data
