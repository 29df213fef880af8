"""サークル(団体) 紹介: what a group may write about itself, as pure rules (no Flask).

A group's introduction is plain text the group typed: it is shown escaped and nothing in it
is read as markup. Only what the group wrote is published — never the registration's own
email or phone."""

from __future__ import annotations

import unicodedata
from datetime import date

from models.account_rules import RegistrationKind, is_expired

# Activity fields a group picks one of (the public page filters by them); labels live with
# the screens (gettext), the codes in the database.
ACTIVITIES = (
    "learning",  # 学習・教養
    "music",  # 音楽
    "arts",  # 美術・工芸・文芸
    "dance",  # 舞踊・体操・健康
    "language",  # 語学・国際交流
    "welfare",  # 福祉・ボランティア
    "children",  # 子ども・子育て
    "community",  # 地域・まちづくり
    "other",  # その他
)

DESCRIPTION_MAX = 400
MEETS_MAX = 200
CONTACT_MAX = 200
CIRCLES_PER_PAGE = 50


def is_activity(code: str) -> bool:
    return code in ACTIVITIES


# Bidirectional embeddings, overrides and isolates: they can make a text read otherwise
# than it is stored.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def has_control_characters(text: str) -> bool:
    """True for characters a typed text has no use for (NUL, escapes, bidirectional
    controls): of the control characters only line breaks and tabs are kept."""
    return any((unicodedata.category(ch) == "Cc" and ch not in "\n\t") or ch in _BIDI_CONTROLS for ch in text)


def plain_text(text: str) -> str:
    """The text as stored: NFC, line breaks as \\n, spaces trimmed at both ends."""
    return unicodedata.normalize("NFC", (text or "").replace("\r\n", "\n").replace("\r", "\n")).strip()


def may_introduce(registration_kind: str) -> bool:
    """Only 集会・学校 registrations are introduced (the guide's サークル(団体) 紹介 sits with
    the 集会・学校施設)."""
    return registration_kind == RegistrationKind.ASSEMBLY


def is_listed(*, published: bool, registration_kind: str, registration_expires_on: date, today: date) -> bool:
    """A group appears on サークル(団体) 紹介 when it chose to, is a 集会・学校 group and its
    registration is valid today."""
    return published and may_introduce(registration_kind) and not is_expired(registration_expires_on, today)
