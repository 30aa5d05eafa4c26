"""Demo data: Rogaland with its county library and member libraries, and a second county.

Idempotent: running it again updates the same rows and adds what is missing.
"""

import io
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from PIL import ExifTags, Image, ImageDraw, ImageFont

from libraries.models import County, Library, Membership, Role, User
from production.models import (
    Asset,
    AssetPerson,
    Concept,
    Consent,
    ContentType,
    Idea,
    Person,
    PresenterSignup,
    RecordingDay,
    RunSheetSlot,
)
from production.processing import burn_subtitles
from production.processing.inspection import inspect_upload
from production.services import media as asset_services

if TYPE_CHECKING:
    from publishing.models import Channel, Post

DEMO_PASSWORD = "demo-innspill"  # noqa: S105 - local demo only, printed by `make run`

ROGALAND_MUNICIPALITIES = [
    "Bjerkreim", "Bokn", "Eigersund", "Gjesdal", "Haugesund", "Hjelmeland", "Hå", "Karmøy", "Klepp",
    "Kvitsøy", "Lund", "Randaberg", "Sandnes", "Sauda", "Sokndal", "Sola", "Stavanger", "Strand",
    "Suldal", "Time", "Tysvær", "Utsira", "Vindafjord",
]  # fmt: skip
AGDER_MUNICIPALITIES = ["Arendal", "Grimstad", "Kristiansand", "Lillesand", "Mandal"]
# The demo account's follower count grows from this day on.
FOLLOWERS_EPOCH = date(2026, 1, 1).toordinal()


DEMO_SUBTITLES = (
    "1\n00:00:00,200 --> 00:00:01,600\nFem bøker for regnværsdager!\n\n"
    "2\n00:00:01,700 --> 00:00:03,300\nLån dem på Karmøy bibliotek.\n"
).encode()


def _photo(
    size: tuple[int, int], label: str, colour: tuple[int, int, int], *, gps: bool = False, png: bool = False
) -> bytes:
    """A made-up picture for the demo: a gradient, a few shapes and a label (and camera EXIF, maybe GPS)."""
    width, height = size
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    for row in range(0, height, 8):
        shade = tuple(min(255, channel + row * 90 // height) for channel in colour)
        draw.rectangle((0, row, width, row + 8), fill=shade)
    for index in range(5):
        x, y = width * (index + 1) // 6, height * (2 + index % 3) // 6
        radius = min(width, height) // (8 + index)
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(240, 200 - index * 25, 90 + index * 30))
    draw.rectangle((0, height - height // 6, width, height), fill=(250, 248, 240))
    draw.text((width // 20, height - height // 8), label, fill=(30, 30, 30), font=_label_font(max(24, height // 14)))
    buffer = io.BytesIO()
    if png:
        image.save(buffer, "PNG")
        return buffer.getvalue()
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Demokamera"
    if gps:
        location = exif.get_ifd(ExifTags.IFD.GPSInfo)
        location[ExifTags.GPS.GPSLatitudeRef], location[ExifTags.GPS.GPSLatitude] = "N", (58.0, 51.0, 2.0)
        location[ExifTags.GPS.GPSLongitudeRef], location[ExifTags.GPS.GPSLongitude] = "E", (5.0, 44.0, 9.0)
    image.save(buffer, "JPEG", quality=88, exif=exif)
    return buffer.getvalue()


def _label_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Noto Sans (Debian's fonts-noto-core, as for the subtitles) when installed: Pillow's own font has no æ, ø, å."""
    noto = burn_subtitles.FONTS_DIR / "NotoSans-Regular.ttf"
    return ImageFont.truetype(str(noto), size) if noto.exists() else ImageFont.load_default(size)


def _video(*, seconds: float, size: tuple[int, int] = (360, 640), fps: int = 30) -> bytes:
    """A short vertical H.264 MP4 for the demo (a moving ball on a gradient), without sound."""
    # A real file: "fast start" moves the index to the front in a second pass over it.
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "demo.mp4"
        _encode_video(path, seconds=seconds, size=size, fps=fps)
        return path.read_bytes()


def _encode_video(path: Path, *, seconds: float, size: tuple[int, int], fps: int) -> None:
    with av.open(str(path), "w", format="mp4", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for index in range(round(fps * seconds)):
            frame = Image.new("RGB", size, (30, 70 + index, 110))
            draw = ImageDraw.Draw(frame)
            x = size[0] // 2 + round(math.sin(index / 8) * size[0] / 3)
            draw.ellipse((x - 40, size[1] // 2 - 40, x + 40, size[1] // 2 + 40), fill=(250, 200, 60))
            picture = av.VideoFrame.from_image(frame)  # type: ignore[no-untyped-call]  # PyAV leaves it unannotated
            for packet in stream.encode(picture):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


@dataclass(frozen=True)
class DemoStory:
    """A published demo post with its idea and photo: the follow-up's history."""

    title: str
    library: str  # the municipality whose idea (and photo) it was
    by: str  # that library's librarian (the handle in their e-mail address)
    content_type: str
    file: str
    size: tuple[int, int]
    colour: tuple[int, int, int]
    tags: list[str]
    alt: str
    caption: str
    age: timedelta  # how long ago it was published (at the first load)
    reach: int  # after four weeks
    collaborators: list[str]
    concept: str = ""
    person: tuple[str, str, str] | None = None  # someone shown: name, category, guardian


def _slugify_handle(municipality: str) -> str:
    return municipality.lower().replace("å", "aa").replace("ø", "o").replace("æ", "ae")


class Command(BaseCommand):
    help = "Load (or refresh) the demo counties, libraries and people."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        rogaland = self._county(
            "Rogaland", "rogaland", "Rogaland fylkesbibliotek", "Stavanger", ROGALAND_MUNICIPALITIES
        )
        agder = self._county("Agder", "agder", "Agder fylkesbibliotek", "Kristiansand", AGDER_MUNICIPALITIES)

        rogaland_county_library = Library.objects.get(county=rogaland, kind=Library.Kind.COUNTY)
        self._person("koordinator@rogaland.example", "Kari Nordmann", rogaland_county_library, Role.COORDINATOR)
        self._person("redaktor@rogaland.example", "Ola Hansen", rogaland_county_library, Role.EDITOR)
        self._person("redaktor2@rogaland.example", "Ingrid Berg", rogaland_county_library, Role.EDITOR)
        for municipality, name in [
            ("Sandnes", "Per Olsen"),
            ("Stavanger", "Sofie Larsen"),
            ("Haugesund", "Amir Haddad"),
            ("Eigersund", "Liv Johansen"),
            ("Karmøy", "Nils Pedersen"),
        ]:
            library = Library.objects.get(county=rogaland, kind=Library.Kind.MEMBER, municipality=municipality)
            handle = _slugify_handle(municipality)
            self._person(f"bibliotekar.{handle}@rogaland.example", name, library, Role.LIBRARIAN)

        agder_county_library = Library.objects.get(county=agder, kind=Library.Kind.COUNTY)
        self._person("koordinator@agder.example", "Anne Kristiansen", agder_county_library, Role.COORDINATOR)
        self._person(
            "bibliotekar.arendal@agder.example",
            "Jonas Eriksen",
            Library.objects.get(county=agder, kind=Library.Kind.MEMBER, municipality="Arendal"),
            Role.LIBRARIAN,
        )
        self._production(rogaland)
        self._publishing(rogaland)
        self._follow_up(rogaland)
        self._network(rogaland, agder)
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))

    def _network(self, rogaland: County, agder: County) -> None:
        """Rogaland and Agder take part in the network of counties, and Rogaland shares its Friday book tip, an
        idea and the archive's photos whose people all allow sharing: Agder's coordinator finds them in the
        shared pool and can borrow them."""
        from libraries.access import county_accesses
        from publishing.archive import network
        from publishing.models import ArchiveItem, SharedItem

        for county in (rogaland, agder):  # saved, so that what is cached of the counties follows
            county.in_network = True
            county.save(update_fields=["in_network"])
        # Offered by the coordinator, the county's only one, so that nobody is e-mailed that it waits.
        coordinator = User.objects.get(email="koordinator@rogaland.example")
        [access] = [access for access in county_accesses(coordinator) if access.county == rogaland]
        things: list[Concept | Idea | ArchiveItem] = [
            Concept.objects.get(county=rogaland, name="Fredagstipset"),
            Idea.objects.get(library__county=rogaland, title="Slik låner du e-bøker"),
        ]
        # The pool's photos: those nobody shown keeps from travelling (the rest say why on their page).
        items = ArchiveItem.objects.filter(county=rogaland).select_related("asset").order_by("pk")
        things += [item for item in items if not network.cannot_offer(item)]
        for thing in things:
            shared = network.offer(by=coordinator, access=access, item=thing)
            if shared.status == SharedItem.Status.OFFERED:
                network.approve(by=coordinator, access=access, shared=shared)

    def _county(self, name: str, slug: str, county_library: str, seat: str, municipalities: list[str]) -> County:
        county, _ = County.objects.update_or_create(slug=slug, defaults={"name": name})
        Library.objects.update_or_create(
            county=county,
            kind=Library.Kind.COUNTY,
            defaults={
                "name": county_library,
                "municipality": seat,
                "instagram_username": f"{slug}fylkesbibliotek",
                "email": f"post@{slug}.example",
            },
        )
        for municipality in municipalities:
            handle = _slugify_handle(municipality)
            Library.objects.update_or_create(
                county=county,
                name=f"{municipality} bibliotek",
                defaults={
                    "kind": Library.Kind.MEMBER,
                    "municipality": municipality,
                    # A few libraries have no Instagram account yet, as in real life.
                    "instagram_username": "" if municipality in {"Utsira", "Kvitsøy", "Lund"} else f"{handle}bibliotek",
                    # Two have no contact address: the report's sending lists them.
                    "email": "" if municipality in {"Utsira", "Kvitsøy"} else f"bibliotek@{handle}.kommune.example",
                },
            )
        return county

    def _person(self, email: str, name: str, library: Library, role: Role) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=DEMO_PASSWORD, name=name)
        Membership.objects.update_or_create(user=user, library=library, defaults={"role": role})
        return user

    # --- Production: concepts, ideas in every status, two recording days with run sheets ---

    def _production(self, county: County) -> None:
        def library(municipality: str) -> Library:
            return Library.objects.get(county=county, kind=Library.Kind.MEMBER, municipality=municipality)

        def person(email: str) -> User:
            return User.objects.get(email=email)

        coordinator = person("koordinator@rogaland.example")
        editor = person("redaktor@rogaland.example")
        friday_tip = self._concept(
            county,
            "Fredagstipset",
            ContentType.LITERATURE,
            "FREQ=WEEKLY;BYDAY=FR",
            editor,
            "En ansatt anbefaler en bok hver fredag: kort video, boka i hånda, tre setninger.",
            holiday_rule=Concept.HolidayRule.MOVE,  # Good Friday and Christmas Day: the tip comes on Monday
        )
        dads = self._concept(
            county,
            "Pappatreff",
            ContentType.OFFERS,
            "FREQ=MONTHLY;BYDAY=-1TU",
            coordinator,
            "Siste tirsdag i måneden: påminnelse om pappatreffet på biblioteket.",
            at=time(18, 0),
        )
        self._concept(
            county,
            "Bak skranken",
            ContentType.RELATIONSHIP,
            "",
            coordinator,
            "Bli kjent med folka på biblioteket: humor, hverdag og avstemninger.",
        )

        sandnes, stavanger, haugesund = library("Sandnes"), library("Stavanger"), library("Haugesund")
        eigersund, karmoy = library("Eigersund"), library("Karmøy")
        per, sofie = person("bibliotekar.sandnes@rogaland.example"), person("bibliotekar.stavanger@rogaland.example")
        amir, liv = person("bibliotekar.haugesund@rogaland.example"), person("bibliotekar.eigersund@rogaland.example")
        nils = person("bibliotekar.karmoy@rogaland.example")
        S = Idea.Status
        idea = self._idea
        idea(sandnes, per, "Pappalesing med kaffe", ContentType.OFFERS, S.SUBMITTED, concept=dads)
        idea(
            stavanger,
            sofie,
            "Høstens krimbøker på 30 sekunder",
            ContentType.LITERATURE,
            S.SUBMITTED,
            concept=friday_tip,
            credit=("@deichman", "https://www.instagram.com/deichman/"),
        )
        idea(haugesund, amir, "Slik låner du e-bøker", ContentType.OFFERS, S.ACCEPTED)
        idea(karmoy, nils, "Eventyrstund for de minste", ContentType.OFFERS, S.ACCEPTED, audiences=["children"])
        idea(
            eigersund,
            liv,
            "Dans på biblioteket",
            ContentType.RELATIONSHIP,
            S.DECLINED,
            reason="Morsomt, men vi har en lignende video fra i vår. Send gjerne en ny vri!",
        )
        planned = [
            idea(
                sandnes,
                per,
                "Bibliotekarens favoritt: Naiv. Super.",
                ContentType.LITERATURE,
                S.PLANNED,
                concept=friday_tip,
            ),
            idea(stavanger, sofie, "Møt Sofie i skranken", ContentType.RELATIONSHIP, S.PLANNED),
            idea(haugesund, amir, "3D-printeren på biblioteket", ContentType.OFFERS, S.PLANNED),
        ]
        recorded = [
            idea(sandnes, per, "Pappatreffet i bilder", ContentType.OFFERS, S.RECORDED, concept=dads),
            idea(karmoy, nils, "Fem bøker for regnværsdager", ContentType.LITERATURE, S.RECORDED, concept=friday_tip),
        ]
        used = idea(stavanger, sofie, "Avstemning: papir eller skjerm?", ContentType.RELATIONSHIP, S.USED)

        today = timezone.localdate()
        upcoming = self._day(
            county,
            sandnes,
            today + timedelta(days=12),
            RecordingDay.Status.ANNOUNCED,
            coordinator,
            [stavanger, haugesund],
        )
        past = self._day(
            county, stavanger, today - timedelta(days=20), RecordingDay.Status.DONE, coordinator, [sandnes, karmoy]
        )
        for day, people in (
            (upcoming, [(sandnes, per), (stavanger, sofie), (haugesund, amir)]),
            (past, [(sandnes, per), (karmoy, nils), (stavanger, sofie)]),
        ):
            for signup_library, signup_person in people:
                PresenterSignup.objects.get_or_create(
                    recording_day=day,
                    person=signup_person,
                    defaults={"library": signup_library, "signed_up_by": signup_person},
                )
        self._slot(upcoming, 1, None, "Rigging og lystest", 30, [])
        for position, (planned_idea, presenter) in enumerate(zip(planned, [per, sofie, amir], strict=True), start=2):
            self._slot(upcoming, position, planned_idea, "", 30, [presenter])
        self._slot(upcoming, 5, None, "Lunsj", 45, [])
        for position, (recorded_idea, presenter) in enumerate(
            zip([*recorded, used], [per, nils, sofie], strict=True), start=1
        ):
            self._slot(past, position, recorded_idea, "", 40, [presenter], recorded=True)
        self._media(recorded, past, editor=editor, per=per, nils=nils)

    # --- Media: photos and a video, processed at once, with people in every consent state ---

    def _media(self, recorded: list[Idea], past: RecordingDay, *, editor: User, per: User, nils: User) -> None:
        dads, rainy_books = recorded
        today = timezone.localdate()
        meetup = self._asset(
            dads,
            per,
            "pappatreff-1.jpg",
            _photo((1600, 1067), "Pappatreff", (38, 84, 124), gps=True),
            alt_text="Fire fedre med barnevogner rundt et bord med bildebøker i barneavdelingen.",
            credit_line="Foto: Sandnes bibliotek",
            tags=["pappatreff", "barn"],
        )
        self._consent(meetup, "Per Olsen", AssetPerson.Category.STAFF, by=per, valid_until=today + timedelta(days=700))
        self._consent(
            meetup,
            "Far med grønn jakke",
            AssetPerson.Category.PATRON,
            by=per,
            valid_until=today + timedelta(days=12),  # expiring soon
        )
        reading = self._asset(
            dads,
            per,
            "pappatreff-2.jpg",
            _photo((1080, 1350), "Høytlesning", (150, 70, 40)),
            alt_text="En far leser høyt for datteren sin i en saccosekk.",
        )
        withdrawn = self._consent(
            reading, "Jente (6 år)", AssetPerson.Category.CHILD, by=per, guardian="Mor, Hanne Lie"
        )
        if withdrawn is not None:
            # As asset_services.withdraw_consent leaves it, without e-mailing the coordinators on every fresh demo.
            now = timezone.now()
            note = "Mor ringte og ba oss ikke bruke bildet likevel."
            Consent.objects.filter(pk=withdrawn.pk).update(withdrawn_at=now, withdrawal_note=note, lapse_handled_at=now)
            Asset.objects.filter(pk=reading.pk).update(consent_lapsed_at=now)
        video = self._asset(
            rainy_books,
            nils,
            "fem-boker.mp4",
            _video(seconds=3.5),
            credit_line="Film: Karmøy bibliotek",
            tags=["fredagstipset", "boktips"],
        )
        if not video.subtitles:
            asset_services.set_subtitles(by=editor, asset=video, data=DEMO_SUBTITLES)
            # The subtitles are burned into the reel's rendition: made again here, as the worker would.
            video = asset_services.process_asset(asset_id=video.pk) or video
        self._consent(video, "Nils Pedersen", AssetPerson.Category.STAFF, by=editor)
        # No alt text yet, and nobody registered or confirmed: the page asks for the alt text and a review.
        self._asset(rainy_books, nils, "regnvaer.png", _photo((1200, 1200), "Regnvær", (60, 110, 90), png=True))
        # A wide panorama from the recording day: Instagram will crop it. The librarians in it consented.
        panorama = self._asset(
            past,
            editor,
            "opptaksdag.jpg",
            _photo((2400, 900), "Opptaksdag", (90, 60, 120)),
            alt_text="Bibliotekarer fra tre bibliotek foran et lysark og et kamera på stativ.",
        )
        self._consent(panorama, "Sofie Larsen", AssetPerson.Category.STAFF, by=editor)

    def _asset(self, target: Idea | RecordingDay, by: User, name: str, data: bytes, **details: Any) -> Asset:
        """The demo file as an upload makes it (checked, stored, processed by the worker's service); once."""
        lookup = {"idea": target} if isinstance(target, Idea) else {"recording_day": target}
        asset = Asset.objects.filter(original_name=name, **lookup).first()
        if asset is None:
            upload = ContentFile(data, name=name)
            asset = asset_services.add_asset(
                by=by, target=target, source=upload, original_name=name, info=inspect_upload(upload), enqueue=False
            )
            for field, value in details.items():
                setattr(asset, field, value)
            if details:
                asset.save(update_fields=[*details, "updated_at"])
        if asset.status == Asset.Status.PROCESSING:
            asset = asset_services.process_asset(asset_id=asset.pk) or asset
        return asset

    def _consent(
        self,
        asset: Asset,
        name: str,
        category: str,
        *,
        by: User,
        valid_until: date | None = None,
        guardian: str = "",
    ) -> Consent | None:
        """Someone shown, from the county's register (one entry per name), tagged in the asset, and their
        consent; returns the consent only when it was recorded just now."""
        person = Person.objects.filter(county_id=asset.county_id, name=name).first()
        if person is None:
            person = asset_services.create_person(
                by=by, county=asset.county, name=name, category=category, guardian=guardian
            )
        if not AssetPerson.objects.filter(asset=asset, person=person).exists():
            asset_services.tag_person(by=by, asset=asset, person=person)
        if person.consents.exists():
            return None
        return asset_services.record_consent(
            by=by,
            person=person,
            covers_publishing=True,
            covers_archive_reuse=True,
            given_at=timezone.localdate() - timedelta(days=20),
            valid_until=valid_until,
            person_is_minor=bool(guardian),
            given_by=guardian,
            evidence_note="Signert samtykkeskjema ligger i permen på biblioteket.",
        )

    def _concept(
        self,
        county: County,
        name: str,
        content_type: str,
        rule: str,
        owner: User,
        description: str,
        at: time = time(12, 0),
        holiday_rule: str = Concept.HolidayRule.PUBLISH_ANYWAY,
    ) -> Concept:
        concept, _ = Concept.objects.get_or_create(
            county=county,
            name=name,
            defaults={
                "content_type": content_type,
                "cadence_rule": rule,
                "owner": owner,
                "description": description,
                "starts_on": date(2025, 1, 1),
                "time_of_day": at,
                "holiday_rule": holiday_rule,
            },
        )
        return concept

    def _idea(
        self,
        library: Library,
        by: User,
        title: str,
        content_type: str,
        status: str,
        *,
        concept: Concept | None = None,
        audiences: list[str] | None = None,
        credit: tuple[str, str] = ("", ""),
        reason: str = "",
    ) -> Idea:
        idea, created = Idea.objects.get_or_create(
            library=library,
            title=title,
            defaults={
                "submitted_by": by,
                "pitch": f"{title}. Et forslag fra {library.name}, klart til å filmes på en opptaksdag.",
                "content_type": content_type,
                "concept": concept,
                "audiences": audiences or ["adults", "youth"],
                "credit_name": credit[0],
                "credit_url": credit[1],
                "status": status,
                "decline_reason": reason,
            },
        )
        if created:
            idea.libraries.add(library)
        return idea

    def _day(
        self,
        county: County,
        host: Library,
        when: date,
        status: str,
        responsible: User,
        others: list[Library],
    ) -> RecordingDay:
        day, created = RecordingDay.objects.get_or_create(
            county=county,
            host_library=host,
            defaults={
                "date": when,
                "starts_at": time(9, 0),
                "ends_at": time(15, 0),
                "address": f"{host.municipality} sentrum",
                "capacity": 6,
                "status": status,
                "notes": "Ta med bøkene du skal vise fram. Vi har lys, mikrofon og stativ.",
                "announced_at": timezone.now(),
                "announcement_sent_at": timezone.now(),
            },
        )
        if created:
            day.responsible.add(responsible)
            day.participating_libraries.add(host, *others)
        elif status != RecordingDay.Status.DONE and day.status != RecordingDay.Status.DONE and day.is_past:
            # The demo's coming day stays ahead however long ago the demo was first loaded.
            RecordingDay.objects.filter(pk=day.pk).update(date=when, reminder_sent_at=None)
        return day

    def _slot(
        self,
        day: RecordingDay,
        position: int,
        idea: Idea | None,
        title: str,
        minutes: int,
        presenters: list[User],
        *,
        recorded: bool = False,
    ) -> None:
        slot, created = RunSheetSlot.objects.get_or_create(
            recording_day=day,
            position=position,
            defaults={
                "idea": idea,
                "title": title,
                "duration_minutes": minutes,
                "recorded_at": timezone.now() if recorded else None,
            },
        )
        if created:
            slot.presenters.set(presenters)

    # --- Publishing: the channel connected to the fake Graph API, posts in each state ---

    def _publishing(self, county: County) -> None:
        from publishing.archive import filing as archive
        from publishing.models import Approval, Channel, Post, PostAsset, PostCollaborator
        from publishing.posts import captions

        channel, _ = Channel.objects.get_or_create(
            county=county,
            kind=Channel.Kind.INSTAGRAM,
            defaults={
                "status": Channel.Status.CONNECTED,
                # The account and the token the fake Graph API of `make run` starts with.
                "account_id": "17841400000000001",
                "username": "fake_library",
                "page_id": "20000000000000001",
                "page_name": "Fake Library",
                "connected_at": timezone.now(),
            },
        )
        if not channel.token_ciphertext:
            channel.set_access_token("fake-token")
            channel.save(update_fields=["token_ciphertext"])
        editor, reviewer = (
            User.objects.get(email="redaktor@rogaland.example"),
            User.objects.get(email="redaktor2@rogaland.example"),
        )
        friday_tip = Concept.objects.get(county=county, name="Fredagstipset")
        dads = Concept.objects.get(county=county, name="Pappatreff")

        def asset(name: str) -> Asset | None:
            return Asset.objects.filter(county=county, original_name=name).first()

        def library(municipality: str) -> Library:
            return Library.objects.get(county=county, kind=Library.Kind.MEMBER, municipality=municipality)

        now = timezone.now()
        days_ahead = (4 - timezone.localdate().weekday()) % 7 or 7  # the next Friday, never today
        friday_noon = timezone.make_aware(
            datetime.combine(timezone.localdate() + timedelta(days=days_ahead), time(12, 0))
        )
        plans: list[dict[str, Any]] = [
            {
                "title": "Pappatreffet i bilder",
                "status": Post.Status.PUBLISHED,
                "assets": ["pappatreff-1.jpg"],
                "concept": dads,
                "content_type": ContentType.OFFERS,
                "caption": "Siste tirsdag i måneden er det pappatreff på biblioteket! Kaffe, bildebøker og "
                "god prat. #pappatreff #bibliotek",
                "collaborators": ["Sandnes"],
                "scheduled_at": now - timedelta(days=10),
            },
            {
                "title": "Fem bøker for regnværsdager",
                "status": Post.Status.SCHEDULED,
                "assets": ["fem-boker.mp4"],
                "concept": friday_tip,
                "content_type": ContentType.LITERATURE,
                "caption": "Regn igjen? Nils på Karmøy bibliotek har fem bøker som passer til været. "
                "#fredagstipset #boktips",
                "collaborators": ["Karmøy"],
                "scheduled_at": friday_noon,
            },
            {
                "title": "Høytlesning for pappaer",
                "status": Post.Status.IN_REVIEW,
                "assets": ["pappatreff-2.jpg"],
                "concept": dads,
                "content_type": ContentType.OFFERS,
                "caption": "Les høyt sammen! Vi har bøkene og sekkestolene. #pappatreff",
                "collaborators": ["Sandnes"],
                "scheduled_at": friday_noon + timedelta(days=4, hours=6),
            },
            {
                "title": "Opptaksdag i Stavanger",
                "status": Post.Status.APPROVED,
                "assets": ["opptaksdag.jpg"],
                "content_type": ContentType.RELATIONSHIP,
                "caption": "Bak kulissene: tre bibliotek, ett kamera og mange gode boktips. #bakskranken",
                "collaborators": ["Stavanger", "Sandnes", "Karmøy"],
                "credit": captions.credit_line("@deichman", ""),
            },
            {
                "title": "Regnvær på biblioteket",
                "status": Post.Status.DRAFT,
                "assets": ["regnvaer.png"],
                "content_type": ContentType.RELATIONSHIP,
                "caption": "Når det regner ute, er det godt å være inne. ",
                "collaborators": [],
            },
        ]
        for plan in plans:
            if Post.objects.filter(county=county, title=plan["title"]).exists():
                continue
            media = [found for name in plan["assets"] if (found := asset(name)) is not None]
            if len(media) != len(plan["assets"]):
                continue  # the demo media are missing: leave the post out
            post = Post.objects.create(
                county=county,
                channel=channel,
                title=plan["title"],
                caption=plan["caption"],
                credit=plan.get("credit", ""),
                media_kind=Post.MediaKind.REEL if media[0].is_video else Post.MediaKind.IMAGE,
                concept=plan.get("concept"),
                content_type=plan["content_type"],
                status=plan["status"],
                responsible=editor,
                created_by=editor,
                last_edited_by=editor,
                scheduled_at=plan.get("scheduled_at"),
            )
            for position, item in enumerate(media, start=1):
                PostAsset.objects.create(post=post, asset=item, position=position)
            for municipality in plan["collaborators"]:
                PostCollaborator.objects.create(post=post, library=library(municipality))
            if plan["status"] in (Post.Status.APPROVED, Post.Status.SCHEDULED, Post.Status.PUBLISHED):
                Approval.objects.create(post=post, by=reviewer, at=now - timedelta(days=11))
            if plan["status"] == Post.Status.PUBLISHED:
                # Published before the fake's state began: a permalink, but no media id to read back.
                Post.objects.filter(pk=post.pk).update(
                    publish_step=Post.Step.NOTIFIED,
                    published_at=plan["scheduled_at"],
                    permalink="https://www.instagram.com/p/DEMOpappatreff/",
                )
                PostCollaborator.objects.filter(post=post).update(invite_status=PostCollaborator.Invite.ACCEPTED)
                post.refresh_from_db()
                archive.file_published_post(post=post, assets=media, libraries=[library("Sandnes")])

    # --- After publishing: months of published posts with insights, followers, comments, outcomes, reuse ---
    #
    # Enough history that the archive, the comments inbox and the monthly report
    # (last month's by default) look alive at once. Dates count back from the
    # first load; each later load adds what became due since (insight readings,
    # the followers of the days in between) and changes nothing else. Nothing
    # here sends e-mail or calls the Graph API: demo posts have no media id.

    def _follow_up(self, county: County) -> None:
        from publishing.archive import filing as archive
        from publishing.models import ArchiveReuse, Channel, Post

        channel = Channel.objects.get(county=county, kind=Channel.Kind.INSTAGRAM)
        editor, coordinator = (
            User.objects.get(email="redaktor@rogaland.example"),
            User.objects.get(email="koordinator@rogaland.example"),
        )

        def library(municipality: str) -> Library:
            return Library.objects.get(county=county, kind=Library.Kind.MEMBER, municipality=municipality)

        def person(handle: str) -> User:
            return User.objects.get(email=f"bibliotekar.{handle}@rogaland.example")

        def concept(name: str) -> Concept:
            return Concept.objects.get(county=county, name=name)

        today = timezone.localdate()
        stories: list[DemoStory] = [
            DemoStory(
                title="Lånekortet på mobilen",
                file="laanekort-app.jpg",
                library="Haugesund",
                by="haugesund",
                content_type=ContentType.OFFERS,
                size=(1080, 1350),
                colour=(20, 90, 110),
                tags=["lånekort", "e-bøker", "app"],
                alt="En hånd holder en mobil med lånekortet i bibliotekappen foran bokhylla.",
                caption="Visste du at lånekortet ligger i appen? Last ned Bibliotekappen og lån e-bøker "
                "hvor du er. #bibliotek #ebok",
                age=timedelta(days=68),
                reach=1850,
                collaborators=["Haugesund"],
            ),
            DemoStory(
                title="Ukas boktips: Lars Mytting",
                file="boktips-mytting.jpg",
                library="Eigersund",
                by="eigersund",
                content_type=ContentType.LITERATURE,
                concept="Fredagstipset",
                size=(1080, 1080),
                colour=(120, 40, 40),
                tags=["boktips", "fredagstipset", "roman"],
                alt="Liv holder opp romanen «Søsterklokkene» i en lesekrok med rød lenestol.",
                caption="Fredagstipset fra Eigersund: en roman om kirkeklokker, kjærlighet og bygda. "
                "#fredagstipset #boktips",
                age=timedelta(days=55),
                reach=2600,
                collaborators=["Eigersund"],
                person=("Liv Johansen", AssetPerson.Category.STAFF, ""),
            ),
            DemoStory(
                title="Møt bibliotekarene i Stavanger",
                file="bak-skranken-stavanger.jpg",
                library="Stavanger",
                by="stavanger",
                content_type=ContentType.RELATIONSHIP,
                concept="Bak skranken",
                size=(1600, 1000),
                colour=(60, 60, 130),
                tags=["bakskranken", "ansatte"],
                alt="Fire bibliotekarer ler sammen bak skranken på Sølvberget.",
                caption="Hvem er det som svarer når du spør i skranken? Møt gjengen i Stavanger! #bakskranken",
                age=timedelta(days=45),
                reach=3400,
                collaborators=["Stavanger", "Sandnes"],
                person=("Sofie Larsen", AssetPerson.Category.STAFF, ""),
            ),
            DemoStory(
                title="Eventyrstund i høstferien",
                file="eventyrstund.jpg",
                library="Karmøy",
                by="karmoy",
                content_type=ContentType.OFFERS,
                size=(1080, 1350),
                colour=(150, 100, 30),
                tags=["barn", "eventyrstund", "høstferie"],
                alt="Barn sitter på puter i en ring og lytter til en bibliotekar som leser fra en bildebok.",
                caption="Eventyrstund hver dag i høstferien kl. 11. Gratis, ingen påmelding for de minste! "
                "#eventyrstund #bibliotek",
                age=timedelta(days=38),
                reach=2100,
                collaborators=["Karmøy"],
                person=("Gutt (5 år)", AssetPerson.Category.CHILD, "Far, Jonas Vik"),
            ),
            DemoStory(
                title="Strikkekafé på biblioteket",
                file="strikkekafe.jpg",
                library="Sandnes",
                by="sandnes",
                content_type=ContentType.OFFERS,
                size=(1080, 1080),
                colour=(90, 120, 60),
                tags=["strikkekafé", "arrangement", "voksne"],
                alt="Garnnøster, strikkepinner og kaffekopper på et bord i biblioteket.",
                caption="Strikkekafé torsdager kl. 18 i Sandnes og Sola. Ta med strikketøyet, vi har kaffen! "
                "#strikkekafe",
                age=timedelta(days=30),
                reach=1400,
                collaborators=["Sandnes", "Sola"],
            ),
            DemoStory(
                title="Avstemning: papir eller skjerm?",
                file="papir-eller-skjerm.jpg",
                library="Stavanger",
                by="stavanger",
                content_type=ContentType.RELATIONSHIP,
                concept="Bak skranken",
                size=(1080, 1080),
                colour=(40, 110, 150),
                tags=["avstemning", "lesing"],
                alt="En papirbok og et lesebrett side om side på et bord.",
                caption="Papirbok eller lesebrett? Stem i kommentarfeltet! #bibliotek #lesing",
                age=timedelta(days=24),
                reach=2900,
                collaborators=["Stavanger"],
            ),
            DemoStory(
                title="Ukas boktips: Ingvild Rishøi",
                file="boktips-rishoi.jpg",
                library="Sandnes",
                by="sandnes",
                content_type=ContentType.LITERATURE,
                concept="Fredagstipset",
                size=(1080, 1350),
                colour=(110, 50, 100),
                tags=["boktips", "fredagstipset"],
                alt="Per holder opp «Stargate» foran en vegg av bøker.",
                caption="Fredagstipset: en liten bok som varmer lenge. #fredagstipset #boktips",
                age=timedelta(minutes=40),  # just out: no insights yet
                reach=900,
                collaborators=["Sandnes"],
                person=("Per Olsen", AssetPerson.Category.STAFF, ""),
            ),
        ]
        posts: dict[str, Post] = {}
        for story in stories:
            idea = self._idea(
                library(story.library),
                person(story.by),
                story.title,
                story.content_type,
                Idea.Status.USED,
                concept=concept(story.concept) if story.concept else None,
            )
            photo = self._asset(
                idea,
                person(story.by),
                story.file,
                _photo(story.size, story.title[:24], story.colour),
                title=story.title,
                alt_text=story.alt,
                credit_line=f"Foto: {library(story.library).name}",
                tags=story.tags,
            )
            if story.person is not None:
                name, category, guardian = story.person
                self._consent(photo, name, category, by=editor, guardian=guardian)
            else:
                # Books, yarn, a phone in a hand: an editor looked, and nobody can be recognised.
                asset_services.confirm_no_people(by=editor, asset=photo)
            posts[story.title] = self._published_post(
                county,
                channel,
                title=story.title,
                caption=story.caption,
                assets=[photo],
                at=timezone.now() - story.age,
                idea=idea,
                concept=concept(story.concept) if story.concept else None,
                content_type=story.content_type,
                collaborators=[library(municipality) for municipality in story.collaborators],
                editor=editor,
            )
        # Two posts show media from the archive again: a reuse (the dads' meetup reminder) and a media file
        # chosen again when composing (filed as a reuse by the archive step).
        meetup = Post.objects.filter(county=county, title="Pappatreffet i bilder").first()
        meetup_photo = Asset.objects.filter(county=county, original_name="pappatreff-1.jpg").first()
        if meetup is not None and meetup_photo is not None:
            reminder = self._published_post(
                county,
                channel,
                title="Pappatreff i kveld!",
                caption="I kveld er det pappatreff igjen: kaffe, bildebøker og god prat. #pappatreff",
                assets=[meetup_photo],
                at=timezone.now() - timedelta(days=3, hours=-2),
                concept=concept("Pappatreff"),
                content_type=ContentType.OFFERS,
                collaborators=[library("Sandnes")],
                editor=editor,
                reuse_via=ArchiveReuse.Via.REUSE,
            )
            posts[reminder.title] = reminder
            posts[meetup.title] = meetup
        card_photo = Asset.objects.filter(county=county, title="Lånekortet på mobilen").first()
        if card_photo is not None:
            tip = self._published_post(
                county,
                channel,
                title="Tips: lån e-bøker i ferien",
                caption="Skal du reise? Ta med biblioteket i lomma: e-bøker og lydbøker i appen. #ebok",
                assets=[card_photo],
                at=timezone.now() - timedelta(days=12),
                content_type=ContentType.OFFERS,
                collaborators=[library("Haugesund"), library("Karmøy")],
                editor=editor,
            )
            posts[tip.title] = tip
        # Archived by an editor without being published: the recording day's panorama, and the photo whose
        # consent was withdrawn (shown as blocked: no download, no reuse).
        for name in ("opptaksdag.jpg", "pappatreff-2.jpg"):
            unpublished = Asset.objects.filter(county=county, original_name=name).first()
            if unpublished is not None:
                archive.archive_asset(by=editor, asset=unpublished)

        reach = {story.title: story.reach for story in stories} | {
            "Pappatreffet i bilder": 1200,
            "Pappatreff i kveld!": 700,
            "Tips: lån e-bøker i ferien": 1600,
        }
        for number, post in enumerate(posts.values()):
            self._insights(post, reach=reach.get(post.title, 1000), seed=number)
        self._followers(channel, today)
        self._comments(county, posts, editor=editor)
        self._outcomes(posts, library=library, person=person, coordinator=coordinator)

    def _published_post(
        self,
        county: County,
        channel: "Channel",
        *,
        title: str,
        caption: str,
        assets: list[Asset],
        at: datetime,
        collaborators: list[Library],
        editor: User,
        content_type: str,
        idea: Idea | None = None,
        concept: Concept | None = None,
        reuse_via: str | None = None,
    ) -> "Post":
        """A post as the worker leaves it once published and filed in the archive (once per title)."""
        from publishing.archive import filing as archive
        from publishing.models import Approval, ArchiveItem, ArchiveReuse, Post, PostAsset, PostCollaborator
        from publishing.posts import services

        post = Post.objects.filter(county=county, title=title).first()
        if post is not None:
            return post
        reviewer = User.objects.get(email="redaktor2@rogaland.example")
        post = Post.objects.create(
            county=county,
            channel=channel,
            title=title,
            caption=caption,
            media_kind=Post.MediaKind.IMAGE,
            idea=idea,
            concept=concept,
            content_type=content_type,
            status=Post.Status.PUBLISHED,
            responsible=editor,
            created_by=editor,
            last_edited_by=editor,
            scheduled_at=at,
        )
        for position, asset in enumerate(assets, start=1):
            PostAsset.objects.create(post=post, asset=asset, position=position)
        for collaborator in collaborators:
            PostCollaborator.objects.create(
                post=post, library=collaborator, username=collaborator.instagram_username,
                invite_status=PostCollaborator.Invite.ACCEPTED,
            )  # fmt: skip
        Approval.objects.create(post=post, by=reviewer, at=at - timedelta(days=2))
        # Published before the fake's state began: a permalink, but no media id to read back.
        slug = _slugify_handle(title).replace(" ", "").replace(":", "").replace("!", "")[:20]
        Post.objects.filter(pk=post.pk).update(
            publish_step=Post.Step.NOTIFIED,
            published_at=at,
            status_changed_at=at,
            permalink=f"https://www.instagram.com/p/DEMO{slug}/",
        )
        post.refresh_from_db()
        if reuse_via is not None:
            for item in ArchiveItem.objects.filter(asset__in=assets):
                ArchiveReuse.objects.get_or_create(item=item, post=post, defaults={"via": reuse_via, "by": editor})
        items = archive.file_published_post(post=post, assets=assets, libraries=services.involved_libraries(post))
        # Reused when it was published, not when the demo was loaded.
        ArchiveReuse.objects.filter(post=post).update(at=at)
        archive.refresh_items([item.pk for item in items])
        return post

    def _insights(self, post: "Post", *, reach: int, seed: int) -> None:
        """The readings the insights task would have taken by now (about 1 h, 1 day, 7 and 28 days in)."""
        from publishing.models import InsightSnapshot, Post

        rounds = [
            (InsightSnapshot.Round.HOUR, timedelta(hours=1), 0.2),
            (InsightSnapshot.Round.DAY, timedelta(days=1), 0.65),
            (InsightSnapshot.Round.WEEK, timedelta(days=7), 0.92),
            (InsightSnapshot.Round.MONTH, timedelta(days=28), 1.0),
        ]
        if post.published_at is None:
            return
        latest: InsightSnapshot | None = None
        taken = 0
        for round_name, after, share in rounds:
            at = post.published_at + after
            if at > timezone.now():
                break
            reached = round(reach * share)
            values = {
                "reach": reached,
                "views": round(reached * (1.7 + seed % 3 / 10)),
                "likes": round(reached * (0.05 + seed % 4 / 100)),
                "comments": round(reached * 0.004) + seed % 3,
                "saved": round(reached * 0.01),
                "shares": round(reached * 0.006),
            }
            values["total_interactions"] = values["likes"] + values["comments"] + values["saved"] + values["shares"]
            latest, _created = InsightSnapshot.objects.get_or_create(
                post=post, round=round_name, defaults={"taken_at": at, "values": values, **values}
            )
            taken += 1
        if latest is not None:
            Post.objects.filter(pk=post.pk).update(
                insights=latest.values, insights_read_at=latest.taken_at, insights_round=taken, insights_due_at=None
            )

    def _followers(self, channel: "Channel", today: date) -> None:
        """The county account's followers for the last 60 days (today's is the daily task's to read)."""
        from publishing.models import AccountSnapshot

        have = set(AccountSnapshot.objects.filter(channel=channel).values_list("day", flat=True))
        missing = []
        for days_ago in range(60, 0, -1):
            day = today - timedelta(days=days_ago)
            if day in have:
                continue
            # Slow growth with the odd dip: a line and a wave, the same on every load for the same day.
            ordinal = day.toordinal()
            count = 1500 + 3 * (ordinal - FOLLOWERS_EPOCH) + round(15 * math.sin(ordinal / 4))
            missing.append(
                AccountSnapshot(
                    channel=channel,
                    day=day,
                    followers_count=max(count, 100),
                    taken_at=timezone.make_aware(datetime.combine(day, time(6, 0))),
                )
            )
        AccountSnapshot.objects.bulk_create(missing)

    def _comments(self, county: County, posts: dict[str, "Post"], *, editor: User) -> None:
        """Followers' comments: some answered (with the account's reply), some waiting for days, one handled."""
        from publishing.models import InstagramComment, Post

        Status = InstagramComment.Status
        threads = [
            # (post, user, text, hours after publishing, answered after minutes, our reply, status)
            ("Lånekortet på mobilen", "marit_leser", "Endelig! Funker det på nettbrett også?", 5, 40,
             "Ja, appen finnes for både mobil og nettbrett 😊", Status.REPLIED),
            ("Ukas boktips: Lars Mytting", "bokormen_egersund", "Elsker denne boka ❤️", 2, None, "", Status.HANDLED),
            ("Ukas boktips: Lars Mytting", "knut.h", "Har dere den som lydbok?", 20, 26 * 60,
             "Ja! Den ligger i appen, og vi har CD-utgaven på hylla.", Status.REPLIED),
            ("Møt bibliotekarene i Stavanger", "sandnesmamma", "Dere er de beste 👏", 3, 25,
             "Tusen takk, så hyggelig!", Status.REPLIED),
            ("Eventyrstund i høstferien", "tobarnsfar", "Må vi melde på for barn over 6?", 1, 120,
             "Nei, bare kom! Eventyrstunden er for alle barn.", Status.REPLIED),
            ("Strikkekafé på biblioteket", "strikkeglad", "Er det plass til nybegynnere?", 26, 180,
             "Absolutt, vi har folk som lærer bort også.", Status.REPLIED),
            ("Avstemning: papir eller skjerm?", "lesehest99", "Papir, alltid papir!", 2, 15,
             "Papir leder så langt 📚", Status.REPLIED),
            ("Avstemning: papir eller skjerm?", "digitalgrete", "Lesebrett på ferie, papir hjemme.", 30, None, "",
             Status.UNANSWERED),
            ("Tips: lån e-bøker i ferien", "reiselysten", "Virker det i utlandet?", 50, None, "", Status.UNANSWERED),
            ("Pappatreff i kveld!", "far_til_tre", "Kan vi ta med babyen?", 1, None, "", Status.UNANSWERED),
            ("Pappatreff i kveld!", "jonas_k", "Hvor lenge varer det?", 20, None, "", Status.UNANSWERED),
            ("Ukas boktips: Ingvild Rishøi", "lesesirkelen_sola", "Vi leser den i lesesirkelen nå!", 0.25, None, "",
             Status.UNANSWERED),
        ]  # fmt: skip
        for number, (title, username, text, hours, answered_after, reply, status) in enumerate(threads, start=1):
            post = posts.get(title)
            if post is None or post.published_at is None:
                continue
            commented_at = post.published_at + timedelta(hours=hours)
            if commented_at > timezone.now():
                continue
            first_reply_at = commented_at + timedelta(minutes=answered_after) if answered_after is not None else None
            if first_reply_at is not None and first_reply_at > timezone.now():
                first_reply_at, status = None, Status.UNANSWERED
            comment, created = InstagramComment.objects.get_or_create(
                comment_id=f"1800000000{post.pk:05d}{number:03d}",
                defaults={
                    "county": county,
                    "post": post,
                    "username": username,
                    "text": text,
                    "commented_at": commented_at,
                    "like_count": number % 4,
                    "status": status,
                    "first_reply_at": first_reply_at,
                    "replied_by": editor if first_reply_at else None,
                    "handled_by": editor if status == Status.HANDLED else None,
                    "handled_at": commented_at + timedelta(hours=1) if status == Status.HANDLED else None,
                },
            )
            if created and reply and first_reply_at is not None:
                InstagramComment.objects.create(
                    county=county,
                    post=post,
                    comment_id=f"1810000000{post.pk:05d}{number:03d}",
                    parent=comment,
                    username=post.channel.username if post.channel else "",
                    text=reply,
                    commented_at=first_reply_at,
                    from_account=True,
                    via=InstagramComment.Via.APP,
                    status=Status.NOT_NEEDED,
                    replied_by=editor,
                )
        for post in posts.values():
            Post.objects.filter(pk=post.pk, comments_read_at__isnull=True).update(comments_read_at=timezone.now())

    def _outcomes(
        self,
        posts: dict[str, "Post"],
        *,
        library: Callable[[str], Library],
        person: Callable[[str], User],
        coordinator: User,
    ) -> None:
        """What the posts led to, as the libraries logged it (no audit entries: the demo's history)."""
        from publishing.models import Outcome

        Kind = Outcome.Kind
        logged = [
            # (post, library, who, kind, how many, note, days after publishing)
            ("Lånekortet på mobilen", "Haugesund", "haugesund", Kind.VISITS, 6,
             "Seks kom innom skranken og ville ha hjelp med appen.", 3),
            ("Ukas boktips: Lars Mytting", "Eigersund", "eigersund", Kind.LOANS, 9,
             "Alle eksemplarene utlånt, fire reservasjoner.", 6),
            ("Eventyrstund i høstferien", "Karmøy", "karmoy", Kind.ATTENDANCE, 48, "", 5),
            ("Strikkekafé på biblioteket", "Sandnes", "sandnes", Kind.ATTENDANCE, 23, "", 2),
            ("Strikkekafé på biblioteket", "Sola", None, Kind.ATTENDANCE, 11, "Dobbelt så mange som vanlig.", 2),
            ("Avstemning: papir eller skjerm?", "Stavanger", "stavanger", Kind.OTHER, None,
             "Lokalavisen ringte og ville skrive om avstemningen.", 4),
            ("Pappatreffet i bilder", "Sandnes", "sandnes", Kind.ATTENDANCE, 9,
             "Tre nye fedre sa at de hadde sett innlegget.", 7),
            ("Tips: lån e-bøker i ferien", "Haugesund", "haugesund", Kind.SIGNUPS, 4, "Fire nye lånekort.", 1),
        ]  # fmt: skip
        for title, municipality, handle, kind, quantity, note, days in logged:
            post = posts.get(title)
            if post is None or post.published_at is None:
                continue
            happened_on = timezone.localdate(post.published_at) + timedelta(days=days)
            if happened_on > timezone.localdate():
                continue
            Outcome.objects.get_or_create(
                post=post,
                library=library(municipality),
                kind=kind,
                defaults={
                    "quantity": quantity,
                    "note": note,
                    "happened_on": happened_on,
                    "logged_by": person(handle) if handle else coordinator,
                    "logged_at": timezone.make_aware(datetime.combine(happened_on, time(15, 0))),
                },
            )
