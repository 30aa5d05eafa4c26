"""Secrets at rest (the channel's access token): Fernet with the keys in settings.ENCRYPTION_KEYS.

The first key encrypts; every key decrypts. To rotate, put a new key first,
run `rotate` over the stored values (the channel's `rotate_token`), and drop
the old key once nothing uses it.
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(Exception):
    """A stored secret that none of the configured keys opens (a key was dropped too early)."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "ENCRYPTION_KEYS holds a key that is not a Fernet key (32 url-safe base64-encoded bytes)."
        ) from exc


def _current() -> MultiFernet:
    # Keyed by the setting's value, so a changed setting (tests, rotation) takes effect at once.
    return _fernet(tuple(settings.ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    """The secret encrypted with the first key, as text for a database column."""
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _current().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("None of the ENCRYPTION_KEYS can decrypt this value.") from exc


def needs_rotation(ciphertext: str) -> bool:
    """True when the value was encrypted with another key than the first."""
    keys = tuple(settings.ENCRYPTION_KEYS)
    try:
        _fernet(keys[:1]).decrypt(ciphertext.encode())
    except InvalidToken:
        return True
    return False


def rotate(ciphertext: str) -> str:
    """The same secret, encrypted again with the first key."""
    try:
        return _current().rotate(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("None of the ENCRYPTION_KEYS can decrypt this value.") from exc
