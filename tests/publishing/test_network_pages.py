"""The network's pages: participation, offering and approving on the item page, the shared pool, borrowing, hiding."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from libraries.models import AuditEntry, County
from tests.conftest import World, client_for

# --- Participation ---


def test_the_coordinator_turns_the_countys_participation_on_and_off_and_it_is_audited(
    world: World, coordinator_client: Client
) -> None:
    url = reverse("libraries:county_settings")
    page = coordinator_client.get(url)
    assert "Take part in the network of counties" in page.text
    assert client_for(world.editor).post(url, {"in_network": "on"}).status_code == 403

    assert coordinator_client.post(url, {"in_network": "on"}).status_code == 302
    assert County.objects.get(pk=world.county.pk).in_network
    assert not County.objects.get(pk=world.other_county.pk).in_network
    entry = AuditEntry.objects.get(action="county.settings_changed")
    assert (entry.actor, entry.data) == (world.coordinator, {"in_network": True})

    assert coordinator_client.post(url, {}).status_code == 302
    assert not County.objects.get(pk=world.county.pk).in_network
    assert AuditEntry.objects.filter(action="county.settings_changed").latest("pk").data == {"in_network": False}
