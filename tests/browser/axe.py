"""axe-core in the browser tests: every page a walk visits is checked against WCAG 2.2 A and AA.

axe comes from the `axe-playwright-python` package (a dev dependency, so `make test` installs it from
PyPI with the rest): only its bundled `axe.min.js` is used, run with our own options.

The pages keep their strict Content-Security-Policy (`script-src 'self'`, no inline script). A
`<script>` tag added to the page (Playwright's `add_script_tag(content=...)`) is inline script and the
CSP blocks it, as it should. `page.evaluate` runs axe's source through the DevTools protocol instead,
which a page's CSP does not govern, so nothing about the page is loosened to test it.
`assert_csp_in_force` proves it on the page itself: the header is the production one and an inline
script still does not run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.csp import build_policy
from playwright.sync_api import Frame, Page

AXE_SOURCE = (resources.files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")

# WCAG 2.0, 2.1 and 2.2 at levels A and AA (2.2 added no level A rule that axe tests).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

RUN = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(' '), summary: n.failureSummary})),
  }));
}"""

# An inline script, as an attacker's injected markup would add it: the CSP must keep it from running.
INLINE_SCRIPT = """() => new Promise((resolve) => {
  window.__inlineScriptRan = false;
  document.addEventListener('securitypolicyviolation', () => resolve({ran: window.__inlineScriptRan}), {once: true});
  const script = document.createElement('script');
  script.textContent = 'window.__inlineScriptRan = true;';
  document.body.append(script);
  setTimeout(() => resolve({ran: window.__inlineScriptRan, noViolationEvent: true}), 2000);
})"""


def _where(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class AxeWalk:
    """Runs axe on pages and remembers every page that was loaded, so that none goes unchecked.

    `watch(page, who)` notes each document the page loads (links, redirects after a form);
    `check(page, who)` runs axe on what the page shows now (also after an htmx update);
    `assert_clean()` fails on any violation, and on any loaded page that was never checked.
    """

    violations: list[str] = field(default_factory=list)
    loaded: dict[str, str] = field(default_factory=dict)  # address -> who loaded it
    checked: set[str] = field(default_factory=set)
    checked_at: set[tuple[str, int]] = field(default_factory=set)

    def watch(self, page: Page, who: str) -> None:
        def loaded(frame: Frame) -> None:
            if frame == page.main_frame and not frame.url.startswith("about:"):
                self.loaded.setdefault(_where(frame.url), who)

        page.on("framenavigated", loaded)

    def check(self, page: Page, who: str, *, once: bool = False) -> None:
        """axe on the page as it is now; `once`: not again for a page checked at this width before
        (the log-in page, the same for everyone)."""
        where = _where(page.url)
        width = page.viewport_size["width"] if page.viewport_size else 0
        if once and (where, width) in self.checked_at:
            return
        self.checked.add(where)
        self.checked_at.add((where, width))
        page.wait_for_load_state("load")
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(AXE_SOURCE)
        for violation in page.evaluate(RUN, TAGS):
            rule = f"{violation['id']} ({violation['impact']}): {violation['help']}"
            nodes = "".join(f"\n      {n['target']}\n        {_indent(n['summary'])}" for n in violation["nodes"])
            self.violations.append(f"{where} as {who} at {width} px: {rule}{nodes}")

    def assert_clean(self) -> None:
        unchecked = sorted(f"{at} (loaded by {who})" for at, who in self.loaded.items() if at not in self.checked)
        problems = []
        if self.violations:
            problems.append(f"axe found {len(self.violations)} violation(s) of WCAG 2.2 A/AA:")
            problems.extend(f"  {violation}" for violation in self.violations)
        if unchecked:
            problems.append("Pages the walk loaded but axe never checked:")
            problems.extend(f"  {where}" for where in unchecked)
        if problems:
            raise AssertionError("\n".join(problems))


def _indent(text: str) -> str:
    return (text or "").replace("\n", "\n        ")


def assert_csp_in_force(page: Page) -> None:
    """The page was served with the production CSP, and it still blocks inline script after axe ran."""
    policy = page.request.get(page.url).headers.get("content-security-policy", "")
    assert policy == build_policy(settings.SECURE_CSP)
    # What production's settings say (config/settings.py), not only whatever the settings are now.
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    assert "unsafe-" not in policy
    outcome = page.evaluate(INLINE_SCRIPT)
    assert outcome == {"ran": False}, f"an inline script was not blocked by the CSP: {outcome}"
