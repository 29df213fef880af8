"""The server-to-server API (README.md): every request signed with HMAC-SHA256 over
timestamp, method, target and raw body; JSON in, JSON out."""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, current_app, jsonify, request, url_for
from sqlalchemy.exc import IntegrityError

from payment_standin import operations
from payment_standin.errors import StandinError, VoidFailed
from payment_standin.operations import SessionRequest
from payment_standin.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureRejected, verify

bp = Blueprint("api", __name__, url_prefix="/api")

RECEIPT_NUMBER = re.compile(r"[0-9]{16}")
MERCHANT_REFERENCE = re.compile(r"[\x21-\x7e]{1,64}")
SESSION_ID = re.compile(r"cs_[A-Za-z0-9_-]{20,64}")
MAX_AMOUNT_YEN = 99_999_999
MAX_URL_LENGTH = 2000
LIMIT_RANGE = range(1, 3601)

HTTP_STATUS = {
    "session_not_found": 404,
    "receipt_not_found": 404,
    "receipt_conflict": 409,
    "not_captured": 409,
    "session_closed": 409,
    "extension_limit_reached": 409,
    "void_failed": 503,
}
MESSAGES = {
    "session_not_found": "no session with this id",
    "receipt_not_found": "no session with this receipt number",
    "receipt_conflict": "this receipt number belongs to a session with another amount or merchant_reference",
    "not_captured": "nothing captured on this receipt",
    "void_failed": "the void did not go through; nothing changed, retry later",
}


class InvalidRequest(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def now():
    return current_app.config["CLOCK"]()


def signature_now():
    clock = current_app.config.get("SIGNATURE_CLOCK") or current_app.config["CLOCK"]
    return clock()


def database():
    return current_app.extensions["standin_db"]


def error_response(status: int, code: str, message: str, **extra):
    return jsonify(error=code, message=message, **extra), status


def domain_error(exc: StandinError):
    return error_response(HTTP_STATUS.get(exc.code, 400), exc.code, MESSAGES.get(exc.code, exc.code.replace("_", " ")))


def request_target() -> str:
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")


@bp.before_request
def require_signature():
    try:
        verify(
            current_app.config["PAYMENT_PROVIDER_SECRET"],
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
            request.method,
            request_target(),
            request.get_data(cache=True),
            signature_now(),
            current_app.config["SIGNATURE_TOLERANCE_SECONDS"],
        )
    except SignatureRejected as exc:
        return error_response(401, exc.reason, "the request must carry a valid X-Timestamp and X-Signature")
    return None


# Parsing -------------------------------------------------------------------------------
def _string(payload: dict, name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidRequest(name, f"{name} must be a non-empty string")
    return value


def _url(payload: dict, name: str, *, allow_query: bool) -> str:
    value = _string(payload, name)
    parts = urlsplit(value)
    if len(value) > MAX_URL_LENGTH or parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidRequest(name, f"{name} must be an absolute http(s) URL")
    if not allow_query and (parts.query or parts.fragment):
        raise InvalidRequest(name, f"{name} must have no query or fragment: the provider appends ?session_id=<id>")
    return value


def _integer(payload: dict, name: str, allowed: range) -> int:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise InvalidRequest(name, f"{name} must be an integer from {allowed.start} to {allowed.stop - 1}")
    return value


def parse_session_request(payload) -> SessionRequest:
    if not isinstance(payload, dict):
        raise InvalidRequest("body", "the body must be a JSON object")
    reference = _string(payload, "merchant_reference")
    if not MERCHANT_REFERENCE.fullmatch(reference):
        raise InvalidRequest("merchant_reference", "merchant_reference must be 1 to 64 printable ASCII characters")
    receipt = _string(payload, "receipt_number")
    if not RECEIPT_NUMBER.fullmatch(receipt):
        raise InvalidRequest("receipt_number", "receipt_number must be 16 digits")
    limit = current_app.config["PAYMENT_SESSION_SECONDS"]
    if payload.get("expires_in_seconds") is not None:
        limit = _integer(payload, "expires_in_seconds", LIMIT_RANGE)
    locale = payload.get("locale", "ja")
    if locale not in ("ja", "en"):
        raise InvalidRequest("locale", "locale must be ja or en")
    return SessionRequest(
        merchant_reference=reference,
        receipt_number=receipt,
        amount_yen=_integer(payload, "amount_yen", range(1, MAX_AMOUNT_YEN + 1)),
        return_url=_url(payload, "return_url", allow_query=False),
        notify_url=_url(payload, "notify_url", allow_query=True),
        limit_seconds=limit,
        locale=locale,
    )


def payment_url(session_id: str, locale: str) -> str:
    base = current_app.config["PAYMENT_STANDIN_PUBLIC_URL"] or request.host_url.rstrip("/")
    query = f"?{urlencode({'lang': locale})}" if locale != "ja" else ""
    return base + url_for("pay.page", session_id=session_id) + query


# Endpoints -----------------------------------------------------------------------------
@bp.post("/sessions")
def create_session():
    try:
        wanted = parse_session_request(request.get_json(silent=True))
    except InvalidRequest as exc:
        return error_response(400, "invalid_request", exc.message, field=exc.field)
    try:
        try:
            with database().write() as session:
                payment, created = operations.open_session(session, now(), wanted)
                document = operations.session_document(payment)
        except IntegrityError:  # the same receipt created at the same moment elsewhere
            with database().write() as session:
                payment, created = operations.open_session(session, now(), wanted)
                document = operations.session_document(payment)
    except StandinError as exc:
        return domain_error(exc)
    document["payment_url"] = payment_url(payment.id, payment.locale)
    return jsonify(document), 201 if created else 200


@bp.get("/sessions/<session_id>")
def session_status(session_id: str):
    if not SESSION_ID.fullmatch(session_id):
        return error_response(404, "session_not_found", MESSAGES["session_not_found"])
    try:
        with database().write() as session:
            payment = operations.refresh_session(session, now(), session_id)
            document = operations.session_document(payment)
    except StandinError as exc:
        return domain_error(exc)
    return jsonify(document)


@bp.get("/receipts/<receipt_number>")
def receipt_status(receipt_number: str):
    if not RECEIPT_NUMBER.fullmatch(receipt_number):
        return error_response(404, "receipt_not_found", MESSAGES["receipt_not_found"])
    try:
        with database().write() as session:
            payment = operations.load_by_receipt(session, receipt_number, for_update=True)
            operations.expire_if_overdue(session, now(), payment)
            document = operations.session_document(payment)
    except StandinError as exc:
        return domain_error(exc)
    return jsonify(document)


@bp.post("/receipts/<receipt_number>/void")
def void(receipt_number: str):
    if not RECEIPT_NUMBER.fullmatch(receipt_number):
        return error_response(404, "receipt_not_found", MESSAGES["receipt_not_found"])
    try:
        if current_app.config["PAYMENT_STANDIN_FAULTS"]:
            with database().write() as session:
                failing = operations.take_void_failure(session)
            if failing:
                raise VoidFailed()
        with database().write() as session:
            payment = operations.void_receipt(session, now(), receipt_number)
            document = operations.charge_document(payment)
    except StandinError as exc:
        return domain_error(exc)
    return jsonify(document)


@bp.get("/ledger")
def ledger():
    with database().read() as session:
        return jsonify(operations.ledger_document(session))
