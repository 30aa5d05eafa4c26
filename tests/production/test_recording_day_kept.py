"""A recording day's page is rendered once for everyone of a role with the same libraries in the county and
kept until the next write (production.views.recording_days.recording_day_detail): their own library's
sign-ups, who they may sign up, and what they may do with the day are theirs.

Committed writes here, so that what is kept is what everyone sees.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from libraries.models import Membership, Role
from production.models import PresenterSignup, RecordingDay
from tests.conftest import World, client_for
from tests.factories.production import RecordingDayFactory
from tests.kept import colleague, form_token, kept_page

pytestmark = pytest.mark.django_db(transaction=True)


def presenters(page: str) -> str:
    return page.split('id="presenters-heading"')[1].split("</ul>")[0]


def test_a_day_is_kept_for_each_librarys_people_who_sign_up_with_their_own_token(world: World) -> None:
    day = RecordingDayFactory(county=world.county, host_library=world.other_library)
    url = day.get_absolute_url()
    client = colleague(world, Role.LIBRARIAN, "Siri Sandnes", library=world.library)
    membership = Membership.objects.get(user__name="Siri Sandnes")
    sola, coordinator = client_for(world.other_librarian), client_for(world.coordinator)  # a login writes
    assert "Siri Sandnes" in client_for(world.librarian).get(url).text  # among those Sandnes may sign up

    page = kept_page(client, url)  # the day, its run sheet, sign-ups, consents and media: none read again

    assert "Siri Sandnes" in page
    other_library = sola.get(url).text  # nothing written since
    assert "Siri Sandnes" not in other_library  # Sola's people may not sign up Sandnes's
    assert "Announce to the libraries" not in page
    assert "Announce to the libraries" not in other_library
    signed_up = client.post(
        reverse("production:signup_create", args=[day.pk]),
        {"membership": membership.pk, "csrfmiddlewaretoken": form_token(page)},
    )
    assert signed_up.status_code == 302  # the reader's own token, not the one the page was rendered with
    assert PresenterSignup.objects.filter(recording_day=day, person=membership.user).exists()
    assert "Siri Sandnes" in presenters(coordinator.get(url).text)  # at once, for everyone

    RecordingDay.objects.filter(pk=day.pk).update(status=RecordingDay.Status.DRAFT)  # no signal

    assert client.get(url).status_code == 404  # a draft day is the county's alone
    assert "Announce to the libraries" in coordinator.get(url).text
