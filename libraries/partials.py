"""Rendering a Jinja2 partial from a Django template tag (config/jinja2.py says which partials and why)."""

from collections.abc import Iterable
from functools import cache
from typing import Any

from django.template import engines
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext


@cache
def _template(name: str) -> Any:
    return engines["jinja2"].get_template(name).template  # type: ignore[attr-defined]  # Jinja2's own Template


@cache
def _translated(language: str | None, message: str) -> str:
    """A partial repeats the same few strings for every row: each is looked up once per language and process
    (the catalogues do not change while the process runs)."""
    return gettext(message)


def labels_of(choices: Iterable[tuple[Any, Any]]) -> dict[Any, str]:
    """Each choice's label in the active language, translated once for the page's rows (a model's
    `get_FOO_display` rebuilds the choices and resolves a lazy string for every row)."""
    return {value: str(label) for value, label in choices}


def render_partial(name: str, **values: Any) -> SafeString:
    """The partial `name` rendered with `values`, its `_("...")` strings in the active language."""
    language = get_language()
    html: str = _template(name).render(_=lambda message: _translated(language, message), **values)
    return mark_safe(html)  # noqa: S308  # Jinja2 escaped everything it inserted (autoescape is on)
