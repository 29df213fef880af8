"""The accessibility gate's results file (docs/accessibility-results.json, written by
tests/browser/test_accessibility_gate.py) read for アクセシビリティ方針. A missing or
malformed file reads as "no results", never as an error page."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

SHOWN_VIOLATIONS = 50


@dataclass(frozen=True)
class CheckResult:
    id: str
    pages: int
    states: int
    runs: int
    violations: int


@dataclass(frozen=True)
class FoundProblem:
    check: str
    page: str
    channel: str
    language: str
    rule: str
    target: str


@dataclass(frozen=True)
class GateResults:
    tested_on: date
    tools: list[tuple[str, str]]
    axe_tags: list[str]
    channels: list[str]
    languages: list[str]
    endpoints: int
    pages: int
    checks: list[CheckResult]
    violations_total: int
    violations: list[FoundProblem]
    complete: bool
    errors: list[str]

    @property
    def runs(self) -> int:
        return sum(check.runs for check in self.checks)


def _count(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"not a count: {value!r}")
    return value


def _text(value) -> str:
    if not isinstance(value, str):
        raise ValueError(f"not text: {value!r}")
    return value


def parse_gate_results(document: dict) -> GateResults:
    """The file's figures, each checked for its type (ValueError, KeyError or TypeError
    when the file is not what the gate writes)."""
    if document.get("schema") != 1:
        raise ValueError("unknown schema")
    checks = [
        CheckResult(_text(c["id"]), _count(c["pages"]), _count(c["states"]), _count(c["runs"]), _count(c["violations"]))
        for c in document["checks"]
    ]
    violations = [
        FoundProblem(*(_text(v[key]) for key in ("check", "page", "channel", "language", "rule", "target")))
        for v in document["violations"][:SHOWN_VIOLATIONS]
    ]
    return GateResults(
        tested_on=datetime.fromisoformat(_text(document["generated_at"])).date(),
        tools=[(_text(t["name"]), _text(t["version"])) for t in document["tools"]],
        axe_tags=[_text(tag) for tag in document["axe_tags"]],
        channels=[_text(c) for c in document["channels"]],
        languages=[_text(lang) for lang in document["languages"]],
        endpoints=_count(document["routes"]["endpoints"]),
        pages=_count(document["routes"]["pages"]),
        checks=checks,
        violations_total=_count(document["violations_total"]),
        violations=violations,
        complete=document["complete"] is True,
        errors=[_text(e) for e in document.get("errors", [])],
    )


def load_gate_results(path: Path) -> GateResults | None:
    try:
        return parse_gate_results(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
