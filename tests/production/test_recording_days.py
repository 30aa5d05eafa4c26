"""Recording days: planning, announcing, sign-ups, the run sheet, and reminders."""

import re
from collections import Counter
from datetime import time, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from libraries.models import AuditEntry, Role
from production import tasks
from production.models import Idea, PresenterSignup, RecordingDay, RunSheetSlot
from production.services import planning as services
from tests.conftest import World
from tests.factories.libraries import LibraryFactory, MembershipFactory, UserFactory
from tests.factories.production import IdeaFactory, RecordingDayFactory, SignupFactory, SlotFactory

pytestmark = pytest.mark.django_db


def in_days(days: int):  # type: ignore[no-untyped-def]
    return timezone.localdate() + timedelta(days=days)


@pytest.fixture
def day(world: World) -> RecordingDay:
    return RecordingDayFactory(county=world.county, host_library=world.library, date=in_days(14))


def test_coordinator_plans_a_draft_day(world: World, coordinator_client: Client) -> None:
    response = coordinator_client.post(
        reverse("production:recording_day_create"),
        {
            "date": in_days(30).isoformat(),
            "starts_at": "09:30",
            "ends_at": "15:00",
            "host_library": world.library.pk,
            "address": "",
            "responsible": [world.coordinator.pk, world.editor.pk],
            "participating_libraries": [world.other_library.pk],
            "capacity": 6,
            "notes": "Ta med stativ.",
        },
    )
    day = RecordingDay.objects.get()
    assert response.status_code == 302
    assert day.status == RecordingDay.Status.DRAFT
    assert day.county == world.county
    assert set(day.responsible.all()) == {world.coordinator, world.editor}
    assert set(day.participating_libraries.all()) == {world.library, world.other_library}  # the host takes part
    assert AuditEntry.objects.filter(action="recording_day.created").exists()


def test_day_must_end_after_it_starts(world: World, coordinator_client: Client) -> None:
    response = coordinator_client.post(
        reverse("production:recording_day_create"),
        {
            "date": in_days(30).isoformat(),
            "starts_at": "15:00",
            "ends_at": "09:00",
            "host_library": world.library.pk,
            "responsible": [world.coordinator.pk],
            "capacity": 6,
        },
    )
    assert response.status_code == 400
    assert "The day must end after it starts." in response.text


def test_announcing_emails_everyone_in_the_county_once(
    world: World, coordinator_client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    day = RecordingDayFactory(county=world.county, host_library=world.library, status=RecordingDay.Status.DRAFT)
    with django_capture_on_commit_callbacks() as callbacks:
        response = coordinator_client.post(reverse("production:recording_day_announce", args=[day.pk]))
    assert response.status_code == 302
    assert len(callbacks) == 1  # the task is enqueued after commit, not before
    day.refresh_from_db()
    assert day.status == RecordingDay.Status.ANNOUNCED

    # The task, delivered twice (acks_late redelivery), mails each person once.
    assert tasks.send_recording_day_announcement(day.pk, "en") == 4
    assert tasks.send_recording_day_announcement(day.pk, "en") == 0
    recipients = sorted(address for message in mail.outbox for address in message.to)
    everyone_in_rogaland = [world.coordinator, world.editor, world.librarian, world.other_librarian]
    assert recipients == sorted(person.email for person in everyone_in_rogaland)  # nobody from Agder
    assert all(len(message.to) == 1 for message in mail.outbox)  # nobody sees the others' addresses
    assert f"http://testserver/recording-days/{day.pk}/" in mail.outbox[0].body
    # A day can be announced only once.
    with pytest.raises(ValidationError):
        services.announce_recording_day(by=world.coordinator, day=day)


def test_announcement_is_written_in_the_announcers_language(world: World) -> None:
    day = RecordingDayFactory(county=world.county, host_library=world.library)
    tasks.send_recording_day_announcement(day.pk, "nb")
    assert "Opptaksdag" in mail.outbox[0].subject


def test_librarian_signs_up_a_presenter_from_their_library(
    world: World, day: RecordingDay, librarian_client: Client
) -> None:
    membership = world.librarian.memberships.get()
    response = librarian_client.post(
        reverse("production:signup_create", args=[day.pk]), {"membership": membership.pk, "note": "Bokprat"}
    )
    assert response.status_code == 302
    signup = PresenterSignup.objects.get()
    assert (signup.person, signup.library, signup.signed_up_by) == (world.librarian, world.library, world.librarian)
    # Signed up twice is refused with a message.
    response = librarian_client.post(reverse("production:signup_create", args=[day.pk]), {"membership": membership.pk})
    assert response.status_code == 400
    assert "already signed up" in response.text


def test_librarian_cannot_sign_up_people_of_another_library(
    world: World, day: RecordingDay, librarian_client: Client
) -> None:
    other = world.other_librarian.memberships.get()
    response = librarian_client.post(
        reverse("production:signup_create", args=[day.pk]), {"membership": other.pk, "note": "Bokprat"}
    )
    assert response.status_code == 400
    assert "Select a valid choice." in response.text  # said on the form, which keeps the note
    assert ">Bokprat</textarea>" in response.text or 'value="Bokprat"' in response.text
    assert not PresenterSignup.objects.exists()


def test_signing_up_makes_the_library_take_part(world: World, day: RecordingDay, coordinator_client: Client) -> None:
    other = world.other_librarian.memberships.get()
    coordinator_client.post(reverse("production:signup_create", args=[day.pk]), {"membership": other.pk})
    assert world.other_library in day.participating_libraries.all()


@pytest.mark.parametrize(
    ("status", "days_ahead"),
    [(RecordingDay.Status.DRAFT, 10), (RecordingDay.Status.ANNOUNCED, -1), (RecordingDay.Status.DONE, -1)],
)
def test_signups_are_open_only_for_announced_days_ahead(world: World, status: str, days_ahead: int) -> None:
    day = RecordingDayFactory(county=world.county, host_library=world.library, status=status, date=in_days(days_ahead))
    with pytest.raises(ValidationError, match="Sign-ups are open only"):
        services.sign_up_presenter(by=world.librarian, day=day, membership=world.librarian.memberships.get())


def test_placing_ideas_in_slots_plans_them_and_tells_the_presenters(
    world: World, day: RecordingDay, coordinator_client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    idea = IdeaFactory(library=world.library, status=Idea.Status.ACCEPTED, title="Pappalesing")
    SignupFactory(recording_day=day, library=world.library, person=world.librarian)
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(
            reverse("production:slot_create", args=[day.pk]),
            {"idea": idea.pk, "title": "", "duration_minutes": 45, "presenters": [world.librarian.pk], "note": ""},
        )
    assert response.status_code == 302
    slot = RunSheetSlot.objects.get()
    assert slot.idea == idea
    assert Idea.objects.get(pk=idea.pk).status == Idea.Status.PLANNED
    assert [m.to for m in mail.outbox] == [[world.librarian.email]]
    assert "Pappalesing" in mail.outbox[0].body
    # Presenters must have signed up for the day.
    response = coordinator_client.post(
        reverse("production:slot_create", args=[day.pk]),
        {"title": "Lunsj", "duration_minutes": 30, "presenters": [world.other_librarian.pk]},
    )
    assert response.status_code == 400


def test_only_accepted_ideas_can_be_placed(world: World, day: RecordingDay, coordinator_client: Client) -> None:
    idea = IdeaFactory(library=world.library, status=Idea.Status.SUBMITTED)
    response = coordinator_client.post(
        reverse("production:slot_create", args=[day.pk]), {"idea": idea.pk, "duration_minutes": 30}
    )
    assert response.status_code == 400
    assert not RunSheetSlot.objects.exists()


def test_coordinator_places_an_idea_from_its_page(world: World, day: RecordingDay, coordinator_client: Client) -> None:
    idea = IdeaFactory(library=world.library, status=Idea.Status.ACCEPTED)
    SlotFactory(recording_day=day, position=1, duration_minutes=60, title="Rigging")
    response = coordinator_client.post(
        reverse("production:idea_plan", args=[idea.pk]), {"recording_day": day.pk, "duration_minutes": 20}
    )
    assert response.status_code == 302
    assert response["Location"] == day.get_absolute_url()
    slot = RunSheetSlot.objects.get(idea=idea)
    assert slot.position == 2  # at the end
    row = day.run_sheet().for_slot(slot.pk)
    assert row is not None
    assert (row.starts.time(), row.ends.time()) == (time(10, 0), time(10, 20))


def test_changing_a_slots_idea_moves_both_ideas(world: World, day: RecordingDay) -> None:
    first = IdeaFactory(library=world.library, status=Idea.Status.ACCEPTED)
    second = IdeaFactory(library=world.library, status=Idea.Status.ACCEPTED)
    slot = services.add_slot(by=world.coordinator, day=day, idea=first)
    services.update_slot(
        by=world.coordinator, slot=slot, idea=second, title="", duration_minutes=30, presenters=[], note=""
    )
    assert Idea.objects.get(pk=first.pk).status == Idea.Status.ACCEPTED
    assert Idea.objects.get(pk=second.pk).status == Idea.Status.PLANNED
    services.remove_slot(by=world.coordinator, slot=slot)
    assert Idea.objects.get(pk=second.pk).status == Idea.Status.ACCEPTED
    assert not RunSheetSlot.objects.exists()


def test_slots_move_up_and_down_and_times_follow(world: World, day: RecordingDay, coordinator_client: Client) -> None:
    a = SlotFactory(recording_day=day, position=1, title="A", duration_minutes=30)
    b = SlotFactory(recording_day=day, position=2, title="B", duration_minutes=60)
    c = SlotFactory(recording_day=day, position=3, title="C", duration_minutes=15)
    response = coordinator_client.post(
        reverse("production:slot_move", args=[c.pk]), {"direction": "up"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response.text.strip().startswith('<div id="run-sheet"')  # the partial, for htmx to swap in
    assert f'data-focus="move-up-{c.pk}"' in response.text  # the keyboard stays on the moved slot
    assert "“C” is now number 2, at 09:30." in response.text
    assert [row.slot.title for row in day.run_sheet().rows] == ["A", "C", "B"]
    assert [row.starts.time() for row in day.run_sheet().rows] == [time(9, 0), time(9, 30), time(9, 45)]
    # Without JavaScript the form posts and comes back to the run sheet.
    response = coordinator_client.post(reverse("production:slot_move", args=[a.pk]), {"direction": "down"})
    assert response.status_code == 302
    assert [row.slot.title for row in day.run_sheet().rows] == ["C", "A", "B"]
    # Moving the first slot up changes nothing.
    assert not services.move_slot(by=world.coordinator, slot=RunSheetSlot.objects.get(pk=c.pk), up=True)
    assert [row.slot.title for row in day.run_sheet().rows] == ["C", "A", "B"]
    assert b.pk  # untouched


def test_run_sheet_warns_when_it_runs_past_the_end_of_the_day(world: World, coordinator_client: Client) -> None:
    day = RecordingDayFactory(county=world.county, host_library=world.library, starts_at=time(9), ends_at=time(10))
    SlotFactory(recording_day=day, position=1, duration_minutes=90)
    assert day.run_sheet().overruns
    assert "after the end of the day" in coordinator_client.get(day.get_absolute_url()).text


def test_after_the_day_recorded_slots_move_their_ideas_to_recorded(world: World, coordinator_client: Client) -> None:
    day = RecordingDayFactory(county=world.county, host_library=world.library, date=in_days(-1))
    idea = IdeaFactory(library=world.library, status=Idea.Status.PLANNED)
    slot = SlotFactory(recording_day=day, idea=idea)
    coordinator_client.post(reverse("production:recording_day_done", args=[day.pk]))
    assert RecordingDay.objects.get(pk=day.pk).status == RecordingDay.Status.DONE
    coordinator_client.post(reverse("production:slot_recorded", args=[slot.pk]))
    assert Idea.objects.get(pk=idea.pk).status == Idea.Status.RECORDED
    assert RunSheetSlot.objects.get(pk=slot.pk).recorded_at is not None
    with pytest.raises(ValidationError, match="already marked"):
        services.mark_slot_recorded(by=world.coordinator, slot=RunSheetSlot.objects.get(pk=slot.pk))
    # A done day's run sheet is frozen.
    with pytest.raises(ValidationError, match="done"):
        services.add_slot(by=world.coordinator, day=RecordingDay.objects.get(pk=day.pk), title="Etterarbeid")


def test_a_day_ahead_cannot_be_done_or_recorded(world: World, day: RecordingDay) -> None:
    with pytest.raises(ValidationError, match="on the day or after it"):
        services.mark_recording_day_done(by=world.coordinator, day=day)
    slot = SlotFactory(recording_day=day)
    with pytest.raises(ValidationError, match="on the day or after it"):
        services.mark_slot_recorded(by=world.coordinator, slot=slot)


def test_withdrawing_a_signup_takes_the_person_off_the_run_sheet(
    world: World, day: RecordingDay, librarian_client: Client
) -> None:
    signup = SignupFactory(recording_day=day, library=world.library, person=world.librarian)
    slot = SlotFactory(recording_day=day)
    slot.presenters.add(world.librarian)
    librarian_client.post(reverse("production:signup_withdraw", args=[signup.pk]))
    assert not PresenterSignup.objects.exists()
    assert not slot.presenters.exists()


def test_reminder_goes_out_two_days_before_once(world: World) -> None:
    day = RecordingDayFactory(county=world.county, host_library=world.library, date=in_days(2))
    day.responsible.add(world.coordinator)
    SignupFactory(recording_day=day, library=world.library, person=world.librarian)
    slot = SlotFactory(recording_day=day, title="Bokprat")
    presenter = UserFactory()
    MembershipFactory(user=presenter, library=world.other_library, role=Role.LIBRARIAN)
    SignupFactory(recording_day=day, library=world.other_library, person=presenter)
    slot.presenters.add(presenter)
    RecordingDayFactory(county=world.county, host_library=world.library, date=in_days(3))  # not yet
    RecordingDayFactory(  # never announced
        county=world.county, host_library=world.library, date=in_days(2), status=RecordingDay.Status.DRAFT
    )

    assert tasks.send_recording_day_reminders() == 3
    assert tasks.send_recording_day_reminders() == 0  # beat ticks again, or the task is redelivered
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [world.coordinator.email, world.librarian.email, presenter.email]
    )
    assert "Bokprat" in mail.outbox[0].body
    assert RecordingDay.objects.get(pk=day.pk).reminder_sent_at is not None


def test_reminder_beat_entry_is_scheduled() -> None:
    from config.celery import app

    entry = app.conf.beat_schedule["recording-day-reminders"]
    assert entry["task"] == "production.send_recording_day_reminders"
    assert "production.send_recording_day_reminders" in app.tasks


def test_printable_run_sheet(world: World, day: RecordingDay, librarian_client: Client) -> None:
    idea = IdeaFactory(library=world.library, status=Idea.Status.PLANNED, title="Pappalesing")
    SlotFactory(recording_day=day, idea=idea, position=1)
    response = librarian_client.get(reverse("production:recording_day_print", args=[day.pk]))
    assert response.status_code == 200
    assert "Pappalesing" in response.text
    assert "09:00" in response.text


def test_recording_day_list_query_count_does_not_grow(
    world: World, librarian_client: Client, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    RecordingDayFactory(county=world.county, host_library=world.library)
    # session, user, memberships (county access), days with host, slot/sign-up counts and own sign-up
    with django_assert_max_num_queries(4) as few:
        librarian_client.get(reverse("production:recording_day_list"))
    for number in range(15):
        day = RecordingDayFactory(
            county=world.county, host_library=LibraryFactory(county=world.county), date=in_days(number + 1)
        )
        SlotFactory(recording_day=day, idea=IdeaFactory(library=world.library, status=Idea.Status.PLANNED))
        SignupFactory(recording_day=day, library=world.library, person=UserFactory())
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = librarian_client.get(reverse("production:recording_day_list"))
    assert len(response.context["days"]) == 16


@pytest.mark.parametrize("page", ["production:recording_day_detail", "production:recording_day_print"])
def test_run_sheet_query_count_does_not_grow_with_slots(
    world: World, day: RecordingDay, coordinator_client: Client, django_assert_max_num_queries, page: str
) -> None:  # type: ignore[no-untyped-def]
    SlotFactory(recording_day=day, position=1)
    url = reverse(page, args=[day.pk])
    # session, user, memberships, MFA check, the day, the day again with slots (ideas, libraries)
    # and their presenters, sign-ups, responsible people, participating libraries, and the slot
    # and sign-up forms' choices
    with django_assert_max_num_queries(20) as few:
        coordinator_client.get(url)
    for number in range(15):
        person = UserFactory()
        MembershipFactory(user=person, library=world.library)
        SignupFactory(recording_day=day, library=world.library, person=person)
        slot = SlotFactory(
            recording_day=day, position=number + 2, idea=IdeaFactory(library=world.library, status=Idea.Status.PLANNED)
        )
        slot.presenters.add(person)
        IdeaFactory(library=world.other_library, status=Idea.Status.ACCEPTED)  # choices for a new slot
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = coordinator_client.get(url)
    assert len(response.context["run_sheet"].rows) == 16


def test_the_day_page_has_no_two_elements_with_the_same_id(world: World, coordinator_client: Client) -> None:
    """The sign-up form and the run-sheet form both have a note; their labels must point at their own field."""
    day = RecordingDayFactory(county=world.county, host_library=world.library)
    response = coordinator_client.get(reverse("production:recording_day_detail", args=[day.pk]))
    ids = Counter(re.findall(r'\sid="([^"]+)"', response.content.decode()))
    assert "signup-note" in ids
    assert "slot-note" in ids
    assert [name for name, count in ids.items() if count > 1] == []
