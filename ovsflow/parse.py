"""Parsing flow lines and whole dumps.

:func:`parse_flow` reads one line.  Most lines take the fast path: the line
is cut at its top-level separators with regular expressions, each distinct
match key and each distinct action list is parsed once and reused (records
are immutable, so flows share them), and flat keys such as
``ipv4(src=...,dst=...)`` are split directly.  Anything the fast path is not
sure of goes to the Lark grammar, which is the one description of the
syntax; a test checks that both give equal records on every line we have.

:func:`parse_dump` reads a whole dump and streams flows.
"""

from __future__ import annotations

import re

from ovsflow import _grammar
from ovsflow._build import Item, assemble, field, key, masked
from ovsflow.actions import Action, make_action
from ovsflow.errors import ParseError
from ovsflow.records import Arg, Flow, Key

# One top-level item: a key without nested parentheses, or name:value.
_FLAT_ITEM = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*(?:\([^()]*\)|:[^\s,]+)")
# The start of a key with nested parentheses, such as tunnel(...geneve(...)).
_NESTED_ITEM = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\(")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_SEP = re.compile(r", ?| ")
_PARENS = re.compile(r"[()]")
# The inside of a flat key the fast path may split on "," "=" and "/":
# name=value[/mask] or value[/mask], all tokens made of WORD characters.
_W = r"[^\s,()/={}]+"
_FLAT_ARGS = re.compile(rf"(?:{_W}(?:={_W})?(?:/{_W})?(?:,(?=.)|\Z))*\Z")
_BARE_ACTIONS = re.compile(r"[A-Za-z0-9_.-]+(?:,[A-Za-z0-9_.-]+)*\Z")
_ACTIONS = "actions:"
_TRAILER = re.compile(r", ?dp-extra-info:")

# Parsed keys and action lists by their text.  Shared, immutable records; the
# caches are cleared when they grow past their limit so memory stays bounded.
_KEYS: dict[str, Key] = {}
_ACTION_LISTS: dict[str, tuple[Action, ...]] = {}
_CACHE_LIMIT = 1 << 17


def parse_flow(text: str, *, line: int = 1, section: str | None = None) -> Flow:
    """Parse one line of ``dpctl/dump-flows`` output into a Flow.

    A trailing newline is ignored.  Raises :class:`~ovsflow.ParseError`,
    naming the column and what was expected, when the line is not a flow.

    >>> flow = parse_flow("in_port(1),eth_type(0x0800), packets:3, bytes:180, "
    ...                   "used:0.5s, actions:2")
    >>> flow.match.in_port, flow.stats.packets, flow.actions[0].port
    (1, 3, 2)
    """
    text = text.rstrip("\r\n")
    flow = _fast(text, line, section)
    if flow is not None:
        return flow
    result = _grammar.parse_line(text, line=line)
    if not isinstance(result, Flow):
        raise ParseError(
            f"expected a flow, found a {result[0]} line", text=text, line=line
        )
    return _relocate(result, line, section)


def parse_flow_reference(text: str, *, line: int = 1) -> Flow:
    """Parse a line with the Lark grammar alone, bypassing fast path and caches.

    Slow; for tests that check the fast path against the grammar.
    """
    result = _grammar.parse_line(text.rstrip("\r\n"), line=line)
    if not isinstance(result, Flow):
        raise ParseError("expected a flow", text=text, line=line)
    return _relocate(result, line, None)


def _relocate(flow: Flow, line: int, section: str | None) -> Flow:
    return Flow(
        flow.match,
        flow.actions,
        flow.stats,
        flow.ufid,
        flow.offloaded,
        flow.dp,
        flow.dp_extra_info,
        flow.attrs,
        line,
        section,
        flow.layout,
    )


# ---- The fast path -------------------------------------------------------


def _fast(text: str, line: int, section: str | None) -> Flow | None:
    """The flow on the fast path, or None to let the grammar decide."""
    try:
        split = _split_line(text)
        if split is None:
            return None
        items, actions_text, trailer = split
        actions = _ACTION_LISTS.get(actions_text)
        if actions is None:
            actions = _parse_actions(actions_text)
        return assemble(items, actions, trailer, line, section)
    except ValueError:  # SemanticError, ParseError and bad addresses alike
        return None  # the grammar path reports it with a column


def _split_line(
    text: str,
) -> tuple[list[Item], str, tuple[str, str] | None] | None:
    """Top-level items, action text and trailer of a line; None if unsure."""
    items: list[Item] = []
    pos = 0
    while not text.startswith(_ACTIONS, pos):
        m = _FLAT_ITEM.match(text, pos)
        if m is not None:
            end = m.end()
        else:
            m = _NESTED_ITEM.match(text, pos)
            if m is None:
                return None
            end = _close_paren(text, m.end())
            if end < 0:
                return None
        s = _SEP.match(text, end)
        if s is None:
            return None
        items.append((_item(text[pos:end]), s.group()))
        pos = s.end()
    if not items:
        return None
    rest = text[pos + len(_ACTIONS) :]
    trailer = None
    t = _TRAILER.search(rest)
    if t is not None:
        trailer = (t.group()[: -len("dp-extra-info:")], rest[t.end() :])
        rest = rest[: t.start()]
    if not rest or (not trailer and "dp-extra-info:" in rest):
        return None
    return items, rest, trailer


def _close_paren(text: str, pos: int) -> int:
    """The index after the parenthesis that closes the one before ``pos``."""
    depth = 1
    for m in _PARENS.finditer(text, pos):
        depth += 1 if m.group() == "(" else -1
        if depth == 0:
            return m.end()
    return -1


def _item(text: str) -> Key | tuple[str, str]:
    cached = _KEYS.get(text)  # first: most items of a line are cached keys
    if cached is not None:
        return cached
    name_end = _NAME.match(text).end()  # type: ignore[union-attr]
    if text[name_end] == ":":
        return (text[:name_end], text[name_end + 1 :])
    k = _flat_key(text)
    if k is None:
        k = _grammar.parse_line(text, start="key")
    if len(_KEYS) >= _CACHE_LIMIT:
        _KEYS.clear()
    _KEYS[text] = k
    return k


def _flat_key(text: str) -> Key | None:
    """A key with no nested parentheses, split without the grammar."""
    open_at = text.index("(")
    inner = text[open_at + 1 : -1]
    if "(" in inner or not _FLAT_ARGS.match(inner):
        return None
    args: list[Arg] = []
    if inner:
        for part in inner.split(","):
            name, eq, value = part.partition("=")
            if not eq:
                name, value = "", part
            v, _, m = value.partition("/")
            arg = masked(v, m or None, value)
            args.append(field(name, arg) if eq else arg)
    return key(text[:open_at], tuple(args))


def _parse_actions(text: str) -> tuple[Action, ...]:
    if _BARE_ACTIONS.match(text):
        actions = tuple(make_action(masked(a, None, a)) for a in text.split(","))
    else:
        actions = _grammar.parse_line(text, start="actions")
    if len(_ACTION_LISTS) >= _CACHE_LIMIT:
        _ACTION_LISTS.clear()
    _ACTION_LISTS[text] = actions
    return actions
