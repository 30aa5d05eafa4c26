"""Factories for publishing: the channel, assets with real rendition files, posts in any status."""

from __future__ import annotations

import io
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import factory
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from libraries.models import County, Library, User
from production.models import Asset, AssetPerson, Consent, Person, PersonCategory
from publishing.models import Approval, Channel, Post, PostAsset, PostCollaborator
from tests.factories.libraries import CountyFactory, UserFactory
from tests.publishing.fakegraph import IG_USER_ID, IG_USERNAME, TOKEN


class ChannelFactory(factory.django.DjangoModelFactory[Channel]):
    """The county's Instagram channel, connected to the fake's account with the fake's token."""

    class Meta:
        model = Channel
        skip_postgeneration_save = True

    county = factory.SubFactory(CountyFactory)
    kind = Channel.Kind.INSTAGRAM
    status = Channel.Status.CONNECTED
    account_id = IG_USER_ID
    username = IG_USERNAME
    page_id = "20000000000000001"
    page_name = "Fake Library"
    connected_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def token(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        self.set_access_token(TOKEN if extracted is None else extracted)
        if create:
            self.save(update_fields=["token_ciphertext"])


def jpeg(width: int = 1080, height: int = 1080, colour: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def mp4(*, seconds: float = 3.5, width: int = 180, height: int = 320, codec: str = "libx264") -> bytes:
    """A short H.264 video Instagram (and the fake) takes as a reel (`codec`: another, to be refused)."""
    fps = 24
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "clip.mp4"
        # The index first, as the rendition the worker makes (and as the fake Graph API requires).
        with av.open(str(path), "w", format="mp4", options={"movflags": "faststart"}) as container:
            stream = container.add_stream(codec, rate=fps)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            for n in range(round(seconds * fps)):
                frame = av.VideoFrame.from_image(Image.new("RGB", (width, height), (n * 5 % 255, 90, 160)))
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        return path.read_bytes()


_VIDEO_CACHE: dict[str, bytes] = {}


def make_asset(
    *,
    county: County,
    library: Library,
    kind: str = Asset.Kind.IMAGE,
    title: str = "Bøker på bordet",
    alt_text: str = "Fem bøker stablet på et bord i biblioteket.",
    subtitles_burned_in: bool = True,
    status: str = Asset.Status.READY,
    verdict: str = "ok",
    size: tuple[int, int] = (1080, 1080),
    uploaded_by: User | None = None,
    no_people_confirmed: bool = True,
) -> Asset:
    """An asset with a real original and rendition in the test's MEDIA_ROOT (as the rendition task leaves it).

    Confirmed to show no identifiable people unless `no_people_confirmed=False` (then it is not reviewed);
    `show_person` registers someone shown, which undoes the confirmation as `add_person` does.
    """
    if kind == Asset.Kind.VIDEO:
        data = _VIDEO_CACHE.setdefault("reel", mp4())
        name, mime = "clip.mp4", "video/mp4"
    else:
        data = jpeg(*size)
        name, mime = "photo.jpg", "image/jpeg"
    asset = Asset(
        county=county,
        library=library,
        uploaded_by=uploaded_by,
        title=title,
        original_name=name,
        kind=kind,
        mime_type=mime,
        file_size=len(data),
        width=size[0] if kind == Asset.Kind.IMAGE else 180,
        height=size[1] if kind == Asset.Kind.IMAGE else 320,
        status=status,
        instagram_check={"verdict": verdict, "reasons": []},
        alt_text=alt_text if kind == Asset.Kind.IMAGE else "",
        subtitles_burned_in=subtitles_burned_in if kind == Asset.Kind.VIDEO else False,
        no_people_confirmed_at=timezone.now() if no_people_confirmed else None,
    )
    asset.original.save(name, ContentFile(data), save=False)
    if status == Asset.Status.READY:
        asset.rendition.save("rendition." + name.rsplit(".", 1)[1], ContentFile(data), save=False)
    asset.save()
    return asset


def show_person(
    asset: Asset,
    *,
    name: str = "Kari",
    category: str = AssetPerson.Category.PATRON,
    consent: bool = True,
    minor: bool = False,
    guardian: str = "",
    valid_until: date | None = None,
    withdrawn: bool = False,
    covers_publishing: bool = True,
    covers_archive_reuse: bool = True,
    covers_sharing: bool = False,
    person: Person | None = None,
) -> AssetPerson:
    """Tag someone in the asset: a new register entry (or `person`), with a consent unless `consent=False`."""
    tag = tag_person(asset, person or Person.objects.create(county_id=asset.county_id, name=name, category=category))
    if consent:
        Consent.objects.create(
            person=tag.person,
            covers_sharing=covers_sharing,
            covers_publishing=covers_publishing,
            covers_archive_reuse=covers_archive_reuse,
            given_at=timezone.localdate() - timedelta(days=30),
            valid_until=valid_until,
            given_by=guardian,
            person_is_minor=minor,
            withdrawn_at=timezone.now() if withdrawn else None,
        )
    return tag


def tag_person(asset: Asset, person: Person) -> AssetPerson:
    """Tag a register person in the asset, as asset_services.tag_person does (without the audit and archive)."""
    tag = AssetPerson.objects.create(asset=asset, person=person)
    # Someone recognisable is shown, so "no identifiable people" no longer holds.
    Asset.objects.filter(pk=asset.pk).update(no_people_confirmed_at=None)
    asset.no_people_confirmed_at = None
    return tag


def register_person(county: County, name: str = "Kari", category: str = PersonCategory.PATRON, **fields: Any) -> Person:
    return Person.objects.create(county=county, name=name, category=category, **fields)


def make_post(
    *,
    county: County,
    author: User,
    assets: list[Asset] | None = None,
    collaborators: list[Library] | None = None,
    status: str = Post.Status.DRAFT,
    approved_by: User | None = None,
    media_kind: str | None = None,
    caption: str = "Nye bøker i hylla! #bibliotek #lesetips",
    title: str = "Nye bøker",
    scheduled_at: datetime | None = None,
    channel: Channel | None = None,
    **fields: object,
) -> Post:
    """A post as the services would leave it in `status` (an approval when approved or later)."""
    assets = assets or []
    if media_kind is None:
        media_kind = (
            Post.MediaKind.CAROUSEL
            if len(assets) > 1
            else (Post.MediaKind.REEL if assets and assets[0].is_video else Post.MediaKind.IMAGE)
        )
    post = Post.objects.create(
        county=county,
        title=title,
        caption=caption,
        media_kind=media_kind,
        status=status,
        created_by=author,
        last_edited_by=author,
        responsible=author,
        scheduled_at=scheduled_at,
        channel=channel,
        **fields,
    )
    for position, asset in enumerate(assets, start=1):
        PostAsset.objects.create(post=post, asset=asset, position=position)
    for library in collaborators or []:
        PostCollaborator.objects.create(post=post, library=library)
    if approved_by is not None:
        Approval.objects.create(post=post, by=approved_by)
    return post


def second_editor(library: Library) -> User:
    """Another editor at the county library (with two-factor set up, as staff must)."""
    from libraries.models import Membership, Role
    from tests.conftest import enable_mfa

    user = UserFactory(email="redaktor2@rogaland.example", name="Ingrid Berg")
    Membership.objects.create(user=user, library=library, role=Role.EDITOR)
    enable_mfa(user)
    return user
