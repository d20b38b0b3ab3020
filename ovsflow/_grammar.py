"""The Lark parser on grammars/dump_flows.lark, and its errors made ours."""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import Any

from lark import Lark, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput
from lark.exceptions import UnexpectedToken, VisitError

from ovsflow._build import ToRecords
from ovsflow.errors import ParseError

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

    Raises ParseError naming the line, the column and what was expected.
    """
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


def _short(token: str) -> str:
    return token if len(token) <= 20 else token[:20] + "..."


def _token_column(exc: ValueError, text: str) -> int:
    token = getattr(exc, "token", None)
    at = text.find(token) if token else -1
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
