"""The permission gate (libraries/access.py) and every coordinator page, role by role."""

import re

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from libraries import services
from libraries.access import county_accesses, get_library_for_user
from libraries.context_processors import NAV_VIEWS
from libraries.models import Library, Role
from tests.conftest import World, client_for, enable_mfa
from tests.factories.libraries import InvitationFactory, LibraryFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def coordinator_pages(world: World) -> list[tuple[str, str]]:
    """(method, url) for every page only a coordinator may use, in the coordinator's county."""
    membership = world.librarian.memberships.get()
    invitation = InvitationFactory(library=world.library, invited_by=world.coordinator)
    return [
        ("get", reverse("libraries:list")),
        ("get", reverse("libraries:create")),
        ("post", reverse("libraries:create")),
        ("get", reverse("libraries:detail", args=[world.library.pk])),
        ("get", reverse("libraries:edit", args=[world.library.pk])),
        ("post", reverse("libraries:edit", args=[world.library.pk])),
        ("post", reverse("libraries:membership_role", args=[membership.pk])),
        ("post", reverse("libraries:membership_remove", args=[membership.pk])),
        ("get", reverse("libraries:invitations")),
        ("post", reverse("libraries:invitations")),
        ("post", reverse("libraries:invitation_resend", args=[invitation.pk])),
        ("post", reverse("libraries:invitation_revoke", args=[invitation.pk])),
    ]


@pytest.mark.parametrize("persona", ["editor", "librarian"])
def test_only_coordinators_reach_coordinator_pages(world: World, persona: str) -> None:
    client = client_for(getattr(world, persona))
    for method, url in coordinator_pages(world):
        response = getattr(client, method)(url)
        assert response.status_code == 403, (persona, method, url)


def test_coordinator_reaches_every_coordinator_page(world: World, coordinator_client: Client) -> None:
    for method, url in coordinator_pages(world):
        response = getattr(coordinator_client, method)(url)
        # Empty POSTs are rejected forms (400) or act and redirect (302); never 403/404.
        assert response.status_code in {200, 302, 400}, (method, url, response.status_code)


def test_anonymous_visitors_are_sent_to_login(world: World) -> None:
    for method, url in coordinator_pages(world):
        response = getattr(Client(), method)(url)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(reverse("account_login"))


def test_another_countys_objects_are_404_for_a_coordinator(world: World, outsider_client: Client) -> None:
    """The Agder coordinator gets 404, not 403, for anything in Rogaland: not even its existence shows."""
    object_pages = [
        (method, url)
        for method, url in coordinator_pages(world)
        if any(ch.isdigit() for ch in url)  # the pages that name an object
    ]
    assert len(object_pages) == 7
    for method, url in object_pages:
        response = getattr(outsider_client, method)(url)
        assert response.status_code == 404, (method, url)


def test_lists_show_only_the_users_county(world: World, outsider_client: Client) -> None:
    response = outsider_client.get(reverse("libraries:list"))
    assert response.status_code == 200
    assert "Agder fylkesbibliotek" in response.text
    assert "Sandnes bibliotek" not in response.text
    response = outsider_client.get(reverse("libraries:invitations"))
    assert world.library.name not in response.text


def test_invitation_form_offers_only_own_countys_libraries(world: World, outsider_client: Client) -> None:
    response = outsider_client.post(
        reverse("libraries:invitations"),
        {"email": "x@example.org", "library": world.library.pk, "role": Role.LIBRARIAN},
    )
    assert response.status_code == 400
    assert not world.library.invitations.exists()


def test_role_is_the_highest_of_the_users_memberships_in_the_county(world: World, rf) -> None:  # type: ignore[no-untyped-def]
    MembershipFactory(user=world.librarian, library=world.county_library, role=Role.EDITOR)
    accesses = county_accesses(world.librarian)
    assert [(a.county, a.role) for a in accesses] == [(world.county, Role.EDITOR)]
    assert accesses[0].library_ids == {world.library.pk, world.county_library.pk}


def test_user_in_two_counties_works_in_one_at_a_time(world: World) -> None:
    MembershipFactory(user=world.outsider, library=world.library, role=Role.LIBRARIAN)
    client = client_for(world.outsider)
    # Agder comes first alphabetically: coordinator there.
    assert client.get(reverse("libraries:list")).status_code == 200
    response = client.post(reverse("choose_county"), {"county": world.county.pk})
    assert response.status_code == 302
    # In Rogaland the same person is a librarian.
    assert client.get(reverse("libraries:list")).status_code == 403
    # A county they do not belong to cannot be chosen.
    other = LibraryFactory().county
    assert client.post(reverse("choose_county"), {"county": other.pk}).status_code == 404


# --- The accesses kept in the cache follow every write they are read from ---


def _access_queries(client: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    # The county access: the memberships with their counties and the second-factor check.
    return [query["sql"] for query in queries.captured_queries if '"mfa_authenticator"' in query["sql"]]


def test_the_county_access_is_read_once_then_kept(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.REQUIRE_MFA = False
    client = client_for(world.librarian)
    assert len(_access_queries(client, reverse("home"))) == 1
    assert _access_queries(client, reverse("production:idea_list")) == []  # from the cache


def test_a_role_given_or_taken_counts_from_the_next_request(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.REQUIRE_MFA = False
    client = client_for(world.librarian)
    inbox = reverse("publishing:inbox")
    assert client.get(inbox).status_code == 403  # editors only; the access is kept now
    membership = world.librarian.memberships.get()
    services.change_role(by=world.coordinator, membership=membership, role=Role.EDITOR)
    assert client.get(inbox).status_code == 200
    services.change_role(by=world.coordinator, membership=membership, role=Role.LIBRARIAN)
    assert client.get(inbox).status_code == 403
    services.remove_membership(by=world.coordinator, membership=membership)
    assert client.get(reverse("home")).status_code == 403  # in no county any more


def test_a_second_factor_set_up_counts_from_the_next_request(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.REQUIRE_MFA = True
    client = client_for(world.librarian)
    home = reverse("home")
    assert client.get(home).status_code == 200  # a librarian needs none; the access is kept now
    membership = world.librarian.memberships.get()
    services.change_role(by=world.coordinator, membership=membership, role=Role.EDITOR)
    assert client.get(home)["Location"] == reverse("mfa_activate_totp")  # an editor sets one up first
    enable_mfa(world.librarian)
    assert client.get(home).status_code == 200


def test_a_county_joining_the_network_shows_the_shared_pool_at_once(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.REQUIRE_MFA = False
    client = client_for(world.coordinator)
    pool = reverse("publishing:pool")
    assert pool not in client.get(reverse("home")).text
    world.county.in_network = True
    world.county.save(update_fields=["in_network"])
    assert pool in client.get(reverse("home")).text


def test_a_library_moved_to_another_county_takes_its_people_along(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.REQUIRE_MFA = False
    client = client_for(world.librarian)
    assert world.county.name in client.get(reverse("home")).text
    world.library.county = world.other_county
    world.library.save(update_fields=["county"])
    page = client.get(reverse("home")).text
    assert world.other_county.name in page
    assert world.county.name not in page


def test_the_menu_marks_the_page_open_and_no_other(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    """The menu is rendered once per role, network, language and page marked, and kept: every page of it is
    marked on itself, and a page outside it marks none (templates/base.html, NAV_VIEWS)."""
    settings.REQUIRE_MFA = False
    world.county.in_network = True
    world.county.save(update_fields=["in_network"])
    client = client_for(world.coordinator)
    for name in NAV_VIEWS:
        url = reverse(name)
        menu = client.get(url).text.split('class="main-nav"')[1].split("</nav>")[0]
        assert menu.count('aria-current="page"') == 1, name
        assert f'href="{url}" aria-current="page"' in menu, name
    menu = client.get(reverse("libraries:detail", args=[world.library.pk])).text.split('class="main-nav"')[1]
    assert 'aria-current="page"' not in menu.split("</nav>")[0]


def test_the_menu_lists_exactly_the_pages_it_marks() -> None:
    """Every page of the menu in templates/base.html is one NAV_VIEWS knows (else it would never be marked)."""
    template = (settings.BASE_DIR / "templates" / "base.html").read_text()
    nav = template.split('class="main-nav"')[1].split("</nav>")[0]
    assert set(re.findall(r"{% url '([\w:]+)' as \w+ %}", nav)) == set(NAV_VIEWS)


def test_person_without_membership_is_told_to_ask_for_an_invitation(db) -> None:  # type: ignore[no-untyped-def]
    client = client_for(UserFactory())
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert "invite" in response.text
    assert client.get(reverse("libraries:list")).status_code == 403


def test_get_library_for_user_scopes_by_county(world: World, rf) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.sessions.backends.cache import SessionStore
    from django.http import Http404

    request = rf.get("/")
    request.user = world.coordinator
    request.session = SessionStore()
    assert get_library_for_user(request, world.library.pk) == world.library
    with pytest.raises(Http404):
        get_library_for_user(request, world.other_county_library.pk)


def test_library_list_query_count_does_not_grow_with_libraries(
    world: World, coordinator_client: Client, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    # session, user, memberships (county access) with the MFA check, libraries with counts; +1 margin
    with django_assert_max_num_queries(6) as few:
        coordinator_client.get(reverse("libraries:list"))
    for _ in range(20):
        library = LibraryFactory(county=world.county)
        MembershipFactory(library=library)
        InvitationFactory(library=library)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = coordinator_client.get(reverse("libraries:list"))
    assert response.text.count("<tr>") == Library.objects.filter(county=world.county).count() + 1
