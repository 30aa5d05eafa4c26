"""Outcomes beyond likes, and the monthly report (page, print, CSV, e-mail to the library leaders)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from libraries.access import AuthenticatedHttpRequest


@login_required
@require_GET
def report(request: AuthenticatedHttpRequest) -> HttpResponse:
    raise Http404  # built next
