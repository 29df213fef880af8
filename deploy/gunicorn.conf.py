"""gunicorn settings for one app instance, all from the environment (deploy/systemd units
set them; `gunicorn -c deploy/gunicorn.conf.py`):

MEGURO_PROFILE   standard (the site) or kiosk
BIND_ADDRESS     default 127.0.0.1 (nginx in front on the same host)
PORT             default 8000
WEB_WORKERS      processes, default 2
WEB_THREADS      threads per process, default 4
PROMETHEUS_MULTIPROC_DIR  a directory of this instance's own, emptied at start, so that
                 /metrics sums every worker process

Before anything is started, the settings and the database are checked: a missing secret, an
unreachable database or Redis, or a migration not applied gives one line on stderr and exit
status 3 — never a half-started site."""

import gc
import os
import shutil
import sys
from pathlib import Path

profile = os.environ.get("MEGURO_PROFILE", "standard")
wsgi_app = f'app:create_app("{profile}")'
bind = f"{os.environ.get('BIND_ADDRESS', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
timeout = 60
graceful_timeout = 20
keepalive = 5
accesslog = None  # the app writes one JSON line per request (web/request_log.py)
errorlog = "-"
proc_name = f"meguro-{profile}-{os.environ.get('PORT', '8000')}"
# ProxyFix (TRUSTED_PROXIES) is the one judge of X-Forwarded-*; gunicorn believes none.
forwarded_allow_ips = ""
# gunicorn's control socket defaults to one path per user, which several instances on a host
# would share; systemctl manages the instances instead.
control_socket_disable = True


def on_starting(server):
    """In the master, before any worker: build the app once and run the preflight."""
    multiproc = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if multiproc:  # emptied before the app (and its metrics) is first imported
        shutil.rmtree(multiproc, ignore_errors=True)
        Path(multiproc).mkdir(parents=True, exist_ok=True)
    from config import ConfigurationError

    try:
        from app import create_app
        from web.preflight import check

        application = create_app(profile)
        check(application.config)
        application.extensions["database"].dispose()
    except ConfigurationError as exc:
        print(f"meguro {profile}: {exc.message}", file=sys.stderr, flush=True)
        os._exit(3)  # gunicorn would print a traceback for SystemExit raised here
    # Each worker builds its own app (no preload); this one only served the checks. create_app
    # froze it (gc.freeze), which kept it for good in the master (~5 MB of its resident
    # memory) and in every worker forked from here (~1 MB of each: README "Worker memory").
    # Collected, and what stays (the modules, shared by the workers until written) frozen
    # again, so that the workers' collections do not touch, and so copy, its pages.
    del application
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
