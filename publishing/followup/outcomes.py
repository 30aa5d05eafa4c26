"""Outcomes beyond likes: what a post led to, logged by editors and librarians (models: publishing/models/followup.py).

"A modest post may have raised loans of a book or attendance at an event"
(DESIGN.md §1): on a published post's page, librarians log their own
library's outcomes, editors and coordinators any library's in the county
(the rules are in libraries/access.py). The monthly report sums them.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from libraries.access import CountyAccess
from libraries.forms import ObjectChoiceField
from libraries.models import Library, LibraryQuerySet, User
from libraries.services import audit
from publishing.access import can_change_outcome, outcome_libraries_for
from publishing.models import Outcome, Post

# What the form may change (and the audit names).
OUTCOME_FIELDS = ("kind", "quantity", "library", "happened_on", "note")


class OutcomeForm(forms.ModelForm[Outcome]):
    """Log (or change) an outcome: what, how many or a note, for which library, when."""

    class Meta:
        model = Outcome
        fields = OUTCOME_FIELDS
        labels = {
            "kind": gettext_lazy("What did the post lead to?"),
            "quantity": gettext_lazy("How many"),
            "happened_on": gettext_lazy("When"),
        }
        help_texts = {
            "quantity": gettext_lazy(
                "Loans, people at the event, sign-ups… Leave it empty if you write a note instead."
            ),
            "note": gettext_lazy(
                "What happened, in a sentence or two (for example “Three asked for the book at the desk”)."
            ),
        }
        widgets = {
            "happened_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "note": forms.Textarea(attrs={"rows": 3}),
            "quantity": forms.NumberInput(attrs={"min": 0, "inputmode": "numeric", "class": "input--narrow"}),
        }

    library = ObjectChoiceField(label=gettext_lazy("Library"), empty_label=gettext_lazy("Choose the library"))

    def __init__(self, *args: Any, post: Post, libraries: LibraryQuerySet, **kwargs: Any) -> None:
        kwargs.setdefault("instance", Outcome(post=post))
        super().__init__(*args, **kwargs)
        self.post = post
        fields: dict[str, Any] = self.fields
        self.libraries = list(libraries)  # read once: the select is drawn from them and a choice checked against them
        fields["library"].set_objects(self.libraries)
        fields["kind"].choices = Outcome.Kind.choices  # no empty "---------" choice
        # The model's default is a callable (today), which would add a hidden "initial-" input.
        fields["happened_on"].show_hidden_initial = False
        if len(self.libraries) == 1 and not self.is_bound and self.instance.library_id is None:
            self.initial["library"] = self.libraries[0].pk

    def clean_happened_on(self) -> Any:
        day = self.cleaned_data["happened_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("Log what has happened: choose today or an earlier day."))
        published = self.post.published_at
        if published is not None and day < timezone.localdate(published):
            raise forms.ValidationError(
                _("The post was published on %(day)s; choose that day or a later one.")
                % {"day": date_format(timezone.localdate(published), "SHORT_DATE_FORMAT")}
            )
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # Said on the number field, and before the model's own check (which then skips the field with the error).
        if data.get("quantity") is None and not (data.get("note") or "").strip() and "quantity" not in self.errors:
            self.add_error("quantity", _("Give a number or write a note."))
        return data

    def changed_fields(self) -> list[str]:
        return [name for name in self.changed_data if name in OUTCOME_FIELDS]


def outcome_form(
    county_access: CountyAccess, post: Post, *, data: Any = None, outcome: Outcome | None = None
) -> OutcomeForm:
    """The form for the post, offering the libraries the user may log for (keeping the outcome's own when changing)."""
    libraries = outcome_libraries_for(county_access)
    if outcome is not None and outcome.library_id is not None:
        libraries = libraries | Library.objects.filter(pk=outcome.library_id)
    return OutcomeForm(data, post=post, libraries=libraries.order_by("name"), instance=outcome)


# --- The workflows ---


def _check(post: Post, outcome: Outcome) -> None:
    if post.status != Post.Status.PUBLISHED:
        raise ValidationError(_("Outcomes are logged for published posts."))
    if outcome.library is not None and outcome.library.county_id != post.county_id:
        raise ValidationError(_("Choose one of the county's libraries."))


def log_outcome(*, by: User, post: Post, outcome: Outcome) -> Outcome:
    """Save a new outcome of a published post."""
    outcome.post = post
    _check(post, outcome)
    with transaction.atomic():
        outcome.logged_by = by
        outcome.logged_at = timezone.now()
        outcome.save()
        audit(
            county=post.county,
            actor=by,
            action="outcome.logged",
            obj=outcome,
            summary=f"{post.title}: {outcome}",
            post=post.pk,
            kind=outcome.kind,
            quantity=outcome.quantity,
        )
    return outcome


def change_outcome(*, by: User, outcome: Outcome, changed: list[str]) -> Outcome:
    """Save the changed fields of an outcome."""
    _check(outcome.post, outcome)
    if not changed:
        return outcome
    with transaction.atomic():
        outcome.save(update_fields=changed)
        audit(
            county=outcome.post.county,
            actor=by,
            action="outcome.changed",
            obj=outcome,
            summary=f"{outcome.post.title}: {outcome}",
            post=outcome.post_id,
            fields=changed,
        )
    return outcome


def delete_outcome(*, by: User, outcome: Outcome) -> None:
    with transaction.atomic():
        audit(
            county=outcome.post.county,
            actor=by,
            action="outcome.deleted",
            obj=outcome,
            summary=f"{outcome.post.title}: {outcome}",
            post=outcome.post_id,
            kind=outcome.kind,
            quantity=outcome.quantity,
            note=outcome.note[:200],
        )
        outcome.delete()


# --- The post page ---


def outcomes_panel(access: CountyAccess, post: Post) -> dict[str, Any]:
    """What the post page shows of its outcomes (templates/publishing/_post_outcomes.html)."""
    if post.status != Post.Status.PUBLISHED:
        return {"outcomes_shown": False}
    outcomes = list(post.outcomes.select_related("library", "logged_by").order_by("-happened_on", "-pk"))
    form = outcome_form(access, post)
    return {
        "outcomes_shown": True,
        "outcome_rows": [(outcome, can_change_outcome(access, outcome)) for outcome in outcomes],
        "outcome_form": form if form.libraries else None,  # only for someone who may log for a library
    }
