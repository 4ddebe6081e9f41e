"""Where a key check may go.

A check goes only to the host its rule declares, or to what `--verify-host NAME=URL` puts in its
place (NAME is a rule id or a provider; the URL's scheme, host and path prefix replace the rule's).
Overrides are command-line only: a config file can come from the code being scanned, and must
not be able to send found keys elsewhere.

Every address the host resolves to must be public. A private, loopback or link-local address is
refused unless both the host comes from `--verify-host` and `--verify-allow-private` is given:
a rule's public hostname never reaches an internal service, whatever DNS answers. The checked
address is the one connected to.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from scanner.errors import UsageError
from scanner.revoke.transport import url_problem
from scanner.rules import Rule


class Refused(Exception):
    """The check may not be sent there; the message says why and what would allow it."""


def parse_overrides(values: Iterable[str], rules: Iterable[Rule]) -> dict[str, str]:
    """`NAME=URL` pairs, each naming a rule id or provider that has a verify block."""
    names = {n for rule in rules if rule.verify for n in (rule.id, rule.provider)}
    overrides = {}
    for value in values:
        name, sep, url = value.partition("=")
        if not sep or not name or not url:
            raise UsageError(f"--verify-host {value!r}: expected NAME=URL, e.g. stripe=https://stripe.internal")
        problem = url_problem(url)
        if problem:
            raise UsageError(f"--verify-host {name}: {problem}")
        if name not in names:
            raise UsageError(f"--verify-host {name}: no rule or provider of that name has a verify block")
        overrides[name] = url
    return overrides


def endpoint(rule: Rule, url: str, overrides: dict[str, str]) -> tuple[str, bool]:
    """The URL to check this rule's keys at, and whether it came from an override."""
    override = overrides.get(rule.id) or overrides.get(rule.provider)
    if override is None:
        return url, False
    base, declared = urlsplit(override), urlsplit(url)
    path = base.path.rstrip("/") + declared.path
    return urlunsplit((base.scheme, base.netloc, path, declared.query, "")), True


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def destination(url: str, *, explicit: bool, allow_private: bool) -> str:
    """The address to connect to, after checking every address the host resolves to."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise Refused(f"cannot resolve {host}: {exc.strerror}") from None
    addresses = list(dict.fromkeys(str(a[4][0]) for a in answers))
    private = [a for a in addresses if not is_public(a)]
    if private and not (explicit and allow_private):
        hint = ("add --verify-allow-private to allow it for this --verify-host" if explicit
                else "a rule's host must resolve to public addresses only")
        raise Refused(f"{host} resolves to non-public address {private[0]}; refused ({hint})")
    return addresses[0]
