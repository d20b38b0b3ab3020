"""The Lark parser on grammars/dump_flows.lark, and its errors made ours."""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path
from typing import Any

from lark import Lark, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput
from lark.exceptions import UnexpectedToken, VisitError

from ovsflow._build import ToRecords
from ovsflow.errors import ParseError
from ovsflow.limits import MAX_LINE_LENGTH, MAX_NESTING

GRAMMAR_NAME = "dump_flows.lark"


def grammar_path() -> Path:
    """Where the grammar file is: inside the installed package, or the repo."""
    packaged = resources.files("ovsflow") / "grammars" / GRAMMAR_NAME
    if packaged.is_file():
        return Path(str(packaged))
    # An editable install or a source checkout: grammars/ beside the package.
    return Path(__file__).resolve().parent.parent / "grammars" / GRAMMAR_NAME


@functools.cache
def parser() -> Lark:
    """The LALR parser, built once per process."""
    return Lark(
        grammar_path().read_text(encoding="utf-8"),
        # LALR: linear time and no backtracking; the grammar is written for it.
        parser="lalr",
        # Keys and action lists are also parsed on their own, for the cache.
        start=["start", "actions", "key"],
        # Optional [args] become None, so transformer methods have fixed arity.
        maybe_placeholders=True,
        # Positions are needed for error messages, not for records.
        propagate_positions=False,
    )


_TRANSFORMER = ToRecords()

# How terminals are named in error messages.
_DESCRIBE = {
    "SEP": "',' or ', '",
    "COMMA": "','",
    "LPAR": "'('",
    "RPAR": "')'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "EQUAL": "'='",
    "SLASH": "'/'",
    "COLON": "':'",
    "ACTIONS": "'actions:'",
    "NAME": "a key or statistic name",
    "WORD": "a value",
    "ATTR_VALUE": "a value",
    "TRAILER": "', dp-extra-info:'",
    "TRAILER_VALUE": "text",
    "HEXDUMP": "hex bytes",
    "ANGLED": "'<...>'",
    "EMPTY": "'<empty>'",
    "INT": "a number",
    "$END": "the end of the line",
}


def describe_expected(names: set[str] | frozenset[str]) -> str:
    """A readable list of what the parser would have accepted."""
    useful = sorted({_DESCRIBE.get(n, n) for n in names if not n.startswith("_")})
    # A few terminals only fit odd text OVS prints for broken attributes; they
    # would distract from what a normal line needs at that point.
    odd = {
        "UNFORMATTABLE_KEY",
        "LEFTOVER",
        "BAD_LENGTH",
        "UNKNOWN_HASH",
        "'<empty>'",
        "COMMENT",
        "MAIN_HEADER",
        "META_PREFIX",
        "PMD_HEADER",
    }
    useful = [u for u in useful if u not in odd] or useful
    if not useful:
        return "nothing more"
    if len(useful) == 1:
        return useful[0]
    return "one of " + ", ".join(useful)


def parse_line(text: str, start: str = "start", line: int = 1) -> Any:
    """Parse one line with the grammar and build its record.

    Raises ParseError naming the line, the column and what was expected;
    a line over the limits of :mod:`ovsflow.limits` is refused before Lark
    sees it.
    """
    check_limits(text, line)
    try:
        tree = parser().parse(text, start=start)
        return _TRANSFORMER.transform(tree)
    except VisitError as exc:
        orig = exc.orig_exc
        if isinstance(orig, ValueError):
            column = getattr(orig, "column", None) or _token_column(orig, text)
            raise ParseError(str(orig), text=text, line=line, column=column) from orig
        raise
    except UnexpectedInput as exc:
        raise _parse_error(exc, text, line) from exc
    except RecursionError:
        raise ParseError(
            "nesting too deep to parse", text=text, line=line, column=1
        ) from None


def check_limits(text: str, line: int = 1) -> None:
    """Refuse a line longer than MAX_LINE_LENGTH or nested deeper than MAX_NESTING.

    One linear scan, so that neither Lark nor the transformer (which recurses
    once per level) ever sees such a line.  Raises ParseError at the first
    character past the limit.
    """
    if len(text) > MAX_LINE_LENGTH:
        raise ParseError(
            f"line too long: {len(text)} characters, the limit is {MAX_LINE_LENGTH}",
            text=text,
            line=line,
            column=MAX_LINE_LENGTH + 1,
            expected="a shorter line",
        )
    if text.count("(") + text.count("{") <= MAX_NESTING:
        return  # cannot nest deeper than it has brackets
    depth = 0
    for m in _BRACKETS.finditer(text):
        if m.group() in "({":
            depth += 1
            if depth > MAX_NESTING:
                raise ParseError(
                    f"nested too deep: more than {MAX_NESTING} levels of brackets",
                    text=text,
                    line=line,
                    column=m.start() + 1,
                    expected="fewer nested brackets",
                )
        else:
            depth = max(depth - 1, 0)


_BRACKETS = re.compile(r"[(){}]")


def _short(token: str) -> str:
    return token if len(token) <= 20 else token[:20] + "..."


def _token_column(exc: ValueError, text: str) -> int:
    token = getattr(exc, "token", None)
    at = text.find(token, getattr(exc, "search_from", 0)) if token else -1
    return at + 1 if at >= 0 else 1


def _parse_error(exc: UnexpectedInput, text: str, line: int) -> ParseError:
    if isinstance(exc, UnexpectedEOF):
        column = len(text) + 1
        expected = describe_expected(set(exc.expected))
        found = "the end of the line"
    elif isinstance(exc, UnexpectedToken):
        column = exc.column if isinstance(exc.column, int) else 1
        expected = describe_expected(exc.accepts or exc.expected)
        found = (
            "the end of the line"
            if exc.token.type == "$END"
            else repr(_short(str(exc.token)))
        )
        if exc.token.type == "$END":
            column = len(text) + 1
    elif isinstance(exc, UnexpectedCharacters):
        column = exc.column
        expected = describe_expected(exc.allowed or set())
        found = repr(text[column - 1 : column + 9]) if column <= len(text) else "?"
    else:  # pragma: no cover - lark has no other kinds today
        column, expected, found = 1, "a flow", "?"
    message = f"expected {expected}, found {found}"
    return ParseError(message, text=text, line=line, column=column, expected=expected)
