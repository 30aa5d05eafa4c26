from datetime import date

from django import template
from django.utils.formats import date_format

register = template.Library()


@register.filter
def long_date(value: date) -> str:
    """The weekday and the date in the active language's own format: "fredag 4. desember 2026"."""
    return f"{date_format(value, 'l')} {date_format(value, 'DATE_FORMAT')}"
