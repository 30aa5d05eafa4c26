"""Every GET page of the access matrix on a 360 px phone: nothing wider than the screen, no target under 24x24 px.

The pages and the objects in their addresses come from the access matrix
(tests/reliability/test_access_matrix.py), so a page added there is checked
here too. Each page is opened as someone the matrix lets in (the anonymous
visitor for the pages outside the login, otherwise the county's coordinator,
editor or librarian, in that order), in a browser 360x740 CSS pixels wide.

Two things fail a page:
* horizontal overflow: the document is wider than the viewport, so the page pans sideways;
* a visible interactive target (link, button, form control, summary) smaller than 24x24 px
  (WCAG 2.2, 2.5.8 Target Size (Minimum)). WCAG's inline exception is kept: a link inside a
  sentence, whose height the line of text decides, is not measured.
"""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import Browser

from tests.conftest import World, client_for
from tests.reliability.test_access_matrix import MATRIX, OK, home_things, url_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
# Who opens a page the matrix lets more than one person into: the staff see the most on a page.
ORDER = ("coordinator", "editor", "librarian", "other_librarian", "outsider")

# Everything on the page a finger can hit, and whether it is too small or overflows (run in the page).
MEASURE = """() => {
  const targets = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], '
    + '[tabindex]:not([tabindex="-1"])';
  const inSentence = (element) => {
    if (element.tagName !== 'A' || getComputedStyle(element).display !== 'inline') return false;
    const block = element.parentElement.closest('p, li, td, th, dd, dt, div, label, span, figcaption, small');
    if (!block) return false;
    const own = element.textContent.trim();
    return block.textContent.replace(own, '').trim().length > 0;
  };
  const small = [];
  for (const element of document.querySelectorAll(targets)) {
    const box = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    if (box.width === 0 || box.height === 0 || style.visibility === 'hidden') continue;
    if (element.closest('[hidden], details:not([open]) > :not(summary)')) continue;
    if (element.matches('.visually-hidden, .skip-link')) continue;
    if (inSentence(element)) continue;
    if (box.width < 23.5 || box.height < 23.5) {
      const label = element.getAttribute('aria-label') || element.textContent || element.name || element.type || '';
      const name = label.trim().slice(0, 40);
      small.push(`${element.tagName.toLowerCase()} "${name}" ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  // The outermost elements that reach past the right edge: where to look when the page is too wide.
  const wide = [];
  for (const element of document.body.querySelectorAll('*')) {
    if (element.getBoundingClientRect().right <= window.innerWidth + 1) continue;
    const parent = element.parentElement;
    if (parent && parent !== document.body && parent.getBoundingClientRect().right > window.innerWidth + 1) continue;
    if (element.closest('.table-wrap, .visually-hidden')) continue;
    wide.push(`${element.tagName.toLowerCase()}.${[...element.classList].join('.')}`);
  }
  const scrollWidth = document.documentElement.scrollWidth;
  return {scrollWidth, innerWidth: window.innerWidth, small, wide: wide.slice(0, 3)};
}"""


def role_for(expect: dict[str, object]) -> str | None:
    if expect["anonymous"] == OK:
        return "anonymous"
    return next((role for role in ORDER if expect[role] == OK), None)


def test_no_page_is_wider_than_a_phone_or_has_targets_under_24_px(
    world: World, live_server, browser: Browser, settings
) -> None:  # type: ignore[no-untyped-def]
    things = home_things(world)
    people = {
        "coordinator": world.coordinator,
        "editor": world.editor,
        "librarian": world.librarian,
        "other_librarian": world.other_librarian,
        "outsider": world.outsider,
    }
    # A plan with a post and an open slot, a post waiting, a recording day: the pages show what they hold.
    for name in ("scheduled_post", "draft_post", "concept", "day", "comment", "archive_item"):
        getattr(things, name)
    contexts = {}

    def context_for(role: str):  # type: ignore[no-untyped-def]
        if role not in contexts:
            context = browser.new_context(locale="en-GB", viewport=PHONE, has_touch=True)
            if role != "anonymous":
                client: Client = client_for(people[role])
                cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
                context.add_cookies(
                    [{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
                )
            contexts[role] = (context, context.new_page())
        return contexts[role]

    problems: list[str] = []
    visited = 0
    for route, rows in sorted(MATRIX.items()):
        for row in rows:
            role = role_for(row.expect)
            if row.method != "get" or row.headers or role is None:
                continue
            url = url_for(route, row, things)
            context, page = context_for(role)
            response = context.request.get(f"{live_server.url}{url}", max_redirects=0)
            kind = response.headers.get("content-type", "")
            if response.status != 200 or not kind.startswith("text/html"):
                continue  # a redirect, a download, a feed: the page it leads to is checked on its own row
            page.goto(f"{live_server.url}{url}")
            if page.locator("main").count() == 0:
                continue  # a fragment htmx swaps into a page (an asset's status): measured inside that page
            visited += 1
            found = page.evaluate(MEASURE)
            if found["scrollWidth"] > max(found["innerWidth"], PHONE["width"]):
                wide = ", ".join(found["wide"])
                problems.append(f"{url} as {role}: {found['scrollWidth']} px wide on a 360 px screen ({wide})")
            problems.extend(f"{url} as {role}: {target} is under 24x24 px" for target in found["small"])
    for context, _page in contexts.values():
        context.close()
    assert visited > 40, f"only {visited} pages were HTML; the walk lost its pages"
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
