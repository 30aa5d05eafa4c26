"""The app's URLs plus the bench's two reference views.

`/bench/trivial` goes through the same middleware stack and gunicorn workers
as the real pages but touches neither the session, the database nor a
template: the ceiling every page is compared with. `/bench/layout` is the
floor of a real page: a logged-in person's empty page in the site's layout
(base.html: session, user, county access, navigation), so what a page costs
beyond it is the page's own work.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import include, path
from django.views.decorators.http import require_GET

_LAYOUT = engines["django"].from_string(
    '{% extends "base.html" %}{% block title %}Bench{% endblock %}{% block content %}<h1>Bench</h1>{% endblock %}'
)


def trivial(request: HttpRequest) -> HttpResponse:
    """The cheapest possible response: the ceiling for this machine and stack."""
    return HttpResponse("ok")


@login_required
@require_GET
def layout(request: HttpRequest) -> HttpResponse:
    """An empty page in the layout, for a logged-in person: what every page pays before its own content."""
    return HttpResponse(_LAYOUT.render({}, request))


urlpatterns = [
    path("bench/trivial", trivial, name="bench_trivial"),
    path("bench/layout", layout, name="bench_layout"),
    path("", include("config.urls")),
]
