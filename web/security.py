"""Response headers: a strict Content-Security-Policy and the usual hardening."""

from __future__ import annotations

from flask import Flask, Response, g

from web.channels import current_channel


def content_security_policy(form_targets: str = "") -> str:
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            f"form-action 'self'{(' ' + form_targets) if form_targets else ''}",
            "frame-ancestors 'none'",
        ]
    )


def init_app(app: Flask) -> None:
    policy = content_security_policy(app.config.get("PAYMENT_PROVIDER_URL", ""))  # the same for every response

    @app.after_request
    def harden(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if current_channel().stores_no_page or response.mimetype == "text/html" and g.get("no_store"):
            response.headers["Cache-Control"] = "no-store"
        return response
