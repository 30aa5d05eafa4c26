"""Counting captions as Instagram does, and tokens encrypted at rest with rotating keys."""

from __future__ import annotations

from base64 import urlsafe_b64encode

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from publishing.instagram import crypto
from publishing.instagram.channels import reencrypt_tokens
from publishing.models import Channel
from publishing.posts import captions
from tests.conftest import World
from tests.factories.publishing import ChannelFactory


def test_caption_counts_code_points_hashtags_and_mentions() -> None:
    counts = captions.count("Hei 👋 #bøker #lesing_2025 @sola.bibliotek e-post@example.org ##dobbel #")

    # The emoji counts once (a code point), as the browser's counter does.
    assert counts.characters == len("Hei 👋 #bøker #lesing_2025 @sola.bibliotek e-post@example.org ##dobbel #")
    assert counts.hashtags == 2  # "##dobbel" and a lone "#" are not hashtags
    assert counts.mentions == 1  # an e-mail address is not a mention
    assert counts.fits


def test_caption_line_ends_count_once_whatever_the_browser_sends() -> None:
    assert captions.count("a\r\nb").characters == captions.count("a\nb").characters == 3


def test_caption_over_each_limit_says_so_in_words() -> None:
    text = "x" * 2190 + " " + " ".join(f"#t{n}" for n in range(31)) + " " + " ".join(f"@u{n}" for n in range(21))

    problems = captions.count(text).problems

    assert len(problems) == 3
    assert problems[0].startswith("The caption has ")
    assert "characters; Instagram allows at most 2200." in problems[0]
    assert problems[1] == "The caption has 31 hashtags; Instagram allows at most 30."
    assert problems[2] == "The caption mentions 21 accounts; Instagram allows at most 20."


def test_the_credit_goes_on_a_paragraph_of_its_own() -> None:
    assert captions.full_caption("Lesetips!\r\n", "Inspired by @deichman") == "Lesetips!\n\nInspired by @deichman"
    assert captions.full_caption("", "Inspired by @deichman") == "Inspired by @deichman"
    assert captions.full_caption("Lesetips!", "  ") == "Lesetips!"
    assert captions.credit_line("@deichman", "https://www.instagram.com/deichman/") == "Inspired by @deichman"
    assert captions.credit_line("", "https://example.org/idea") == "Inspired by https://example.org/idea"
    assert captions.credit_line("", "") == ""


def test_token_is_encrypted_at_rest(world: World) -> None:
    channel = ChannelFactory(county=world.county, token="EAAF-secret-token")

    stored = Channel.objects.values_list("token_ciphertext", flat=True).get(pk=channel.pk)

    assert "EAAF-secret-token" not in stored
    assert Channel.objects.get(pk=channel.pk).access_token == "EAAF-secret-token"


def test_rotated_keys_still_decrypt_and_reencryption_moves_tokens_to_the_new_key(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    old_key = settings.ENCRYPTION_KEYS[0]
    channel = ChannelFactory(county=world.county, token="EAAF-before-rotation")
    new_key = Fernet.generate_key().decode()

    settings.ENCRYPTION_KEYS = [new_key, old_key]  # a new key first; the old one still decrypts
    assert Channel.objects.get(pk=channel.pk).access_token == "EAAF-before-rotation"
    assert crypto.needs_rotation(Channel.objects.get(pk=channel.pk).token_ciphertext)

    call_command("reencrypt_tokens", verbosity=0)
    assert reencrypt_tokens() == 0  # nothing left to move

    settings.ENCRYPTION_KEYS = [new_key]  # the old key is gone
    assert Channel.objects.get(pk=channel.pk).access_token == "EAAF-before-rotation"


def test_token_under_a_dropped_key_fails_loudly(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    channel = ChannelFactory(county=world.county)
    settings.ENCRYPTION_KEYS = [urlsafe_b64encode(b"k" * 32).decode()]

    with pytest.raises(crypto.DecryptionError):
        _ = Channel.objects.get(pk=channel.pk).access_token
