"""Facility search by kana row (施設名から探す): which row a reading starts in."""

from __future__ import annotations

import unicodedata

KANA_ROWS: dict[str, str] = {
    "あ": "あいうえおぁぃぅぇぉゔ",
    "か": "かきくけこがぎぐげご",
    "さ": "さしすせそざじずぜぞ",
    "た": "たちつてとだぢづでどっ",
    "な": "なにぬねの",
    "は": "はひふへほばびぶべぼぱぴぷぺぽ",
    "ま": "まみむめも",
    "や": "やゆよゃゅょ",
    "ら": "らりるれろ",
    "わ": "わをんゎ",
}


# For English pages: the romanised name of each row.
KANA_ROW_ROMAJI = {
    "あ": "a",
    "か": "ka",
    "さ": "sa",
    "た": "ta",
    "な": "na",
    "は": "ha",
    "ま": "ma",
    "や": "ya",
    "ら": "ra",
    "わ": "wa",
}


def kana_row_rule(reading: str) -> str | None:
    """The row ('あ', 'か', …) of the first character of a hiragana or katakana reading."""
    if not reading:
        return None
    first = unicodedata.normalize("NFKC", reading)[0]
    if "ァ" <= first <= "ヶ":  # katakana → hiragana
        first = chr(ord(first) - 0x60)
    for row, members in KANA_ROWS.items():
        if first in members:
            return row
    return None
