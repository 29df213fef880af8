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
    hardening = tuple(
        (name.lower(), name, value)
        for name, value in (
            ("Content-Security-Policy", policy),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "same-origin"),
            ("X-Frame-Options", "DENY"),
        )
    )

    @app.after_request
    def harden(response: Response) -> Response:
        # Each header unless the response has it already, in this order; one look at the
        # headers rather than one per header (issue 12).
        headers = response.headers
        present = {key.lower() for key, _value in headers}
        add = headers.add
        for key, name, value in hardening:
            if key not in present:
                add(name, value)
        if current_channel().stores_no_page or g.get("no_store") and response.mimetype == "text/html":
            headers["Cache-Control"] = "no-store"
        return response
