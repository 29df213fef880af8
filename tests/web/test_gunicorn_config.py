"""deploy/gunicorn.conf.py when everything is in order: the app its master builds for the
checks is not kept (each worker builds its own; README "Worker memory"), and the site
started with it answers."""

from __future__ import annotations

import gc
import os
import runpy
import socket
import subprocess
import sys
import time
import urllib.request
import weakref
from pathlib import Path

import app as app_module
from tests.conftest import nobody_answers_url

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
SECRETS = {"SECRET_KEY": "gunicorn-test-" + "k" * 30, "PAYMENT_PROVIDER_SECRET": "gunicorn-test-" + "p" * 30}


def test_the_app_built_for_the_checks_is_not_kept(database_url, tmp_path, monkeypatch):
    for name, value in {
        **SECRETS,
        "DATABASE_URL": database_url,
        "PAYMENT_PROVIDER_URL": nobody_answers_url(),
        "INSTANCE_PATH": str(tmp_path / "instance"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    built: list[weakref.ref] = []
    create_app = app_module.create_app

    def recorded(*args, **kwargs):
        application = create_app(*args, **kwargs)
        built.append(weakref.ref(application))
        return application

    monkeypatch.setattr(app_module, "create_app", recorded)
    settings = runpy.run_path(str(CONFIG))
    try:
        settings["on_starting"](None)
        assert len(built) == 1
        assert built[0]() is None
    finally:
        gc.unfreeze()


def test_the_site_started_with_the_settings_answers(database_url, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("FLASK_DEBUG", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR")}
    env.update(
        SECRETS,
        PYTHONPATH=str(ROOT),
        DATABASE_URL=database_url,
        PAYMENT_PROVIDER_URL=nobody_answers_url(),
        INSTANCE_PATH=str(tmp_path / "instance"),
        PORT=str(port),
        WEB_WORKERS="1",
    )
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", str(CONFIG)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        status = None
        deadline = time.monotonic() + 60
        while status is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                    status = answer.status
            except OSError:
                time.sleep(0.2)
        assert status == 200
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    assert "Traceback" not in errors.decode()
