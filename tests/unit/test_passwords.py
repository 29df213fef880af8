"""The hash a login for no resident is verified against (models.passwords.DUMMY_HASH): made
with the hasher's own parameters, so that it costs what a resident's does, and matching no
password a resident would type."""

from __future__ import annotations

from argon2 import extract_parameters

from models.passwords import DUMMY_HASH, _hasher, hash_password, verify_password


def test_the_dummy_hash_has_the_parameters_of_every_resident_hash():
    assert not _hasher.check_needs_rehash(DUMMY_HASH)
    assert extract_parameters(DUMMY_HASH) == extract_parameters(hash_password("a resident's password"))


def test_the_dummy_hash_verifies_as_a_hash_and_refuses_other_passwords():
    assert verify_password(DUMMY_HASH, "no-such-resident")
    assert not verify_password(DUMMY_HASH, "meguro2025")
    assert not verify_password(DUMMY_HASH, "")
