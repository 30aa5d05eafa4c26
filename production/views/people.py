"""The county's register of people (editors and coordinators), tagging people on an asset, and their rights.

The consent link page that the person themselves opens (no login) is in
production/views/consent_links.py.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from libraries.access import AuthenticatedHttpRequest, require_role
from libraries.models import Role
from production.access import get_asset_for_user, get_asset_person_for_user, get_person_for_user, people_for_user
from production.forms import ConsentForm, ConsentLinkForm, MergeForm, PersonForm
from production.models import Asset, AssetPerson, ConsentLink, Person, people_with_consents
from production.services import media as asset_services
from production.services import people as people_services
from production.views import error_text, is_htmx

PAGE_SIZE = 200


# --- The register ---


@login_required
@require_GET
def person_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    _access, people = people_for_user(request)
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    if query:
        for word in query.split():
            people = people.filter(name__icontains=word)
    rows = list(
        people.annotate(tag_count=Count("tags", distinct=True)).with_consents().order_by("name", "pk")[:PAGE_SIZE]
    )
    today = timezone.localdate()
    return render(
        request,
        "production/person_list.html",
        {
            "rows": [(person, person.consent_state(today=today)) for person in rows],
            "query": query,
            "truncated": len(rows) == PAGE_SIZE,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def person_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    access, _people = people_for_user(request)
    form = PersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            person = asset_services.create_person(by=request.user, county=access.county, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("%(name)s is in the register. Record their consent next.") % {"name": person})
            return redirect(person)
    return render(request, "production/person_form.html", {"form": form}, status=400 if form.errors else 200)


def _person_context(person: Person, **extra: object) -> dict[str, object]:
    today = timezone.localdate()
    consents = list(person.consents.select_related("recorded_by").order_by("-given_at", "-pk"))
    tagged = list(
        Asset.objects.filter(people__person=person).select_related("library").prefetch_related(people_with_consents())
    )
    return {
        "person": person,
        "consents": consents,
        "current": person.current_consent(),
        "state": person.consent_state(today=today),
        "tagged": tagged,
        "links": list(person.consent_links.order_by("-created_at")[:10]),
        "link_form": extra.pop("link_form", None)
        or ConsentLinkForm(
            initial={
                "email": person.contact_email,
                "language": person.language,
                "valid_until": people_services.renewal_default(consents[0]) if consents else None,
            }
        ),
        **extra,
    }


@login_required
@require_GET
def person_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    person = get_person_for_user(request, pk)
    return render(request, "production/person_detail.html", _person_context(person))


@login_required
@require_http_methods(["GET", "POST"])
def person_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Correct a register entry: name, category, contact address, guardian, language (audited)."""
    person = get_person_for_user(request, pk)
    form = PersonForm(request.POST or None, instance=Person.objects.get(pk=person.pk))
    if request.method == "POST" and form.is_valid():
        try:
            changed = people_services.update_person(
                by=request.user,
                person=person,
                **{field: form.cleaned_data[field] for field in people_services.EDITABLE_FIELDS},
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if changed:
                person.refresh_from_db()
                messages.success(request, _("The register entry of %(name)s was saved.") % {"name": person.name})
            else:
                messages.info(request, _("Nothing was changed."))
            return redirect(person)
    return render(
        request,
        "production/person_form.html",
        {"form": form, "person": person},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def person_consent(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Record a consent on the register entry (a signed form or a note): it covers every asset they are in."""
    person = get_person_for_user(request, pk)
    form = ConsentForm(
        request.POST or None,
        request.FILES or None,
        minor_age=settings.CONSENT_MINOR_AGE,
        initial={"given_at": timezone.localdate(), "person_is_minor": person.is_child, "given_by": person.guardian},
    )
    if request.method == "POST" and form.is_valid():
        try:
            asset_services.record_consent(by=request.user, person=person, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The consent of %(name)s was recorded.") % {"name": person.name})
            return redirect(person)
    return render(
        request,
        "production/consent_form.html",
        {"form": form, "person": person, "asset": None, "minor_age": settings.CONSENT_MINOR_AGE},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def person_send_link(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """E-mail the person (or a child's guardian) a one-time link to consent, or to renew their consent."""
    person = get_person_for_user(request, pk)
    form = ConsentLinkForm(request.POST)
    if form.is_valid():
        try:
            people_services.send_consent_link(by=request.user, person=person, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("A consent link was sent to %(email)s. It can be answered for %(days)s days.")
                % {"email": form.cleaned_data["email"], "days": ConsentLink.VALID_FOR.days},
            )
            return redirect(person)
    return render(request, "production/person_detail.html", _person_context(person, link_form=form), status=400)


@login_required
@require_GET
def person_export(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Everything held about the person, as a JSON file (their right of access)."""
    person = get_person_for_user(request, pk)
    with transaction.atomic():
        data = people_services.export_json(person, by=request.user)
    response = HttpResponse(data, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="person-{person.pk}.json"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def person_erase(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Erase the person at their request (asks first, and says what follows)."""
    person = get_person_for_user(request, pk)
    if request.method == "POST":
        blocked = people_services.erase_person(by=request.user, person=person)
        messages.success(
            request,
            _(
                "The person was erased from the register. %(count)s media files showing them are blocked "
                "for good, and approved or scheduled posts with them went back to review."
            )
            % {"count": len(blocked)},
        )
        return redirect("production:person_list")
    context = _person_context(person)
    from django.apps import apps  # publishing is above production: read its posts by name

    post_asset = apps.get_model("publishing", "PostAsset")
    context["scheduled_posts"] = list(
        post_asset.objects.filter(
            asset__people__person=person, post__status__in=["approved", "scheduled", "publishing"]
        ).values_list("post__title", flat=True)
    )
    return render(request, "production/person_erase.html", context)


# --- Merging entries that are the same person ---


@login_required
@require_GET
def merge_proposals(request: AuthenticatedHttpRequest) -> HttpResponse:
    access, _people = people_for_user(request)
    return render(
        request, "production/person_merge_list.html", {"proposals": people_services.merge_proposals(access.county)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def person_merge(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Merge two entries: the editor sees what the merged consent will be and why, then confirms."""
    _access, people = people_for_user(request)
    form = MergeForm(request.POST or request.GET)
    if not form.is_valid():
        raise Http404("Choose two entries to merge.")
    with_consents = people.with_consents()
    keep = with_consents.filter(pk=form.cleaned_data["keep"]).first()
    other = with_consents.filter(pk=form.cleaned_data["other"]).first()
    if keep is None or other is None:
        raise Http404("No such entries in this county.")
    if request.method == "POST":
        try:
            people_services.merge_people(by=request.user, keep=keep, other=other)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
            return redirect("production:merge_proposals")
        messages.success(request, _("The two entries of %(name)s were merged.") % {"name": keep.name})
        return redirect(reverse("production:person_detail", args=[keep.pk]))
    outcome = people_services.merged_consent(keep, other)
    return render(
        request,
        "production/person_merge.html",
        {"keep": keep, "other": other, "outcome": outcome, "form": form, "entries": [keep, other]},
    )


# --- Tagging people on an asset ---


@login_required
@require_GET
def asset_people_search(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The register's matches for what the editor types (htmx: a list of buttons that tag with one press)."""
    require_role(request, Role.EDITOR)
    asset = get_asset_for_user(request, pk, for_change=True)
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    matches = people_services.search_register(asset.county, query)
    tagged = set(AssetPerson.objects.filter(asset=asset).values_list("person_id", flat=True))
    today = timezone.localdate()
    context = {
        "asset": asset,
        "query": query,
        "matches": [(person, person.consent_state(today=today), person.pk in tagged) for person in matches],
    }
    if not is_htmx(request):
        return redirect(reverse("production:asset_detail", args=[asset.pk]) + "#people")
    return render(request, "production/_register_matches.html", context)


@login_required
@require_POST
def asset_person_tag(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Tag someone from the register in the asset."""
    access = require_role(request, Role.EDITOR)
    asset = get_asset_for_user(request, pk, for_change=True)
    person_id = request.POST.get("person", "")
    person = Person.objects.for_county(access.county).filter(pk=int(person_id) if person_id.isdigit() else 0).first()
    if person is None:
        raise Http404("No such person in this county's register.")
    try:
        asset_services.tag_person(by=request.user, asset=asset, person=person)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("%(name)s is tagged.") % {"name": person.name})
    return redirect(reverse("production:asset_detail", args=[asset.pk]) + "#people")


@login_required
@require_POST
def asset_person_confirm(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Confirm a suggested tag (a recording day's presenter): they are indeed shown."""
    tag = get_asset_person_for_user(request, pk)
    try:
        asset_services.confirm_suggested_person(by=request.user, tag=tag)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("%(name)s is confirmed as shown.") % {"name": tag.name})
    return redirect(reverse("production:asset_detail", args=[tag.asset_id]) + "#people")


@login_required
@require_http_methods(["GET", "POST"])
def asset_person_register(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A new person with their consent in one step: registered, tagged and consent recorded together."""
    asset = get_asset_for_user(request, pk, for_change=True)
    data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    person_form = PersonForm(data, prefix="new", initial={"name": request.GET.get("name", "")[:200]})
    consent_form = ConsentForm(
        data, files, prefix="consent", minor_age=settings.CONSENT_MINOR_AGE, initial={"given_at": timezone.localdate()}
    )
    if request.method == "POST" and person_form.is_valid() and consent_form.is_valid():
        try:
            with transaction.atomic():
                tag = asset_services.add_person(by=request.user, asset=asset, **person_form.cleaned_data)
                asset_services.record_consent(by=request.user, person=tag, **consent_form.cleaned_data)
        except ValidationError as exc:
            consent_form.add_error(None, exc)
        else:
            messages.success(
                request, _("%(name)s was added with their consent.") % {"name": person_form.cleaned_data["name"]}
            )
            return redirect(reverse("production:asset_detail", args=[asset.pk]) + "#people")
    return render(
        request,
        "production/person_with_consent_form.html",
        {
            "asset": asset,
            "person_form": person_form,
            "consent_form": consent_form,
            "minor_age": settings.CONSENT_MINOR_AGE,
        },
        status=400 if request.method == "POST" else 200,
    )
