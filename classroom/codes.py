"""A class's code (what students type) and its teacher key (what only the teacher holds).

The two are drawn independently with `secrets`, so a code says nothing about its key. The key
is never stored: only its SHA-256 hash is, and a key is checked against it in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

# Digits and capitals without look-alikes: no 0/O, 1/I/L, and no U (read aloud, it is "you").
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # 30 characters
CODE_LENGTH = 6  # 30**6 ≈ 729 million codes: a collision among 500 open classes is rare
KEY_BYTES = 24  # 192 random bits, 32 URL-safe characters


def new_code() -> str:
    """Draw a class code: `CODE_LENGTH` characters of `ALPHABET`, uniformly at random.

    Example:
        >>> code = new_code()
        >>> len(code), all(c in ALPHABET for c in code)
        (6, True)
    """
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """The display form of a code, in two groups of three to read aloud.

    Example:
        >>> format_code("K7QM4X")
        'K7Q-M4X'
        >>> format_code("k7q m4x")
        'K7Q-M4X'
    """
    canonical = normalise_code(code) or code
    return f"{canonical[:3]}-{canonical[3:]}"


def normalise_code(text: str | None) -> str | None:
    """The canonical code for a code as typed (any case; spaces and dashes ignored).

    Returns:
        The code in capitals without separators, or None when the text cannot be a code
        (wrong length, or a character outside `ALPHABET`, such as the look-alike O for 0).

    Example:
        >>> normalise_code(" k7q-m4x ")
        'K7QM4X'
        >>> normalise_code("K7Q-M40") is None  # 0 is never in a code
        True
    """
    if not isinstance(text, str) or len(text) > 64:
        return None
    code = "".join(text.split()).replace("-", "").upper()
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def new_key() -> str:
    """Draw a teacher key: `KEY_BYTES` random bytes as URL-safe text (shown once, never stored).

    Example:
        >>> key = new_key()
        >>> len(key) * 6 >= 128, key != new_key()
        (True, True)
    """
    return secrets.token_urlsafe(KEY_BYTES)


def hash_key(key: str) -> str:
    """The SHA-256 hash of a key, as hex: what the database stores instead of the key.

    Example:
        >>> hash_key("secret")[:16]
        '2bb80d537b1da3e3'
    """
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


# Compared against when a class is unknown, so an unknown code costs the same time as a wrong key.
_NO_HASH = hash_key("")


def key_matches(key: str, stored_hash: str | None) -> bool:
    """Whether `key` hashes to `stored_hash`, compared in constant time (`hmac.compare_digest`).

    Example:
        >>> key_matches("secret", hash_key("secret")), key_matches("guess", hash_key("secret"))
        (True, False)
        >>> key_matches("secret", None)
        False
    """
    given = hash_key(key if isinstance(key, str) else "")
    same = hmac.compare_digest(given, stored_hash or _NO_HASH)
    return same and stored_hash is not None and isinstance(key, str)
