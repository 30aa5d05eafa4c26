"""The home page (publishing/home.py gathers its panels from every app)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from libraries.access import AuthenticatedHttpRequest, current_access
from publishing.home import home_context


@login_required
@require_GET
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    access = current_access(request)
    if access is None:
        return render(request, "libraries/no_membership.html", status=403)
    return render(request, "publishing/home.html", home_context(request, access))
