"""New passwords and phone numbers (DESIGN "Accounts and sign-in"): 8–64 characters, not the
registration number, not rated weak by zxcvbn; phone numbers as residents type them."""

from __future__ import annotations

import pytest

from models.account_rules import PasswordProblem, normalize_phone, password_problem


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("plum-harbour-sketch-9", None),
        ("meguro2025", None),  # the demo's password stays acceptable
        ("short", PasswordProblem.LENGTH),
        ("x" * 65, PasswordProblem.LENGTH),
        ("00040675", PasswordProblem.NUMBER),
        ("40675ab", PasswordProblem.LENGTH),
        ("password1", PasswordProblem.WEAK),
        ("qwertyuiop", PasswordProblem.WEAK),
        ("11111111", PasswordProblem.WEAK),
        ("0004067512", PasswordProblem.WEAK),  # the number with a little added
    ],
)
def test_new_passwords(password, problem):
    assert password_problem(password, registration_number="00040675") == problem


def test_the_group_s_name_makes_a_password_weaker():
    assert password_problem("aobakai2026", registration_number="00040677") is None
    assert password_problem("aobakai2026", registration_number="00040677", hints=("aobakai",)) == PasswordProblem.WEAK


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("03-1234-5678", "03-1234-5678"), ("０３－１２３４－５６７８", "03-1234-5678"), ("09012345678", "09012345678")],
)
def test_phone_numbers_are_read_as_typed(typed, stored):
    assert normalize_phone(typed) == stored


@pytest.mark.parametrize("typed", ["", "12", "2099-999999", "03--1234-5678", "-0312345678", "03-1234-567a", "０" * 12])
def test_phone_numbers_that_are_not(typed):
    with pytest.raises(ValueError):
        normalize_phone(typed)
