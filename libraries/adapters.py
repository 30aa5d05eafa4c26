from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class InvitationOnlyAccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]  # allauth ships no types
    """Accounts are made only by accepting an invitation (libraries.services.accept_invitation)."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False
