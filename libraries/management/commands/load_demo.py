"""Demo data: Rogaland with its county library and member libraries, and a second county.

Idempotent: running it again updates the same rows and adds what is missing.
"""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from libraries.models import County, Library, Membership, Role, User

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
