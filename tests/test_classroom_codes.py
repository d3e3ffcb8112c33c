"""Class codes and teacher keys (classroom.codes); pytest runs the package's doctests itself
(pyproject's testpaths)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

import classroom
import classroom.codes
import classroom.store
from classroom.codes import (
    ALPHABET,
    CODE_LENGTH,
    hash_key,
    key_matches,
    new_code,
    new_key,
)


def test_alphabet_has_no_look_alikes() -> None:
    assert not set("0O1IL" + "U") & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET) == 30
    assert not any(c.islower() for c in ALPHABET)


def test_codes_are_drawn_from_the_whole_alphabet() -> None:
    codes = [new_code() for _ in range(2000)]
    assert all(len(code) == CODE_LENGTH for code in codes)
    assert set("".join(codes)) == set(ALPHABET)  # 12 000 draws reach each of 30 characters
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("K7QM4X", "K7QM4X"),
        ("k7q-m4x", "K7QM4X"),
        ("  K7Q M4X\n", "K7QM4X"),
        ("k-7-q-m-4-x", "K7QM4X"),
        ("K7QM4", None),  # too short
        ("K7QM4XX", None),  # too long
        ("K7QM40", None),  # 0 is never in a code
        ("K7QMOX", None),  # nor O
        ("K7QM4U", None),  # nor U
        ("K7Q_M4X", None),
        ("", None),
        (None, None),
        ("K" * 1000, None),
    ],
)
def test_normalise_code(typed: str | None, canonical: str | None) -> None:
    assert classroom.normalise_code(typed) == canonical


def test_format_code() -> None:
    assert classroom.format_code("K7QM4X") == "K7Q-M4X"
    assert classroom.format_code("k7q m4x") == "K7Q-M4X"
    code = new_code()
    assert classroom.normalise_code(classroom.format_code(code)) == code


def test_keys_have_at_least_128_random_bits() -> None:
    keys = {new_key() for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        assert len(key) * 6 >= 128  # URL-safe base64: 6 bits a character
        assert set(key) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_key_hash_is_sha256() -> None:
    assert hash_key("k") == hashlib.sha256(b"k").hexdigest()


def test_keys_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    compare = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return compare(a, b)

    monkeypatch.setattr(classroom.codes.hmac, "compare_digest", spy)
    assert key_matches("secret", hash_key("secret"))
    assert not key_matches("guess", hash_key("secret"))
    assert not key_matches("", None)  # an unknown class is compared too, against a dummy
    assert not key_matches(None, hash_key(""))  # type: ignore[arg-type]
    assert len(calls) == 4
    assert calls[0] == (hash_key("secret"), hash_key("secret"))
