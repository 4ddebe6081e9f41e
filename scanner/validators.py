"""Structural checks a candidate must pass beyond its regex (checksums, decodable parts)."""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Callable

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62_encode(number: int, width: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(BASE62[rest])
    return "".join(reversed(digits)).rjust(width, "0")


def has_crc32_base62_checksum(secret: str) -> bool:
    """GitHub and npm tokens end in 6 base62 chars: the CRC32 of the 30 random chars before them.

    https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/
    """
    body = secret.rsplit("_", 1)[-1]
    if len(body) < 7:
        return False
    payload, checksum = body[:-6], body[-6:]
    return base62_encode(zlib.crc32(payload.encode()), 6) == checksum


def _b64url_json(part: str) -> object | None:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        return json.loads(raw)
    except (binascii.Error, ValueError):
        return None


def is_jwt(secret: str) -> bool:
    """Three dot-separated base64url parts whose header is a JSON object naming an algorithm."""
    parts = secret.split(".")
    if len(parts) != 3:
        return False
    header, payload = _b64url_json(parts[0]), _b64url_json(parts[1])
    return isinstance(header, dict) and "alg" in header and isinstance(payload, dict)


def is_base64_json_object(secret: str) -> bool:
    """Some providers wrap credentials in base64 JSON (e.g. Docker auth, Cloudflare tunnel tokens)."""
    return isinstance(_b64url_json(secret.replace("+", "-").replace("/", "_").rstrip("=")), dict)


VALIDATORS: dict[str, Callable[[str], bool]] = {
    "crc32-base62": has_crc32_base62_checksum,
    "jwt": is_jwt,
    "base64-json": is_base64_json_object,
}
