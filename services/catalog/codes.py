"""Secrets the catalog hands out: public receipt codes and device tokens. Pure.

A receipt code is printed on the paper slip (and in its QR): 10 characters from Crockford's
32-letter alphabet (no I, L, O, U to misread), 50 random bits, so guessing one in a million
receipts takes ~10^9 tries. A device token is shown once when the device is registered and
only its SHA-256 is kept: it is 256 random bits, so a fast hash is enough (no password
stretching needed for a secret nobody chose).
"""

from __future__ import annotations

import hashlib
import re
import secrets

RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECEIPT_LENGTH = 10
RECEIPT_PATTERN = rf"[{RECEIPT_ALPHABET}]{{{RECEIPT_LENGTH}}}"
DEVICE_TOKEN_PREFIX = "lcd_"
DEVICE_TOKEN_PATTERN = r"lcd_[A-Za-z0-9_-]{43}"


def new_receipt_code() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


def is_receipt_code(text: str) -> bool:
    return isinstance(text, str) and re.fullmatch(RECEIPT_PATTERN, text) is not None


def new_device_token() -> str:
    return DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_device_token(token: str) -> bool:
    return isinstance(token, str) and re.fullmatch(DEVICE_TOKEN_PATTERN, token) is not None
