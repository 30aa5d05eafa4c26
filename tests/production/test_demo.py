"""The demo data (make run) shows production in every state, and loading it twice changes nothing."""

import pytest
from django.core.management import call_command

from production.models import Concept, Idea, PresenterSignup, RecordingDay, RunSheetSlot

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Concept, Idea, RecordingDay, RunSheetSlot, PresenterSignup, Idea.libraries.through)
    }


def test_demo_has_ideas_in_every_status_and_two_days_with_run_sheets() -> None:
    call_command("load_demo", verbosity=0)
    assert set(Idea.objects.values_list("status", flat=True)) == set(Idea.Status.values)
    assert set(RecordingDay.objects.values_list("status", flat=True)) == {"announced", "done"}
    for day in RecordingDay.objects.all():
        assert day.slots.exists()
    # Every planned idea is in a slot, and every idea in a slot of the done day was recorded.
    assert not Idea.objects.filter(status=Idea.Status.PLANNED, slot__isnull=True).exists()


def test_loading_the_demo_twice_changes_nothing() -> None:
    call_command("load_demo", verbosity=0)
    before = counts()
    call_command("load_demo", verbosity=0)
    assert counts() == before
