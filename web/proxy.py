"""Whether TRUSTED_PROXIES matches the proxies in front: counted from X-Forwarded-For as it
arrives (before ProxyFix reads it). A mismatch is logged as a warning on the first request
that shows it; `flask check-proxy` asks through the public address and reports it."""

from __future__ import annotations

import logging

from flask import Flask, Request, current_app

log = logging.getLogger("meguro.proxy")

HOPS_KEY = "meguro.forwarded_for_hops"
# Probes and scrapes often reach an instance directly, past the proxy: they say nothing
# about the proxies in front of residents.
PROBE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def forwarded_hops(environ) -> int:
    """How many addresses X-Forwarded-For carries as it reached us (each proxy adds one)."""
    header = environ.get("HTTP_X_FORWARDED_FOR", "")
    return len([part for part in header.split(",") if part.strip()])


def mismatch(trusted: int, hops: int) -> str | None:
    """Why `hops` addresses in X-Forwarded-For do not fit TRUSTED_PROXIES=`trusted`, or None.
    More hops than trusted is not a mismatch by itself: a client may send the header too,
    and its own entries are the ones not trusted."""
    if trusted == 0 and hops > 0:
        return (
            f"TRUSTED_PROXIES is 0 but requests arrive through a proxy (X-Forwarded-For carries {hops} "
            f"address{'es' if hops > 1 else ''}): every client looks like the proxy (rate limits, logs) and "
            "the scheme is taken as http; set TRUSTED_PROXIES to the number of proxies in front"
        )
    if hops < trusted:
        return (
            f"TRUSTED_PROXIES is {trusted} but X-Forwarded-For carries {hops} "
            f"address{'es' if hops != 1 else ''}: a client can forge its address and scheme; "
            "set TRUSTED_PROXIES to the number of proxies in front"
        )
    return None


class ProxyCheck:
    """WSGI middleware outside ProxyFix: notes the hops for the request and logs the first
    mismatch of this process (one warning, not one per request)."""

    def __init__(self, wsgi_app, trusted: int):
        self.wsgi_app, self.trusted = wsgi_app, trusted
        self.warned = False

    def __call__(self, environ, start_response):
        hops = forwarded_hops(environ)
        environ[HOPS_KEY] = hops
        if not self.warned and environ.get("PATH_INFO") not in PROBE_PATHS:
            problem = mismatch(self.trusted, hops)
            if problem:
                self.warned = True
                log.warning(problem, extra={"event": "proxy_mismatch", "trusted_proxies": self.trusted, "hops": hops})
        return self.wsgi_app(environ, start_response)


def install(app: Flask) -> None:
    app.wsgi_app = ProxyCheck(app.wsgi_app, int(app.config.get("TRUSTED_PROXIES") or 0))


def as_seen(request: Request) -> dict:
    """What this request showed of the proxies in front (for /readyz and check-proxy)."""
    trusted = int(current_app.config.get("TRUSTED_PROXIES") or 0)
    hops = request.environ.get(HOPS_KEY, forwarded_hops(request.environ))
    return {
        "trusted_proxies": trusted,
        "forwarded_for_hops": hops,
        "scheme": request.scheme,
        "client": request.remote_addr,
    }


def ask_through_proxy(base_url: str, trusted: int) -> tuple[bool | None, str]:
    """(matches, one line): GET base_url/readyz as the proxies pass it on, sending no
    X-Forwarded-For of our own, so the addresses it arrives with are exactly the proxies'.
    None when the site cannot be asked."""
    import requests

    url = f"{base_url}/readyz"
    try:
        answer = requests.get(url, timeout=10, allow_redirects=False)
        seen = answer.json()["proxy"]
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        return None, f"check-proxy: cannot ask {url} (inside addresses only): {type(exc).__name__}: {exc}"
    hops, scheme = seen["forwarded_for_hops"], seen["scheme"]
    if hops != trusted:
        return False, (
            f"check-proxy: TRUSTED_PROXIES is {trusted} but {hops} "
            f"prox{'ies' if hops != 1 else 'y'} in front of {base_url} added X-Forwarded-For: set TRUSTED_PROXIES={hops}"
        )
    if base_url.startswith("https:") and scheme != "https":
        return False, (
            f"check-proxy: {base_url} is https but the site sees {scheme}: the proxy must set X-Forwarded-Proto "
            "(Secure cookies and redirects depend on it)"
        )
    return True, f"check-proxy: TRUSTED_PROXIES={trusted} matches the proxies in front of {base_url} (scheme {scheme})"
