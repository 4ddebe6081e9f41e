"""A rule's `verify` table: how to ask the provider whether a key works, with a harmless read.

    [rules.verify]
    method = "GET"                                   # GET, HEAD or POST; read-only endpoints only
    url = "https://api.stripe.com/v1/balance"        # https; the only host the key is ever sent to
    auth = "basic"                                   # bearer | header | basic | query
    header = "X-API-Key"                             # auth = "header": the header's name
    param = "key"                                    # auth = "query": the parameter's name
    basic = "username"                               # auth = "basic": the key is the username (or password)
    headers = { Accept = "application/json" }        # optional fixed headers (never credentials)

Checked and typed when rules load (`Rule.verify` is a VerifySpec), so a malformed block fails
`keysweep rules check` and every scan.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scanner.errors import RuleError

METHODS = ("GET", "HEAD", "POST")
AUTH_KINDS = ("bearer", "header", "basic", "query")
KEYS = {"method", "url", "auth", "header", "param", "basic", "headers"}
CREDENTIAL_HEADERS = {"authorization", "proxy-authorization", "cookie"}


@dataclass(frozen=True)
class VerifySpec:
    url: str
    auth: str
    method: str = "GET"
    header: str = "X-API-Key"
    param: str = "key"
    basic: str = "username"
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> VerifySpec:
        return cls(
            url=table["url"], auth=table["auth"], method=table.get("method", "GET").upper(),
            header=table.get("header", "X-API-Key"), param=table.get("param", "key"),
            basic=table.get("basic", "username"), headers=tuple(sorted(table.get("headers", {}).items())),
        )

    def request(self, url: str, secret: str) -> tuple[str, dict[str, str]]:
        """The URL and headers carrying the key as the provider expects it."""
        headers = {"Accept": "application/json", **dict(self.headers)}
        if self.auth == "bearer":
            headers["Authorization"] = f"Bearer {secret}"
        elif self.auth == "header":
            headers[self.header] = secret
        elif self.auth == "basic":
            pair = f"{secret}:" if self.basic == "username" else f":{secret}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        else:
            parts = urlsplit(url)
            query = urlencode([*parse_qsl(parts.query), (self.param, secret)])
            url = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
        return url, headers


HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token: no spaces, colons or line breaks


def parse_verify_spec(value: Any, where: str) -> VerifySpec | None:
    """A rule's verify table, validated and typed (None when absent)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RuleError(f"{where}: verify must be a table")
    unknown = set(value) - KEYS
    if unknown:
        raise RuleError(f"{where}: verify has unknown key(s): {', '.join(sorted(unknown))}; expected {', '.join(sorted(KEYS))}")
    url = value.get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme != "https" or not parts.hostname or parts.username or parts.fragment:
        raise RuleError(f"{where}: verify.url must be an https:// URL without credentials")
    if value.get("auth") not in AUTH_KINDS:
        raise RuleError(f"{where}: verify.auth must be one of {', '.join(AUTH_KINDS)}")
    method = value.get("method", "GET")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise RuleError(f"{where}: verify.method must be one of {', '.join(METHODS)} (a harmless read)")
    for name in ("header", "param"):
        if name in value and (not isinstance(value[name], str) or not value[name].strip()):
            raise RuleError(f"{where}: verify.{name} must be a non-empty string")
    if "header" in value and not HEADER_NAME.fullmatch(value["header"]):
        raise RuleError(f"{where}: verify.header must be a header name (letters, digits, '-')")
    if value.get("basic", "username") not in ("username", "password"):
        raise RuleError(f"{where}: verify.basic must be 'username' or 'password'")
    headers = value.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise RuleError(f"{where}: verify.headers must be a table of strings")
    if not all(HEADER_NAME.fullmatch(k) and "\r" not in v and "\n" not in v for k, v in headers.items()):
        raise RuleError(f"{where}: verify.headers must hold header names and one-line values")
    if CREDENTIAL_HEADERS & {k.lower() for k in headers}:
        raise RuleError(f"{where}: verify.headers must not carry credentials; the key goes where verify.auth says")
    return VerifySpec.from_table(value)
