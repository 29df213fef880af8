"""施設名から探す: the kana row a facility's reading starts in."""

from __future__ import annotations

import pytest

from models.search_rules import KANA_ROW_ROMAJI, KANA_ROWS, kana_row_rule


@pytest.mark.parametrize(
    ("reading", "row"),
    [
        ("あおば", "あ"),
        ("こまばじゅうくせんたー", "か"),
        ("くみんせんたー", "か"),
        ("なかめぐろ", "な"),
        ("ひがしやま", "は"),
        ("めぐろ", "ま"),
        ("やくもじゅうく", "や"),
        ("わかば", "わ"),
        ("りんし", "ら"),
        ("ちゅうしょうきぎょう", "た"),
        ("せんぞく", "さ"),
        # Katakana and half-width katakana read the same.
        ("コマバ", "か"),
        ("ﾋｶﾞｼﾔﾏ", "は"),
        ("アリーナ", "あ"),
        # Voiced and semi-voiced kana belong to the row of their plain kana.
        ("がくげいだいがく", "か"),
        ("ざいもくざ", "さ"),
        ("だいえん", "た"),
        ("ばすてい", "は"),
        ("ぱーく", "は"),
        ("プール", "は"),
        ("ゔぃれっじ", "あ"),
        ("ヴィレッジ", "あ"),
        # Small kana.
        ("ぁ", "あ"),
        ("ゃ", "や"),
    ],
)
def test_kana_row(reading, row):
    assert kana_row_rule(reading) == row


@pytest.mark.parametrize("reading", ["", "目黒", "Meguro", "123", "ー", "・", "〒"])
def test_readings_outside_the_kana_rows_have_no_row(reading):
    assert kana_row_rule(reading) is None


def test_every_hiragana_syllable_of_a_row_maps_to_that_row_and_in_katakana_too():
    for row, members in KANA_ROWS.items():
        for kana in members:
            assert kana_row_rule(kana) == row
            assert kana_row_rule(chr(ord(kana) + 0x60)) == row


def test_the_ten_rows_in_order_each_with_its_romaji():
    assert list(KANA_ROWS) == ["あ", "か", "さ", "た", "な", "は", "ま", "や", "ら", "わ"]
    assert set(KANA_ROW_ROMAJI) == set(KANA_ROWS)
