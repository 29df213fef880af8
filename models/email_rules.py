"""What counts as a mail address we can send notices to (DESIGN rule 7). A careful check of
the common form (local@domain.tld, ASCII), not every address RFC 5322 allows: a resident
who types a full-width ＠ or leaves out the domain is told so before paying."""

from __future__ import annotations

import re

MAX_LENGTH = 254
MAX_LOCAL_LENGTH = 64
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_TLD = re.compile(r"[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59}")


def normalise_email(text: str | None) -> str:
    """What the resident typed, without the spaces around it."""
    return (text or "").strip()


def is_valid_email(address: str) -> bool:
    """local@label.label…tld: ASCII only, no spaces or line breaks, no empty or dotted-off
    parts, at most 254 characters (64 before the @)."""
    if not address or len(address) > MAX_LENGTH or not address.isascii() or address.count("@") != 1:
        return False
    local, domain = address.split("@")
    if len(local) > MAX_LOCAL_LENGTH or not _LOCAL.fullmatch(local):
        return False
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return False
    return bool(_TLD.fullmatch(labels[-1]))
