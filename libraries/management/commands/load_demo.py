"""Demo data: Rogaland with its county library and member libraries, and a second county.

Idempotent: running it again updates the same rows and adds what is missing.
"""

from datetime import date, time, timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from libraries.models import County, Library, Membership, Role, User
from production.models import Concept, ContentType, Idea, PresenterSignup, RecordingDay, RunSheetSlot

DEMO_PASSWORD = "demo-innspill"  # noqa: S105 - local demo only, printed by `make run`

ROGALAND_MUNICIPALITIES = [
    "Bjerkreim", "Bokn", "Eigersund", "Gjesdal", "Haugesund", "Hjelmeland", "Hå", "Karmøy", "Klepp",
    "Kvitsøy", "Lund", "Randaberg", "Sandnes", "Sauda", "Sokndal", "Sola", "Stavanger", "Strand",
    "Suldal", "Time", "Tysvær", "Utsira", "Vindafjord",
]  # fmt: skip
AGDER_MUNICIPALITIES = ["Arendal", "Grimstad", "Kristiansand", "Lillesand", "Mandal"]


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
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))

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
                    "email": f"bibliotek@{handle}.kommune.example",
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

    def _concept(
        self,
        county: County,
        name: str,
        content_type: str,
        rule: str,
        owner: User,
        description: str,
        at: time = time(12, 0),
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
