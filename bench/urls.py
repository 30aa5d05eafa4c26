"""The app's URLs plus /bench/trivial, the ceiling every page is compared with.

The trivial view goes through the same middleware stack and gunicorn workers
as the real pages but does no database or template work, so a page's
throughput as a fraction of it shows what the page itself costs.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def trivial(request: HttpRequest) -> HttpResponse:
    """The cheapest possible response: the ceiling for this machine and stack."""
    return HttpResponse("ok")


urlpatterns = [
    path("bench/trivial", trivial, name="bench_trivial"),
    path("", include("config.urls")),
]
