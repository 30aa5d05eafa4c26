"""The Jinja2 environment for the few partials a page repeats dozens or hundreds of times (the plan's day: its
posts with their Move forms, and its open slots; the monthly report's rows of posts; the ideas list's rows;
the inbox's comments with their forms), where measurement showed Django's template language was the page's
cost (BENCHMARKS.md). Everything else is Django templates; a template tag renders each partial
(libraries/partials.py).

The partials say what they show in Django's words: `date`, `time` and `linebreaksbr` are Django's filters
(formats and month names in the page's language; unlike a Django template, Jinja2 does not turn a datetime
into local time first: `|localtime` does), `intcomma` is humanize's, `_("...")` is Django's gettext, so
`make messages` finds the strings as it does in a Django template (write `_("text")` with the closing
parenthesis right after the string, and fill placeholders with `|format(...)`).
"""

from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import date, linebreaksbr, time
from django.utils.timezone import localtime
from django.utils.translation import gettext, ngettext

from jinja2 import Environment


def environment(**options: Any) -> Environment:
    options = {**options, "extensions": ["jinja2.ext.i18n"]}
    options.pop("autoescape", None)
    env = Environment(autoescape=True, **options)
    env.install_gettext_callables(gettext, ngettext, newstyle=False)  # type: ignore[attr-defined]  # added by the i18n extension
    env.filters.update(date=date, time=time, intcomma=intcomma, localtime=localtime, linebreaksbr=linebreaksbr)
    return env
