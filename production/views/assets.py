"""Media pages: the assets of an idea or recording day, an asset's details, crop, subtitles, people and consent."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from libraries.access import AuthenticatedHttpRequest, CountyAccess, require_role
from libraries.http import act, render_kept_page, render_page
from production import release
from production.access import (
    asset_actions,
    can_upload_to_idea,
    get_asset_for_consent_review,
    get_asset_for_user,
    get_asset_person_for_user,
    get_consent_for_user,
    get_idea_for_upload,
    get_idea_for_user,
    get_recording_day_for_upload,
    get_recording_day_for_user,
)
from production.forms import (
    AssetForm,
    AssetUploadForm,
    ConsentForm,
    CropForm,
    PersonForm,
    SubtitlesForm,
    WithdrawConsentForm,
)
from production.models import Asset, AssetPerson, Idea, Person
from production.processing import metadata
from production.processing.files import MediaInfo, MediaRejected
from production.processing.images import Aspect, plan_crop
from production.processing.inspection import inspect_upload
from production.processing.instagram import InstagramCheck, instagram_check_image, instagram_check_video
from production.processing.subtitles import SUBTITLE_MAX_BYTES
from production.services import media as asset_services
from production.services.media import UploadTarget
from production.views import error_text, is_htmx

SECTION = "production/_asset_section.html"
ASSET_PAGE = "production/asset_detail.html"
# What a finished file's last answer says (HX-Trigger), for the parts of a page that wait for it.
ASSET_PROCESSED = "asset-processed"


# --- The assets of an idea or a recording day ---


def can_upload_to(county_access: CountyAccess, target: UploadTarget) -> bool:
    if isinstance(target, Idea):
        return can_upload_to_idea(county_access, target)
    return county_access.is_editor


def _target_assets(target: UploadTarget) -> list[Asset]:
    assets = (
        Asset.objects.filter(idea=target) if isinstance(target, Idea) else Asset.objects.filter(recording_day=target)
    )
    return list(assets.for_list().order_by("-created_at", "-pk"))


def asset_section_context(county_access: CountyAccess, target: UploadTarget) -> dict[str, Any]:
    """What the media section of an idea's or a recording day's page needs (three queries)."""
    is_idea = isinstance(target, Idea)
    assets = _target_assets(target)
    return {
        "assets": assets,
        "viewable": _viewable(county_access, assets),
        "asset_target": target,
        "can_upload": can_upload_to(county_access, target),
        "assets_url": reverse(
            "production:idea_assets" if is_idea else "production:recording_day_assets", args=[target.pk]
        ),
        "upload_url": asset_services.media_upload_url(target),
        "upload_form_url": reverse(
            "production:idea_upload_form" if is_idea else "production:recording_day_upload_form", args=[target.pk]
        ),
        "upload_form": AssetUploadForm(),
        "upload_limits": {
            "image": settings.UPLOAD_IMAGE_MAX_BYTES,
            "video": settings.UPLOAD_VIDEO_MAX_BYTES,
        },
        "upload_texts": upload_texts(),
    }


def _viewable(county_access: CountyAccess, assets: list[Asset]) -> set[int]:
    """The assets whose pictures the person may see in a list (production/release.py; people prefetched)."""
    today = timezone.localdate()
    return {
        asset.pk
        for asset in assets
        if release.media_release(asset, purpose=release.Purpose.VIEW, access=county_access, today=today).allowed
    }


def upload_texts() -> dict[str, str]:
    """The upload script's words, translated here (the script has no catalogue of its own)."""
    return {
        "waiting": _("Waiting"),
        "uploading": _("Uploading %(percent)s %%"),
        "paused": _("Interrupted at %(percent)s %%"),
        "checking": _("Checking the file…"),
        "done": _("Uploaded. Making the Instagram version…"),
        "doneAnnouncement": _("%(name)s is uploaded."),
        "failedAnnouncement": _("%(name)s could not be uploaded: %(message)s"),
        "interrupted": _(
            "The connection was interrupted. Your upload is kept: try again to go on from where it stopped."
        ),
        "refused": _("The file was refused."),
        "retry": _("Try again"),
        "cancel": _("Cancel"),
        "dismiss": _("Remove from the list"),
        "cancelled": _("%(name)s: upload cancelled."),
        "open": _("Open"),
    }


def _section_response(request: AuthenticatedHttpRequest, target: UploadTarget) -> HttpResponse:
    county_access = require_role(request)
    if not is_htmx(request):
        return redirect(target.get_absolute_url() + "#media")
    return render(request, f"{SECTION}#asset-list", asset_section_context(county_access, target))


@login_required
@require_GET
def idea_assets(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The idea's media list (htmx refreshes it after an upload)."""
    return _section_response(request, get_idea_for_user(request, pk))


@login_required
@require_GET
def recording_day_assets(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _section_response(request, get_recording_day_for_user(request, pk))


def _upload_from_form(request: AuthenticatedHttpRequest, target: UploadTarget) -> HttpResponse:
    """The plain form (no JavaScript): each file is checked and added or refused on its own."""
    form = AssetUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        errors = [*form.errors.get("uploads", []), *form.errors.get("camera", [])]
        messages.error(request, error_text(ValidationError(errors)))
        return redirect(target.get_absolute_url() + "#media")
    added = 0
    for upload in form.cleaned_data["files"]:
        try:
            info = inspect_upload(
                upload,
                max_image_bytes=settings.UPLOAD_IMAGE_MAX_BYTES,
                max_video_bytes=settings.UPLOAD_VIDEO_MAX_BYTES,
            )
            asset_services.add_asset(
                by=request.user, target=target, source=upload, original_name=upload.name or "", info=info
            )
        except MediaRejected as error:
            messages.error(request, _("%(name)s: %(message)s") % {"name": upload.name, "message": error})
            continue
        added += 1
    if added:
        messages.success(
            request,
            ngettext(
                "%(count)s file was uploaded; its Instagram version is being made.",
                "%(count)s files were uploaded; their Instagram versions are being made.",
                added,
            )
            % {"count": added},
        )
    return redirect(target.get_absolute_url() + "#media")


@login_required
@require_POST
def idea_upload_form(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _upload_from_form(request, get_idea_for_upload(request, pk))


@login_required
@require_POST
def recording_day_upload_form(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _upload_from_form(request, get_recording_day_for_upload(request, pk))


# --- One asset ---


def _with_people(asset: Asset) -> Asset:
    """The asset read again with what its page shows (after a POST that changed it or was refused)."""
    return Asset.objects.for_page().get(pk=asset.pk)


def instagram_checks(asset: Asset) -> list[tuple[str, InstagramCheck]]:
    """The Instagram check in the reader's language (recomputed from the stored probe; it is cheap)."""
    if asset.status != Asset.Status.READY or not asset.info:
        return []
    info = MediaInfo.from_json(asset.info)
    if asset.is_image:
        aspect = cast(Aspect, asset.aspect) if asset.aspect else None
        return [(_("In the feed or a carousel"), instagram_check_image(info, aspect))]
    return [
        (_("As a reel"), instagram_check_video(info, "reel")),
        (_("In a carousel"), instagram_check_video(info, "carousel")),
    ]


def crop_preview(asset: Asset) -> dict[str, Any] | None:
    """The crop drawn over the photo: the box in the photo's own pixels (an SVG over the thumbnail)."""
    if not asset.is_image or not asset.width or not asset.height:
        return None
    plan = plan_crop(
        asset.width,
        asset.height,
        cast(Aspect, asset.aspect) if asset.aspect else None,
        focus=(asset.crop_focus_x, asset.crop_focus_y),
    )
    left, top, right, bottom = plan.box
    return {
        "width": asset.width,
        "height": asset.height,
        "x": round(left * asset.width),
        "y": round(top * asset.height),
        "box_width": round((right - left) * asset.width),
        "box_height": round((bottom - top) * asset.height),
    }


def _people_rows(asset: Asset) -> list[dict[str, Any]]:
    today = timezone.localdate()
    return [
        {"person": person, "consent": person.current_consent(), "state": person.consent_state(today=today)}
        for person in asset.people.all()
    ]


def _asset_context(request: AuthenticatedHttpRequest, asset: Asset, **forms: Any) -> dict[str, Any]:
    county_access = require_role(request)
    consent_state = asset.consent_state()
    actions = asset_actions(county_access, asset, consent_state=consent_state)
    return {
        "asset": asset,
        "actions": actions,
        **asdict(actions),
        "releases": release.asset_releases(county_access, asset),
        "people_rows": _people_rows(asset),
        "consent_state": consent_state,
        "checks": instagram_checks(asset),
        "original_metadata": metadata.original_metadata_note(asset.info or {}),
        "crop": crop_preview(asset),
        "details_form": forms.get("details_form") or AssetForm(instance=asset),
        "crop_form": forms.get("crop_form") or (CropForm.for_asset(asset) if asset.is_image else None),
        "subtitles_form": forms.get("subtitles_form") or (SubtitlesForm() if asset.is_video else None),
        "person_form": forms.get("person_form") or PersonForm(prefix="person"),
        "minor_age": settings.CONSENT_MINOR_AGE,
    }


def _render_asset(
    request: AuthenticatedHttpRequest, asset: Asset, *, status: int = 200, read: bool = False, **forms: Any
) -> HttpResponse:
    """The asset's page with a form's errors (or as it is, `read`: the asset was read for it with
    `for_page`, else it is read again), rendered for this request alone."""
    context = _asset_context(request, asset if read else _with_people(asset), **forms)
    return render_page(request, ASSET_PAGE, str(asset), context, status=status)


def _kept_asset_page(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The asset's page as everyone of the role with the same libraries in the county sees it (what they may
    do with it and whether its files may leave for them: `asset_actions`, `release.asset_releases`), kept
    until the next write and for a minute at most (a consent ends with its day; libraries.http)."""
    county_access = require_role(request)

    def build() -> tuple[str, dict[str, Any]]:
        asset = get_asset_for_user(request, pk, for_page=True)
        return str(asset), _asset_context(request, asset)

    kept_for = ["asset", pk, county_access.county.pk, county_access.role, sorted(county_access.library_ids)]
    return render_kept_page(request, ASSET_PAGE, kept_for, build, per_minute=True)


@login_required
@require_http_methods(["GET", "POST"])
def asset_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """An asset's page; a POST saves its details (title, alt text, credit, tags, burned-in subtitles)."""
    if request.method != "POST":
        return _kept_asset_page(request, pk)
    asset = get_asset_for_user(request, pk, for_change=True)
    form = AssetForm(request.POST, instance=asset)
    if form.is_valid():
        asset_services.update_asset(by=request.user, asset=form.save(commit=False), changed=form.changed_model_fields)
        messages.success(request, _("The details of “%(asset)s” were saved.") % {"asset": asset})
        return redirect(asset)
    return _render_asset(request, asset, status=400, details_form=form)


@login_required
@require_GET
def asset_card(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """One card of a media list; polled every 2 s while the asset is processing."""
    county_access = require_role(request)
    asset = get_asset_for_user(request, pk)
    asset = Asset.objects.for_list().get(pk=asset.pk)
    return render(
        request,
        f"{SECTION}#asset-card",
        {"asset": asset, "announce": not asset.is_processing, "viewable": _viewable(county_access, [asset])},
    )


@login_required
@require_GET
def asset_upload_state(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """What the worker does with a just-uploaded file, in its upload's row; polled every 3 s while it is
    being made. Its last answer also says "asset-processed", so a list of media to choose from (the compose
    form) shows the file ready."""
    asset = get_asset_for_user(request, pk)
    response = render(request, f"{SECTION}#upload-state", {"asset": asset})
    if not asset.is_processing:
        response["HX-Trigger"] = ASSET_PROCESSED
    return response


@login_required
@require_GET
def asset_status(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The preview and Instagram check on an asset's page; polled every 2 s while it is processing."""
    asset = get_asset_for_user(request, pk, for_page=True)
    context = _asset_context(request, asset)
    context["announce"] = not asset.is_processing
    return render(request, f"{ASSET_PAGE}#asset-status", context)


@login_required
@require_POST
def asset_crop(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    asset = get_asset_for_user(request, pk, for_change=True)
    form = CropForm.for_asset(asset, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            asset_services.change_crop(
                by=request.user,
                asset=asset,
                aspect=data["aspect"],
                focus_x=data["focus_x"] / 100,
                focus_y=data["focus_y"] / 100,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The crop was saved; the Instagram version is being made again."))
            return redirect(reverse("production:asset_detail", args=[asset.pk]) + "#crop")
    return _render_asset(request, asset, status=400, crop_form=form)


@login_required
@require_POST
def asset_subtitles(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    asset = get_asset_for_user(request, pk, for_change=True)
    form = SubtitlesForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read(SUBTITLE_MAX_BYTES + 1)
        try:
            info = asset_services.set_subtitles(by=request.user, asset=asset, data=data)
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            messages.success(
                request,
                ngettext(
                    "The subtitles were saved (%(count)s subtitle).",
                    "The subtitles were saved (%(count)s subtitles).",
                    info.cue_count,
                )
                % {"count": info.cue_count},
            )
            return redirect(reverse("production:asset_detail", args=[asset.pk]) + "#subtitles")
    return _render_asset(request, asset, status=400, subtitles_form=form)


@login_required
@require_POST
def asset_subtitles_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    asset = get_asset_for_user(request, pk, for_change=True)
    asset_services.remove_subtitles(by=request.user, asset=asset)
    messages.success(request, _("The subtitle file was removed."))
    return redirect(reverse("production:asset_detail", args=[asset.pk]) + "#subtitles")


@login_required
@require_POST
def asset_retry(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    asset = get_asset_for_user(request, pk, for_change=True)
    return act(
        request,
        lambda: asset_services.retry_processing(by=request.user, asset=asset),
        success=_("The Instagram version is being made again."),
        back=asset,
    )


@login_required
@require_POST
def asset_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    asset = get_asset_for_user(request, pk, for_change=True)
    back = asset.idea or asset.recording_day
    name = str(asset)
    try:
        asset_services.delete_asset(by=request.user, asset=asset)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(asset)
    messages.success(request, _("“%(asset)s” was deleted.") % {"asset": name})
    return redirect(back.get_absolute_url() + "#media" if back else reverse("home"))


# --- People shown and their consent ---


def _consent_back(request: AuthenticatedHttpRequest, person: Person) -> str:
    """Where a consent page returns to: the asset it was opened from (?asset=), else the register entry."""
    asset_id = request.GET.get("asset") or request.POST.get("asset") or ""
    if asset_id.isdigit() and person.tags.filter(asset_id=int(asset_id)).exists():
        return reverse("production:asset_detail", args=[int(asset_id)]) + "#people"
    first = person.tags.order_by("pk").values_list("asset_id", flat=True).first()
    if not require_role(request).is_editor and first is not None:
        return reverse("production:asset_detail", args=[first]) + "#people"
    return reverse("production:person_detail", args=[person.pk])


@login_required
@require_POST
def asset_person_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    asset = get_asset_for_user(request, pk, for_change=True)
    form = PersonForm(request.POST, prefix="person")
    if form.is_valid():
        try:
            person = asset_services.add_person(
                by=request.user,
                asset=asset,
                name=form.cleaned_data["name"],
                category=form.cleaned_data["category"],
                guardian=form.cleaned_data.get("guardian") or "",
                contact_email=form.cleaned_data.get("contact_email") or "",
                language=form.cleaned_data.get("language") or "",
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("%(name)s was added. Record their consent next.") % {"name": person.name})
            return redirect(reverse("production:consent_create", args=[person.pk]))
    return _render_asset(request, asset, status=400, person_form=form)


@login_required
@require_POST
def asset_confirm_no_people(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """An editor confirms that nobody in the asset can be recognised (until someone is added)."""
    asset = get_asset_for_consent_review(request, pk)
    return act(
        request,
        lambda: asset_services.confirm_no_people(by=request.user, asset=asset),
        success=_("“%(asset)s” is confirmed to show no identifiable people. Adding a person shown undoes this.")
        % {"asset": asset},
        back=reverse("production:asset_detail", args=[asset.pk]) + "#people",
    )


@login_required
@require_POST
def asset_person_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    person = get_asset_person_for_user(request, pk)
    asset = person.asset
    return act(
        request,
        lambda: asset_services.remove_person(by=request.user, person=person),
        success=_("%(name)s was taken off the list.") % {"name": person.name},
        back=reverse("production:asset_detail", args=[asset.pk]) + "#people",
    )


@login_required
@require_http_methods(["GET", "POST"])
def consent_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Record a person's consent: scope, dates, a guardian for a minor, and the signed form or a note."""
    person = get_asset_person_for_user(request, pk)
    form = ConsentForm(
        request.POST or None,
        request.FILES or None,
        minor_age=settings.CONSENT_MINOR_AGE,
        initial={
            "given_at": timezone.localdate(),
            "person_is_minor": person.category == AssetPerson.Category.CHILD,
            "given_by": person.person.guardian if person.person is not None else "",
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            asset_services.record_consent(
                by=request.user,
                person=person,
                covers_publishing=data["covers_publishing"],
                covers_archive_reuse=data["covers_archive_reuse"],
                covers_sharing=data["covers_sharing"],
                given_at=data["given_at"],
                valid_until=data["valid_until"],
                person_is_minor=data["person_is_minor"],
                given_by=data["given_by"],
                evidence=data["evidence"],
                evidence_note=data["evidence_note"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The consent of %(name)s was recorded.") % {"name": person.name})
            return redirect(reverse("production:asset_detail", args=[person.asset_id]) + "#people")
    return render(
        request,
        "production/consent_form.html",
        {"form": form, "person": person, "asset": person.asset, "minor_age": settings.CONSENT_MINOR_AGE},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def consent_withdraw(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Withdraw a consent: the person no longer agrees, for every asset they are tagged in (asks first)."""
    consent = get_consent_for_user(request, pk)
    person = consent.person
    back = _consent_back(request, person)
    form = WithdrawConsentForm(request.POST or None)
    if consent.withdrawn_at is not None:
        messages.info(request, _("This consent was already withdrawn."))
        return redirect(back)
    if request.method == "POST" and form.is_valid():
        try:
            asset_services.withdraw_consent(by=request.user, consent=consent, note=form.cleaned_data["note"])
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(
                request,
                _(
                    "The consent of %(name)s was withdrawn. The media showing them can no longer be published "
                    "or reused, and the coordinators have been told."
                )
                % {"name": person.name},
            )
        return redirect(back)
    tagged = list(Asset.objects.filter(people__person=person).order_by("-created_at")[:50])
    return render(
        request,
        "production/consent_withdraw.html",
        {"form": form, "consent": consent, "person": person, "tagged": tagged, "back": back},
        status=400 if request.method == "POST" else 200,
    )
