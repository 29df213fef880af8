"""Response headers of the provider: a strict Content-Security-Policy and hardening."""

from __future__ import annotations

from flask import Flask, Response, request


def content_security_policy(form_targets: str = "") -> str:
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            # The card form's POST redirects to the merchant's return URL: allow its origin.
            f"form-action 'self'{(' ' + form_targets) if form_targets else ''}",
            "frame-ancestors 'none'",
        ]
    )


def init_app(app: Flask) -> None:
    @app.after_request
    def harden(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Same-origin: the session id in the URL never leaks to another site as a referrer,
        # and the browser still sends a real Origin on our own form posts.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.path.startswith(("/pay/", "/api/", "/_test/")):
            response.headers["Cache-Control"] = "no-store"
        return response
