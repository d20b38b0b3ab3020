"""Parsing flow lines and whole dumps.

:func:`parse_flow` reads one line.  Almost every line takes the fast path:

1. one regular expression cuts the top-level items (``item SEP ...``) up
   to the first ``actions:``; when they do not run all the way there, a
   second checks the layout as a whole first;
2. each distinct top-level key, nested call, argument, action and action
   list is built once and reused (records are immutable, so flows share
   them), so a new line costs only its new pieces: the tnl_push header of
   a new connection shares its ``eth(...)`` with every other;
3. a nested key or action list is cut at its top-level commas by a regular
   expression, piece by piece; text that is not plain (Geneve options,
   odd nesting) goes to :func:`_parse_args`, a loop over the text cut at
   ``( ) , = / { }`` with an explicit stack (no recursion, so a deep line
   cannot exhaust Python's stack);
4. the records are made by the same functions of :mod:`ovsflow._build` the
   Lark transformer calls, so both paths type every value alike.

When ovsflow was built with a C compiler, :mod:`ovsflow._speedups` reads a
line laid out as OVS prints it (steps 1 and 2 for its commonest pieces, and
the records) in compiled code, with the same caches, and hands everything
else to the functions here; without it, they do it all.

Anything the fast path is not sure of (whitespace or ``<`` inside a key,
deep nesting, a line past :data:`~ovsflow.limits.MAX_LINE_LENGTH`, any
value a builder refuses) goes to the Lark grammar, which is the one
description of the syntax and reports errors with their column.
``tests/test_fastpath.py`` checks that both paths give identical records.

:func:`~ovsflow.dump.parse_dump` reads a whole dump and streams flows.
"""

from __future__ import annotations

import os
import re
from itertools import compress, count, repeat
from operator import is_, itemgetter

from ovsflow import _grammar
from ovsflow._build import (
    _USED,
    check_field,
    counter,
    field,
    geneve_option,
    key,
    masked,
    node,
    ufid_value,
    used_seconds,
)
from ovsflow.actions import Action, make_action
from ovsflow.errors import ParseError
from ovsflow.limits import MAX_LINE_LENGTH, MAX_NESTING
from ovsflow.records import (
    Arg,
    Field,
    Flow,
    GeneveOptions,
    Key,
    Match,
    Node,
    Stats,
    Unformattable,
    new_flow,
    new_match,
    new_node,
    new_stats,
)
from ovsflow.values import (
    _TYPED,
    FIELD_WIDTHS,
    FLAG_KINDS,
    KIND_TYPES,
    Masked,
    Widths,
)

try:
    from ovsflow import _speedups
except ImportError:  # built without a C compiler: the Python fast path alone
    _speedups = None  # type: ignore[assignment]
if os.environ.get("OVSFLOW_PURE_PYTHON") == "1":  # as if built without one
    _speedups = None  # type: ignore[assignment]

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
# The value of a NAME:VALUE item.  Brackets in one (no OVS prints them) are
# left to the grammar: they count towards its nesting limit.
_VALUE = r"[^\s,(){}]++"
_ITEM = rf"(?!actions:)(?:{_KEY}|{_NAME}:{_VALUE})(?:{_SEP})"
# The whole layout up to "actions:", checked in one pass.  (No capturing
# groups under a possessive repeat: Python 3.11.7's re fails on those.)
_LAYOUT = re.compile(rf"(?:{_ITEM})++actions:")
# The same items cut out one by one: (key text, name, value, separator).
_ITEMS = re.compile(rf"(?!actions:)(?:({_KEY})|({_NAME}):({_VALUE}))({_SEP})")
# The same without groups: each item and its separator as one string.
_ITEM_TEXTS = re.compile(rf"(?!actions:)(?:{_KEY}|{_NAME}:{_VALUE})(?:{_SEP})")
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
# cache is emptied when it reaches its limit, so memory stays bounded: after
# the 25,000 lines of benchmarks/parse.py's many_flows, mixed_random and
# tunnel_random (nearly every piece new), the caches here, the typed tokens
# of ovsflow.values and the used: texts of ovsflow._build held 50 MiB.
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
        raise ParseError(
            f"expected a flow, found a {result[0]} line", text=text, line=line
        )
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
    if len(text) > MAX_LINE_LENGTH or "\n" in text:
        return None  # the grammar reports it
    try:
        # 1. The items before the first "actions:": the compiled reading of
        #    a line laid out as OVS prints it (the whole line, when built),
        #    else the quick cut of that layout, else the careful cut.
        end = text.find("actions:")
        if end <= 0:
            return None
        if _speedups is not None:
            try:
                flow = _speedups.flow(text, end, line, section)
            except (_Unsure, _ToGrammar, ValueError):
                flow = None  # the Python fast path decides, as without it
            if flow is not None:
                return flow
        try:
            cut = _cut(text, end)
        except _Unsure:
            cut = None
        if cut is None:
            cut = _cut_carefully(text, end)
            if cut is None:
                return None

        # 2. The actions, and the dp-extra-info trailer after them.
        rest = text[cut[3] + len("actions:") :]
        trailer = None
        if "dp-extra-info:" in rest:
            t = _TRAILER.search(rest)
            if t is None:
                return None
            trailer = (t.group()[: -len("dp-extra-info:")], rest[t.end() :])
            if not trailer[1] or _too_deep(trailer[1]):
                return None  # the grammar reports it
            rest = rest[: t.start()]
        actions = _ACTION_LISTS.get(rest)
        if actions is None:
            actions = _new_actions(rest)
        return _flow(cut[0], cut[1], cut[2], actions, trailer, line, section)
    except (_Unsure, _ToGrammar):
        return None
    except ValueError:  # SemanticError, ParseError and bad values alike
        return None  # the grammar path reports it with a column


def _too_deep(free_text: str) -> bool:
    """Whether free text (a trailer) may pass the grammar's nesting limit.

    Keys and actions balance their brackets, so only free text can take a
    line deeper than :data:`~ovsflow.limits.MAX_NESTING`.
    """
    return free_text.count("(") + free_text.count("{") > MAX_NESTING


# What a cut of the items gives: the keys, the layout entries so far, the
# NAME:VALUE items by name, and where "actions:" starts.
_Cut = tuple[
    list["Key | Unformattable"],
    list[tuple[str, "str | None", str]],
    dict[str, str],
    int,
]

# The layout entry of a key, by its separator (shared by every flow).
_KEY_LAYOUT = {sep: ("key", None, sep) for sep in (",", ", ", " ")}
_KEY_COMMA = _KEY_LAYOUT[","]
# One NAME:VALUE item and its separator; all of them, as one run.
_STAT = re.compile(rf"({_NAME}):({_VALUE})(, ?| )")
_STATS = re.compile(rf"(?:{_NAME}:{_VALUE}(?:, ?| ))++")
_KEY_TEXT = re.compile(_KEY)
# A piece (a key less its ")") whose arguments are flat: group 1 is its name.
_FLAT_KEY = re.compile(rf"({_NAME})\((?:{_FLAT_ARG}(?:,{_FLAT_ARG})*+)?+")
# Keys by their text less the closing parenthesis: what "),".split leaves.
_PIECE_KEYS: dict[str, Key] = {}
# A key may hold "),": "tunnel(...,geneve({...}),flags(+key))" is cut in
# two by the quick cut and joined again; at most this many pieces make a key.
_MAX_KEY_PIECES = 16


def _cut(text: str, end: int) -> _Cut | None:
    """The items of a line laid out as OVS prints it, or None.

    That layout is ``[ufid:UUID SEP]key,key,...,key SEP packets:N SEP
    NAME:VALUE SEP ... actions:``: the keys are cut at "),", which is one
    C call, and looked up by what is left of each; the statistics and
    attributes are read by one regular expression.  Anything else (no
    "packets:" after the keys, other separators, text that is not keys)
    gives None and the careful cut decides.
    """
    p = text.find("packets:", 0, end)
    if p < 3:
        return None
    stats = text[p:end]
    if _STATS.fullmatch(stats) is None:
        return None
    kend = p - 1
    if text[kend] == " " and text[kend - 1] == ",":
        kend -= 1
    elif text[kend] not in ", ":
        return None
    layout: list[tuple[str, str | None, str]] = []
    named: dict[str, str] = {}
    start = 0
    if text.startswith("ufid:"):
        m = _STAT.match(text, 0, kend)
        if m is None:
            return None
        start = m.end()
        named["ufid"] = m.group(2)
        layout.append(("ufid", m.group(2), m.group(3)))
    if kend - start < 3 or text[kend - 1] != ")":
        return None
    pieces = text[start : kend - 1].split("),")
    try:  # (not "None in keys": that calls each key's __eq__)
        keys: list[Key | Unformattable] = list(map(_PIECE_KEYS.__getitem__, pieces))
    except KeyError:
        keys = _piece_keys(pieces)
    layout += [_KEY_COMMA] * (len(keys) - 1)
    layout.append(_KEY_LAYOUT[text[kend:p]])
    found: list[tuple[str, str, str]] = _STAT.findall(stats)
    layout += found  # (name, value, separator), as a layout entry is
    size = len(named) + len(found)
    named.update(map(_NAME_VALUE, found))
    if len(named) != size:
        raise _Unsure  # an item given twice: the grammar path reports it
    return keys, layout, named, end


_NAME_VALUE = itemgetter(0, 1)


def _piece_keys(pieces: list[str]) -> list[Key | Unformattable]:
    """The keys of the pieces of a line cut at "),", some of them new."""
    keys: list[Key | None] = list(map(_PIECE_KEYS.get, pieces))
    # The new ones, found in C: a Python loop over every piece costs more
    # than building the one new key of a line.
    joined: list[tuple[int, int]] = []
    done = -1  # pieces up to this one are placed
    for i in list(compress(count(), map(is_, keys, repeat(None)))):
        if i <= done:
            continue  # part of a key joined below
        k = _new_piece_key(pieces[i])
        if k is None:
            k, done = _join(pieces, i)
            joined.append((i, done))
        keys[i] = k
    for i, j in reversed(joined):
        del keys[i + 1 : j + 1]
    return keys  # type: ignore[return-value]


def _join(pieces: list[str], i: int) -> tuple[Key, int]:
    """The key that piece ``i`` starts (it holds "),"), and its last piece.

    What was looked up for the pieces joined to it is dropped by the caller:
    a piece inside a key may read as a key of its own
    (``encap(eth_type(0x0800),ipv4(src=1.1.1.1),...)``).
    """
    j = i
    while True:
        j += 1
        if j >= len(pieces) or j - i >= _MAX_KEY_PIECES:
            raise _Unsure  # the careful cut decides
        joined = "),".join(pieces[i : j + 1])
        k = _PIECE_KEYS.get(joined) or _new_piece_key(joined)
        if k is not None:
            return k, j


def _new_piece_key(piece: str) -> Key | None:
    """Build and cache the key of a piece; None if it is the start of a key
    cut at a "),", _Unsure if it is no key at all."""
    text = piece + ")"
    k = _KEYS.get(text)
    if k is None:
        if piece.count("(") > piece.count(")") + 1:
            return None  # (never a flat key: it has one "(" and no ")")
        k = _new_top_key(text)
    if len(_PIECE_KEYS) >= _CACHE_LIMIT:
        _PIECE_KEYS.clear()
    _PIECE_KEYS[piece] = k
    return k


def _new_top_key(text: str) -> Key:
    """Build and cache the key of ``text``, one whole top-level key; _Unsure
    if the fast path cannot vouch for it (the careful cut decides)."""
    flat = _FLAT_KEY.fullmatch(text, 0, len(text) - 1)
    if flat is not None:  # name(flat args), the most common kind
        return _new_key(text, flat.end(1), True)
    if _KEY_TEXT.fullmatch(text) is not None:
        return _new_key(text, text.index("("))
    raise _Unsure


def _cut_carefully(text: str, end: int) -> _Cut | None:
    """The items before ``actions:`` in any layout the grammar takes, or None."""
    # One pass when the items run up to the first "actions:", else the
    # careful two.
    items: list[str] = _ITEM_TEXTS.findall(text, 0, end)
    if sum(map(len, items)) != end:
        layout_match = _LAYOUT.match(text)
        if layout_match is None:
            return None
        end = layout_match.end() - len("actions:")
        items = _ITEM_TEXTS.findall(text, 0, end)
    keys: list[Key | Unformattable] = []
    layout: list[tuple[str, str | None, str]] = []
    named: dict[str, str] = {}
    cached = _KEY_ITEMS
    for item in items:
        hit = cached.get(item)
        if hit is not None:
            keys.append(hit[0])
            layout.append(hit[1])
            continue
        if "(" in item:
            k, name, value, sep = _ITEMS.match(item).groups()  # type: ignore[union-attr]
            if k:
                keys.append(_new_key_item(item, k, sep))
                layout.append(cached[item][1])
                continue
        else:  # NAME:VALUE and its separator
            name, _, rest = item.partition(":")
            value = rest.rstrip(", ")
            sep = rest[len(value) :]
        if name in named:
            raise _Unsure
        named[name] = value
        layout.append((name, value, sep))
    return keys, layout, named, end


# Top-level keys by their text and separator, with their layout entry.
_KEY_ITEMS: dict[str, tuple[Key, tuple[str, None, str]]] = {}


def _new_key_item(item: str, text: str, sep: str) -> Key:
    """Build and cache the Key of an item (a key and its separator)."""
    k = _KEYS.get(text) or _new_key(text)
    if len(_KEY_ITEMS) >= _CACHE_LIMIT:
        _KEY_ITEMS.clear()
    _KEY_ITEMS[item] = (k, _KEY_LAYOUT.get(sep) or ("key", None, sep))
    return k


def _flow(
    keys: list[Key | Unformattable],
    layout: list[tuple[str, str | None, str]],
    named: dict[str, str],
    actions: tuple[Action, ...],
    trailer: tuple[str, str] | None,
    line: int,
    section: str | None,
) -> Flow:
    """What ``_build.assemble`` makes of the same items, made faster.

    Anything assemble would refuse (a statistic missing) raises _Unsure, so
    that the grammar path reports it.
    """
    # 1. The statistics every flow has, then the optional ones.
    try:
        packets = counter("packets", named.pop("packets"))
        nbytes = counter("bytes", named.pop("bytes"))
        used = used_seconds(named.pop("used"))
    except KeyError:
        raise _Unsure from None
    ufid_text = named.pop("ufid", None)
    flags = named.pop("flags", None)
    offloaded = named.pop("offloaded", None)
    dp = named.pop("dp", None)
    extra: list[tuple[str, int | str]] = []
    attrs: list[tuple[str, str]] = []
    if named:
        for name, value in named.items():
            if value.isascii() and value.isdigit():
                extra.append((name, counter(name, value)))
            else:
                attrs.append((name, value))

    # 2. The records.
    extra_info = None
    if trailer is not None:
        layout.append(("dp-extra-info", trailer[1], trailer[0]))
        extra_info = trailer[1]
    return new_flow(
        new_match(tuple(keys)),
        actions,
        new_stats(packets, nbytes, used, flags, tuple(extra)),
        None if ufid_text is None else ufid_value(ufid_text),
        offloaded,
        dp,
        extra_info,
        tuple(attrs),
        line,
        section,
        tuple(layout),
    )


def clear_caches() -> None:
    """Forget every parsed piece: keys, actions, arguments, typed tokens and
    used: times (so that a benchmark starts cold)."""
    caches = (_KEYS, _KEY_ITEMS, _PIECE_KEYS, _ACTION_LISTS, _ARGS, _NODES, _ACTIONS)
    for cache in caches:
        cache.clear()
    _FITTING.clear()
    _TYPED.clear()
    _USED.clear()


class _Unsure(Exception):
    """The fast path cannot vouch for this text; the grammar decides."""


class _ToGrammar(Exception):
    """The whole line goes to the grammar: no careful reading of this piece
    would agree with it."""


# The grammar's lexer reads ",dp-extra-info:" after a call inside a key or
# an action as the trailer (that state is shared with the end of the
# actions) and refuses the line, but not after a word: no OVS prints it
# there, so every text that holds it goes to the grammar, which decides.
_INNER_TRAILER = ",dp-extra-info:"


def _new_key(text: str, open_at: int = -1, flat: bool = False) -> Key:
    """Build and cache the Key for the text of a top-level key.

    ``open_at`` is where its "(" is and ``flat`` that its arguments are
    flat, when the caller knows.
    """
    if open_at < 0:
        open_at = text.index("(")
    inner = text[open_at + 1 : -1]
    if not inner:
        args: tuple[Arg, ...] = ()
    elif flat or _FLAT.fullmatch(inner):
        name = text[:open_at]
        if "," in inner and name not in FLAG_KINDS:  # checked piece by piece
            return _new_flat_key(text, name, inner)
        args = tuple(_ARGS.get(a) or _new_arg(a) for a in inner.split(","))
    else:
        try:
            args = _nested_args(inner, 1)
        except _Unsure:
            args = _parse_args(inner, False)  # the careful loop decides
    k = key(text[:open_at], args)
    if len(_KEYS) >= _CACHE_LIMIT:
        _KEYS.clear()
    _KEYS[text] = k
    return k


# The arguments of flat keys with several arguments, by key name and text,
# already checked to fit that key's fields (see _build.node): a new key made
# of known arguments is checked no further.  Only keys of FIELD_WIDTHS have
# an entry, so the names are bounded; each dict is bounded as above.
_FITTING: dict[str, dict[str, Field | Masked]] = {}


def _new_flat_key(text: str, name: str, inner: str) -> Key:
    """Build and cache a key with several flat arguments (no flags)."""
    widths = FIELD_WIDTHS.get(name)
    parts = inner.split(",")
    if widths is None:
        try:  # one C loop when every argument is known
            args = tuple(map(_ARGS.__getitem__, parts))
        except KeyError:
            args = tuple(_ARGS.get(a) or _new_arg(a) for a in parts)
    else:
        fitting = _FITTING.get(name)
        if fitting is None or len(fitting) >= _CACHE_LIMIT:
            fitting = _FITTING[name] = {}
        try:
            args = tuple(map(fitting.__getitem__, parts))
        except KeyError:
            args = tuple(
                fitting.get(a) or _new_fitting(fitting, name, a, widths) for a in parts
            )
    k = new_node(Key, name, args)
    if len(_KEYS) >= _CACHE_LIMIT:
        _KEYS.clear()
    _KEYS[text] = k
    return k


def _new_fitting(
    fitting: dict[str, Field | Masked], name: str, text: str, widths: Widths
) -> Field | Masked:
    arg = _ARGS.get(text) or _new_arg(text)
    check_field(name, arg, widths)
    fitting[text] = arg
    return arg


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
    try:
        actions = tuple(
            _ACTIONS.get(part) or _new_action(part) for part in _parts(text)
        )
    except _Unsure:  # the careful loop decides
        actions = tuple(make_action(a) for a in _parse_args(text, True))
    if len(_ACTION_LISTS) >= _CACHE_LIMIT:
        _ACTION_LISTS.clear()
    _ACTION_LISTS[text] = actions
    return actions


# ---- Nested keys and actions, piece by piece ------------------------------
#
# A nested key or action list is cut at its top-level commas by a regular
# expression, and each piece is looked up by its text: a flat argument, a
# call ``name(...)`` or an action.  On a node most pieces repeat even when
# the whole text does not (``eth(...)`` and ``geneve(...)`` in a tnl_push
# header whose addresses vary), so only the new pieces are built.  Anything
# unusual raises _Unsure and the whole text goes to _parse_args below.


def _balanced_nested(depth: int) -> str:
    """Like _balanced, for parentheses and the braces of Geneve options."""
    inner = r"[^(){}]*+"
    for _ in range(depth):
        inner = rf"(?:[^(){{}}]++|\({inner}\)|\{{{inner}\}})*+"
    return inner


_PIECE_DEPTH = 6
_PIECES = re.compile(
    rf"(?:[^(){{}},]++|\({_balanced_nested(_PIECE_DEPTH)}\)"
    rf"|\{{{_balanced_nested(_PIECE_DEPTH)}\}})++"
)
# A call's name, or "" for a group: a word of _parse_args.
_CALL_NAME = re.compile(r"[^\s,()/={}<]*+")
_FLAT_PIECE = re.compile(_FLAT_ARG)
# Nested calls and actions by their text; bounded like the caches above.
_NODES: dict[str, Arg] = {}
_ACTIONS: dict[str, Action] = {}


def _parts(text: str) -> list[str]:
    """``text`` cut at its top-level commas; _Unsure unless that is all of it."""
    if _INNER_TRAILER in text:
        raise _ToGrammar
    parts: list[str] = _PIECES.findall(text)
    if ",".join(parts) != text:
        raise _Unsure  # an empty piece, or parentheses that do not balance
    return parts


def _nested_args(text: str, depth: int) -> tuple[Arg, ...]:
    """The arguments in ``text`` (inside a call ``depth`` levels deep)."""
    args: list[Arg] = []
    for part in _parts(text):
        arg: Arg | None = _ARGS.get(part) or _NODES.get(part)
        if arg is None:
            if part[-1] == ")":
                arg = _new_node(part, depth)
            elif "{" in part:
                arg = _delegated(part, depth)
            elif _FLAT_PIECE.fullmatch(part):
                arg = _new_arg(part)
            else:
                raise _Unsure
        args.append(arg)
    return tuple(args)


def _new_node(text: str, depth: int) -> Arg:
    """Build and cache the call (or group) ``name(...)`` in ``text``."""
    open_at = text.find("(")
    name = text[:open_at]
    if depth >= _PIECE_DEPTH or not _CALL_NAME.fullmatch(name):
        raise _Unsure
    inner = text[open_at + 1 : -1]
    if inner[:1] == "{":  # geneve({...}): the options are read by _parse_args
        built = _delegated(text, depth)
    else:
        args = _nested_args(inner, depth + 1) if inner else ()
        built = node(name, args) if name else new_node(Node, "", args)
    if len(_NODES) >= _CACHE_LIMIT:
        _NODES.clear()
    _NODES[text] = built
    return built


def _delegated(text: str, depth: int) -> Arg:
    """One argument with Geneve options, read by _parse_args."""
    if depth + text.count("(") + text.count("{") >= _FAST_DEPTH:
        raise _Unsure
    args = _parse_args(text, False)
    if len(args) != 1:
        raise _Unsure
    return args[0]


def _new_action(text: str) -> Action:
    """Build and cache one action: a bare word or a call."""
    if text[-1] == ")":
        if text[0] == "(" or "{" in text[: text.find("(")]:
            raise _Unsure  # a group or Geneve options as an action
        arg: Arg = _NODES.get(text) or _new_node(text, 1)
        if not isinstance(arg, Node):
            raise _Unsure
    elif _CALL_NAME.fullmatch(text):
        arg = _ARGS.get(text) or _new_arg(text)
    else:
        raise _Unsure
    action = make_action(arg)
    if len(_ACTIONS) >= _CACHE_LIMIT:
        _ACTIONS.clear()
    _ACTIONS[text] = action
    return action


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
    if _INNER_TRAILER in text:
        raise _ToGrammar
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
            parent.append(new_node(Node, "", built) if not call else node(call, built))
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


if _speedups is not None:
    _speedups.setup(
        Flow,
        Stats,
        Match,
        Node,
        Key,
        Field,
        Masked,
        {
            "keys": _KEYS,
            "action_lists": _ACTION_LISTS,
            "actions": _ACTIONS,
            "args": _ARGS,
            "fitting": _FITTING,
            "nodes": _NODES,
            "used": _USED,
            "typed": _TYPED,
            "field_widths": FIELD_WIDTHS,
            "flag_kinds": FLAG_KINDS,
            "kind_types": KIND_TYPES,
        },
        {
            "key": _new_top_key,
            "actions": _new_actions,
            "counter": counter,
            "ufid": ufid_value,
            "field": field,
            "check_field": check_field,
            "unsure": _Unsure,
            "node": node,
            "key_of": key,
            "make_action": make_action,
            "delegated": _delegated,
        },
        _KEY_LAYOUT,
        MAX_NESTING,
        _CACHE_LIMIT,
    )


def is_compiled() -> bool:
    """Whether lines are read by the compiled fast path (ovsflow._speedups):
    False without a C compiler at install time, or with
    ``OVSFLOW_PURE_PYTHON=1``."""
    return _speedups is not None


__all__ = ["is_compiled", "parse_flow", "parse_flow_reference"]
