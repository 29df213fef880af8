"""The import rules of pyproject.toml ([tool.importlinter]) hold, and cover every rule module."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["name"]: c for c in config["tool"]["importlinter"]["contracts"]}


def test_every_rule_module_is_held_to_purity():
    pure = next(c for name, c in contracts().items() if name.startswith("Rules are pure"))
    rule_modules = {f"models.{p.stem}" for p in (ROOT / "models").glob("*_rules.py")}
    assert rule_modules <= set(pure["source_modules"]), "add the new rule module to the contract"
    assert {"flask", "sqlalchemy"} <= set(pure["forbidden_modules"])


def test_every_screen_area_is_independent_of_the_others():
    independent = next(c for name, c in contracts().items() if name.startswith("Screen areas"))
    areas = {f"blueprints.{p.parent.name}" for p in (ROOT / "blueprints").glob("*/routes.py")}
    assert areas <= set(independent["modules"]), "add the new screen area to the contract"


def test_the_import_rules_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:]
