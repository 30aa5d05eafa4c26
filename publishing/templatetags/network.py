"""`{% network_panel concept %}`: the "network of counties" section on a concept's or an idea's page (the
production app's pages; the network is publishing's), as the archive item's page shows it."""

from __future__ import annotations

from typing import Any

from django import template

from libraries.access import current_access
from publishing.views.sharing import network_panel as panel_context

register = template.Library()


@register.inclusion_tag("publishing/_network_panel.html", takes_context=True)
def network_panel(context: template.Context, thing: Any) -> dict[str, Any]:
    """Nothing for someone without access to the county; the section shows itself only when it has something
    to say (the county takes part, or the thing was shared)."""
    request = context["request"]
    access = current_access(request)
    if access is None:
        return {}
    return panel_context(access, thing, language=request.user.language) | {"csrf_token": context.get("csrf_token")}
