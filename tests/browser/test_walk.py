"""The whole loop in the browser, as the three roles, with axe-core on every page it visits.

A librarian sends an idea; the coordinator accepts it, plans a recording day and puts the idea on
its run sheet; at the recording day the librarian uploads a photo from a phone (390 px, the
resumable upload) and describes it; an editor makes a post from the idea, watching the preview;
a second editor approves it seeing the photo in the preview, and schedules it; the worker
publishes it to the fake Graph API; the idea's page then shows the published post and its link.

Every page loaded on the way, and the states htmx draws on them, is checked with axe-core
(WCAG 2.0, 2.1 and 2.2 at A and AA, tests/browser/axe.py); any violation fails the test, listed
page by page. The pages keep their production CSP while axe runs.

The worker runs here, in this process (Celery's eager mode, as tests/publishing/test_publish.py
runs it): the upload's rendition task at the upload's commit in the live server, and the publish
task when the tick hands the due post over. Instagram is the project's fake Graph API over HTTP,
fetching the photo from the live server's signed address.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from celery.result import allow_join_result
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from config.celery import app as celery_app
from libraries.models import Library, Role, User
from production.models import Asset, Idea, RecordingDay
from publishing.models import Post
from publishing.posts import services as post_services
from tests.browser.axe import AxeWalk, assert_csp_in_force
from tests.factories.libraries import PASSWORD, CountyFactory, LibraryFactory, MembershipFactory, UserFactory
from tests.factories.media import jpeg_bytes
from tests.factories.publishing import ChannelFactory
from tests.publishing.conftest import eager_celery, fake_graph, fake_graph_server, publishing_setup  # noqa: F401
from tests.publishing.fakegraph import FakeGraph

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture(autouse=True)
def _celery_join_flag_restored() -> Iterator[None]:
    # Eager tasks run in the live server's request threads; Celery's "inside a task" flag is
    # process-wide, so put it back as it was when the test ends (see test_upload_in_browser.py).
    with allow_join_result():
        yield


class People:
    """One county with its county library and a member library, the four people of the walk, and its
    Instagram channel (the fake's account)."""

    def __init__(self) -> None:
        county = CountyFactory(name="Rogaland", slug="rogaland")
        self.county_library = LibraryFactory(county=county, kind=Library.Kind.COUNTY, name="Rogaland fylkesbibliotek")
        self.library = LibraryFactory(
            county=county, name="Sandnes bibliotek", municipality="Sandnes", instagram_username="sandnesbibliotek"
        )
        self.county = county
        staff = self.county_library
        self.coordinator = self._person("Kari Koordinator", "koordinator@rogaland.example", staff, Role.COORDINATOR)
        self.editor = self._person("Eva Redaktør", "redaktor@rogaland.example", staff, Role.EDITOR)
        self.reviewer = self._person("Rolf Redaktør", "redaktor2@rogaland.example", staff, Role.EDITOR)
        self.librarian = self._person("Berit Bibliotekar", "bibliotekar@sandnes.example", self.library, Role.LIBRARIAN)
        ChannelFactory(county=county)  # connected to the fake's account

    @staticmethod
    def _person(name: str, email: str, library: Library, role: Role) -> User:
        return MembershipFactory(user=UserFactory(name=name, email=email), library=library, role=role).user


@pytest.fixture
def people(settings, publishing_setup: FakeGraph) -> People:  # type: ignore[no-untyped-def]  # noqa: F811
    settings.REQUIRE_MFA = False  # two-factor log-in has its own tests; the walk logs in with a password
    # The tasks the walk sets off (the recording day's announcement, the upload's renditions, publishing)
    # are queued by name; register them all as a worker does at its start, so that eager mode finds them.
    celery_app.loader.import_default_modules()
    return People()


@pytest.fixture
def contexts(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """New browser contexts (one per person and device), closed when the test ends."""
    opened: list[BrowserContext] = []

    def new(**options: Any) -> BrowserContext:
        opened.append(browser.new_context(locale="en-GB", **options))
        return opened[-1]

    yield new
    for context in opened:
        context.close()


def said(page: Page) -> Locator:
    """The messages a page shows after a form (a page may have other live regions too)."""
    return page.locator(".messages")


def log_in(context: BrowserContext, base_url: str, user: User, axe: AxeWalk, who: str) -> Page:
    page = context.new_page()
    page.set_default_timeout(15_000)
    axe.watch(page, who)
    page.goto(f"{base_url}/accounts/login/")
    axe.check(page, who, once=True)
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    axe.check(page, who)
    return page


def test_idea_to_published_post_as_the_three_roles_with_no_accessibility_violation(
    people: People,
    fake_graph: FakeGraph,  # noqa: F811
    live_server,  # type: ignore[no-untyped-def]
    contexts: Callable[..., BrowserContext],
    tmp_path: Path,
) -> None:
    base = live_server.url
    axe = AxeWalk()

    def desktop() -> BrowserContext:
        return contexts(viewport=DESKTOP)

    # --- The librarian sends an idea (at her desk). ---
    librarian = log_in(desktop(), base, people.librarian, axe, "librarian")
    librarian.get_by_role("navigation", name="Main").get_by_role("link", name="Ideas").click()
    axe.check(librarian, "librarian")
    librarian.get_by_role("link", name="Submit an idea").click()
    axe.check(librarian, "librarian")
    librarian.get_by_label("Title").fill("Lesekroken i Sandnes")
    librarian.get_by_label("Pitch").fill("Vi viser fram den nye lesekroken, med boktips fra de ansatte.")
    librarian.get_by_label("Content type").select_option(label="Library offers and services")
    librarian.get_by_role("group", name="Audience").get_by_label("Adults").check()
    librarian.get_by_label("Whom to credit").fill("@deichman")
    librarian.get_by_role("button", name="Send the idea").click()
    expect(said(librarian)).to_contain_text("was sent to the county for review")
    axe.check(librarian, "librarian")
    idea = Idea.objects.get(title="Lesekroken i Sandnes")

    # --- The coordinator accepts it, plans a recording day and puts the idea on its run sheet. ---
    coordinator = log_in(desktop(), base, people.coordinator, axe, "coordinator")
    coordinator.get_by_role("region", name="Ideas waiting for review").get_by_role(
        "link", name="Lesekroken i Sandnes"
    ).click()
    axe.check(coordinator, "coordinator")
    coordinator.get_by_role("button", name="Accept").click()
    expect(said(coordinator)).to_contain_text("was accepted")
    axe.check(coordinator, "coordinator")

    coordinator.get_by_role("link", name="Plan a recording day").click()
    axe.check(coordinator, "coordinator")
    day_date = timezone.localdate() + timedelta(days=7)
    coordinator.get_by_label("Date").fill(day_date.isoformat())
    coordinator.get_by_label("Starts at").fill("09:00")
    coordinator.get_by_label("Ends at").fill("15:00")
    coordinator.get_by_label("Host library").select_option(label="Sandnes bibliotek")
    coordinator.get_by_label("Address").fill("Jernbaneveien 2, Sandnes")
    coordinator.get_by_role("button", name="Save").click()
    expect(said(coordinator)).to_contain_text("The recording day was created as a draft")
    axe.check(coordinator, "coordinator")
    coordinator.get_by_role("button", name="Announce to the libraries").click()
    expect(said(coordinator)).to_contain_text("announced")
    axe.check(coordinator, "coordinator")
    day = RecordingDay.objects.get(date=day_date)

    coordinator.goto(f"{base}{idea.get_absolute_url()}")
    axe.check(coordinator, "coordinator")
    plan = coordinator.get_by_role("region", name="Place on a recording day")
    plan.get_by_label("Recording day").select_option(value=str(day.pk))
    plan.get_by_label("Duration in minutes").fill("20")
    plan.get_by_role("button", name="Add to the run sheet").click()
    expect(coordinator).to_have_url(re.compile(rf"/recording-days/{day.pk}/$"))
    expect(coordinator.get_by_role("row", name=re.compile("Lesekroken i Sandnes"))).to_be_visible()
    axe.check(coordinator, "coordinator")

    # --- At the recording day: the librarian uploads a photo from her phone and describes it. ---
    phone = contexts(viewport=PHONE, has_touch=True, is_mobile=True)
    on_phone = log_in(phone, base, people.librarian, axe, "librarian on a phone")
    on_phone.get_by_role("region", name="Your library's ideas").get_by_role("link", name="Lesekroken i Sandnes").click()
    axe.check(on_phone, "librarian on a phone")
    photo = tmp_path / "lesekroken.jpg"
    photo.write_bytes(jpeg_bytes((1080, 1350)))
    media = on_phone.get_by_role("region", name="Photos and videos")
    media.get_by_label("Photos and videos").set_input_files(str(photo))
    expect(on_phone.get_by_role("progressbar", name="lesekroken.jpg")).to_have_js_property("value", 100)
    card = media.get_by_role("article", name="lesekroken.jpg")
    expect(card).to_contain_text("Ready", timeout=30_000)
    axe.check(on_phone, "librarian on a phone")
    card.get_by_role("link").click()
    axe.check(on_phone, "librarian on a phone")
    on_phone.get_by_label("Alt text").fill("En lesekrok med saccosekker og en bokhylle med grønne bokrygger.")
    on_phone.get_by_role("button", name="Save the details").click()
    expect(said(on_phone)).to_contain_text("saved")
    axe.check(on_phone, "librarian on a phone")
    overflow = on_phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the asset page is {overflow} px wider than the phone"
    asset = Asset.objects.get(original_name="lesekroken.jpg")
    assert (asset.idea, asset.status) == (idea, Asset.Status.READY)

    # --- An editor confirms nobody can be recognised, and makes a post from the idea with the preview. ---
    editor = log_in(desktop(), base, people.editor, axe, "editor")
    editor.goto(f"{base}{asset.get_absolute_url()}")
    axe.check(editor, "editor")
    editor.get_by_role("button", name="Confirm: no identifiable people").click()
    expect(said(editor)).to_contain_text("no identifiable people")
    axe.check(editor, "editor")
    editor.get_by_role("link", name="Back to “Lesekroken i Sandnes”").click()
    axe.check(editor, "editor")
    editor.get_by_role("link", name="Make a post from this idea").click()
    expect(editor.get_by_label("Working title")).to_have_value("Lesekroken i Sandnes")
    expect(editor.get_by_role("checkbox", name=re.compile("lesekroken.jpg"))).to_be_checked()
    expect(editor.get_by_label("Inspiration credit")).to_have_value(re.compile("@deichman"))
    expect(editor.get_by_role("group", name="Collaborators").get_by_label("Sandnes bibliotek")).to_be_checked()
    preview = editor.locator("#post-preview")
    expect(preview.get_by_role("img", name=re.compile("En lesekrok med saccosekker"))).to_be_visible()
    axe.check(editor, "editor")
    editor.get_by_label("Caption").fill("Ny lesekrok på Sandnes bibliotek 📚 Finn din neste bok! #lesekrok #bibliotek")
    editor.get_by_label("Caption").press("Tab")
    expect(preview.locator("[data-caption-preview]")).to_contain_text("Ny lesekrok", timeout=20_000)
    axe.check(editor, "editor")
    when = timezone.localtime() + timedelta(days=1)
    editor.get_by_label("Publish at").fill(when.strftime("%Y-%m-%dT%H:%M"))
    editor.get_by_role("button", name="Save draft").click()
    expect(said(editor)).to_contain_text("The draft “Lesekroken i Sandnes” was saved.")
    axe.check(editor, "editor")
    editor.get_by_role("button", name="Ask for approval").click()
    expect(said(editor)).to_contain_text("now waits for another editor's approval")
    axe.check(editor, "editor")

    # --- A second editor approves it, seeing the photo as Instagram will show it, and schedules it. ---
    reviewer = log_in(desktop(), base, people.reviewer, axe, "second editor")
    reviewer.get_by_role("region", name="Posts awaiting approval").get_by_role(
        "link", name="Lesekroken i Sandnes"
    ).click()
    seen = reviewer.locator("#post-preview").get_by_role("img", name=re.compile("En lesekrok med saccosekker"))
    expect(seen).to_be_visible()
    # Visible is not loaded: wait for the picture's bytes (a failure here means the preview's photo never came).
    reviewer.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=seen.element_handle())
    axe.check(reviewer, "second editor")
    reviewer.get_by_role("button", name="Approve").click()
    expect(said(reviewer)).to_contain_text("“Lesekroken i Sandnes” was approved.")
    axe.check(reviewer, "second editor")
    reviewer.get_by_role("button", name="Schedule", exact=True).click()
    expect(said(reviewer)).to_contain_text("“Lesekroken i Sandnes” is scheduled for")
    axe.check(reviewer, "second editor")

    # --- Its time comes: the tick hands it to the worker, which publishes it on (the fake) Instagram. ---
    post = Post.objects.get(title="Lesekroken i Sandnes")
    Post.objects.filter(pk=post.pk).update(scheduled_at=timezone.now() - timedelta(minutes=1))
    assert post_services.enqueue_due_posts() == [post.pk]
    post.refresh_from_db()
    assert post.status == Post.Status.PUBLISHED, post.failure_reason
    [published] = fake_graph.media()
    assert published["permalink"] == post.permalink
    assert [invite["username"] for invite in published["collaborators"]] == ["sandnesbibliotek"]

    # --- The librarian's idea says so, with the post and its Instagram link. ---
    librarian.goto(f"{base}{idea.get_absolute_url()}")
    axe.check(librarian, "librarian")
    done = librarian.get_by_role("region", name="Published on Instagram")
    expect(done.get_by_role("link", name="Lesekroken i Sandnes")).to_have_attribute("href", post.get_absolute_url())
    expect(done.get_by_role("link", name="See it on Instagram")).to_have_attribute("href", post.permalink)
    expect(librarian.locator(".status").first).to_have_text("Used")
    done.get_by_role("link", name="Lesekroken i Sandnes").click()
    expect(librarian.locator("[data-post-status]")).to_have_text("Published")
    axe.check(librarian, "librarian")

    assert_csp_in_force(librarian)
    axe.assert_clean()
