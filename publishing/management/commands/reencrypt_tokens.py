"""Encrypt stored Instagram tokens again with the first of ENCRYPTION_KEYS (after a key rotation)."""

from typing import Any

from django.core.management.base import BaseCommand

from publishing.instagram import channels


class Command(BaseCommand):
    help = "Re-encrypt stored tokens with the first key in ENCRYPTION_KEYS; then the old keys can go."

    def handle(self, *args: Any, **options: Any) -> None:
        changed = channels.reencrypt_tokens()
        self.stdout.write(self.style.SUCCESS(f"{changed} token(s) encrypted again with the first key."))
