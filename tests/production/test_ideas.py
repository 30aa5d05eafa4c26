"""Ideas from the libraries: submitting, reviewing, commenting, finding them again."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.formats import date_format

from libraries.models import AuditEntry
from production.models import Audience, ContentType, Idea, IdeaAttachment
from production.services import planning as services
from tests.conftest import World
from tests.factories.libraries import LibraryFactory, UserFactory
from tests.factories.production import ConceptFactory, IdeaFactory, RecordingDayFactory, SlotFactory

pytestmark = pytest.mark.django_db


def idea_data(**overrides: object) -> dict:
    data = {
        "title": "Lesesirkel for pappaer",
        "pitch": "Siste tirsdag i måneden møtes pappaer og leser sammen.",
        "content_type": ContentType.OFFERS,
        "audiences": [Audience.ADULTS],
        "credit_name": "@oslobibliotek",
        "credit_url": "https://www.instagram.com/deichman/",
        "reference_links": "https://example.org/a\n\n https://example.org/b ",
    }
    data.update(overrides)
    return data


def test_librarian_submits_an_idea_for_their_library(world: World, librarian_client: Client) -> None:
    response = librarian_client.post(
        reverse("production:idea_create"),
        idea_data(library=world.library.pk, libraries=[world.other_library.pk]),
    )
    idea = Idea.objects.get(title="Lesesirkel for pappaer")
    assert response.status_code == 302
    assert response["Location"] == idea.get_absolute_url()
    assert idea.library == world.library
    assert idea.submitted_by == world.librarian
    assert idea.status == Idea.Status.SUBMITTED
    assert set(idea.libraries.all()) == {world.library, world.other_library}  # the submitter is always involved
    assert idea.reference_link_list == ["https://example.org/a", "https://example.org/b"]
    assert AuditEntry.objects.filter(action="idea.submitted", object_id=str(idea.pk)).exists()
    page = librarian_client.get(idea.get_absolute_url()).text
    assert "@oslobibliotek" in page
    assert "Submitted" in page


def test_librarian_cannot_submit_for_another_library(world: World, librarian_client: Client) -> None:
    response = librarian_client.post(reverse("production:idea_create"), idea_data(library=world.other_library.pk))
    assert response.status_code == 400
    assert not Idea.objects.exists()


def test_idea_only_for_children_is_saved_with_a_warning(world: World, librarian_client: Client) -> None:
    response = librarian_client.post(
        reverse("production:idea_create"),
        idea_data(library=world.library.pk, audiences=[Audience.CHILDREN]),
        follow=True,
    )
    assert response.status_code == 200
    assert "Instagram is for people aged 13 and over" in response.text
    idea = Idea.objects.get()
    assert idea.is_for_children_only
    # Children together with adults is fine.
    idea.audiences = [Audience.CHILDREN, Audience.ADULTS]
    assert not idea.is_for_children_only


def test_form_says_what_is_wrong(world: World, librarian_client: Client) -> None:
    response = librarian_client.post(
        reverse("production:idea_create"),
        idea_data(library=world.library.pk, title="", audiences=[], reference_links="ikke en lenke"),
    )
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.text
    assert "“ikke en lenke” is not a web address" in response.text


def test_attachments_are_uploaded_and_served_only_inside_the_county(
    world: World, librarian_client: Client, outsider_client: Client, settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("manus.txt", b"Hei og velkommen", content_type="text/plain")
    librarian_client.post(
        reverse("production:idea_create"), {**idea_data(library=world.library.pk), "attachments": [upload]}
    )
    attachment = IdeaAttachment.objects.get()
    url = reverse("production:idea_attachment", args=[attachment.pk])
    response = librarian_client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"Hei og velkommen"
    assert response["Content-Disposition"].startswith("attachment")
    assert outsider_client.get(url).status_code == 404


def test_editor_accepts_an_idea_and_the_submitter_is_told(
    world: World, editor_client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    idea = IdeaFactory(library=world.library, submitted_by=world.librarian, title="Bokprat & kaffe")
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(reverse("production:idea_accept", args=[idea.pk]))
    assert response.status_code == 302
    idea.refresh_from_db()
    assert idea.status == Idea.Status.ACCEPTED
    assert idea.reviewed_by == world.editor
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [world.librarian.email]
    assert mail.outbox[0].subject == "Your idea “Bokprat & kaffe” was accepted"  # not HTML-escaped
    assert f"http://testserver/ideas/{idea.pk}/" in mail.outbox[0].body
    assert AuditEntry.objects.filter(action="idea.accepted", object_id=str(idea.pk), actor=world.editor).exists()


def test_declining_needs_a_reason_which_the_submitter_sees(
    world: World, coordinator_client: Client, librarian_client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    idea = IdeaFactory(library=world.library, submitted_by=world.librarian)
    response = coordinator_client.post(reverse("production:idea_decline", args=[idea.pk]), {"reason": "  "})
    assert response.status_code == 400
    assert Idea.objects.get(pk=idea.pk).status == Idea.Status.SUBMITTED

    with django_capture_on_commit_callbacks(execute=True):
        coordinator_client.post(
            reverse("production:idea_decline", args=[idea.pk]), {"reason": "Vi laget nesten det samme i fjor."}
        )
    idea.refresh_from_db()
    assert idea.status == Idea.Status.DECLINED
    assert "Vi laget nesten det samme i fjor." in mail.outbox[0].body
    assert "Vi laget nesten det samme i fjor." in librarian_client.get(idea.get_absolute_url()).text


def test_status_moves_only_along_the_allowed_transitions(world: World) -> None:
    idea = IdeaFactory(library=world.library, status=Idea.Status.DECLINED)
    with pytest.raises(ValidationError, match="cannot become accepted"):
        services.accept_idea(by=world.editor, idea=idea)
    idea = IdeaFactory(library=world.library, status=Idea.Status.SUBMITTED)
    with pytest.raises(ValidationError, match="cannot become used"):
        services.mark_idea_used(by=world.coordinator, idea=idea)
    day = RecordingDayFactory(county=world.county, host_library=world.library)
    with pytest.raises(ValidationError, match="Only an accepted idea"):
        services.plan_idea(by=world.coordinator, idea=idea, day=day)


def test_two_reviewers_at_once_cannot_both_move_an_idea(world: World) -> None:
    idea = IdeaFactory(library=world.library)
    stale = Idea.objects.get(pk=idea.pk)
    services.accept_idea(by=world.editor, idea=idea)
    with pytest.raises(ValidationError, match="Someone else changed this idea"):
        services.decline_idea(by=world.coordinator, idea=stale, reason="Nei")
    assert Idea.objects.get(pk=idea.pk).status == Idea.Status.ACCEPTED


def test_recorded_idea_is_marked_used(world: World, coordinator_client: Client) -> None:
    idea = IdeaFactory(library=world.library, status=Idea.Status.RECORDED)
    coordinator_client.post(reverse("production:idea_mark_used", args=[idea.pk]))
    assert Idea.objects.get(pk=idea.pk).status == Idea.Status.USED


def test_library_and_county_discuss_an_idea_in_comments(
    world: World, librarian_client: Client, coordinator_client: Client
) -> None:
    idea = IdeaFactory(library=world.library, submitted_by=world.librarian)
    coordinator_client.post(
        reverse("production:idea_comment", args=[idea.pk]), {"body": "Kan dere filme i barneavdelingen?"}
    )
    response = librarian_client.post(reverse("production:idea_comment", args=[idea.pk]), {"body": "Ja, gjerne!"})
    assert response.status_code == 302
    page = librarian_client.get(idea.get_absolute_url()).text
    assert page.index("Kan dere filme i barneavdelingen?") < page.index("Ja, gjerne!")
    assert librarian_client.post(reverse("production:idea_comment", args=[idea.pk]), {"body": ""}).status_code == 400


def test_idea_list_filters_and_searches(world: World, librarian_client: Client) -> None:
    concept = ConceptFactory(county=world.county, name="Fredagstipset")
    IdeaFactory(library=world.library, title="Strikkekafé", status=Idea.Status.ACCEPTED)
    IdeaFactory(
        library=world.other_library,
        title="Bokanbefaling: Lars Saabye Christensen",
        content_type=ContentType.LITERATURE,
        concept=concept,
    )
    IdeaFactory(
        library=world.other_library,
        title="Bli kjent med Hanne",
        content_type=ContentType.RELATIONSHIP,
        pitch="Bak skranken",
    )

    def titles(**params: str) -> set[str]:
        response = librarian_client.get(reverse("production:idea_list"), params)
        assert response.status_code == 200
        return {idea.title for idea in response.context["ideas"]}

    assert len(titles()) == 3  # librarians see the whole county's ideas
    assert titles(status="accepted") == {"Strikkekafé"}
    assert titles(library=str(world.other_library.pk)) == {
        "Bokanbefaling: Lars Saabye Christensen",
        "Bli kjent med Hanne",
    }
    assert titles(content_type="literature") == {"Bokanbefaling: Lars Saabye Christensen"}
    assert titles(concept=str(concept.pk)) == {"Bokanbefaling: Lars Saabye Christensen"}
    assert titles(q="skranken") == {"Bli kjent med Hanne"}  # the pitch is searched too
    assert titles(q="STRIKKE") == {"Strikkekafé"}
    assert titles(mine="1") == {"Strikkekafé"}


def test_planned_idea_shows_its_recording_day_in_the_list(world: World, librarian_client: Client) -> None:
    day = RecordingDayFactory(county=world.county, host_library=world.library)
    idea = IdeaFactory(library=world.library, status=Idea.Status.PLANNED)
    SlotFactory(recording_day=day, idea=idea)
    page = librarian_client.get(reverse("production:idea_list")).text
    assert "Planned" in page
    assert date_format(day.date, "SHORT_DATE_FORMAT") in page


def test_idea_list_rows_show_the_submitter_comments_and_concept(world: World, librarian_client: Client) -> None:
    concept = ConceptFactory(county=world.county, name="Fredagstipset")
    named = IdeaFactory(library=world.library, title="<b>Strikk</b> & prat", concept=concept)
    services.add_comment(by=world.librarian, idea=named, body="Første")
    services.add_comment(by=world.librarian, idea=named, body="Andre")
    IdeaFactory(library=world.library, title="Uten navn", submitted_by=UserFactory(name="", email="anon@example.org"))
    IdeaFactory(library=world.library, title="Uten innsender", submitted_by=None)
    page = librarian_client.get(reverse("production:idea_list")).text
    rows = {row.split("</th>")[0]: row for row in page.split('<th scope="row">')[1:]}
    first = next(row for head, row in rows.items() if "Strikk" in head)
    assert "&lt;b&gt;Strikk&lt;/b&gt; &amp; prat" in first  # escaped, as everything a person wrote
    assert f'href="{named.get_absolute_url()}"' in first
    assert "2 comments" in first
    assert "Fredagstipset" in first
    assert named.submitted_by.name in first
    assert "anon@example.org" in next(row for head, row in rows.items() if "Uten navn" in head)
    nobody = next(row for head, row in rows.items() if "Uten innsender" in head).split("</tr>")[0]
    assert nobody.rstrip().endswith("</td>")
    assert '<span class="muted">' not in nobody.split("<td>")[-1]  # no submitter under the date


def test_idea_list_query_count_does_not_grow_with_ideas(
    world: World, librarian_client: Client, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    IdeaFactory(library=world.library)
    # session, user, memberships (county access), libraries and concepts for the filters and the count (kept in
    # the cache, read again after the writes below), ideas with library, concept, submitter, slot and day,
    # comment counts
    with django_assert_max_num_queries(8) as few:
        librarian_client.get(reverse("production:idea_list"))
    day = RecordingDayFactory(county=world.county, host_library=world.library)
    for number in range(20):
        library = LibraryFactory(county=world.county)
        idea = IdeaFactory(library=library, concept=ConceptFactory(county=world.county), status=Idea.Status.PLANNED)
        SlotFactory(recording_day=day, idea=idea)
        services.add_comment(by=world.librarian, idea=idea, body=f"Kommentar {number}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = librarian_client.get(reverse("production:idea_list"))
    assert len(response.context["ideas"]) == 21


def test_idea_list_kept_count_and_choices_follow_every_write(
    world: World, librarian_client: Client, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    concept = ConceptFactory(county=world.county, name="Fredagstipset")
    first = IdeaFactory(library=world.library)
    url = reverse("production:idea_list")
    assert "1 idea" in librarian_client.get(url).text
    # Kept: the session's user and the page of ideas; the libraries, concepts and count come from the cache.
    with django_assert_max_num_queries(2):
        assert "1 idea" in librarian_client.get(url).text

    second = IdeaFactory(library=world.library)
    assert "2 ideas" in librarian_client.get(url).text
    concept.name = "Lørdagstipset"
    concept.save()
    LibraryFactory(county=world.county, name="Nytt bibliotek")
    page = librarian_client.get(url).text
    assert f'<option value="{concept.pk}">Lørdagstipset</option>' in page
    assert "Fredagstipset" not in page
    assert "Nytt bibliotek</option>" in page
    second.delete()
    assert "1 idea" in librarian_client.get(url).text
    concept.delete()
    assert "Lørdagstipset" not in librarian_client.get(url).text
    # A filtered list is counted as it is.
    IdeaFactory(library=world.other_library)
    assert "2 ideas" in librarian_client.get(url).text
    assert "1 idea" in librarian_client.get(url, {"library": str(world.other_library.pk)}).text
    assert "1 idea" in librarian_client.get(url, {"mine": "1"}).text
    assert first.title in librarian_client.get(url, {"mine": "1"}).text


def test_librarian_edits_their_own_idea_while_it_waits(world: World, librarian_client: Client) -> None:
    idea = IdeaFactory(library=world.library, submitted_by=world.librarian, title="Gammel tittel")
    response = librarian_client.post(
        reverse("production:idea_edit", args=[idea.pk]),
        idea_data(title="Ny tittel", libraries=[world.other_library.pk]),
    )
    assert response.status_code == 302
    idea.refresh_from_db()
    assert idea.title == "Ny tittel"
    assert idea.library == world.library  # the submitting library cannot be changed
    assert set(idea.libraries.all()) == {world.library, world.other_library}
    entry = AuditEntry.objects.get(action="idea.changed", object_id=str(idea.pk))
    assert "title" in entry.data["fields"]


@pytest.mark.parametrize("page", ["production:idea_detail", "production:concept_detail"])
def test_detail_pages_query_count_does_not_grow_with_comments_and_ideas(
    world: World, librarian_client: Client, django_assert_max_num_queries, page: str
) -> None:  # type: ignore[no-untyped-def]
    concept = ConceptFactory(county=world.county)
    idea = IdeaFactory(library=world.library, concept=concept)
    url = reverse(page, args=[idea.pk if page == "production:idea_detail" else concept.pk])
    services.add_comment(by=world.librarian, idea=idea, body="Første")
    # session, user, memberships, the idea (or concept) and its parts: libraries, files, comments with
    # authors, slot; or the concept's ideas
    with django_assert_max_num_queries(10) as few:
        librarian_client.get(url)
    for number in range(10):
        services.add_comment(by=world.coordinator if number % 2 else world.librarian, idea=idea, body=f"Svar {number}")
        IdeaFactory(library=LibraryFactory(county=world.county), concept=concept)
        idea.libraries.add(LibraryFactory(county=world.county))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert librarian_client.get(url).status_code == 200
