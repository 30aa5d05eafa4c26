"""An e-mail backend that keeps messages in the database for the demo's /outbox/ page."""

from collections.abc import Sequence

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage, EmailMultiAlternatives

from libraries.models import OutboxMessage


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            html = ""
            if isinstance(message, EmailMultiAlternatives):
                html = next((str(content) for content, mimetype in message.alternatives if mimetype == "text/html"), "")
            OutboxMessage.objects.create(
                to=list(message.to), subject=str(message.subject), body=str(message.body), html_body=html
            )
        return len(email_messages)
