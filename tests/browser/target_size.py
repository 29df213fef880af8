"""Target size as a browser lays it out (WCAG 2.5.8 at 24 px; 44 px in reader mode and on the
kiosk, issue 5): every visible link, button, field and summary, a checkbox or radio counted
together with its label (the label is part of its target)."""

from __future__ import annotations

_SMALL_TARGETS = """
const min = arguments[0];
const small = [];
const selector = "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex='-1'])";
for (const el of document.querySelectorAll(selector)) {
  if (el.closest("[hidden], dialog:not([open])")) continue;
  const style = getComputedStyle(el);
  if (style.visibility === "hidden" || style.display === "none") continue;
  const own = el.getBoundingClientRect();
  if (own.width === 0 && own.height === 0) continue;
  let width = own.width, height = own.height;
  if (el.type === "checkbox" || el.type === "radio") {
    const label = el.closest("label") || (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`));
    if (label) {
      const box = label.getBoundingClientRect();
      width = Math.max(width, box.width); height = Math.max(height, box.height);
    }
  }
  if (width + 0.5 >= min && height + 0.5 >= min) continue;
  const name = (el.getAttribute("aria-label") || el.textContent || el.value || el.id || "").trim().replace(/\\s+/g, " ").slice(0, 30);
  small.push(`<${el.tagName.toLowerCase()}${el.id ? " id=" + el.id : ""}> ${JSON.stringify(name)} ${Math.round(width)}×${Math.round(height)}px`);
  if (small.length >= 15) break;
}
return small;
"""


def small_targets(driver, minimum: int) -> list[str]:
    """The visible targets smaller than `minimum` CSS pixels in either direction."""
    return driver.execute_script(_SMALL_TARGETS, minimum)


def assert_targets_at_least(driver, minimum: int, context_name: str = "") -> None:
    small = small_targets(driver, minimum)
    assert not small, (
        f"{context_name or driver.current_url}: targets smaller than {minimum}×{minimum}px:\n  " + "\n  ".join(small)
    )
