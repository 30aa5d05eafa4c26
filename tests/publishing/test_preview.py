"""The Instagram preview on the post page and the compose form, and the media picker's marks."""

from __future__ import annotations

import re

import pytest
from django.core.files.base import ContentFile

from production.models import Asset
from publishing.models import Post
from publishing.posts.preview import cut_caption
from tests.conftest import World, client_for
from tests.factories.libraries import LibraryFactory
from tests.factories.publishing import IG_USERNAME, ChannelFactory, make_asset, make_post, show_person

LONG_CAPTION = (
    "Lørdag fyller vi biblioteket med bøker, lesere og kaffe. Kom innom og finn din neste favoritt i hyllene våre, "
    "vi har mye nytt! #bibliotek"
)


def preview_of(html: str) -> str:
    """The preview section of a page."""
    match = re.search(r'<section class="ig-preview".*?</section>', html, re.S)
    assert match, "the page has no preview"
    return match.group(0)


@pytest.mark.parametrize(
    ("caption", "shown", "cut"),
    [
        ("Kort tekst", "Kort tekst", False),
        ("En\nto\ntre", "En\nto", True),  # the feed shows two lines
        ("ord " * 40, ("ord " * 31).strip(), True),  # 125 characters, not in the middle of a word
        ("📚" * 130, "📚" * 125, True),  # an emoji counts once
    ],
)
def test_the_caption_is_cut_where_instagram_shows_more(caption: str, shown: str, cut: bool) -> None:
    assert cut_caption(caption) == (shown, cut)


def test_post_page_shows_a_carousel_cropped_to_its_first_item_with_collab_header_and_alt_text(world: World) -> None:
    ChannelFactory(county=world.county)
    portrait = make_asset(county=world.county, library=world.library, title="Høy", size=(1080, 1350))
    square = make_asset(county=world.county, library=world.library, title="Kvadrat", alt_text="En kopp kaffe.")
    cohosts = [LibraryFactory(county=world.county, instagram_username=f"bibliotek_sola_{n}") for n in range(2)]
    post = make_post(
        county=world.county,
        author=world.editor,
        assets=[portrait, square],
        collaborators=cohosts,
        caption=LONG_CAPTION,
        status=Post.Status.SCHEDULED,
    )

    html = preview_of(client_for(world.librarian).get(post.get_absolute_url()).text)

    # Every item in the shape of the first (4:5), in order, each with its alt text.
    assert 'class="ig-media ig-frame--4x5"' in html
    assert html.count('width="1080" height="1350"') == 2
    assert html.index(portrait.rendition_url.replace("&", "&amp;")) < html.index(square.rendition_url)
    assert 'alt="Fem bøker stablet på et bord i biblioteket."' in html
    assert 'alt="En kopp kaffe."' in html
    assert html.count("data-alt-text") == 2
    assert 'aria-label="2 of 2"' in html
    # The Collab header: the county account, then the co-hosts.
    header = re.search(r"<header.*?</header>", html, re.S).group(0)
    assert f"<strong>{IG_USERNAME}</strong>" in header
    assert "and 2 others" in header
    assert "@bibliotek_sola_0" in header
    assert "@bibliotek_sola_1" in header
    # The caption stops where the feed says "… more".
    caption = re.search(r"data-caption-preview>(.*?)</p>", html, re.S).group(1)
    assert "#bibliotek" not in caption
    assert "… more" in caption


def test_a_reel_plays_its_instagram_version_with_subtitles_in_a_9_16_frame(world: World) -> None:
    ChannelFactory(county=world.county)
    video = make_asset(county=world.county, library=world.library, kind=Asset.Kind.VIDEO, subtitles_burned_in=False)
    video.subtitles.save("subtitles.vtt", ContentFile(b"WEBVTT\n\n00:00.000 --> 00:02.000\nHei\n"), save=True)
    post = make_post(county=world.county, author=world.editor, assets=[video])

    html = preview_of(client_for(world.editor).get(post.get_absolute_url()).text)

    assert "ig-frame--9x16 ig-media--reel" in html
    assert f'src="{video.rendition_url.replace("&", "&amp;")}"' in html
    assert re.search(
        rf'<track kind="subtitles" src="/media/{video.pk}/files/subtitles\?v=\d+" srclang="en"[^>]*default>', html
    )
    assert html.count("ig-safe--") == 3  # the reel's buttons and caption cover these


def test_a_reel_whose_instagram_version_has_the_subtitles_burned_in_shows_them_once(world: World) -> None:
    ChannelFactory(county=world.county)
    video = make_asset(county=world.county, library=world.library, kind=Asset.Kind.VIDEO, subtitles_burned_in=False)
    video.subtitles.save("subtitles.vtt", ContentFile(b"WEBVTT\n\n00:00.000 --> 00:02.000\nHei\n"), save=False)
    video.renditions = {"reel": {"captions": 1, "subtitles": "x"}}  # as the worker leaves it
    video.save()
    post = make_post(county=world.county, author=world.editor, assets=[video])

    html = preview_of(client_for(world.editor).get(post.get_absolute_url()).text)

    assert f'src="{video.rendition_url.replace("&", "&amp;")}"' in html  # the video carries them
    assert "<track" not in html


def test_media_the_reader_may_not_see_are_named_with_the_reason_not_shown(world: World) -> None:
    photo = make_asset(county=world.county, library=world.library, title="Lesestund")
    show_person(photo, consent=False)
    post = make_post(county=world.county, author=world.editor, assets=[photo], status=Post.Status.SCHEDULED)

    html = preview_of(client_for(world.other_librarian).get(post.get_absolute_url()).text)

    assert "“Lesestund” is not shown: someone shown has no consent on record." in html
    assert photo.rendition_url.replace("&", "&amp;") not in html


def test_the_compose_preview_follows_what_is_typed_and_chosen_without_saving(world: World) -> None:
    ChannelFactory(county=world.county)
    wide = make_asset(county=world.county, library=world.library, title="Bred", size=(1910, 1000))
    tall = make_asset(county=world.county, library=world.library, title="Smal", size=(1080, 1350))
    cohost = LibraryFactory(county=world.county, instagram_username="sandnes_bibliotek")

    response = client_for(world.editor).post(
        "/posts/preview/",
        {
            "media_kind": "carousel",
            "caption": "Kort og godt",
            "assets": [wide.pk, tall.pk],
            f"position-{tall.pk}": "1",
            f"position-{wide.pk}": "2",
            "collaborators": [cohost.pk],
        },
    )

    assert response.status_code == 200
    html = response.text
    assert html.lstrip().startswith('<div class="ig-preview-live"')
    assert "<html" not in html  # only the partial
    assert "ig-frame--4x5" in html  # the first item (by position) sets the shape
    assert f"<strong>{IG_USERNAME}</strong>\n        and <strong>sandnes_bibliotek</strong>" in html
    assert "Kort og godt" in html
    assert "… more" not in html
    assert 'hx-post="/posts/preview/"' in html
    assert not Post.objects.exists()
    # The gates for what is there so far.
    assert "What the post still needs" in html
    assert "Write alt text" not in html


def test_the_compose_form_shows_the_preview_and_the_picker_marks_before_choosing(world: World) -> None:
    ChannelFactory(county=world.county)
    make_asset(county=world.county, library=world.library, title="Flott bilde")
    make_asset(county=world.county, library=world.library, title="Uten alt", alt_text="")
    tall_video = make_asset(
        county=world.county, library=world.library, kind=Asset.Kind.VIDEO, title="Høy film", subtitles_burned_in=False
    )
    consentless = make_asset(county=world.county, library=world.library, title="Uten samtykke")
    show_person(consentless, consent=False)

    html = client_for(world.editor).get("/posts/new/?").text

    assert 'id="post-preview"' in html
    assert 'hx-include="#post-form"' in html
    picker = re.search(r'<fieldset class="asset-picker".*?</fieldset>', html, re.S).group(0)
    choices = {
        re.search(r'<label for="id_assets_\d+">(.*?)</label>', item).group(1): item
        for item in re.findall(r'<li class="media-choice.*?</li>\s*</ul>.*?</li>', picker, re.S)
    }
    assert set(choices) == {"Flott bilde", "Uten alt", "Høy film", "Uten samtykke"}
    assert 'data-blocked="' not in choices["Flott bilde"]
    assert "Photo · 1:1" in choices["Flott bilde"]
    assert tall_video.thumbnail_url == "" or tall_video.thumbnail_url in choices["Høy film"]
    assert "Video · 9:16" in choices["Høy film"]
    # What cannot be published, in the gates' own words.
    assert "Write alt text for the photo “Uten alt”." in choices["Uten alt"]
    assert "Add subtitles to the video “Høy film”" in choices["Høy film"]
    assert "Someone shown in “Uten samtykke” has no valid consent" in choices["Uten samtykke"]
    assert "Consent missing" in choices["Uten samtykke"]
    # What cannot go into a kind of post: shown for the kind chosen (a photo post), the others ready for the script.
    assert re.search(r'data-unfit-for="image">Not for this kind of post: A photo post', choices["Høy film"])
    assert re.search(
        r'data-unfit-for="carousel" hidden>Not for this kind of post: A video in a carousel must be 4:5 to 16:9',
        choices["Høy film"],
    )
    assert (
        'data-unfit-for="reel" hidden>Not for this kind of post: A reel shows exactly one video.'
        in (choices["Flott bilde"])
    )
