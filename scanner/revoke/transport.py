"""One HTTP request with the standard library: no redirects followed, a timeout, a capped body.

http.client rather than urllib: urllib follows redirects on its own, and a revoke request or a
key check must never be replayed to wherever a 3xx points. `connect_ip` pins the connection to
an address already checked (live verification), so a second DNS answer cannot swap it.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from scanner import __version__

USER_AGENT = f"keysweep/{__version__}"
MAX_BODY = 64 * 1024  # a receipt or an error message; nothing we keep needs more


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 or `localhost`: the only hosts plain http:// may reach."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_problem(url: str) -> str | None:
    """Why a URL may not be used (None when fine): https, or http to loopback only; no credentials in it."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f"{url!r} is not an http(s) URL"
    if parts.username or parts.password:
        return "URL must not carry credentials"
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        return f"http:// is only allowed to loopback; use https:// for {parts.hostname}"
    return None


def display_url(text: str) -> str:
    """A webhook URL as shown on screen and in `revoke status`: scheme, host and first path segment.
    Webhook URLs often carry their token in the path or query (Slack, Teams, Zapier): never echoed.
    Anything that is not an http(s) URL (a webhook's own name) is returned as it is."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return text
    segments = [s for s in parts.path.split("/") if s]
    path = f"/{segments[0]}" if segments else ""
    if len(segments) > 1 or parts.query:
        path += "/…"
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return f"{parts.scheme}://{host}{path}"


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int | None, *, ip: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self) -> None:
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int | None, *, ip: str, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._ip = ip
        self._ssl_context = context

    def connect(self) -> None:
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = self._ssl_context.wrap_socket(sock, server_hostname=self.host)  # certificate is for the name


def request(
    method: str, url: str, *, headers: Mapping[str, str], body: bytes | None = None, timeout: float,
    connect_ip: str | None = None,
) -> Response:
    """Send one request and read the answer; OSError (timeouts, refused, TLS) and http.client errors propagate."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        context = ssl.create_default_context()
        if connect_ip:
            connection = _PinnedHTTPSConnection(host, parts.port, ip=connect_ip, timeout=timeout, context=context)
        else:
            connection = http.client.HTTPSConnection(host, parts.port, timeout=timeout, context=context)
    elif connect_ip:
        connection = _PinnedHTTPConnection(host, parts.port, ip=connect_ip, timeout=timeout)
    else:
        connection = http.client.HTTPConnection(host, parts.port, timeout=timeout)
    try:
        connection.request(method, target, body=body, headers={"User-Agent": USER_AGENT, **headers})
        answer = connection.getresponse()
        data = answer.read(MAX_BODY)
        return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, data)
    finally:
        connection.close()
