from celery import shared_task
from django.core.management import call_command


@shared_task(name="libraries.clear_expired_sessions", acks_late=True, time_limit=300, soft_time_limit=240)
def clear_expired_sessions() -> None:
    """Sessions live in the database behind the cache; expired ones are deleted nightly."""
    call_command("clearsessions")
