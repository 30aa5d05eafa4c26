from typing import Any

from django.http import HttpRequest

from libraries.access import all_accesses, can_read_outbox, current_access


def county(request: HttpRequest) -> dict[str, Any]:
    """The current county and role, and the others to switch to, for the navigation."""
    return {
        "county_access": current_access(request),
        "county_accesses": all_accesses(request),
        "outbox_enabled": can_read_outbox(request),
    }
