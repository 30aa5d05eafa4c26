"""After publishing: the comments inbox, replies, the Instagram webhook, and insights."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from libraries.access import AuthenticatedHttpRequest


@login_required
@require_GET
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    raise Http404  # built next
