"""The mail address check of メールアドレスの変更 (DESIGN rule 7)."""

from __future__ import annotations

import pytest

from models.email_rules import is_valid_email, normalise_email


@pytest.mark.parametrize(
    "address",
    [
        "meguro-dantai@example.jp",
        "komaba.circle+pay@mail.example.co.jp",
        "a@b.jp",
        "o'brien@example.com",
        "user@xn--eckwd4c7c.xn--zckzah",  # an internationalised domain, as sent
        ("x" * 64) + "@" + ("d" * 63) + ".example.jp",
    ],
)
def test_common_addresses_are_accepted(address):
    assert is_valid_email(address)


@pytest.mark.parametrize(
    "address",
    [
        "",
        "meguro",
        "meguro@",
        "@example.jp",
        "meguro@example",  # no top-level domain
        "meguro@@example.jp",
        "me guro@example.jp",
        "meguro@example.jp\nBcc: x@example.jp",  # a header injection
        "meguro＠example.jp",  # full-width ＠
        "めぐろ@example.jp",
        ".meguro@example.jp",
        "meguro.@example.jp",
        "me..guro@example.jp",
        "meguro@-example.jp",
        "meguro@example-.jp",
        "meguro@example..jp",
        "meguro@example.j",
        "meguro@example.123",
        ("x" * 65) + "@example.jp",
        "x@" + ("d" * 250) + ".jp",
    ],
)
def test_malformed_addresses_are_refused(address):
    assert not is_valid_email(address)


def test_spaces_around_an_address_are_dropped():
    assert normalise_email("  meguro@example.jp \t") == "meguro@example.jp"
    assert normalise_email(None) == ""
