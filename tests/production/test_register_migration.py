"""The migration to the register keeps every asset's people and consents meaning what they meant."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from libraries.models import County, Library, User

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema() -> Iterator[None]:
    """Whatever a test here does to the schema, the next test finds every migration applied."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


BEFORE = [("production", "0007_asset_no_people_confirmed")]
AFTER = [("production", "0008_register_of_people")]


def test_each_recorded_person_becomes_a_register_entry_with_their_consents() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Asset, AssetPerson = old.get_model("production", "Asset"), old.get_model("production", "AssetPerson")
    Consent = old.get_model("production", "Consent")
    county = County.objects.create(name="Migrert fylke", slug="migrert")
    library = Library.objects.create(county=county, name="Migrert bibliotek", kind=Library.Kind.COUNTY)
    today = timezone.localdate()
    assets = [
        Asset.objects.create(
            county_id=county.pk,
            library_id=library.pk,
            original_name=f"{n}.jpg",
            kind="image",
            mime_type="image/jpeg",
            file_size=1,
        )
        for n in range(2)
    ]
    kari = AssetPerson.objects.create(asset=assets[0], name="Kari", category="staff")
    again = AssetPerson.objects.create(asset=assets[1], name="Kari", category="staff")
    child = AssetPerson.objects.create(asset=assets[1], name="Ola (8)", category="child")
    Consent.objects.create(person=kari, given_at=today - timedelta(days=5), evidence_note="Skjema")
    Consent.objects.create(person=again, given_at=today, withdrawn_at=timezone.now(), evidence_note="Muntlig")
    Consent.objects.create(person=child, given_at=today, given_by="Mor", person_is_minor=True, evidence_note="Skjema")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    Person = new.get_model("production", "Person")
    Tag = new.get_model("production", "AssetPerson")
    NewConsent = new.get_model("production", "Consent")
    # One entry per recorded person per asset, linked as before: never merged on the quiet.
    assert sorted(Person.objects.filter(county_id=county.pk).values_list("name", "category")) == [
        ("Kari", "staff"),
        ("Kari", "staff"),
        ("Ola (8)", "child"),
    ]
    for tag in Tag.objects.filter(asset__county_id=county.pk):
        consents = NewConsent.objects.filter(person_id=tag.person_id)
        assert consents.count() == 1
    kari_0 = Tag.objects.get(asset_id=assets[0].pk).person_id
    assert NewConsent.objects.get(person_id=kari_0).withdrawn_at is None  # the withdrawal stayed with its photo
    assert NewConsent.objects.filter(withdrawn_at__isnull=False).get().person.tags.get().asset_id == assets[1].pk
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_existing_presenter_sign_ups_are_linked_to_the_register() -> None:
    before = [("production", "0011_asset_reel_progress_and_cover")]
    after = [("production", "0012_presenters_in_the_register")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Person, Day = old.get_model("production", "Person"), old.get_model("production", "RecordingDay")
    Signup = old.get_model("production", "PresenterSignup")
    county = County.objects.create(name="Presentert fylke", slug="presentert")
    library = Library.objects.create(county=county, name="Presentert bibliotek", kind=Library.Kind.COUNTY)
    kari = User.objects.create(email="kari@presentert.example", name="Kari Bibliotekar")
    per = User.objects.create(email="per@presentert.example", name="Per Formidler", language="en")
    known = Person.objects.create(
        county_id=county.pk, name="Per F.", category="staff", contact_email="PER@presentert.example"
    )
    guardian_of = Person.objects.create(
        county_id=county.pk, name="Barn", category="child", guardian="Kari", contact_email=kari.email
    )
    today = timezone.localdate()
    days = [
        Day.objects.create(county_id=county.pk, host_library_id=library.pk, date=today + timedelta(days=n))
        for n in (1, 8)
    ]
    for day in days:
        Signup.objects.create(recording_day=day, library_id=library.pk, person_id=kari.pk)
    Signup.objects.create(recording_day=days[0], library_id=library.pk, person_id=per.pk)

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    NewSignup, NewPerson = new.get_model("production", "PresenterSignup"), new.get_model("production", "Person")
    karis = set(NewSignup.objects.filter(person_id=kari.pk).values_list("register_person_id", flat=True))
    assert len(karis) == 1  # one entry for both her days
    entry = NewPerson.objects.get(pk=karis.pop())
    assert (entry.name, entry.category, entry.contact_email) == ("Kari Bibliotekar", "staff", kari.email)
    assert entry.pk != guardian_of.pk  # a child's entry with her address is the guardian's, not hers
    assert NewSignup.objects.get(person_id=per.pk).register_person_id == known.pk  # found by address
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
