"""Domain failures of the provider, named after the problem; views turn them into JSON
errors or messages on the page."""

from __future__ import annotations


class StandinError(Exception):
    code = "error"


class SessionNotFound(StandinError):
    code = "session_not_found"


class ReceiptNotFound(StandinError):
    code = "receipt_not_found"


class ReceiptConflict(StandinError):
    """The receipt number already belongs to a session with another amount or reference."""

    code = "receipt_conflict"


class SessionClosed(StandinError):
    """The session is captured, cancelled or expired: nothing more can happen on the page."""

    code = "session_closed"


class ExtensionLimitReached(StandinError):
    code = "extension_limit_reached"


class NotCaptured(StandinError):
    """A void for a receipt that holds no captured charge."""

    code = "not_captured"


class VoidFailed(StandinError):
    """The void did not go through (test fault control); nothing changed, retry later."""

    code = "void_failed"
