"""Composing, the four-eyes review, every gate before scheduling, and consent pulling posts back."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from libraries.models import AuditEntry, Library
from production.models import Asset, AssetPerson, ContentType, Idea
from production.services import media as asset_services
from publishing.instagram import channels
from publishing.models import Approval, Channel, Post
from publishing.posts import services
from publishing.posts.gates import failing_gates
from tests.conftest import World, client_for
from tests.factories.libraries import LibraryFactory
from tests.factories.production import ConceptFactory, IdeaFactory, RecordingDayFactory, SlotFactory
from tests.factories.publishing import ChannelFactory, make_asset, make_post, second_editor, show_person


def tomorrow() -> timezone.datetime:
    return timezone.now() + timedelta(days=1)


def gate_codes(post: Post) -> set[str]:
    checked = Post.objects.for_gates().get(pk=post.pk)
    return {gate.code for gate in failing_gates(checked, channel=channels.county_channel(post.county))}


@pytest.fixture
def ready_post(world: World) -> Post:
    """An approved photo post that passes every gate, on a connected channel."""
    ChannelFactory(county=world.county)
    asset = make_asset(county=world.county, library=world.library)
    show_person(asset)
    return make_post(
        county=world.county,
        author=world.editor,
        assets=[asset],
        collaborators=[world.library],
        status=Post.Status.APPROVED,
        approved_by=world.coordinator,
        scheduled_at=tomorrow(),
    )


# --- Composing ---


def test_editor_composes_a_post_from_an_idea_with_credit_collaborators_and_media(world: World) -> None:
    host = LibraryFactory(county=world.county, name="Stavanger bibliotek", instagram_username="stavangerbibliotek")
    no_username = LibraryFactory(county=world.county, name="Utsira bibliotek", instagram_username="")
    idea = IdeaFactory(
        library=world.library,
        status=Idea.Status.RECORDED,
        content_type=ContentType.LITERATURE,
        credit_name="@deichman",
        credit_url="https://www.instagram.com/deichman/",
    )
    idea.libraries.add(no_username)
    day = RecordingDayFactory(county=world.county, host_library=host)
    day.participating_libraries.add(world.other_library, LibraryFactory(county=world.county, name="Hå bibliotek"))
    SlotFactory(recording_day=day, idea=idea)
    asset = make_asset(county=world.county, library=world.library)
    asset.idea = idea
    asset.save(update_fields=["idea"])
    editor = client_for(world.editor)

    page = editor.get(f"/posts/new/?idea={idea.pk}")
    assert page.status_code == 200
    initial = page.context["form"].initial
    assert initial["credit"] == "Inspired by @deichman"
    assert initial["assets"] == [asset.pk]
    # The idea's library first, then the day's host and participants with a username; at most 3.
    assert [Library.objects.get(pk=pk).name for pk in initial["collaborators"]] == [
        "Sandnes bibliotek",
        "Stavanger bibliotek",
        "Hå bibliotek",
    ]

    response = editor.post(
        f"/posts/new/?idea={idea.pk}",
        {
            "title": idea.title,
            "media_kind": "image",
            "assets": [asset.pk],
            f"position-{asset.pk}": "1",
            "caption": "Fem bøker du må lese i høst.\r\n#bibliotek",
            "credit": initial["credit"],
            "collaborators": initial["collaborators"],
            "content_type": "literature",
            "idea": idea.pk,
            "responsible": world.editor.pk,
            "scheduled_at": "2031-03-30T12:00",  # the Sunday clocks go forward in Norway
        },
    )

    post = Post.objects.get()
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    assert post.status == Post.Status.DRAFT
    assert post.caption == "Fem bøker du må lese i høst.\n#bibliotek"
    assert post.full_caption.endswith("\n\nInspired by @deichman")
    assert post.recording_day == day
    assert post.ordered_assets() == [asset]
    assert len(post.collaborator_libraries()) == 3
    # Norwegian summer time (UTC+2) that day: stored as 10:00 UTC.
    assert post.scheduled_at == timezone.datetime(2031, 3, 30, 10, 0, tzinfo=timezone.UTC)


def test_choosing_an_idea_fills_only_the_empty_fields_and_says_what_was_filled(world: World) -> None:
    world.library.instagram_username = "sandnesbibliotek"
    world.library.save(update_fields=["instagram_username"])
    concept = ConceptFactory(county=world.county, name="Ukas boktips")
    idea = IdeaFactory(
        library=world.library,
        status=Idea.Status.PLANNED,
        content_type=ContentType.LITERATURE,
        concept=concept,
        title="Lesesirkel",
        credit_name="@deichman",
    )
    asset = make_asset(county=world.county, library=world.library)
    asset.idea = idea
    asset.save(update_fields=["idea"])
    editor = client_for(world.editor)

    # The editor typed a title and a caption, then chose the idea (htmx posts the form as it is).
    response = editor.post(
        "/posts/new/",
        {
            "fill_from_idea": "1",
            "title": "Min egen tittel",
            "media_kind": "image",
            "caption": "Det jeg allerede har skrevet.",
            "credit": "",
            "idea": idea.pk,
            "responsible": world.editor.pk,
        },
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200  # htmx swaps it in; nothing is saved
    assert not Post.objects.exists()
    form = response.context["form"]
    assert not form.is_bound
    assert form.initial["title"] == "Min egen tittel"
    assert form.initial["caption"] == "Det jeg allerede har skrevet."
    assert form.initial["credit"] == "Inspired by @deichman"
    assert form.initial["assets"] == [asset.pk]
    assert form.initial["collaborators"] == [world.library.pk]
    assert (form.initial["concept"], form.initial["content_type"]) == (concept.pk, ContentType.LITERATURE)
    fill = response.context["fill"]
    assert fill.filled == ["Media", "Inspiration credit", "Collaborators", "Content type", "Concept"]
    assert fill.kept == ["Working title"]
    page = response.content.decode()
    assert "Filled in from the idea: Media, Inspiration credit, Collaborators, Content type, Concept." in page
    assert "Kept what you had written: Working title." in page
    assert 'value="Min egen tittel"' in page
    assert "Det jeg allerede har skrevet." in page
    assert re.search(rf'name="assets" value="{asset.pk}"[^>]*checked', page)


def test_make_a_post_from_this_idea_on_the_idea_and_recording_day_pages(world: World) -> None:
    idea = IdeaFactory(library=world.library, status=Idea.Status.PLANNED)
    day = RecordingDayFactory(county=world.county, host_library=world.library)
    SlotFactory(recording_day=day, idea=idea)
    link = f"/posts/new/?idea={idea.pk}"
    editor = client_for(world.editor)
    assert link in editor.get(idea.get_absolute_url()).content.decode()
    assert link in editor.get(day.get_absolute_url()).content.decode()
    # Librarians do not compose posts; a submitted idea is not ready for one.
    assert link not in client_for(world.librarian).get(idea.get_absolute_url()).content.decode()
    submitted = IdeaFactory(library=world.library, status=Idea.Status.SUBMITTED)
    assert f"/posts/new/?idea={submitted.pk}" not in editor.get(submitted.get_absolute_url()).content.decode()


def test_form_refuses_a_fourth_collaborator_and_a_caption_over_the_limits(world: World) -> None:
    libraries = [LibraryFactory(county=world.county) for _ in range(4)]
    response = client_for(world.editor).post(
        "/posts/new/",
        {
            "title": "For mye",
            "media_kind": "image",
            "caption": " ".join(f"#tag{n}" for n in range(31)),
            "collaborators": [library.pk for library in libraries],
        },
    )

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["collaborators"] == ["Instagram takes at most 3 collaborators; you chose 4."]
    assert errors["caption"] == ["The caption has 31 hashtags; Instagram allows at most 30."]
    assert not Post.objects.exists()


def test_carousel_media_keep_the_order_given(world: World) -> None:
    first, second, third = (make_asset(county=world.county, library=world.library, title=t) for t in "ABC")
    client_for(world.editor).post(
        "/posts/new/",
        {
            "title": "Karusell",
            "media_kind": "carousel",
            "caption": "Tre bilder",
            "assets": [first.pk, second.pk, third.pk],
            f"position-{first.pk}": "3",
            f"position-{second.pk}": "1",
            f"position-{third.pk}": "2",
        },
    )

    assert [asset.title for asset in Post.objects.get().ordered_assets()] == ["B", "C", "A"]


def test_media_from_another_county_cannot_be_used(world: World) -> None:
    foreign = make_asset(county=world.other_county, library=world.other_county_library)
    post = Post(county=world.county, title="Lånt")

    with pytest.raises(ValidationError):
        services.create_post(by=world.editor, post=post, assets=[foreign], collaborators=[])


# --- Four eyes ---


def test_author_cannot_approve_their_own_post(world: World) -> None:
    post = make_post(county=world.county, author=world.editor, status=Post.Status.IN_REVIEW)

    response = client_for(world.editor).post(f"/posts/{post.pk}/approve/", follow=True)

    post.refresh_from_db()
    assert post.status == Post.Status.IN_REVIEW
    assert "Another editor must approve this post" in response.content.decode()
    assert not Approval.objects.exists()


def test_whoever_last_changed_the_post_cannot_approve_it_either(world: World) -> None:
    post = make_post(county=world.county, author=world.editor, status=Post.Status.IN_REVIEW)
    post.last_edited_by = world.coordinator
    post.save(update_fields=["last_edited_by"])

    with pytest.raises(ValidationError):
        services.approve_post(by=world.coordinator, post=post)


def test_another_editor_approves_and_it_is_audited(world: World) -> None:
    post = make_post(county=world.county, author=world.editor, status=Post.Status.IN_REVIEW)
    reviewer = second_editor(world.county_library)

    page = client_for(reviewer).get(f"/posts/{post.pk}/")
    assert page.context["can_approve"]
    client_for(reviewer).post(f"/posts/{post.pk}/approve/")

    post.refresh_from_db()
    assert post.status == Post.Status.APPROVED
    assert Approval.objects.get(post=post, withdrawn_at__isnull=True).by == reviewer
    assert AuditEntry.objects.filter(action="post.approved", actor=reviewer, object_id=str(post.pk)).exists()


# --- One editor on duty: publishing without a second review, where the county allows it ---


def test_coordinator_allows_publishing_without_a_second_review_only_with_a_reason_and_it_is_audited(
    world: World,
) -> None:
    coordinator = client_for(world.coordinator)
    assert world.county.allow_single_review is False  # off by default
    refused = coordinator.post(
        "/libraries/settings/", {"country": "NO", "allow_single_review": "on", "single_review_reason": " "}
    )
    assert refused.status_code == 400
    assert "Write why posts may go out without a second review" in refused.content.decode()
    world.county.refresh_from_db()
    assert world.county.allow_single_review is False

    coordinator.post(
        "/libraries/settings/",
        {"country": "NO", "allow_single_review": "on", "single_review_reason": "Sommerferie: én redaktør."},
    )
    world.county.refresh_from_db()
    assert (world.county.allow_single_review, world.county.single_review_reason) == (
        True,
        "Sommerferie: én redaktør.",
    )
    entry = AuditEntry.objects.get(action="county.settings_changed")
    assert entry.actor == world.coordinator
    # Editors do not change it.
    assert client_for(world.editor).get("/libraries/settings/").status_code == 403


def test_the_author_approves_alone_where_allowed_and_the_post_is_not_reviewed_until_a_second_editor_says_so(
    world: World,
) -> None:
    post = make_post(county=world.county, author=world.editor, status=Post.Status.IN_REVIEW, title="Sommerles")
    author = client_for(world.editor)
    # Off (the default): four eyes, no way round.
    assert not author.get(post.get_absolute_url()).context["can_approve_alone"]
    author.post(f"/posts/{post.pk}/approve-alone/")
    post.refresh_from_db()
    assert post.status == Post.Status.IN_REVIEW

    world.county.allow_single_review = True
    world.county.single_review_reason = "Sommerferie: én redaktør."
    world.county.save()
    page = author.get(post.get_absolute_url())
    assert page.context["can_approve_alone"]
    assert "Sommerferie: én redaktør." in page.content.decode()
    author.post(f"/posts/{post.pk}/approve-alone/")

    post.refresh_from_db()
    assert (post.status, post.awaits_second_review) == (Post.Status.APPROVED, True)
    approval = Approval.objects.get(post=post, withdrawn_at__isnull=True)
    assert (approval.by, approval.without_second_review) == (world.editor, True)
    entry = AuditEntry.objects.get(action="post.approved_alone", object_id=str(post.pk))
    assert (entry.actor, entry.data["reason"]) == (world.editor, "Sommerferie: én redaktør.")
    # Flagged on the post, the plan and the report.
    assert "Not reviewed" in author.get(post.get_absolute_url()).content.decode()
    post.scheduled_at = timezone.now() + timedelta(days=2)
    post.status = Post.Status.SCHEDULED
    post.save()
    week = author.get(f"/plan/week/?week={timezone.localdate(post.scheduled_at).isoformat()}").content.decode()
    assert "data-not-reviewed" in week
    # The author cannot mark their own post reviewed; another editor can, once.
    assert not author.get(post.get_absolute_url()).context["can_mark_reviewed"]
    author.post(f"/posts/{post.pk}/mark-reviewed/")
    post.refresh_from_db()
    assert post.awaits_second_review
    reviewer = second_editor(world.county_library)
    assert client_for(reviewer).get(post.get_absolute_url()).context["can_mark_reviewed"]
    client_for(reviewer).post(f"/posts/{post.pk}/mark-reviewed/")
    post.refresh_from_db()
    approval.refresh_from_db()
    assert not post.awaits_second_review
    assert post.status == Post.Status.SCHEDULED
    assert approval.reviewed_by == reviewer
    assert AuditEntry.objects.filter(action="post.reviewed_afterwards", actor=reviewer).count() == 1
    assert "data-not-reviewed" not in author.get(post.get_absolute_url()).content.decode()
    with pytest.raises(ValidationError):
        services.mark_reviewed(by=reviewer, post=post)


def test_a_published_post_not_reviewed_is_flagged_in_the_monthly_report(world: World) -> None:
    post = make_post(
        county=world.county,
        author=world.editor,
        status=Post.Status.PUBLISHED,
        title="Sommerles",
        published_at=timezone.now(),
        media_id="1789",
        awaits_second_review=True,
    )
    month = timezone.localdate().strftime("%Y-%m")
    page = client_for(world.coordinator).get(f"/reports/?month={month}").content.decode()
    assert "went out without a second review" in page
    assert post.get_absolute_url() in page


def test_librarian_cannot_approve(world: World) -> None:
    post = make_post(county=world.county, author=world.editor, status=Post.Status.IN_REVIEW)

    # Librarians do not see drafts and posts in review at all (the plan shows scheduled ones).
    assert client_for(world.librarian).post(f"/posts/{post.pk}/approve/").status_code == 403


def test_reviewer_sends_the_post_back_to_its_author(world: World, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    post = make_post(county=world.county, author=world.editor, status=Post.Status.IN_REVIEW)

    with django_capture_on_commit_callbacks(execute=True):
        client_for(world.coordinator).post(f"/posts/{post.pk}/return/", {"note": "Kortere tekst, takk."})

    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT
    assert mail.outbox[-1].to == [world.editor.email]
    assert "Kortere tekst, takk." in mail.outbox[-1].body


@pytest.mark.parametrize("status", [Post.Status.APPROVED, Post.Status.SCHEDULED])
def test_editing_the_caption_after_approval_sends_the_post_back_to_review(
    ready_post: Post, world: World, status: str
) -> None:
    Post.objects.filter(pk=ready_post.pk).update(status=status)
    asset = ready_post.ordered_assets()[0]

    response = client_for(world.editor).post(
        f"/posts/{ready_post.pk}/edit/",
        {
            "title": ready_post.title,
            "media_kind": "image",
            "assets": [asset.pk],
            f"position-{asset.pk}": "1",
            "caption": "En annen tekst",
            "collaborators": [world.library.pk],
            "responsible": world.editor.pk,
            "scheduled_at": timezone.localtime(ready_post.scheduled_at).strftime("%Y-%m-%dT%H:%M"),
        },
    )

    assert response.status_code == 302
    ready_post.refresh_from_db()
    assert ready_post.status == Post.Status.IN_REVIEW
    assert ready_post.active_approval() is None
    assert Approval.objects.get(post=ready_post).withdrawn_reason.startswith("Changed after approval: caption")


def test_changing_only_the_title_or_time_keeps_the_approval(ready_post: Post, world: World) -> None:
    post = Post.objects.get(pk=ready_post.pk)
    post.title = "Bedre arbeidstittel"
    services.update_post(by=world.editor, post=post, changed=["title"])
    services.move_post(by=world.editor, post=post, at=tomorrow() + timedelta(days=1))

    post.refresh_from_db()
    assert post.status == Post.Status.APPROVED
    assert post.active_approval() is not None


# --- Gates ---


def test_a_post_that_passes_every_gate_is_scheduled(ready_post: Post, world: World) -> None:
    assert gate_codes(ready_post) == set()

    response = client_for(world.editor).post(
        f"/posts/{ready_post.pk}/schedule/",
        {"at": timezone.localtime(ready_post.scheduled_at).strftime("%Y-%m-%dT%H:%M")},
        follow=True,
    )

    ready_post.refresh_from_db()
    assert ready_post.status == Post.Status.SCHEDULED
    assert ready_post.channel == Channel.objects.get()
    assert "is scheduled for" in response.content.decode()


def test_an_unapproved_post_cannot_be_scheduled(ready_post: Post) -> None:
    Approval.objects.all().delete()

    assert gate_codes(ready_post) == {"approval"}


def test_photo_without_alt_text_blocks_scheduling(ready_post: Post, world: World) -> None:
    Asset.objects.update(alt_text="")

    assert gate_codes(ready_post) == {"alt_text"}
    with pytest.raises(ValidationError) as caught:
        services.schedule_post(by=world.editor, post=ready_post)
    assert caught.value.messages == ["Write alt text for the photo “Bøker på bordet”."]


def test_video_without_subtitles_blocks_scheduling_until_they_are_confirmed_burned_in(
    ready_post: Post, world: World
) -> None:
    video = make_asset(county=world.county, library=world.library, kind=Asset.Kind.VIDEO, subtitles_burned_in=False)
    reel = make_post(
        county=world.county,
        author=world.editor,
        assets=[video],
        status=Post.Status.APPROVED,
        approved_by=world.coordinator,
        scheduled_at=tomorrow(),
    )
    assert reel.media_kind == Post.MediaKind.REEL
    assert gate_codes(reel) == {"subtitles"}

    Asset.objects.filter(pk=video.pk).update(subtitles_burned_in=True)
    assert gate_codes(reel) == set()


@pytest.mark.parametrize(
    "consent",
    [
        {"consent": False},
        {"withdrawn": True},
        {"valid_until": timezone.localdate() - timedelta(days=1)},
        {"covers_publishing": False},
        {"minor": True, "guardian": ""},
    ],
    ids=["missing", "withdrawn", "expired", "archive-only", "minor-without-guardian"],
)
def test_someone_shown_without_valid_consent_to_publishing_blocks_scheduling(
    ready_post: Post, consent: dict[str, object]
) -> None:
    asset = ready_post.ordered_assets()[0]
    if consent.get("minor"):
        # The database refuses a consent marked as a minor's without a guardian; one recorded for someone
        # registered as a child without a guardian's name is what a minor without a guardian looks like.
        show_person(asset, name="Ola (8)", category=AssetPerson.Category.CHILD)
    else:
        show_person(asset, name="Per", **consent)  # type: ignore[arg-type]

    assert gate_codes(ready_post) == {"consent"}


def test_an_asset_nobody_reviewed_blocks_scheduling_until_an_editor_confirms_nobody_can_be_recognised(
    ready_post: Post, world: World
) -> None:
    asset = ready_post.ordered_assets()[0]
    AssetPerson.objects.filter(asset=asset).delete()
    assert gate_codes(ready_post) == {"consent"}
    with pytest.raises(ValidationError) as caught:
        services.schedule_post(by=world.editor, post=ready_post)
    assert caught.value.messages == [
        "Nobody is registered as shown in “Bøker på bordet”: add the people shown, or have an editor "
        "confirm on its page that it shows no identifiable people."
    ]
    asset_services.confirm_no_people(by=world.editor, asset=asset)
    assert gate_codes(ready_post) == set()


def test_a_child_with_a_guardians_consent_may_be_shown(ready_post: Post) -> None:
    show_person(ready_post.ordered_assets()[0], name="Ola (8)", minor=True, guardian="Kari Nordmann")

    assert gate_codes(ready_post) == set()


def test_media_instagram_would_refuse_or_not_yet_processed_block_scheduling(ready_post: Post) -> None:
    Asset.objects.update(instagram_check={"verdict": "rejected", "reasons": ["Too wide"]})
    assert gate_codes(ready_post) == {"specs"}

    Asset.objects.update(instagram_check={"verdict": "will_be_cropped", "reasons": []}, status=Asset.Status.PROCESSING)
    assert gate_codes(ready_post) == {"rendition"}


def test_a_vertical_video_fits_a_reel_but_not_a_carousel(ready_post: Post, world: World) -> None:
    video = make_asset(county=world.county, library=world.library, kind=Asset.Kind.VIDEO, title="Boktips")
    check = {
        "use": "reel",
        "verdict": "ok",
        "reasons": [],
        "carousel": {
            "verdict": "rejected",
            "reasons": ["The video's shape is 9:16; Instagram needs between 4:5 and 16:9."],
        },
    }
    Asset.objects.filter(pk=video.pk).update(instagram_check=check)
    reel = make_post(
        county=world.county,
        author=world.editor,
        assets=[video],
        status=Post.Status.APPROVED,
        approved_by=world.coordinator,
        scheduled_at=tomorrow(),
    )
    carousel = make_post(
        county=world.county,
        author=world.editor,
        assets=[ready_post.ordered_assets()[0], video],
        status=Post.Status.APPROVED,
        approved_by=world.coordinator,
        scheduled_at=tomorrow(),
    )

    assert gate_codes(reel) == set()
    assert gate_codes(carousel) == {"specs"}
    checked = Post.objects.for_gates().get(pk=carousel.pk)
    [gate] = failing_gates(checked, channel=channels.county_channel(world.county))
    assert gate.message == (
        "“Boktips” does not meet Instagram's requirements: "
        "The video's shape is 9:16; Instagram needs between 4:5 and 16:9."
    )


def test_caption_over_the_limits_blocks_scheduling(ready_post: Post) -> None:
    Post.objects.filter(pk=ready_post.pk).update(caption="x" * 2190, credit="Inspired by @someone_long")

    assert gate_codes(ready_post) == {"caption"}


def test_more_collaborators_than_instagram_takes_block_scheduling(ready_post: Post, world: World) -> None:
    for library in [world.other_library, *(LibraryFactory(county=world.county) for _ in range(2))]:
        ready_post.post_collaborators.create(library=library)

    assert gate_codes(ready_post) == {"collaborators"}


def test_carousel_needs_two_to_ten_items(ready_post: Post) -> None:
    Post.objects.filter(pk=ready_post.pk).update(media_kind=Post.MediaKind.CAROUSEL)

    assert gate_codes(ready_post) == {"media"}


def test_without_a_connected_channel_nothing_is_scheduled(ready_post: Post) -> None:
    Channel.objects.update(status=Channel.Status.RECONNECT_REQUIRED)

    assert gate_codes(ready_post) == {"channel"}


def test_each_failing_gate_is_listed_in_words_next_to_the_post(ready_post: Post, world: World) -> None:
    Asset.objects.update(alt_text="")
    Channel.objects.update(status=Channel.Status.DISCONNECTED)

    page = client_for(world.editor).get(f"/posts/{ready_post.pk}/").content.decode()
    listing = client_for(world.editor).get("/posts/").content.decode()

    for html in (page, listing):
        assert "Write alt text for the photo “Bøker på bordet”." in html
        assert "The county&#x27;s Instagram account is not connected." in html


# --- Consent pulls posts back ---


def test_withdrawn_consent_pulls_scheduled_posts_back_to_review_and_tells_the_coordinator(
    ready_post: Post, world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    Post.objects.filter(pk=ready_post.pk).update(status=Post.Status.SCHEDULED)
    draft = make_post(county=world.county, author=world.editor, assets=ready_post.ordered_assets())
    asset = ready_post.ordered_assets()[0]

    with django_capture_on_commit_callbacks(execute=True):
        pulled = services.pull_back_posts_showing(asset_ids=[asset.pk], reason="Kari withdrew her consent.")

    assert [post.pk for post in pulled] == [ready_post.pk]
    ready_post.refresh_from_db()
    draft.refresh_from_db()
    assert ready_post.status == Post.Status.IN_REVIEW
    assert ready_post.active_approval() is None
    assert draft.status == Post.Status.DRAFT  # not on its way out: the gates stop it anyway
    assert AuditEntry.objects.filter(action="post.pulled_back", object_id=str(ready_post.pk)).exists()
    [message] = mail.outbox
    assert message.to == [world.coordinator.email]
    assert "Kari withdrew her consent." in message.body
    assert re.search(rf"/posts/{ready_post.pk}/", message.body)
    assert services.pull_back_posts_showing(asset_ids=[asset.pk], reason="again") == []


# --- Other moves ---


def test_scheduled_post_can_be_taken_off_the_plan_and_cancelled(ready_post: Post, world: World) -> None:
    services.schedule_post(by=world.editor, post=ready_post)
    editor = client_for(world.editor)

    editor.post(f"/posts/{ready_post.pk}/unschedule/")
    ready_post.refresh_from_db()
    assert ready_post.status == Post.Status.APPROVED

    editor.post(f"/posts/{ready_post.pk}/cancel/")
    ready_post.refresh_from_db()
    assert ready_post.status == Post.Status.CANCELLED
    assert editor.post(f"/posts/{ready_post.pk}/submit/").status_code == 302
    ready_post.refresh_from_db()
    assert ready_post.status == Post.Status.CANCELLED  # cancelled is final


def test_a_post_cannot_be_scheduled_in_the_past(ready_post: Post, world: World) -> None:
    with pytest.raises(ValidationError):
        services.schedule_post(by=world.editor, post=ready_post, at=timezone.now() - timedelta(hours=1))


def test_failed_post_is_fixed_and_scheduled_again(ready_post: Post, world: World) -> None:
    Post.objects.filter(pk=ready_post.pk).update(
        status=Post.Status.FAILED, failure_reason="Instagram refused the post: too wide", attempts=8
    )
    page = client_for(world.editor).get(f"/posts/{ready_post.pk}/").content.decode()
    assert "Instagram refused the post: too wide" in page

    services.schedule_post(by=world.editor, post=ready_post, at=tomorrow())

    ready_post.refresh_from_db()
    assert (ready_post.status, ready_post.failure_reason, ready_post.attempts) == (Post.Status.SCHEDULED, "", 0)
    assert AuditEntry.objects.filter(action="post.rescheduled").exists()


def test_outsider_sees_nothing_of_the_county(ready_post: Post, outsider_client: Client) -> None:
    assert outsider_client.get(f"/posts/{ready_post.pk}/").status_code == 404
    assert outsider_client.post(f"/posts/{ready_post.pk}/approve/").status_code == 404
    assert ready_post.title not in outsider_client.get("/posts/").content.decode()


def test_withdrawing_consent_in_the_media_pages_pulls_the_scheduled_post_back(
    ready_post: Post, world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """The whole cascade (DESIGN.md §5): the consent service, not publishing, is where it starts."""
    from production.services import media as asset_services

    Post.objects.filter(pk=ready_post.pk).update(status=Post.Status.SCHEDULED)
    consent = ready_post.ordered_assets()[0].people.get().consents.get()

    with django_capture_on_commit_callbacks(execute=True):
        asset_services.withdraw_consent(by=world.coordinator, consent=consent, note="Asked by phone")

    ready_post.refresh_from_db()
    assert ready_post.status == Post.Status.IN_REVIEW
    assert "consent" in gate_codes(ready_post)  # and the consent gate now says why it cannot go out
    assert AuditEntry.objects.filter(action="post.pulled_back", object_id=str(ready_post.pk)).exists()
    assert AuditEntry.objects.filter(action="consent.withdrawn").exists()
    # One e-mail to the coordinator: the consent withdrawn, the media blocked and the posts pulled back.
    [message] = mail.outbox
    assert message.to == [world.coordinator.email]
    assert "These approved or scheduled posts went back to review:" in message.body
    assert f"http://testserver{ready_post.get_absolute_url()}" in message.body


def test_the_reason_for_returning_to_review_names_the_fields_in_the_editors_language(
    ready_post: Post, world: World
) -> None:
    from django.utils import translation

    with translation.override("nb"):
        services.update_post(by=world.editor, post=ready_post, changed=["caption"])

    assert Approval.objects.get(post=ready_post).withdrawn_reason == "Endret etter godkjenning: bildetekst"


def test_the_post_page_offers_what_next_only_when_something_can_be_done(world: World, editor_client: Client) -> None:
    draft = make_post(county=world.county, author=world.editor, title="Utkast")
    published = make_post(county=world.county, author=world.editor, title="Ute", status=Post.Status.PUBLISHED)
    assert "What next" in editor_client.get(draft.get_absolute_url()).text
    assert "What next" not in editor_client.get(published.get_absolute_url()).text
