"""Give videos stored before reel renditions their Instagram version (idempotent: run it again at any time)."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from production.services import media as asset_services
from publishing.models import Post

# A post on its way out re-checks its media just before publishing: a video still being made then would
# send it back to review. Such videos wait for the next run unless --all is given.
ON_THEIR_WAY_OUT = (Post.Status.APPROVED, Post.Status.SCHEDULED, Post.Status.PUBLISHING)


class Command(BaseCommand):
    help = (
        "Queue the worker to make the Instagram version (H.264 MP4 to Meta's reel specification, subtitles burned "
        "in) of every ready video whose Instagram version is still the uploaded file. Videos in approved, "
        "scheduled or publishing posts are left for a later run unless --all is given."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--county", help="only this county (its short name)")
        parser.add_argument("--all", action="store_true", help="also videos in posts on their way out")
        parser.add_argument("--dry-run", action="store_true", help="say what would be queued, change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        videos = asset_services.videos_without_reel_rendition().select_related("county").order_by("pk")
        if options["county"]:
            videos = videos.filter(county__slug=options["county"])
        busy = set(Post.objects.filter(status__in=ON_THEIR_WAY_OUT, assets__in=videos).values_list("assets", flat=True))
        queued = held = 0
        for video in videos:
            if video.pk in busy and not options["all"]:
                held += 1
                self.stdout.write(f"Left for later (in a post on its way out): {video.county.slug} #{video.pk} {video}")
                continue
            if not options["dry_run"]:
                asset_services.make_missing_reel_rendition(asset=video)
            queued += 1
        verb = "would be queued" if options["dry_run"] else "queued"
        self.stdout.write(
            f"{queued} video(s) {verb} for their Instagram version"
            + (f"; {held} in posts on their way out left for a later run (or --all)." if held else ".")
        )
