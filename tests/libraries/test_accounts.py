"""Logging in: rate limits, two-factor authentication, password reset."""

import pytest
from allauth.mfa.totp.internal.auth import hotp_value, yield_hotp_counters_from_time
from django.core import mail
from django.test import Client
from django.urls import reverse

from libraries.models import Role
from tests.conftest import World, client_for, enable_mfa
from tests.factories.libraries import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_librarian_logs_in_with_email_and_password(world: World) -> None:
    client = Client()
    response = client.post(reverse("account_login"), {"login": world.librarian.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_session_key_changes_at_login(world: World) -> None:
    client = Client()
    client.get(reverse("account_login"))
    client.session.save()
    before = client.session.session_key
    client.post(reverse("account_login"), {"login": world.librarian.email, "password": PASSWORD})
    assert client.session.session_key != before


def test_failed_logins_are_rate_limited(world: World) -> None:
    client = Client()
    for _ in range(5):
        response = client.post(reverse("account_login"), {"login": world.librarian.email, "password": "wrong"})
        assert response.status_code == 200
    # Even the right password is refused now, with a plain message.
    response = client.post(reverse("account_login"), {"login": world.librarian.email, "password": PASSWORD})
    assert response.status_code in {200, 429}
    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in response.text


def totp_code(secret: str) -> str:
    return f"{hotp_value(secret, next(yield_hotp_counters_from_time())):06d}"


def test_coordinator_without_mfa_must_set_it_up_first(db) -> None:  # type: ignore[no-untyped-def]
    from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY

    coordinator = MembershipFactory(role=Role.COORDINATOR, library__kind="county").user
    client = Client()
    client.post(reverse("account_login"), {"login": coordinator.email, "password": PASSWORD})
    for url in (reverse("home"), reverse("libraries:list"), reverse("libraries:invitations")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("mfa_activate_totp")
    # The set-up page stays reachable (allauth asks for the password once more
    # first); with a code from the authenticator app the pages open.
    assert client.get(reverse("mfa_activate_totp"))["Location"].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(client.session[SECRET_SESSION_KEY])})
    assert response.status_code == 302
    assert client.get(reverse("libraries:list")).status_code == 200


def test_editor_without_mfa_must_set_it_up_but_librarian_need_not(db) -> None:  # type: ignore[no-untyped-def]
    editor = MembershipFactory(role=Role.EDITOR).user
    librarian = MembershipFactory(role=Role.LIBRARIAN).user
    assert client_for(editor).get(reverse("home"))["Location"] == reverse("mfa_activate_totp")
    assert client_for(librarian).get(reverse("home")).status_code == 200


def test_coordinator_with_totp_logs_in_with_a_code(world: World) -> None:
    coordinator = MembershipFactory(role=Role.COORDINATOR, library=world.county_library).user
    secret = enable_mfa(coordinator)
    client = Client()
    response = client.post(reverse("account_login"), {"login": coordinator.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session  # not logged in on the password alone
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert client.get(reverse("libraries:list")).status_code == 200


def test_mfa_requirement_can_be_turned_off_for_the_demo(settings, db) -> None:  # type: ignore[no-untyped-def]
    settings.REQUIRE_MFA = False
    coordinator = MembershipFactory(role=Role.COORDINATOR, library__kind="county").user
    assert client_for(coordinator).get(reverse("libraries:list")).status_code == 200


def test_password_reset_sends_a_link(world: World) -> None:
    response = Client().post(reverse("account_reset_password"), {"email": world.librarian.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_unknown_user_gets_no_account_from_login(db) -> None:  # type: ignore[no-untyped-def]
    UserFactory(email="known@example.org")
    response = Client().post(reverse("account_login"), {"login": "unknown@example.org", "password": PASSWORD})
    assert response.status_code == 200


# --- Power needs a second factor (issue 12) ---


@pytest.mark.parametrize(
    ("is_staff", "is_superuser"),
    [(True, False), (True, True), (False, True)],
    ids=["staff", "superuser", "superuser-only"],
)
def test_admin_staff_without_mfa_set_it_up_before_the_admin(world: World, is_staff: bool, is_superuser: bool) -> None:
    # Not an editor anywhere: the admin alone makes the account powerful.
    admin = UserFactory(email="drift@innspill.example", is_staff=is_staff, is_superuser=is_superuser)
    client = client_for(admin)
    for url in ("/admin/", f"/admin/libraries/library/{world.library.pk}/change/", reverse("home")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("mfa_activate_totp"), url
    enable_mfa(admin)
    # With the second factor, the admin's own rules apply: staff only, objects by permission.
    assert client.get("/admin/").status_code == (200 if is_staff else 302)
    if is_staff and is_superuser:
        assert client.get(f"/admin/libraries/library/{world.library.pk}/change/").status_code == 200


def test_powerful_account_without_mfa_reaches_only_the_set_up_pages(db) -> None:  # type: ignore[no-untyped-def]
    editor = MembershipFactory(role=Role.EDITOR).user
    client = client_for(editor)
    for name in ("account_email", "account_change_password", "account_set_password", "mfa_generate_recovery_codes"):
        assert client.get(reverse(name))["Location"] == reverse("mfa_activate_totp"), name
    # What setting it up needs: the set-up page (behind allauth's password check), the 2FA overview, logging out.
    assert client.get(reverse("mfa_activate_totp"))["Location"].startswith(reverse("account_reauthenticate"))
    assert client.get(reverse("account_reauthenticate")).status_code == 200
    assert client.get(reverse("mfa_index")).status_code == 200
    assert client.post(reverse("account_logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def activate_totp(client: Client) -> None:
    """What the person does on the set-up page: confirm the password, scan, type the code."""
    from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY

    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200, page.get("Location")
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(client.session[SECRET_SESSION_KEY])})
    assert response.status_code == 302
    assert response["Location"] != reverse("mfa_activate_totp")


def test_opening_the_email_page_before_mfa_does_not_dead_end_the_set_up(db) -> None:  # type: ignore[no-untyped-def]
    """allauth records an unverified address when the e-mail page is first opened, and refuses
    two-factor activation while one exists; the set-up path must still finish."""
    from allauth.mfa.utils import is_mfa_enabled

    coordinator = MembershipFactory(role=Role.COORDINATOR, library__kind="county").user
    client = Client()
    client.post(reverse("account_login"), {"login": coordinator.email, "password": PASSWORD})
    client.get(reverse("account_email"))
    client.post(reverse("account_email"), {"email": "ny.adresse@example.org", "action_add": ""})
    activate_totp(client)
    assert is_mfa_enabled(coordinator)
    assert client.get(reverse("libraries:list")).status_code == 200


def test_a_password_reset_before_mfa_does_not_dead_end_the_set_up(db) -> None:  # type: ignore[no-untyped-def]
    """Asking for a reset link also leaves an unverified address behind (allauth's token records one)."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.utils import is_mfa_enabled

    editor = MembershipFactory(role=Role.EDITOR).user
    Client().post(reverse("account_reset_password"), {"email": editor.email})
    assert EmailAddress.objects.filter(user=editor, verified=False).exists()
    client = Client()
    client.post(reverse("account_login"), {"login": editor.email, "password": PASSWORD})
    activate_totp(client)
    assert is_mfa_enabled(editor)


# --- Login limits that hold behind a proxy (issue 12) ---


def failed_login(client: Client, email: str, **headers: str) -> None:
    response = client.post(reverse("account_login"), {"login": email, "password": "wrong"}, headers=headers)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def logs_in(client: Client, email: str, password: str = PASSWORD, **headers: str) -> bool:
    client.post(reverse("account_login"), {"login": email, "password": password}, headers=headers)
    return "_auth_user_id" in client.session


def test_the_per_account_limit_holds_whatever_the_host_header_and_spelling_of_the_address(world: World) -> None:
    client = Client()
    email = world.librarian.email
    hosts = ["testserver", "TESTSERVER", "testserver:80", "TestServer:8000", "localhost"]
    spellings = [email, email.upper(), f" {email} ", email.capitalize(), email]
    for host, spelling in zip(hosts, spellings, strict=True):
        failed_login(client, spelling, host=host)
    assert not logs_in(client, email, host="127.0.0.1:8000")


def test_behind_a_trusted_proxy_one_clients_failures_do_not_lock_out_another(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    attacker = Client()
    # Ten wrong passwords a minute from one address, spread over accounts (the per-account limit stays out of it),
    # and a forged first hop does not make them someone else's: the proxy appends the address it saw.
    for n in range(10):
        failed_login(attacker, f"gjett{n}@example.org", x_forwarded_for=f"10.0.0.{n}, 203.0.113.5")
    assert not logs_in(attacker, world.editor.email, x_forwarded_for="10.9.9.9, 203.0.113.5")
    # Everyone else comes through the same proxy (the same REMOTE_ADDR) from their own address.
    assert logs_in(Client(), world.librarian.email, x_forwarded_for="198.51.100.7")


def test_a_request_with_fewer_hops_than_the_trusted_proxies_is_limited_not_an_error(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 2
    client = Client()
    # One hop where two proxies are counted: allauth itself would answer 500.
    failed_login(client, world.librarian.email, x_forwarded_for="198.51.100.7")
    assert logs_in(client, world.librarian.email, x_forwarded_for="198.51.100.7")


def test_without_a_trusted_proxy_a_forged_forwarded_for_does_not_escape_the_address_limit(world: World) -> None:
    attacker = Client()
    for n in range(10):
        failed_login(attacker, f"gjett{n}@example.org", x_forwarded_for=f"10.0.0.{n}")
    assert not logs_in(attacker, world.librarian.email, x_forwarded_for="198.51.100.7")


def test_wrong_totp_codes_do_not_lock_out_other_peoples_password_logins(world: World) -> None:
    secret = enable_mfa(world.librarian)
    mistyper = Client()
    assert mistyper.post(reverse("account_login"), {"login": world.librarian.email, "password": PASSWORD})[
        "Location"
    ] == reverse("mfa_authenticate")
    right = totp_code(secret)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(12):
        mistyper.post(reverse("mfa_authenticate"), {"code": wrong})
    # The mistyper's own account is limited: now even the right code is refused for a while.
    response = mistyper.post(reverse("mfa_authenticate"), {"code": right})
    assert "_auth_user_id" not in mistyper.session
    assert response.status_code == 200
    # Someone else on the same address (the same office, the same proxy) logs in with their password.
    assert logs_in(Client(), world.other_librarian.email)


# --- Password-reset links from PUBLIC_BASE_URL (issue 12) ---


def test_password_reset_link_is_on_the_public_address_whatever_the_host_header(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.PUBLIC_BASE_URL = "https://innspill.example.no"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "evil.example"]  # a second name the site answers to
    response = Client().post(
        reverse("account_reset_password"), {"email": world.librarian.email}, headers={"host": "evil.example"}
    )
    assert response.status_code == 302
    [message] = mail.outbox
    assert "https://innspill.example.no/accounts/password/reset/key/" in message.body
    assert "evil.example" not in message.body


def test_password_reset_for_an_unknown_address_sends_nothing(db) -> None:  # type: ignore[no-untyped-def]
    """Accounts come by invitation only: there is nothing to offer an unknown address (and the page says the same)."""
    response = Client().post(reverse("account_reset_password"), {"email": "ukjent@example.org"})
    assert response.status_code == 302
    assert mail.outbox == []
