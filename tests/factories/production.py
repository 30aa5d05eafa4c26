"""Factories for production: concepts, ideas, recording days, run sheets."""

from datetime import date, time, timedelta

import factory
from django.utils import timezone

from production.models import Concept, ContentType, Idea, PresenterSignup, RecordingDay, RunSheetSlot
from tests.factories.libraries import CountyFactory, LibraryFactory, UserFactory


class ConceptFactory(factory.django.DjangoModelFactory[Concept]):
    class Meta:
        model = Concept

    county = factory.SubFactory(CountyFactory)
    name = factory.Sequence(lambda n: f"Konsept {n}")
    content_type = ContentType.LITERATURE
    cadence_rule = "FREQ=WEEKLY;BYDAY=FR"
    starts_on = date(2024, 1, 1)
    time_of_day = time(12, 0)


class IdeaFactory(factory.django.DjangoModelFactory[Idea]):
    class Meta:
        model = Idea
        skip_postgeneration_save = True

    library = factory.SubFactory(LibraryFactory)
    submitted_by = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Idé nummer {n}")
    pitch = "Vi viser fram lesesirkelen vår."
    content_type = ContentType.OFFERS
    audiences = factory.LazyFunction(lambda: ["adults"])
    status = Idea.Status.SUBMITTED

    @factory.post_generation
    def involved(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.libraries.add(self.library)


class RecordingDayFactory(factory.django.DjangoModelFactory[RecordingDay]):
    class Meta:
        model = RecordingDay

    county = factory.SubFactory(CountyFactory)
    host_library = factory.LazyAttribute(lambda day: LibraryFactory(county=day.county))
    date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=14))
    starts_at = time(9, 0)
    ends_at = time(15, 0)
    capacity = 8
    status = RecordingDay.Status.ANNOUNCED


class SlotFactory(factory.django.DjangoModelFactory[RunSheetSlot]):
    class Meta:
        model = RunSheetSlot

    recording_day = factory.SubFactory(RecordingDayFactory)
    position = factory.Sequence(lambda n: n + 1)
    duration_minutes = 30
    title = factory.Sequence(lambda n: f"Slot {n}")


class SignupFactory(factory.django.DjangoModelFactory[PresenterSignup]):
    class Meta:
        model = PresenterSignup

    recording_day = factory.SubFactory(RecordingDayFactory)
    library = factory.LazyAttribute(lambda signup: signup.recording_day.host_library)
    person = factory.SubFactory(UserFactory)
