from functools import cache
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from libraries.access import all_accesses, can_read_outbox, current_access

# The main menu's pages (templates/base.html): the one open is marked in the menu, so the menu, rendered once
# per role, network, language and marked page, is kept under it (`nav_path`).
NAV_VIEWS = (
    "home",
    "production:idea_list",
    "production:recording_day_list",
    "production:calendar_month",
    "production:concept_list",
    "publishing:plan_month",
    "publishing:post_list",
    "publishing:archive",
    "publishing:pool",
    "publishing:inbox",
    "production:person_list",
    "publishing:report",
    "libraries:list",
    "libraries:invitations",
    "publishing:channel",
)


@cache
def _nav_paths() -> frozenset[str]:
    return frozenset(reverse(name) for name in NAV_VIEWS)


def county(request: HttpRequest) -> dict[str, Any]:
    """The current county and role, and the others to switch to, for the navigation; the menu's page open."""
    return {
        "county_access": current_access(request),
        "county_accesses": all_accesses(request),
        "outbox_enabled": can_read_outbox(request),
        "nav_path": request.path if request.path in _nav_paths() else "",
    }
