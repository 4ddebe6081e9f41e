"""Hyperscan forms of rule patterns: looser patterns that find every place a rule could match.

Hyperscan has no look-behind, but most generic rules are written look-behind first (anchored
on the quote before a value, the name before it checked behind). The form built here keeps
their meaning as a filter: `P(?<=Y)S` becomes `YS` (what the look-behind saw, then the rest).
Other look-arounds and the anchors Hyperscan cannot keep are dropped, scoped flags become
Hyperscan's own, and a trailing run is cut to its shortest (one report per match, not one per
character). Each step only loosens the pattern or drops its tail, so wherever the rule's regex
matches, the form matches too and ends inside that match: the engine confirms with the real
regex on the lines around those ends and skips the rest of the chunk. Anything else (back-
references, non-ASCII literals, syntax only the `regex` module knows) has no form: such a rule
keeps keyword windows.

Forms read bytes, the rules read characters: the engine hands Hyperscan the text with every
non-ASCII character replaced by one OTHER byte (DEL), so offsets stay character offsets, and the
forms let OTHER stand for any character a class could hold: it is a word character, a digit and
a space to `\\w`, `\\d` and `\\s`, and not one to their negations. Word boundaries, which would
need to know which, are dropped. (Case-insensitive ASCII letters that fold to non-ASCII ones, the
Kelvin sign for `k`, are not looked for.)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

try:  # Python's own regex parser: the rules' syntax, once branch resets are plain groups
    import re._parser as sre_parse  # type: ignore[import-not-found]
    from re._constants import MAXREPEAT  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - Python < 3.11 is not supported anyway
    sre_parse = None
    MAXREPEAT = None

IGNORECASE = 2  # re.IGNORECASE
OTHER = "\x7f"  # stands for any non-ASCII character in the bytes Hyperscan reads
SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f "  # what Python's \s matches among ASCII characters
CATEGORIES = {  # the ASCII members of each class, and whether the class is negated
    "CATEGORY_DIGIT": ("0-9", False),
    "CATEGORY_WORD": ("A-Za-z0-9_", False),
    "CATEGORY_SPACE": (SPACE, False),
    "CATEGORY_NOT_DIGIT": ("0-9", True),
    "CATEGORY_NOT_WORD": ("A-Za-z0-9_", True),
    "CATEGORY_NOT_SPACE": (SPACE, True),
}
LOOSE_BOUND = 64  # repeats bounded above this become open: the same filter, a smaller database
REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")


@dataclass(frozen=True)
class Form:
    """A part's Hyperscan form; `behind`: it starts with a look-behind's text, so what came
    before it in enclosing sequences must be dropped; `weight`: how selective it is (literals)."""

    text: str
    behind: bool = False
    weight: float = 0.0


class Unsupported(Exception):
    """The pattern uses something with no loosened Hyperscan form (a back-reference)."""


def hyperscan_form(pattern: str) -> str:
    """A Hyperscan pattern that matches wherever `pattern` matches, ending inside each match.

    Compile it with HS_FLAG_MULTILINE and HS_FLAG_DOTALL (looser than any scoped m/s flag)."""
    parsed = _parse(pattern)
    text = _sequence(_cut_tail(list(parsed)), rewrite=True, leading=True).text
    return f"(?i:{text})" if parsed.state.flags & IGNORECASE else text


def match_reach(pattern: str) -> tuple[int, int] | None:
    """How far a match of `pattern` can reach before and after a place its form reports: the
    longest match before it, and after it too where the form's tail was cut (else the place is
    the match's end). None when matches are unbounded."""
    parsed = _parse(pattern)
    width = parsed.getwidth()[1]
    if width >= MAXREPEAT:
        return None
    items = list(parsed)
    cut = _sequence(_cut_tail(items), rewrite=True).text != _sequence(items, rewrite=True).text
    return width, width if cut else 0


def _parse(pattern: str) -> Any:
    if sre_parse is None:
        raise Unsupported("no regex parser")
    try:
        with warnings.catch_warnings():
            # `re` warns where the `regex` module reads differently ([[:alpha:]], nested sets).
            warnings.simplefilter("error")
            return sre_parse.parse(pattern.replace("(?|", "(?:"))
    except Exception as error:  # the `regex` module accepts a few things `re` does not
        raise Unsupported(str(error)) from error


def _cut_tail(items: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """The pattern up to its last required step, with a trailing run cut to its minimum length.

    An open-ended run at the end (`[^\\s"]{8,}`) would report every offset along it; cut short,
    it reports one place inside each match, which is all the windows need."""
    items = list(items)
    while items:
        op, av = str(items[-1][0]), items[-1][1]
        if op in ("AT", "ASSERT", "ASSERT_NOT") or (op in REPEATS and av[0] == 0):
            items.pop()  # zero-width or optional: the match goes on past what is kept
            continue
        if op in REPEATS:
            low, _high, inner = av
            # Fewer rounds than the rule needs still match a prefix of every match; the last
            # round's own tail may be cut only when it is the one round (ab)(ab) -> (a)(a) is not.
            rounds = min(low, LOOSE_BOUND)
            inner = _cut_tail(list(inner)) if rounds == 1 else list(inner)
            items[-1] = (items[-1][0], (rounds, rounds, inner))
        elif op == "SUBPATTERN":
            group, add_flags, del_flags, inner = av
            inner = _cut_tail(list(inner))
            if not inner:
                items.pop()
                continue
            items[-1] = (items[-1][0], (group, add_flags, del_flags, inner))
        elif op == "BRANCH":
            branches = [_cut_tail(list(branch)) for branch in av[1]]
            if not all(branches):
                items.pop()  # one alternative is now empty: the whole group may be
                continue
            items[-1] = (items[-1][0], (av[0], branches))
        break
    return items


def _sequence(items: list[tuple[Any, Any]], *, rewrite: bool, leading: bool = False) -> Form:
    """`leading`: nothing comes before this sequence in the pattern, so a look-behind anywhere in
    its first item drops nothing outside it."""
    parts: list[Form] = []
    behind = False
    previous = ""
    for op, av in items:
        form = _item(str(op), av, rewrite=rewrite, leading=leading and not any(p.text for p in parts))
        if form.behind and previous in REPEATS and _is_word_check(str(op), av):
            # `(?i:acme)[\w.-]{0,30}(?<=key)`: the name, then a run that ends in the word. The word is
            # appended after the run (which gives up its last characters to it), so both stay in the
            # form. A word reaching back past the run would be missed: each form is checked against
            # its rule's examples when it is compiled.
            form = Form(form.text, False, form.weight)
        elif form.behind:
            if sum(part.weight for part in parts) > form.weight:
                # What comes before says more than what the look-behind checks: keep it, drop the look-behind.
                form = _item(str(op), av, rewrite=False)
            else:
                parts, behind = [], True
        parts.append(form)
        previous = str(op)
    return Form("".join(p.text for p in parts), behind, sum(p.weight for p in parts))


def _is_word_check(op: str, av: Any) -> bool:
    """A look-behind for one of a few literal words (`key`, `api_key`, `client(` …)."""
    if op != "ASSERT" or av[0] >= 0:
        return False
    words = _alternatives(list(av[1]))
    return words is not None and 0 < len(words) <= 64 and all(0 < len(w) <= 32 for w in words)


def _item(op: str, av: Any, *, rewrite: bool, leading: bool = False) -> Form:
    if op == "LITERAL":
        return Form(_literal(av), False, 1.0 if chr(av).isalnum() else 0.5)
    if op == "NOT_LITERAL":
        return Form(f"[^{_class_char(av)}]")
    if op == "ANY":
        return Form(".")
    if op == "IN":
        return Form(_class(av), False, 0.5 if len(av) <= 4 and str(av[0][0]) == "LITERAL" else 0.0)
    if op == "CATEGORY":
        chars, negated = CATEGORIES[str(av)]
        return Form(f"[^{chars}]" if negated else f"[{chars}\\x7f]")
    if op == "BRANCH":
        return _branch([list(branch) for branch in av[1]], rewrite=rewrite, leading=leading)
    if op == "SUBPATTERN":
        _group, add_flags, del_flags, inner = av
        form = _sequence(list(inner), rewrite=rewrite, leading=leading)
        return Form(f"({_scoped_flags(add_flags, del_flags)}{form.text})", form.behind, form.weight)
    if op == "ATOMIC_GROUP":
        form = _sequence(list(av), rewrite=rewrite)
        return Form(f"(?:{form.text})", form.behind, form.weight)
    if op in REPEATS:
        return _repeat(av, rewrite=rewrite)
    if op == "AT":
        if leading and str(av) == "AT_BOUNDARY":
            # Nothing before it in the pattern: `\bes` may keep its boundary as a character that
            # is not a word character (OTHER counts as one: looser) or the start.
            return Form(f"(?:^|[^{CATEGORIES['CATEGORY_WORD'][0]}])")
        return Form(_anchor(str(av)))
    if op == "ASSERT":
        direction, inner = av
        if direction < 0 and rewrite:  # P(?<=Y)S -> YS
            form = _sequence(list(inner), rewrite=True)
            # A look-behind for a word every config file holds (`key`, `token` …) says less than a
            # provider's name before it, however short: `(?i:acme)\w*(?<=key)` keeps `acme`.
            weight = COMMON_WORD_WEIGHT if _only_common_words(list(inner)) else form.weight
            return Form(f"(?:{form.text})", True, weight)
        return Form("")  # a look-ahead, or a look-behind we cannot place: dropped (looser)
    if op == "ASSERT_NOT":
        direction, inner = av
        if leading and direction < 0 and (members := _single_class(list(inner))) is not None:
            return Form(f"(?:^|[^{members}])")  # `(?<![a-z])acme` at the start: acme after a non-letter
        return Form("")
    raise Unsupported(op)


COMMON_WORDS = {"key", "token", "secret", "password", "passwd", "pass", "pwd", "auth", "apikey", "api_key",
                "api-key", "api.key", "api key", "access", "credential", "credentials", "bearer"}
COMMON_WORD_WEIGHT = 0.5


def _only_common_words(items: list[tuple[Any, Any]]) -> bool:
    """Whether a look-behind checks nothing but common credential words (any case, any separator)."""
    words = _alternatives(items)
    return words is not None and all(w.lower() in COMMON_WORDS for w in words)


def _alternatives(items: list[tuple[Any, Any]]) -> set[str] | None:
    """The literal strings a sequence can match, or None if it is not a choice of literals (a
    separator class between words counts as any one separator)."""
    if len(items) == 1 and str(items[0][0]) == "SUBPATTERN":
        return _alternatives(list(items[0][1][3]))
    if len(items) == 1 and str(items[0][0]) == "BRANCH":
        found: set[str] = set()
        for branch in items[0][1][1]:
            words = _alternatives(list(branch))
            if words is None:
                return None
            found |= words
        return found
    texts = [""]
    for op, av in items:
        op = str(op)
        if op == "LITERAL":
            texts = [t + chr(av) for t in texts]
        elif op in REPEATS and av[0] == 0 and av[1] == 1:  # an optional separator: `api[_.-]?key`
            texts = [t + suffix for t in texts for suffix in ("", "_")]
        elif op == "IN":
            texts = [t + "_" for t in texts]
        elif op in ("SUBPATTERN", "BRANCH"):
            words = _alternatives([(op, av)])
            if words is None:
                return None
            texts = [t + w for t in texts for w in words]
        else:
            return None
    return {t.replace("_", "") if t.replace("_", "") in COMMON_WORDS else t for t in texts}


def _branch(branches: list[list[tuple[Any, Any]]], *, rewrite: bool, leading: bool = False) -> Form:
    forms = [_sequence(branch, rewrite=rewrite, leading=leading) for branch in branches]
    if any(f.behind for f in forms) and not all(f.behind for f in forms) and not leading:
        # Some alternatives would drop what precedes the group and others need it: keep it.
        # (Nothing precedes a leading group: each alternative keeps its own rewrite.)
        forms = [_sequence(branch, rewrite=False) for branch in branches]
    behind = any(f.behind for f in forms)
    return Form("(?:" + "|".join(f.text for f in forms) + ")", behind, min(f.weight for f in forms))


def _repeat(av: Any, *, rewrite: bool) -> Form:
    low, high, inner = av
    # A look-behind repeated more than once cannot stand in for what precedes each round.
    form = _sequence(list(inner), rewrite=rewrite and high <= 1)
    if not form.text:
        return Form("")
    bound = f"{{{low},}}" if high is MAXREPEAT or high > LOOSE_BOUND else f"{{{low},{high}}}"
    return Form(f"(?:{form.text}){bound}", form.behind, form.weight * min(low, 8))


def _anchor(kind: str) -> str:
    if kind in ("AT_BEGINNING", "AT_BEGINNING_LINE"):
        return "^"  # compiled multi-line: looser than the rule's `^`
    if kind in ("AT_END", "AT_END_LINE"):
        return "$"
    return ""  # \b, \B (OTHER may or may not be a word character), \A, \Z: dropped (looser)


def _scoped_flags(add_flags: int, del_flags: int) -> str:
    if add_flags & IGNORECASE:
        return "?i:"
    if del_flags & IGNORECASE:
        return "?-i:"
    return "?:"


def _class(items: list[tuple[Any, Any]]) -> str:
    negated = bool(items) and str(items[0][0]) == "NEGATE"
    pieces: list[str] = []
    for op, av in items[1:] if negated else items:
        op = str(op)
        if op == "LITERAL":
            pieces.append(_class_char(av))
        elif op == "RANGE":
            pieces.append(f"{_class_char(av[0])}-{_class_char(av[1])}")
        elif op == "CATEGORY":
            chars, category_negated = CATEGORIES[str(av)]
            if category_negated:
                if negated or len(items) > 1:
                    raise Unsupported("negated category inside a class")
                return f"[^{chars}]"
            # OTHER may be in the category: a class holding it matches OTHER, one excluding it
            # must not exclude OTHER (it may stand for a character outside the category).
            pieces.append(chars if negated else chars + "\\x7f")
        else:
            raise Unsupported(op)
    return f"[{'^' if negated else ''}{''.join(pieces)}]"


def _single_class(items: list[tuple[Any, Any]]) -> str | None:
    """The members of a one-character class or literal (not negated, ASCII), for its complement;
    OTHER is never one of them, so the complement keeps matching it (looser)."""
    if len(items) != 1:
        return None
    op, av = str(items[0][0]), items[0][1]
    if op == "LITERAL" and av < 128:
        return _class_char(av)
    if op != "IN" or (av and str(av[0][0]) == "NEGATE"):
        return None
    try:
        text = _class(list(av))
    except Unsupported:
        return None
    return text[1:-1].replace("\\x7f", "")


def _literal(code: int) -> str:
    if code > 127:
        raise Unsupported("non-ASCII literal")
    char = chr(code)
    return char if char.isalnum() or char == "_" else f"\\x{code:02x}"


def _class_char(code: int) -> str:
    if code > 127:
        raise Unsupported("non-ASCII literal")
    return chr(code) if chr(code).isalnum() else f"\\x{code:02x}"
