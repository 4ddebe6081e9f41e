"""Line starts of a text, for turning offsets into lines (and lines into text) after the fact."""

from __future__ import annotations


def line_starts(text: str) -> list[int]:
    """Offset of the first character of every line, the first line's 0 included."""
    starts = [0]
    position = text.find("\n")
    while position >= 0:
        starts.append(position + 1)
        position = text.find("\n", position + 1)
    return starts
