from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.forms.renderers import Jinja2
from django.forms.utils import flatatt
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from libraries.models import County, Invitation, Library, Membership, Role, User, instagram_username_validator


class Jinja2Forms(Jinja2):
    """Django's own form templates in their Jinja2 versions (django/forms/jinja2): the same markup in half
    the time of its template language, for the forms of pages measured against the layout (BENCHMARKS.md:
    the asset page's forms were a third of its rendering). Not FORM_RENDERER: the admin's widgets have
    Django templates only.

    Jinja2 escapes quotes as &#34; and &#39; where Django writes &quot; and &#x27; (the same characters):
    they are written as Django writes them, so a form reads the same whichever engine rendered it."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        html: str = super().render(template_name, context, request)
        return html.replace("&#34;", "&quot;").replace("&#39;", "&#x27;")


JINJA2_FORMS = Jinja2Forms()  # one instance: a renderer builds its engine once


class PlainSelect(forms.Select):
    """Django's <select>, written in Python: the same markup without rendering a template for every
    <option> (a filter form lists every library and concept of a county on every page load), nor building
    Django's option dictionaries (`optgroups`) on the way. A group's options are written without the group."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        chosen = self.format_value(value)
        options: list[str] = []
        has_selected = False  # as Django's optgroups: only the first option with the value is selected
        for option_value, option_label in self.choices:
            group = option_label if isinstance(option_label, list | tuple) else [(option_value, option_label)]
            for subvalue, sublabel in group:
                shown = "" if subvalue is None else subvalue
                selected = not has_selected and str(shown) in chosen
                has_selected |= selected
                options.append(
                    f'<option value="{conditional_escape(shown)}"{" selected" if selected else ""}>'
                    f"{conditional_escape(str(sublabel))}</option>"
                )
        written = mark_safe("".join(options))  # noqa: S308  # every value and label escaped above
        return format_html(
            '<select name="{}"{}>{}</select>', name, flatatt(self.build_attrs(self.attrs, attrs)), written
        )


class ObjectChoiceField(forms.TypedChoiceField):
    """A choice among objects already in hand (a list the page has read once), cleaned to the object.

    ModelChoiceField reads its queryset again on every render and validation;
    an unknown id is refused like any invalid choice.
    """

    widget = PlainSelect

    def __init__(self, *, empty_label: StrOrPromise, **kwargs: Any) -> None:
        super().__init__(coerce=int, empty_value=None, **kwargs)
        self.empty_label = empty_label
        self.objects: dict[int, Any] = {}

    def set_objects(self, objects: Iterable[Any], label: Callable[[Any], str] = str) -> None:
        self.objects = {obj.pk: obj for obj in objects}
        self.choices = [("", self.empty_label), *((pk, label(obj)) for pk, obj in self.objects.items())]

    def clean(self, value: Any) -> Any:
        pk = super().clean(value)
        return None if pk is None else self.objects[pk]


class LibraryForm(forms.ModelForm[Library]):
    # Longer than the model's 30 characters: people paste "@handle" or the
    # profile URL, which clean_instagram_username reduces to the handle.
    instagram_username = forms.CharField(
        label=_("Instagram username"),
        max_length=200,
        required=False,
        help_text=_("Used to add the library as a collaborator on posts. Without the @."),
    )

    class Meta:
        model = Library
        fields = ("name", "municipality", "address", "email", "instagram_username", "is_active")

    def clean_instagram_username(self) -> str:
        # People paste "@handle" or the profile URL; keep only the handle.
        value: str = self.cleaned_data["instagram_username"].strip()
        value = value.removeprefix("https://").removeprefix("http://").removeprefix("www.")
        value = value.removeprefix("instagram.com/").strip("/").removeprefix("@")
        if value:
            instagram_username_validator(value)
        return value

    def clean_name(self) -> str:
        # The county comes from the view, not the form, so Django's own unique
        # check skips this rule: check it here to show it on the field.
        name: str = self.cleaned_data["name"].strip()
        duplicate = Library.objects.filter(county_id=self.instance.county_id, name__iexact=name)
        if duplicate.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("The county already has a library with this name."))
        return name


class CountySettingsForm(forms.ModelForm[County]):
    class Meta:
        model = County
        fields = ("country", "keep_original_metadata", "in_network", "allow_single_review", "single_review_reason")
        widgets = {"single_review_reason": forms.Textarea(attrs={"rows": 3})}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["single_review_reason"] = (data.get("single_review_reason") or "").strip()
        if data.get("allow_single_review") and not data["single_review_reason"]:
            self.add_error(
                "single_review_reason",
                _("Write why posts may go out without a second review: the editors and the audit log see it."),
            )
        return data


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    name = forms.CharField(label=_("Name"), max_length=150, required=False)
    library = forms.ModelChoiceField(label=_("Library"), queryset=Library.objects.none())
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.LIBRARIAN)

    def __init__(self, *args: Any, libraries: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["library"].queryset = libraries  # type: ignore[attr-defined]  # a ModelChoiceField; the form's fields are typed as the base Field

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        library, role = data.get("library"), data.get("role")
        if library is not None and role == Role.COORDINATOR and library.kind != Library.Kind.COUNTY:
            self.add_error("role", _("Coordinators belong to the county library."))
        return data


class MembershipRoleForm(forms.ModelForm[Membership]):
    class Meta:
        model = Membership
        fields = ("role",)


class AcceptInvitationForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=150)
    password1 = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Repeat the password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, invitation: Invitation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invitation = invitation

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password1, password2 = data.get("password1"), data.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords are not the same."))
        elif password1:
            candidate = User(email=self.invitation.email, name=data.get("name", ""))
            try:
                password_validation.validate_password(password1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data
