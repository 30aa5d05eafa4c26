"""The demo (make run) shows media ready, with people in every consent state, and loads twice without copies."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from production.models import Asset, AssetPerson, Consent, ConsentState

pytestmark = pytest.mark.django_db


def test_demo_media_are_ready_with_people_in_every_consent_state() -> None:
    call_command("load_demo", verbosity=0)
    assets = list(Asset.objects.for_list())
    assert {asset.status for asset in assets} == {Asset.Status.READY}
    assert {asset.kind for asset in assets} == {"image", "video"}
    # Every state an editor meets, "not reviewed" (nobody registered, nobody confirmed) included.
    assert {asset.consent_state() for asset in assets} == {
        ConsentState.OK,
        ConsentState.EXPIRING,
        ConsentState.WITHDRAWN,
        ConsentState.NO_PEOPLE,
        ConsentState.NOT_REVIEWED,
    }
    [unreviewed] = [asset for asset in assets if asset.consent_state() == ConsentState.NOT_REVIEWED]
    assert unreviewed.original_name == "regnvaer.png"  # the draft: it asks for alt text and a review
    assert {asset.instagram_check["verdict"] for asset in assets} >= {"ok", "will_be_cropped"}
    video = next(asset for asset in assets if asset.is_video)
    assert video.subtitles.name.endswith("subtitles.vtt")
    assert any(asset.needs_alt_text for asset in assets)
    assert Asset.objects.filter(recording_day__isnull=False).exists()


def test_loading_the_demo_twice_adds_no_media_or_files() -> None:
    call_command("load_demo", verbosity=0)
    counts = (Asset.objects.count(), AssetPerson.objects.count(), Consent.objects.count())
    files = sorted(str(path) for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file())
    call_command("load_demo", verbosity=0)
    assert (Asset.objects.count(), AssetPerson.objects.count(), Consent.objects.count()) == counts
    assert sorted(str(path) for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()) == files
