"""Base64 that hides keys: Kubernetes `Secret` manifests' `data:`, `Authorization: Basic` headers
and `data:` URLs. Each payload is decoded (bounded in size, count and nesting depth) and scanned
as its own chunk; its findings point at the encoded text and say what was decoded from where.

Kubernetes stores Secret values base64-encoded, not encrypted:
https://kubernetes.io/docs/concepts/configuration/secret/#restriction-names-data
Basic auth is `base64(user:password)`: https://datatracker.ietf.org/doc/html/rfc7617#section-2
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from scanner.chunk import Chunk
from scanner.finding import Finding

MAX_DEPTH = 2  # a Secret whose value is a config holding a Basic header: decode twice, no more
MAX_PAYLOAD_CHARS = 1 << 20
MAX_PAYLOADS = 1000  # per chunk
MAX_DECODED_BYTES = 16 << 20  # per chunk

BASIC = re.compile(r"(?i:basic)\s+([A-Za-z0-9+/]{8,4096}={0,2})(?![A-Za-z0-9+/=])")
DATA_URL = re.compile(r"data:([\w.+-]+/[\w.+-]+)?((?:;[\w.+-]+=[\w.+-]+)*);base64,([A-Za-z0-9+/]{8,1048576}={0,2})")
TEXT_MEDIA = re.compile(r"^(?:text/|application/(?:json|javascript|x-javascript|xml|x-www-form-urlencoded|ld\+json|[\w.+-]*\+json)$)")
# [ \t], not \s: under MULTILINE, `^\s*` at every line start runs over all the newlines after it
# (`kind Secret` and 60 KB of blank lines took 9 s).
SECRET_KIND = re.compile(r"""^[ \t]*kind:[ \t]*["']?Secret["']?[ \t]*\r?$|"kind"[ \t]*:[ \t]*"Secret\"""", re.MULTILINE)
DATA_BLOCK = re.compile(r"^([ \t]*)(?:data|binaryData):[ \t]*$", re.MULTILINE)
YAML_ENTRY = re.compile(r"""^([ \t]+)(["']?)([\w.-]+)\2:[ \t]*(["']?)([A-Za-z0-9+/]{4,1048576}={0,2})\4[ \t]*$""")
JSON_DATA = re.compile(r'"(?:data|binaryData)"\s*:\s*\{([^{}]{0,1048576})\}')
JSON_ENTRY = re.compile(r'"([\w.-]+)"\s*:\s*"([A-Za-z0-9+/]{4,1048576}={0,2})"')


@dataclass(frozen=True)
class Payload:
    start: int  # span of the encoded text in the chunk
    end: int
    encoded: str
    origin: str  # what it was decoded from, for the finding's `decoded_from`


@dataclass(frozen=True)
class Markers:
    """Where a text may hold payloads: the starts of `basic` (any case) and `base64,`, and whether
    `Secret` occurs. Found in one native pass, so the decoders look only there."""

    basic: tuple[int, ...] = ()
    base64: tuple[int, ...] = ()
    secret: bool = False

    def __bool__(self) -> bool:
        return bool(self.basic or self.base64 or self.secret)


def has_payloads(text: str) -> bool:
    return bool(payload_markers(text))


def payload_markers(text: str) -> Markers:
    """The markers in text: one Hyperscan pass (four `in` scans cost ~3 ms per MB: 0.73 s against
    0.15 s on a 200 MB tree; lowering every file that says "Basic" for a case-blind search cost 2 s
    of one history), plain `str.find` on tiny text or without Hyperscan."""
    if len(text) < NATIVE_MARKER_MIN_CHARS or (matcher := _marker_matcher()) is None:
        return _markers_by_find(text)
    return matcher(text)


NATIVE_MARKER_MIN_CHARS = 1024
ANY_CASE_BASIC = re.compile("(?i)basic")


def _markers_by_find(text: str) -> Markers:
    lowered = text.lower()  # small text: cheap
    if len(lowered) == len(text):
        basic = tuple(_all(lowered, "basic"))
    else:  # a few characters change length when lowered: offsets would drift
        basic = tuple(m.start() for m in ANY_CASE_BASIC.finditer(text))
    return Markers(basic, tuple(_all(text, "base64,")), "Secret" in text)


def _all(text: str, needle: str) -> Iterator[int]:
    position = text.find(needle)
    while position >= 0:
        yield position
        position = text.find(needle, position + 1)


@functools.cache
def _marker_matcher() -> Callable[[str], Markers] | None:
    try:
        import hyperscan
    except ImportError:
        return None
    expressions = [b"basic", b"base64,", b"Secret"]
    flags = [hyperscan.HS_FLAG_CASELESS, 0, hyperscan.HS_FLAG_SINGLEMATCH]
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(expressions=expressions, ids=[0, 1, 2], elements=3, flags=flags)
    lengths = [len(e) for e in expressions]

    def markers(text: str) -> Markers:
        ends: tuple[list[int], list[int], list[int]] = ([], [], [])

        def found(kid: int, start: int, end: int, flags: int, context: object) -> None:
            ends[kid].append(end - lengths[kid])

        data = text.encode("utf-8", "surrogatepass")
        db.scan(data, match_event_handler=found)
        if not (ends[0] or ends[1] or ends[2]):
            return Markers()
        if len(data) != len(text):  # byte offsets to character offsets (markers are ASCII: on boundaries)
            ends = (char_offsets(data, ends[0]), char_offsets(data, ends[1]), ends[2])
        return Markers(tuple(ends[0]), tuple(ends[1]), bool(ends[2]))

    return markers


def char_offsets(data: bytes, offsets: list[int]) -> list[int]:
    result, chars, previous = [], 0, 0
    for offset in sorted(offsets):
        chars += len(data[previous:offset].decode("utf-8", "surrogatepass"))
        previous = offset
        result.append(chars)
    return result


def with_decoded(chunks: Iterable[Chunk]) -> Iterator[Chunk]:
    """Each chunk, followed by chunks of the base64 payloads it holds."""
    for chunk in chunks:
        yield chunk
        markers = payload_markers(chunk.text)
        if markers:
            yield from decoded_chunks(chunk, markers)


def decoded_chunks(chunk: Chunk, markers: Markers | None = None, depth: int = 0) -> Iterator[Chunk]:
    markers = payload_markers(chunk.text) if markers is None else markers
    payloads = sorted(find_payloads(chunk.text, markers), key=lambda p: p.start)[:MAX_PAYLOADS]
    budget = MAX_DECODED_BYTES
    for payload, span in zip(payloads, spans(chunk.text, payloads)):
        text = decode_base64_text(payload.encoded)
        if text is None or len(text) > budget:
            continue
        budget -= len(text)
        origin = payload.origin
        if chunk.extra.get("decoded_from"):
            origin = f"{chunk.extra['decoded_from']} > {origin}"
        decoded = Chunk(
            text=text, path=chunk.path, source=chunk.source, fs_path=chunk.fs_path, commit=chunk.commit,
            extra={**chunk.extra, "decoded": "base64", "decoded_from": origin},
            relocate=Anchor(chunk, *span),
        )
        yield decoded
        if depth + 1 < MAX_DEPTH and (inner := payload_markers(text)):
            yield from decoded_chunks(decoded, inner, depth + 1)


def find_payloads(text: str, markers: Markers | None = None) -> Iterator[Payload]:
    markers = payload_markers(text) if markers is None else markers
    yield from basic_payloads(text, markers.basic)
    yield from data_url_payloads(text, markers.base64)
    if markers.secret and "kind" in text and SECRET_KIND.search(text):
        yield from kubernetes_secret_payloads(text)


def basic_payloads(text: str, starts: Iterable[int]) -> Iterator[Payload]:
    """`Basic <base64>` in any letter case, matched where the marker pass saw the word."""
    for start in starts:
        match = BASIC.match(text, start)
        if match and (start == 0 or not (text[start - 1].isalnum() or text[start - 1] == "_")):
            yield Payload(match.start(1), match.end(1), match.group(1), "Authorization: Basic credentials")


def data_url_payloads(text: str, starts: Iterable[int]) -> Iterator[Payload]:
    """`data:<media>;…;base64,<payload>` for text media types, matched from the `data:` before each `base64,`."""
    for base64_at in starts:
        data_at = text.rfind("data:", max(0, base64_at - DATA_URL_HEAD), base64_at)
        if data_at > 0 and (text[data_at - 1].isalnum() or text[data_at - 1] == "_"):
            continue  # `metadata:`, not a data URL
        match = DATA_URL.match(text, data_at) if data_at >= 0 else None
        if match is None or match.start(3) != base64_at + len("base64,"):
            continue
        media = (match.group(1) or "text/plain").lower()
        if TEXT_MEDIA.match(media) and not text.endswith("sourceMappingURL=", 0, match.start()):
            yield Payload(*match.span(3), match.group(3), f"data URL ({media})")


DATA_URL_HEAD = 256  # `data:` + media type + parameters before `base64,`


def kubernetes_secret_payloads(text: str) -> Iterator[Payload]:
    """Values under a Secret's `data:`/`binaryData:` (YAML block or JSON object)."""
    for block in DATA_BLOCK.finditer(text):
        indent = len(block.group(1).expandtabs())
        position = block.end() + 1
        while position < len(text):
            line_end = text.find("\n", position)
            line_end = len(text) if line_end < 0 else line_end
            line = text[position:line_end]
            if line.strip() and not line.lstrip().startswith("#"):
                entry = YAML_ENTRY.match(line)
                if entry is None or len(entry.group(1).expandtabs()) <= indent:
                    break
                yield Payload(position + entry.start(5), position + entry.end(5), entry.group(5),
                              f"Kubernetes Secret data '{entry.group(3)}'")
            position = line_end + 1
    for block in JSON_DATA.finditer(text):
        for entry in JSON_ENTRY.finditer(block.group(1)):
            offset = block.start(1)
            yield Payload(offset + entry.start(2), offset + entry.end(2), entry.group(2),
                          f"Kubernetes Secret data '{entry.group(1)}'")


def decode_base64_text(encoded: str) -> str | None:
    """The payload as text, or None if it is not base64 of UTF-8 text."""
    if len(encoded) > MAX_PAYLOAD_CHARS:
        return None
    try:
        data = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        text = data.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    printable = sum(1 for c in text if c.isprintable() or c in "\n\r\t")
    return text if text and printable >= 0.95 * len(text) else None


def spans(text: str, payloads: list[Payload]) -> Iterator[tuple[int, int, int, int]]:
    """1-based (line, column, end line, end column) of each payload, counting lines once."""
    line, previous = 1, 0

    def position(offset: int) -> tuple[int, int]:
        nonlocal line, previous
        if offset >= previous:
            line += text.count("\n", previous, offset)
        else:
            line -= text.count("\n", offset, previous)
        previous = offset
        return line, offset - (text.rfind("\n", 0, offset) + 1) + 1

    for payload in payloads:
        start = position(payload.start)
        yield (*start, *position(payload.end))


class Anchor:
    """Places a finding in decoded text at the encoded text it came from, then lets the parent relocate it."""

    def __init__(self, parent: Chunk, line: int, column: int, end_line: int, end_column: int) -> None:
        self.parent = parent
        self.span = (line + parent.line_offset, column, end_line + parent.line_offset, end_column)

    def __call__(self, finding: Finding) -> Finding | None:
        line, column, end_line, end_column = self.span
        placed = finding.replace(line=line, column=column, end_line=end_line, end_column=end_column)
        return self.parent.relocate(placed) if self.parent.relocate is not None else placed
