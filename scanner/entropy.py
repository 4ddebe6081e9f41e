"""Shannon entropy of a candidate secret, in bits per character."""

from __future__ import annotations

import math
from collections import Counter


def shannon_entropy(text: str) -> float:
    if not text:
        return 0.0
    length = len(text)
    return -sum(n / length * math.log2(n / length) for n in Counter(text).values())
