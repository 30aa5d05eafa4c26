"""Run the beat tick once: hand due (and stranded) posts to the worker."""

from typing import Any

from django.core.management.base import BaseCommand

from publishing.posts import services


class Command(BaseCommand):
    help = "Enqueue a publish task for every due post now (what Celery beat does every minute)."

    def handle(self, *args: Any, **options: Any) -> None:
        ids = services.enqueue_due_posts()
        self.stdout.write(f"{len(ids)} post(s) enqueued: {', '.join(map(str, ids)) or '-'}")
