"""Parsing flow lines and whole dumps.

:func:`parse_flow` reads one line.  Almost every line takes the fast path:

1. one regular expression checks the top-level layout (``item SEP ...
   actions:``) and a second cuts the items out of it;
2. each distinct match key and each distinct action list is built once and
   reused (records are immutable, so flows share them);
3. a key or action list not seen before is split by :func:`_parse_args`, a
   loop over the text cut at ``( ) , = / { }`` with an explicit stack (no
   recursion, so a deep line cannot exhaust Python's stack);
4. the records are made by the same functions of :mod:`ovsflow._build` the
   Lark transformer calls, so both paths type every value alike.

Anything the fast path is not sure of (whitespace or ``<`` inside a key,
deep nesting, a line past :data:`~ovsflow.limits.MAX_LINE_LENGTH`, any
value a builder refuses) goes to the Lark grammar, which is the one
description of the syntax and reports errors with their column.
``tests/test_fastpath.py`` checks that both paths give identical records.

:func:`~ovsflow.dump.parse_dump` reads a whole dump and streams flows.
"""

from __future__ import annotations

import re

from ovsflow import _grammar
from ovsflow._build import (
    Item,
    assemble,
    field,
    geneve_option,
    key,
    masked,
    node,
)
from ovsflow.actions import Action, make_action
from ovsflow.errors import ParseError
from ovsflow.limits import MAX_LINE_LENGTH
from ovsflow.records import Arg, Field, Flow, GeneveOptions, Key, Node
from ovsflow.values import Masked

# ---- Top level -----------------------------------------------------------

_NAME = r"[A-Za-z_][A-Za-z0-9_.-]*+"


def _balanced(depth: int) -> str:
    """A regex for text whose parentheses balance, nested at most ``depth``.

    Possessive quantifiers: the regex never backtracks, so it runs in time
    linear in the line.
    """
    inner = r"[^()]*+"
    for _ in range(depth):
        inner = rf"(?:[^()]++|\({inner}\))*+"
    return inner


# Keys nested deeper than this at the top level (none that OVS prints: QinQ
# encap(encap(...)) is 3) go to the grammar.
_TOP_DEPTH = 8
_KEY = rf"{_NAME}\({_balanced(_TOP_DEPTH - 1)}\)"
# An item and its separator: a key, or NAME:VALUE (ufid, statistics and
# attributes); "actions:" ends the items, as ACTIONS outranks NAME in the
# grammar.
_SEP = r", ?| "
_ITEM = rf"(?!actions:)(?:{_KEY}|{_NAME}:[^\s,]++)(?:{_SEP})"
# The whole layout up to "actions:", checked in one pass.  (No capturing
# groups under a possessive repeat: Python 3.11.7's re fails on those.)
_LAYOUT = re.compile(rf"(?:{_ITEM})++actions:")
# The same items cut out one by one: (key text, name, value, separator).
_ITEMS = re.compile(rf"(?!actions:)(?:({_KEY})|({_NAME}):([^\s,]++))({_SEP})")
_TRAILER = re.compile(r", ?dp-extra-info:")

# ---- Inside keys and actions ---------------------------------------------

# The characters that give key-value text its structure.
_STRUCTURE = re.compile(r"([(),=/{}])")
# What the fast path leaves to the grammar inside a key or action list:
# whitespace (hex dumps, "bad length ..." texts) and "<" (<empty>, <...>).
_UNSURE = re.compile(r"[\s<]")
# A nesting depth past which the fast path gives up and lets the grammar
# (and its limit, ovsflow.limits.MAX_NESTING) decide; as deep as OVS itself
# nests attributes (MAX_ODP_NESTED in lib/odp-util.c).
_FAST_DEPTH = 32

# Parsed keys and action lists by their text.  Shared, immutable records.  A
# cache is emptied when it reaches its limit, so memory stays bounded: the
# three together held 13 MiB for 28,000 entries of benchmarks/parse.py's
# many_flows (about 0.5 kB an entry), so at most about 25 MiB.
_KEYS: dict[str, Key] = {}
_ACTION_LISTS: dict[str, tuple[Action, ...]] = {}
# Arguments (name=value/mask, value/mask, value) by their text: distinct
# keys still share most of their fields ("proto=6", "ttl=64/0", "frag=no").
_ARGS: dict[str, Field | Masked] = {}
_CACHE_LIMIT = 1 << 14

# A key with no nesting: name=value/mask or value/mask, comma-separated.
_W = r"[^\s,()/={}<]++"
_FLAT_ARG = rf"{_W}(?:={_W})?+(?:/{_W})?+"
_FLAT = re.compile(rf"{_FLAT_ARG}(?:,{_FLAT_ARG})*+")


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
    if len(text) > MAX_LINE_LENGTH:
        return None
    layout = _LAYOUT.match(text)
    if layout is None:
        return None
    end = layout.end()  # just after "actions:"
    try:
        # 1. The top-level items: keys from the cache, statistics as text.
        keys = _KEYS
        items: list[Item] = [
            ((keys.get(k) or _new_key(k)) if k else (name, value), sep)
            for k, name, value, sep in _ITEMS.findall(text, 0, end - 8)
        ]

        # 2. The actions, and the dp-extra-info trailer after them.
        rest = text[end:]
        trailer = None
        if "dp-extra-info:" in rest:
            t = _TRAILER.search(rest)
            if t is None:
                return None
            trailer = (t.group()[: -len("dp-extra-info:")], rest[t.end() :])
            rest = rest[: t.start()]
        actions = _ACTION_LISTS.get(rest)
        if actions is None:
            actions = _new_actions(rest)
        return assemble(items, actions, trailer, line, section)
    except _Unsure:
        return None
    except ValueError:  # SemanticError, ParseError and bad values alike
        return None  # the grammar path reports it with a column


def clear_caches() -> None:
    """Forget every parsed key, action list and argument (for benchmarks)."""
    _KEYS.clear()
    _ACTION_LISTS.clear()
    _ARGS.clear()


class _Unsure(Exception):
    """The fast path cannot vouch for this text; the grammar decides."""


def _new_key(text: str) -> Key:
    """Build and cache the Key for the text of a top-level key."""
    open_at = text.index("(")
    inner = text[open_at + 1 : -1]
    if not inner:
        args: tuple[Arg, ...] = ()
    elif _FLAT.fullmatch(inner):
        args = tuple(_ARGS.get(a) or _new_arg(a) for a in inner.split(","))
    else:
        args = _parse_args(inner, False)
    k = key(text[:open_at], args)
    if len(_KEYS) >= _CACHE_LIMIT:
        _KEYS.clear()
    _KEYS[text] = k
    return k


def _new_arg(text: str) -> Field | Masked:
    """Build and cache one argument: ``name=value/mask``, ``value/mask``..."""
    name, eq, rest = text.partition("=")
    if not eq:
        rest = text
    value, slash, mask = rest.partition("/")
    arg = masked(value, mask if slash else None, rest)
    built = field(name, arg) if eq else arg
    if len(_ARGS) >= _CACHE_LIMIT:
        _ARGS.clear()
    _ARGS[text] = built
    return built


def _new_actions(text: str) -> tuple[Action, ...]:
    """Build and cache the actions for the text after ``actions:``."""
    if not text:
        raise _Unsure
    actions = tuple(make_action(a) for a in _parse_args(text, True))
    if len(_ACTION_LISTS) >= _CACHE_LIMIT:
        _ACTION_LISTS.clear()
    _ACTION_LISTS[text] = actions
    return actions


# Where _parse_args is in an argument list: at the start of an argument,
# just after "(" (where ")" may follow at once), after "name=", after
# "value/" or "name=value/", and after ")" or "}".
_ARG, _OPEN, _FIELD_VALUE, _FIELD_MASK, _MASK, _CLOSED = range(6)
_VALUE_ENDS = frozenset({",", ")", "}", ""})


def _parse_args(text: str, actions: bool) -> tuple[Arg, ...]:
    """The arguments of a key, or (``actions``) a list of actions.

    ``text`` is what is between a key's parentheses, or what follows
    ``actions:``.  Raises :class:`_Unsure` for anything that is not plainly
    grammatical, so that the grammar gives the error.

    The text is cut into words and the structure characters after them
    (``ct(zone=5)`` gives the pairs ``ct (``, ``zone =``, ``5 )``, `` ``);
    each pair moves a small state machine.  ``stack`` holds what is open: a
    call (its name), a group (``""``) or a Geneve option (``"{"``), with the
    argument list it belongs to and, for an option, the options before it
    in the same ``{...}{...}`` list.
    """
    if not text:
        return ()
    if _UNSURE.search(text):
        raise _Unsure
    parts = _STRUCTURE.split(text)
    parts.append("")  # the end of the text, as one more structure character
    args: list[Arg] = []
    stack: list[tuple[str, list[Arg], list[object]]] = []
    options: list[object] | None = None  # a Geneve option list being read
    state = _ARG
    name = value = ""
    for i in range(0, len(parts), 2):
        word, delim = parts[i], parts[i + 1]

        # 1. The word, read according to where we are and what follows it.
        if state in (_ARG, _OPEN):
            if delim in ("(", "{"):
                top = actions and not stack
                if len(stack) >= _FAST_DEPTH or (top and (delim == "{" or not word)):
                    raise _Unsure  # too deep, or a group or option as an action
                if delim == "{" and word:
                    raise _Unsure
                stack.append((word if delim == "(" else "{", args, []))
                args, state = [], _OPEN
                continue
            if not word:
                if state == _OPEN and delim == ")":
                    state = _ARG  # "name()": no arguments
                else:
                    raise _Unsure
            elif delim == "=" or delim == "/":
                if actions and not stack:
                    raise _Unsure  # an action is a call or a bare value
                if delim == "=":
                    name, state = word, _FIELD_VALUE
                else:
                    value, state = word, _MASK
                continue
            else:
                args.append(_ARGS.get(word) or _new_arg(word))
        elif state == _FIELD_VALUE:
            if not word or (delim not in _VALUE_ENDS and delim != "/"):
                raise _Unsure
            if delim == "/":
                value, state = word, _FIELD_MASK
                continue
            text = f"{name}={word}"
            args.append(_ARGS.get(text) or _new_arg(text))
        elif state in (_FIELD_MASK, _MASK):
            if not word or delim not in _VALUE_ENDS:
                raise _Unsure
            text = (
                f"{name}={value}/{word}" if state == _FIELD_MASK else f"{value}/{word}"
            )
            args.append(_ARGS.get(text) or _new_arg(text))
        elif word:  # _CLOSED: only a structure character may follow ")" or "}"
            raise _Unsure

        # 2. The structure character that ends the argument.
        if options is not None:
            if delim == "{":  # the next option of the same list
                stack.append(("{", args, options))
                args, state, options = [], _OPEN, None
                continue
            args.append(GeneveOptions(tuple(options)))  # type: ignore[arg-type]
            options = None
        state = _ARG
        if delim == ")":
            if not stack or stack[-1][0] == "{":
                raise _Unsure
            call, parent, _ = stack.pop()
            built = tuple(args)
            parent.append(Node("", built) if not call else node(call, built))
            args, state = parent, _CLOSED
        elif delim == "}":
            if not stack or stack[-1][0] != "{" or not args:
                raise _Unsure
            _, parent, before = stack.pop()
            options = [*before, geneve_option(tuple(args))]
            args, state = parent, _CLOSED
        elif delim == "":  # the end of the text
            if stack:
                raise _Unsure
        elif delim != ",":  # "(", "=", "/" or "{" after a value or a call
            raise _Unsure
    return tuple(args)


__all__ = ["parse_flow", "parse_flow_reference"]
