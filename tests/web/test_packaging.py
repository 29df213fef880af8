"""The wheel a deployment installs (issue 13): it carries the templates, static files,
compiled catalogues, migrations and htmx, puts one directory into site-packages, and the
site it installs serves pages, in English too, from outside any checkout."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.xdist_group("packaging")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # Built from a copy, so that setuptools' build/ never lands in the checkout.
    source = tmp_path_factory.mktemp("source") / "checkout"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "node_modules", "instance", "build", "tests", "__pycache__", "*.mo", "*.sqlite3*"
        ),
    )
    htmx = Path("node_modules/htmx.org/dist/htmx.min.js")
    (source / htmx).parent.mkdir(parents=True)
    shutil.copyfile(ROOT / htmx, source / htmx)
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out), "."],
        cwd=source,
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    [wheel_file] = out.glob("meguro_reservations-*.whl")
    return wheel_file


def test_the_wheel_carries_the_data_and_one_directory(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"meguro_reservations", "meguro_reservations.pth", wheel.name.split("-py3")[0] + ".dist-info"}
    inside = {name.removeprefix("meguro_reservations/") for name in names}
    for expected in (
        "app.py",
        "config.py",
        "templates/layouts/base.html",
        "static/css/site.css",
        "locales/en/LC_MESSAGES/messages.mo",
        "locales/ja/LC_MESSAGES/messages.mo",
        "migrations/env.py",
        "migrations/versions/0007_production.py",
        "alembic.ini",
        "vendor/htmx.min.js",
    ):
        assert expected in inside, expected


def test_the_installed_site_serves_pages_outside_the_checkout(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    script = f"""
import site, sys
sys.path = [p for p in sys.path if p not in ({str(ROOT)!r}, "", ".")]
site.addsitedir({str(site)!r})
import app
assert app.__file__.startswith({str(site)!r}), app.__file__
from models.migration import upgrade_to_head
upgrade_to_head("sqlite:///{tmp_path}/site.sqlite3")
application = app.create_app()
client = application.test_client()
page = client.get("/", headers={{"Accept-Language": "en"}}).get_data(as_text=True)
assert "Meguro City Facility Reservation System" in page, page[:500]
import re
for url in re.findall(r'(?:src|href)="(/(?:static|vendor)/[^"]+)"', page):
    assert client.get(url).status_code == 200, url
print("served")
"""
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DATABASE_URL", "REDIS_URL")},
        "SECRET_KEY": "packaging-test-secret",
        "PAYMENT_PROVIDER_SECRET": "packaging-test-payment-secret",
        "DATABASE_URL": f"sqlite:///{tmp_path}/site.sqlite3",
        "INSTANCE_PATH": str(tmp_path / "instance"),
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "served" in result.stdout
    assert not list((site / "meguro_reservations").rglob("*.tmp"))


def locked(path: Path) -> dict[str, str]:
    """name → version of each package a lock file pins, each with at least one hash."""
    text = path.read_text()
    pins = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = re.match(r"([A-Za-z0-9_.-]+)==([^\s\\]+)", block)
        if match:
            assert "--hash=sha256:" in block, f"{match.group(1)} without a hash in {path.name}"
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


@pytest.mark.parametrize(
    "lock, groups", [("requirements.lock", ["main"]), ("requirements-test.lock", ["main", "test"])]
)
def test_the_lock_files_pin_what_pyproject_asks_for(lock, groups):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    if "test" in groups:
        wanted += project["optional-dependencies"]["test"]
    pins = locked(ROOT / lock)
    for requirement in wanted:
        name, version = requirement.split("==")
        name = re.sub(r"\[.*\]", "", name).lower().replace("_", "-")
        assert pins.get(name) == version, f"{requirement} is not what {lock} pins: regenerate it (see its header)"
