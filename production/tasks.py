"""Celery tasks for production: thin, ids in, idempotent in the database (see services.py)."""

from celery import shared_task

from production import services


@shared_task(name="production.send_recording_day_announcement", acks_late=True, time_limit=300, soft_time_limit=240)
def send_recording_day_announcement(recording_day_id: int, language: str) -> int:
    """E-mail the county that a recording day was announced (once, however often it is delivered)."""
    return services.send_recording_day_announcement(day_id=recording_day_id, language=language)


@shared_task(name="production.send_recording_day_reminders", acks_late=True, time_limit=300, soft_time_limit=240)
def send_recording_day_reminders() -> int:
    """Remind the people expected on each recording day two days ahead (each day once)."""
    return services.send_due_reminders()
