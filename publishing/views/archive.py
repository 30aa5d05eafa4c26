"""The shared archive: search with filters and facets, one item, downloads, and reuse in a new post."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from libraries.access import AuthenticatedHttpRequest


@login_required
@require_GET
def archive_search(request: AuthenticatedHttpRequest) -> HttpResponse:
    raise Http404  # built next
