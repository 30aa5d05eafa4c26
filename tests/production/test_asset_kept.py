"""An asset's page is rendered once for everyone of a role with the same libraries in the county and kept
until the next write (production.views.assets._kept_asset_page): what they may do with the asset, and
whether its files may leave for them, is theirs.

Committed writes here, so that what is kept is what everyone sees.
"""

from __future__ import annotations

import pytest

from libraries.models import Role
from production.models import Asset
from tests.conftest import World, client_for
from tests.factories.publishing import make_asset
from tests.kept import colleague, form_token, kept_page

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_page_is_kept_for_the_assets_library_and_another_librarys_people_get_their_own(world: World) -> None:
    asset = make_asset(county=world.county, library=world.library, title="Bøker på bordet")
    url = asset.get_absolute_url()
    assert 'name="title"' in client_for(world.librarian).get(url).text  # the library's own: may change it
    siri = colleague(world, Role.LIBRARIAN, "Siri Sandnes", library=world.library)

    page = kept_page(siri, url)  # the asset, its people and their consents: none of them read again

    assert "Bøker på bordet" in page
    assert 'name="title"' in page
    saved = siri.post(url, {"title": "Nye bøker", "alt_text": "Bøker.", "csrfmiddlewaretoken": form_token(page)})
    assert saved.status_code == 302  # the reader's own token
    other_library = client_for(world.other_librarian).get(url).text
    assert "Nye bøker" in other_library
    assert 'name="title"' not in other_library  # another library's librarian may not change it

    Asset.objects.filter(pk=asset.pk).update(title="Ny tittel")  # no signal

    assert "<title>Ny tittel" in siri.get(url).text
