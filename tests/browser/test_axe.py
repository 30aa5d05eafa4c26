"""The accessibility check of the walks (tests/browser/axe.py) fails when it should."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.axe import AxeWalk

pytestmark = pytest.mark.browser

# A page with one WCAG 2.0 A failure (a picture without a text alternative) and one WCAG 2.2 AA
# failure (a 10x10 px button with nothing spaced around it: 2.5.8 Target Size).
FLAWED = """<!doctype html><html lang="en"><head><title>Flawed</title><style>
button { width: 10px; height: 10px; padding: 0; border: 0; margin: 0; display: block; }</style></head>
<body><main><h1>Flawed</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<div><button aria-label="One"></button><button aria-label="Two"></button></div>
</main></body></html>"""


def test_a_violation_fails_the_walk_with_the_page_rule_and_element(page: Page) -> None:
    axe = AxeWalk()
    page.set_content(FLAWED)
    axe.check(page, "nobody")
    with pytest.raises(AssertionError) as failure:
        axe.assert_clean()
    report = str(failure.value)
    assert "image-alt (critical): Images must have alternative text" in report
    assert "target-size" in report  # a WCAG 2.2 rule: the wcag22aa tag is in the run
    assert 'button[aria-label="One"]' in report  # which elements, to find them


def test_a_page_loaded_but_never_checked_fails_the_walk(page: Page) -> None:
    axe = AxeWalk()
    axe.watch(page, "nobody")
    page.goto("data:text/html,<title>Unchecked</title>")
    with pytest.raises(AssertionError, match="loaded but axe never checked"):
        axe.assert_clean()
