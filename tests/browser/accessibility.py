"""Accessibility checks on the page a browser shows: axe-core (WCAG 2.2 AA rules), reflow
at narrow widths (WCAG 1.4.10) and where the focus is after an update."""

from __future__ import annotations

import json
from pathlib import Path

from axe_selenium_python import Axe

from config import ROOT

# From npm (package.json pins it); axe-selenium-python's bundled copy is far older.
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.14.1"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}


def _axe_script() -> Path:
    assert AXE_SCRIPT.exists(), f"{AXE_SCRIPT} is missing: run `npm ci` (bin/setup does)"
    return AXE_SCRIPT


def axe_report(results: dict, context_name: str, url: str) -> str:
    """The violations as a reader can act on them: rule, impact, where, and how to fix."""
    violations = results["violations"]
    engine = results.get("testEngine", {})
    lines = [
        f"{engine.get('name', 'axe-core')} {engine.get('version', '?')} found {len(violations)} "
        f"violation(s) on {context_name} ({url}):"
    ]
    for violation in violations:
        lines.append(f"- {violation['id']} [{violation['impact']}] {violation['help']}")
        lines.append(f"    {violation['helpUrl']}")
        for node in violation["nodes"][:8]:
            target = " > ".join(str(part) for part in node["target"])
            lines.append(f"    at {target}")
            lines.append(f"       {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", "\n       ")
            if summary:
                lines.append(f"       {summary}")
        if len(violation["nodes"]) > 8:
            lines.append(f"    … and {len(violation['nodes']) - 8} more element(s)")
    return "\n".join(lines)


def axe_check(driver, context_name: str) -> dict:
    """Run axe-core on the page as it is now (JavaScript must be on in this browser) and
    assert no WCAG 2.2 A/AA violation. Returns axe's results."""
    axe = Axe(driver, script_url=str(_axe_script()))
    axe.inject()
    results = axe.run(options=json.dumps(AXE_OPTIONS))
    assert results["testEngine"]["version"] == AXE_VERSION, results["testEngine"]
    assert not results["violations"], axe_report(results, context_name, driver.current_url)
    return results


_OVERFLOW = """
const root = document.documentElement;
const limit = root.clientWidth;
// Is `el` clipped by a scrolling (or hidden-overflow) ancestor? An absolutely positioned
// element escapes every such ancestor below its containing block (the nearest positioned
// ancestor): visually hidden text in a table region is the usual culprit.
function clipped(el) {
  let position = getComputedStyle(el).position;
  if (position === "fixed") return false;
  let needPositioned = position === "absolute";
  for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
    const style = getComputedStyle(p);
    if (!needPositioned && ["auto", "scroll", "hidden", "clip"].includes(style.overflowX)) return true;
    if (needPositioned && style.position !== "static") {
      if (["auto", "scroll", "hidden", "clip"].includes(style.overflowX)) return true;
      needPositioned = style.position === "absolute";
      if (style.position === "fixed") return false;
    }
  }
  return false;
}
const wide = [];
for (const el of document.body.querySelectorAll("*")) {
  const box = el.getBoundingClientRect();
  if ((box.width === 0 && box.height === 0) || box.right <= limit + 0.5) continue;
  if (clipped(el)) continue;
  wide.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.className && typeof el.className === "string" && el.className.trim() ? "." + el.className.trim().split(/\\s+/).join(".") : "") +
    " (right edge " + Math.round(box.right) + "px" + (el.textContent ? ", text " + JSON.stringify(el.textContent.trim().slice(0, 30)) : "") + ")");
  if (wide.length >= 10) break;
}
return {scrollWidth: root.scrollWidth, clientWidth: limit, innerWidth: window.innerWidth, wide: wide};
"""


def assert_no_horizontal_scroll(driver, context_name: str = "") -> None:
    """WCAG 1.4.10 Reflow: the page body never scrolls sideways (content may scroll inside
    its own region, such as a wide grid's .table-scroll)."""
    state = driver.execute_script(_OVERFLOW)
    assert state["scrollWidth"] <= state["innerWidth"] and state["scrollWidth"] <= state["clientWidth"], (
        f"{context_name or driver.current_url} scrolls sideways at {state['innerWidth']}px: the page is "
        f"{state['scrollWidth']}px wide. Elements past the right edge: {', '.join(state['wide']) or 'none found'}"
    )


def assert_wide_content_scrolls_in_a_region(driver, selector: str) -> None:
    """A wide table scrolls inside its own labelled, focusable region (role=region, a name,
    tabindex=0), so keyboard users can scroll it too; or, a list of cards on a phone
    (.cards, issue 11), it does not need to: it fits the viewport's width."""
    state = driver.execute_script(
        """
        const el = document.querySelector(arguments[0]);
        if (!el) return null;
        const region = el.closest(".table-scroll");
        if (!region) return {region: false};
        const box = el.getBoundingClientRect();
        return {region: true, role: region.getAttribute("role"), tabindex: region.getAttribute("tabindex"),
                named: !!(region.getAttribute("aria-labelledby") || region.getAttribute("aria-label")),
                overflow: getComputedStyle(region).overflowX,
                cards: region.classList.contains("cards") && getComputedStyle(el).display === "block",
                fits: box.left >= 0 && box.right <= window.innerWidth};
        """,
        selector,
    )
    assert state is not None, f"no {selector} on {driver.current_url}"
    assert state["region"], f"{selector} is not inside a .table-scroll region"
    assert state["role"] == "region" and state["tabindex"] == "0" and state["named"], state
    if state["cards"]:
        assert state["fits"], state
    else:
        assert state["overflow"] in ("auto", "scroll"), state


def focused_element_summary(driver) -> dict:
    return driver.execute_script(
        """
        const el = document.activeElement;
        return {tag: el ? el.tagName.toLowerCase() : null, id: el ? el.id : null,
                text: el ? (el.textContent || "").trim().slice(0, 80) : null,
                isBody: el === document.body || el === null};
        """
    )
