"""Test-only fault control, registered only when PAYMENT_STANDIN_FAULTS=1 (otherwise every
/_test URL is a 404). Unsigned on purpose: it exists only on test deployments."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from payment_standin import operations

bp = Blueprint("faults", __name__, url_prefix="/_test")

MAX_DELAY_SECONDS = 24 * 60 * 60
FIELDS = {
    "fail_next_voids": range(0, 1_000_001),
    "delay_notifications_seconds": range(0, MAX_DELAY_SECONDS + 1),
}


def _document(row) -> dict:
    return {
        "fail_next_voids": row.fail_next_voids,
        "delay_notifications_seconds": row.delay_notifications_seconds,
        "duplicate_notifications": row.duplicate_notifications,
    }


def _parse(payload) -> dict:
    if not isinstance(payload, dict):
        raise ValueError("the body must be a JSON object")
    changes = {}
    for name, allowed in FIELDS.items():
        if name in payload:
            value = payload[name]
            if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
                raise ValueError(f"{name} must be an integer from {allowed.start} to {allowed.stop - 1}")
            changes[name] = value
    for name in ("duplicate_notifications", "reset"):
        if name in payload:
            if not isinstance(payload[name], bool):
                raise ValueError(f"{name} must be true or false")
            changes[name] = payload[name]
    return changes


@bp.get("/faults")
def show_faults():
    with current_app.extensions["standin_db"].write() as session:
        return jsonify(_document(operations.fault_settings(session)))


@bp.post("/faults")
def set_faults():
    try:
        changes = _parse(request.get_json(silent=True))
    except ValueError as exc:
        return jsonify(error="invalid_request", message=str(exc)), 400
    with current_app.extensions["standin_db"].write() as session:
        return jsonify(_document(operations.configure_faults(session, changes)))
