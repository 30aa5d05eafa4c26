"""The monthly report is built and rendered once, kept for everyone who may open it, and built again after
any write (publishing.views.reports._kept_report, under libraries.versions' data version).

Committed writes here, so that what is kept is what everyone sees.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from publishing.models import InsightSnapshot
from tests.conftest import World, client_for
from tests.factories.reports import oslo, published_post, reading
from tests.kept import kept_page

pytestmark = pytest.mark.django_db(transaction=True)

MARCH = f"{reverse('publishing:report')}?month=2026-03"


def test_the_report_is_kept_for_everyone_in_the_county_and_shows_new_figures_at_once(world: World) -> None:
    post = published_post(
        county=world.county, author=world.editor, title="Påskekrim", at=oslo(2026, 3, 10), collaborators=[world.library]
    )
    reading(post, at=oslo(2026, 3, 17), reach=400, views=900, likes=30, comments=5, saved=3, shares=2)
    coordinator, librarian = client_for(world.coordinator), client_for(world.librarian)
    first = coordinator.get(MARCH)
    assert "Påskekrim" in first.text

    page = kept_page(librarian, MARCH)  # none of the report's queries
    assert "Påskekrim" in page
    assert ">400<" in page.replace("\u00a0", "")  # the reach
    choices = page.split('id="report-library"')[1].split("</select>")[0]
    assert world.library.name in choices
    assert world.other_library.name not in choices
    assert world.other_library.name in coordinator.get(MARCH).text.split('id="report-library"')[1]

    InsightSnapshot.objects.filter(post=post).update(reach=4321)  # the worker's kind of write: no signal

    assert "4,321" in librarian.get(MARCH).text
    printed = librarian.get(f"{reverse('publishing:report_print')}?month=2026-03")
    assert "4,321" in printed.text
    assert f'href="{MARCH}">Back to the report' in printed.text


def test_each_language_and_library_has_a_report_of_its_own(world: World) -> None:
    published_post(
        county=world.county, author=world.editor, title="Påskekrim", at=oslo(2026, 3, 10), collaborators=[world.library]
    )
    published_post(county=world.county, author=world.editor, title="Bare fylket", at=oslo(2026, 3, 11))
    coordinator = client_for(world.coordinator)
    assert "Bare fylket" in coordinator.get(MARCH).text

    own = coordinator.get(f"{MARCH}&library={world.library.pk}").text
    assert "Påskekrim" in own
    assert "Bare fylket" not in own

    coordinator.post(reverse("set_language"), {"language": "nb"})
    assert "Publiserte innlegg" in coordinator.get(MARCH).text
