"""The wheel: the site's modules and packages with its templates, static files, compiled
message catalogues, migrations and htmx, all in one directory (meguro_reservations/) that a
.pth file puts on sys.path. So the top-level names of the source tree (app, config, models,
web …) import as in a checkout, config.ROOT finds the data beside them, and site-packages
gets one directory instead of a dozen generic names. The catalogues are compiled here, at
build time; the installed site never writes into its own directory."""

from __future__ import annotations

import shutil
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
TARGET = "meguro_reservations"
CONTENT = [
    "app.py",
    "config.py",
    "alembic.ini",
    "blueprints",
    "bookings",
    "demo",
    "lottery",
    "mail",
    "models",
    "payments",
    "scale",
    "web",
    "worker",
    "templates",
    "static",
    "locales",
    "migrations",
    "docs/accessibility-results.json",
]
# npm files the site serves (app.VENDOR_FILES looks in vendor/ when node_modules is absent).
VENDOR = {"htmx.min.js": "node_modules/htmx.org/dist/htmx.min.js"}
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo", "*.tmp")


class BuildSite(build_py):
    def run(self) -> None:
        super().run()
        root = Path(self.build_lib) / TARGET
        if root.exists():
            shutil.rmtree(root)
        for name in CONTENT:
            source, target = HERE / name, root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target, ignore=IGNORE)
            else:
                shutil.copyfile(source, target)
        for po_path in (root / "locales").glob("*/LC_MESSAGES/messages.po"):
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file, locale=po_path.parts[-3])
            with po_path.with_suffix(".mo").open("wb") as mo_file:
                write_mo(mo_file, catalog, use_fuzzy=False)
        for name, relative in VENDOR.items():
            source = HERE / relative
            if not source.exists():
                raise SystemExit(f"{relative} is missing: run npm ci (bin/setup) before building the wheel")
            (root / "vendor").mkdir(exist_ok=True)
            shutil.copyfile(source, root / "vendor" / name)
        (Path(self.build_lib) / f"{TARGET}.pth").write_text(f"{TARGET}\n")


class SiteDistribution(Distribution):
    def has_pure_modules(self) -> bool:
        return True  # build_py runs although no module is declared: it lays out the site


setup(cmdclass={"build_py": BuildSite}, distclass=SiteDistribution)
