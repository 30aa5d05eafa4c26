"""Coordinator pages for libraries, members and invitations; the home page; accepting an invitation."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language

from libraries import services
from libraries.access import (
    AuthenticatedHttpRequest,
    can_read_outbox,
    get_invitation_for_user,
    get_library_for_user,
    get_membership_for_user,
    invitation_actions,
    outbox_enabled,
    require_role,
)
from libraries.access import (
    choose_county as choose_current_county,
)
from libraries.forms import AcceptInvitationForm, CountySettingsForm, InvitationForm, LibraryForm, MembershipRoleForm
from libraries.http import act, error_text, is_htmx, safe_next_url
from libraries.models import Invitation, Library, Membership, OutboxMessage, Role, User

INVITATIONS_PER_PAGE = 50


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, which also keeps the choice on the account: e-mails follow it."""
    response = django_set_language(request)
    if request.method == "POST" and request.user.is_authenticated:
        services.remember_language(user=request.user, language=request.POST.get("language", ""))
    return response


@login_required
@require_POST
def choose_county(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        county_id = int(request.POST.get("county", ""))
    except ValueError as exc:
        raise Http404 from exc
    chosen = choose_current_county(request, county_id)
    messages.success(request, _("You are now working in %(county)s.") % {"county": chosen.county})
    return redirect("home")


# --- Libraries (coordinator) ---


@login_required
@require_GET
def library_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    county_access = require_role(request, Role.COORDINATOR)
    libraries = Library.objects.for_county(county_access.county).with_member_counts().order_by("-kind", "name")
    return render(request, "libraries/library_list.html", {"libraries": libraries})


@login_required
@require_http_methods(["GET", "POST"])
def library_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    county_access = require_role(request, Role.COORDINATOR)
    library = Library(county=county_access.county, kind=Library.Kind.MEMBER)
    form = LibraryForm(request.POST or None, instance=library)
    if request.method == "POST" and form.is_valid():
        library = services.save_library(by=request.user, library=form.save(commit=False))
        messages.success(request, _("%(library)s was added.") % {"library": library})
        return redirect(library)
    return render(request, "libraries/library_form.html", {"form": form, "library": None})


@login_required
@require_http_methods(["GET", "POST"])
def library_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    library = get_library_for_user(request, pk)
    form = LibraryForm(request.POST or None, instance=library)
    if request.method == "POST" and form.is_valid():
        services.save_library(by=request.user, library=form.save(commit=False), changed=form.changed_data)
        messages.success(request, _("The changes to %(library)s were saved.") % {"library": library})
        return redirect(library)
    return render(request, "libraries/library_form.html", {"form": form, "library": library})


@login_required
@require_GET
def library_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    library = get_library_for_user(request, pk)
    memberships = library.memberships.select_related("user").order_by("user__name", "user__email")
    invitations = library.invitations.pending().select_related("invited_by")
    form = InvitationForm(
        initial={"library": library, "role": Role.LIBRARIAN},
        libraries=Library.objects.for_county(library.county).active(),
    )
    return render(
        request,
        "libraries/library_detail.html",
        {
            "library": library,
            "memberships": memberships,
            "invitations": invitations,
            "form": form,
            "role_choices": Role.choices,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def county_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The county's own settings: location and camera details in uploads, the network, review of posts."""
    county_access = require_role(request, Role.COORDINATOR)
    # Every box unticked sends no field at all (an empty POST), still a submission.
    form = CountySettingsForm(request.POST if request.method == "POST" else None, instance=county_access.county)
    if request.method == "POST" and form.is_valid():
        services.change_county_settings(by=request.user, county=form.save(commit=False), changed=form.changed_data)
        messages.success(request, _("The county's settings were saved."))
        return redirect("libraries:county_settings")
    return render(
        request,
        "libraries/county_settings.html",
        {"form": form, "county": county_access.county},
        status=400 if request.method == "POST" else 200,
    )


# --- Members (coordinator) ---


@login_required
@require_POST
def membership_role(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    membership = get_membership_for_user(request, pk)
    form = MembershipRoleForm(request.POST, instance=Membership(role=membership.role))
    error = ""
    if form.is_valid():
        try:
            services.change_role(by=request.user, membership=membership, role=Role(form.cleaned_data["role"]))
        except ValidationError as exc:
            error = error_text(exc)
    else:
        error = _("Choose one of the roles in the list.")
    if is_htmx(request):
        membership.refresh_from_db()
        return render(
            request,
            "libraries/library_detail.html#member-row",
            {"membership": membership, "role_choices": Role.choices, "row_error": error, "row_saved": not error},
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(
            request,
            _("%(person)s is now %(role)s.")
            % {"person": membership.user, "role": membership.get_role_display().lower()},
        )
    return redirect(membership.library)


@login_required
@require_POST
def membership_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    membership = get_membership_for_user(request, pk)
    library = membership.library
    return act(
        request,
        lambda: services.remove_membership(by=request.user, membership=membership),
        success=_("%(person)s no longer belongs to %(library)s.") % {"person": membership.user, "library": library},
        back=library,
    )


# --- Invitations (coordinator) ---


@login_required
@require_http_methods(["GET", "POST"])
def invitation_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    county_access = require_role(request, Role.COORDINATOR)
    libraries = Library.objects.for_county(county_access.county).active()
    form = InvitationForm(request.POST or None, libraries=libraries)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invitation = services.invite(
                by=request.user,
                library=data["library"],
                email=data["email"],
                role=Role(data["role"]),
                name=data["name"],
            )
        except ValidationError as exc:
            form.add_error("email", exc)
        else:
            messages.success(
                request,
                _("An invitation was sent to %(email)s. The link works once and for %(days)s days.")
                % {"email": invitation.email, "days": settings.INVITATION_VALID_DAYS},
            )
            return redirect(safe_next_url(request) or reverse("libraries:invitations"))
    status = "all" if request.GET.get("status") == "all" else "open"
    invitations = Invitation.objects.for_county(county_access.county).select_related("library", "invited_by")
    if status == "open":
        invitations = invitations.open()
    page = Paginator(invitations, INVITATIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "libraries/invitation_list.html",
        {
            "form": form,
            "page": page,
            "invitations": page.object_list,
            "rows": [(invitation, invitation_actions(county_access, invitation)) for invitation in page.object_list],
            "status": status,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def invitation_resend(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    invitation = get_invitation_for_user(request, pk)
    return act(
        request,
        lambda: services.resend_invitation(by=request.user, invitation=invitation),
        success=_("A new link was sent to %(email)s; the old one no longer works.") % {"email": invitation.email},
        back=safe_next_url(request) or reverse("libraries:invitations"),
    )


@login_required
@require_POST
def invitation_revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    invitation = get_invitation_for_user(request, pk)
    return act(
        request,
        lambda: services.revoke_invitation(by=request.user, invitation=invitation),
        success=_("The invitation to %(email)s was revoked.") % {"email": invitation.email},
        back=safe_next_url(request) or reverse("libraries:invitations"),
    )


# --- Accepting an invitation (the person invited; may not have an account yet) ---


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.check_invitation(token)
    except services.InvitationError as exc:
        return render(request, "libraries/invitation_invalid.html", {"reason": str(exc)}, status=410)

    has_account = User.objects.filter(email__iexact=invitation.email).exists()
    logged_in_as_invitee = request.user.is_authenticated and request.user.email.lower() == invitation.email.lower()
    form = None
    if not has_account:
        form = AcceptInvitationForm(request.POST or None, invitation=invitation, initial={"name": invitation.name})

    if request.method == "POST":
        try:
            if has_account and logged_in_as_invitee:
                user = services.accept_invitation(token=token, user=request.user)  # type: ignore[arg-type]  # AnonymousUser only when not logged in, checked above
            elif form is not None and form.is_valid():
                user = services.accept_invitation(
                    token=token, name=form.cleaned_data["name"], password=form.cleaned_data["password1"]
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                # The account may have been made a moment ago from this same link (a double click, a
                # forwarded e-mail): then the link is used up, which the person should be told.
                services.check_invitation(token)
                user = None
        except services.InvitationError as exc:
            return render(request, "libraries/invitation_invalid.html", {"reason": str(exc)}, status=410)
        if user is not None:
            messages.success(
                request,
                _("Welcome! You are now %(role)s at %(library)s.")
                % {"role": invitation.get_role_display().lower(), "library": invitation.library},
            )
            return redirect("home")

    return render(
        request,
        "libraries/invitation_accept.html",
        {
            "invitation": invitation,
            "form": form,
            "has_account": has_account,
            "logged_in_as_invitee": logged_in_as_invitee,
            "login_url": f"{reverse('account_login')}?next={request.path}",
        },
        status=400 if request.method == "POST" else 200,
    )


# --- The demo's outbox ---


@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    """E-mails the app sent, readable in the browser: development only (DEBUG with EMAIL_BACKEND=outbox).

    Anywhere else the page does not exist, for anyone; in development it needs
    a logged-in coordinator or staff member (can_read_outbox).
    """
    if not outbox_enabled():
        raise Http404
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not can_read_outbox(request):
        raise PermissionDenied("The outbox is for coordinators and staff.")
    return render(request, "libraries/outbox.html", {"messages_sent": OutboxMessage.objects.all()[:50]})
