"""From parsed pieces to records: the Lark transformer and its helpers.

Both readers of a line (the full Lark parse in :mod:`ovsflow._grammar` and
the fast path in :mod:`ovsflow.parse`) build records only through the
functions here, so that they cannot disagree on what a piece means.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID, SafeUUID

from lark import Token, Transformer, v_args

from ovsflow.actions import Action, BadLength, make_action
from ovsflow.records import (
    Arg,
    Field,
    Flow,
    GeneveOption,
    GeneveOptions,
    Key,
    Match,
    Node,
    Stats,
    Unformattable,
    new_field,
    new_node,
)
from ovsflow.values import (
    FIELD_WIDTHS,
    FLAG_KINDS,
    KIND_TYPES,
    FlagsMatch,
    Masked,
    Memo,
    Widths,
    check_width,
    decode_flags,
    decode_frag,
    new_masked,
    typed,
)

#: Largest value a 64-bit counter can hold.
U64_MAX = (1 << 64) - 1


class SemanticError(ValueError):
    """A piece that parses but cannot mean anything (bad flag, bad address).

    ``column`` is 1-based when known; otherwise ``token`` is the text to
    point at, searched from offset ``search_from`` of the line.
    """

    def __init__(
        self, message: str, column: int | None = None, token: str | None = None
    ) -> None:
        super().__init__(message)
        self.column = column
        self.token = token
        self.search_from = 0


# ---- Leaves --------------------------------------------------------------


def masked(value: str, mask: str | None, text: str) -> Masked:
    """A ``value[/mask]`` token pair, typed."""
    return new_masked(typed(value), None if mask is None else typed(mask), text)


def field(name: str, value: Masked) -> Field:
    """``name=value``; ``frag`` is decoded to a :class:`~ovsflow.values.Frag`."""
    if name == "frag":
        value = decode_frag(value)
    return new_field(name, value)


def node(name: str, args: tuple[Arg, ...]) -> Node:
    """A nested ``name(args)``; flag fields are decoded to FlagsMatch.

    Raises SemanticError for a value too wide for its field (FIELD_WIDTHS).
    """
    return new_node(Node, name, _checked(name, args))


def key(name: str, args: tuple[Arg, ...]) -> Key:
    """A top-level match key."""
    return new_node(Key, name, _checked(name, args))


def _checked(name: str, args: tuple[Arg, ...]) -> tuple[Arg, ...]:
    """``args`` of ``name(...)``, width-checked, with flag fields decoded."""
    widths = FIELD_WIDTHS.get(name)
    if widths is not None:
        _check_widths(name, args, widths)
    if name in FLAG_KINDS:
        if len(args) == 1 and isinstance(args[0], Masked):
            return (decode_flags(name, args[0]),)
        if not args:
            return (FlagsMatch(name, 0, 0, ""),)
    return args


def check_field(name: str, arg: Field | Masked, widths: Widths) -> None:
    """Raise SemanticError unless ``arg``, one of several, fits key ``name``.

    What node() checks of each argument when there are several.
    """
    if type(arg) is Field and isinstance(arg.value, Masked):
        want = widths.get(arg.name)
        if want is not None and not _fits(want, arg.value):
            problem = check_width(name, arg.name, arg.value)
            if problem is not None:
                raise SemanticError(problem, token=str(arg))


def _check_widths(name: str, args: tuple[Arg, ...], widths: Widths) -> None:
    for arg in args:
        if type(arg) is Field:
            want = widths.get(arg.name)
            value = arg.value
            if want is None or not isinstance(value, Masked):
                continue
        elif isinstance(arg, Masked) and len(args) == 1:
            want, value = widths.get(""), arg
            if want is None:
                continue
        else:
            continue
        if _fits(want, value):
            continue
        problem = check_width(name, arg.name if type(arg) is Field else "", value)
        if problem is not None:
            raise SemanticError(problem, token=str(arg))


def _fits(want: int | str, masked: Masked) -> bool:
    """A quick yes for a typed value that fits; check_width has the last word."""
    value, mask = masked.value, masked.mask
    if isinstance(want, int):
        return (value.__class__ is int and not value >> want) and (
            mask is None or (mask.__class__ is int and not mask >> want)
        )
    kind = KIND_TYPES[want]
    return isinstance(value, kind) and (mask is None or isinstance(mask, kind))


def geneve_option(args: tuple[Arg, ...]) -> GeneveOption:
    """One ``{class=..,type=..,len=..,data}`` Geneve TLV."""
    parts = dict.fromkeys(("class", "type", "len"))
    data: Masked | None = None
    for arg in args:
        if isinstance(arg, Field) and arg.name in parts and parts[arg.name] is None:
            parts[arg.name] = arg.value
        elif isinstance(arg, Masked) and data is None:
            data = arg
        else:
            raise SemanticError(
                f"unexpected {str(arg)!r} in a Geneve option "
                "(expected class=, type=, len= and the option data)"
            )
    cls, typ, length = parts["class"], parts["type"], parts["len"]
    if not (
        isinstance(cls, Masked)
        and isinstance(typ, Masked)
        and isinstance(length, Masked)
    ):
        raise SemanticError("a Geneve option needs class=, type= and len=")
    return GeneveOption(cls, typ, length, data)


# ---- The top level -------------------------------------------------------

# Top-level items, as both readers produce them: a Key or Unformattable for a
# match key, or (name, value text) for ufid, statistics and attributes; each
# with the separator printed after it.
Item = tuple["Key | Unformattable | tuple[str, str]", str]


def assemble(
    items: list[Item],
    actions: tuple[Action, ...],
    dp_extra_info: tuple[str, str] | None,
    line: int = 0,
    section: str | None = None,
) -> Flow:
    """A Flow from its top-level items, actions and dp-extra-info trailer.

    ``dp_extra_info`` is (separator before it, its text).
    """
    keys: list[Key | Unformattable] = []
    layout: list[tuple[str, str | None, str]] = []
    ufid: UUID | None = None
    packets = nbytes = 0
    used: float | None = None
    flags: str | None = None
    offloaded = dp = None
    extra: list[tuple[str, int | str]] = []
    attrs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item, sep in items:
        if not isinstance(item, tuple):
            keys.append(item)
            layout.append(("key", None, sep))
            continue
        name, text = item
        if name in seen:
            raise SemanticError(
                f"{name}: given twice in one flow", token=f"{name}:{text}"
            )
        seen.add(name)
        layout.append((name, text, sep))
        if name == "ufid":
            ufid = ufid_value(text)
        elif name == "packets":
            packets = counter(name, text)
        elif name == "bytes":
            nbytes = counter(name, text)
        elif name == "used":
            used = used_seconds(text)
        elif name == "flags":
            flags = text
        elif name == "offloaded":
            offloaded = text
        elif name == "dp":
            dp = text
        elif text.isascii() and text.isdigit():
            extra.append((name, counter(name, text)))
        else:
            attrs.append((name, text))
    missing = [n for n in ("packets", "bytes", "used") if n not in seen]
    if missing:
        raise SemanticError(
            "missing " + ", ".join(f"{n}:" for n in missing) + " before actions:",
            token="actions:",
        )
    extra_info = None
    if dp_extra_info is not None:
        layout.append(("dp-extra-info", dp_extra_info[1], dp_extra_info[0]))
        extra_info = dp_extra_info[1]
    return Flow(
        match=Match(tuple(keys)),
        actions=actions,
        stats=Stats(packets, nbytes, used, flags, tuple(extra)),
        ufid=ufid,
        offloaded=offloaded,
        dp=dp,
        dp_extra_info=extra_info,
        attrs=tuple(attrs),
        line=line,
        section=section,
        layout=tuple(layout),
    )


def ufid_value(text: str) -> UUID:
    """The UUID of a ufid.

    Every flow has its own, so this runs once a line: the form OVS prints is
    read by :func:`usual_uuid_int`, and the UUID made as ``UUID(int=...)``
    makes it, less its checks.  Any other text goes to ``UUID()``, which
    decides.
    """
    number = usual_uuid_int(text)
    if number is not None:
        uuid = _new_object(UUID)
        _set_uuid_int(uuid, number)
        _set_uuid_safe(uuid, SafeUUID.unknown)
        return uuid
    try:
        return UUID(text)
    except ValueError:
        raise SemanticError(f"ufid {text!r} is not a UUID", token=text) from None


def usual_uuid_int(text: str) -> int | None:
    """The number of a UUID written as ``str(UUID)`` writes it but for case
    (8-4-4-4-12 hex digits), with plain string tests and one ``int()``;
    None for any other text."""
    digits = text.replace("-", "")
    if not (
        len(text) == 36
        and len(digits) == 32
        and text[8] == text[13] == text[18] == text[23] == "-"
        and digits.isascii()
        and digits.isalnum()
    ):
        return None
    try:
        return int(digits, 16)
    except ValueError:
        return None  # letters past f


_new_object = object.__new__
_set_uuid_int = UUID.__dict__["int"].__set__
_set_uuid_safe = UUID.__dict__["is_safe"].__set__


def counter(name: str, text: str) -> int:
    if len(text) < 20 and text.isdigit() and text.isascii():
        return int(text)  # fewer than 20 digits: fits in 64 bits (2**64 has 20)
    if not (text.isascii() and text.isdigit()):
        raise SemanticError(
            f"{name}: expected a whole number, got {text!r}", token=text
        )
    # 20 digits hold any 64-bit number; a longer one is refused unconverted.
    value = int(text) if len(text) <= 20 else U64_MAX + 1
    if value > U64_MAX:
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise SemanticError(f"{name}: {shown} does not fit in 64 bits", token=text)
    return value


def used_seconds(text: str) -> float | None:
    """``used:`` in seconds, or None for ``never``."""
    return _USED[text]


def _used_seconds(text: str) -> float | None:
    if text == "never":
        return None
    if text.endswith("s"):
        try:
            value = float(text[:-1])
        except ValueError:
            pass
        else:
            if math.isfinite(value) and value >= 0:
                return value
    raise SemanticError(
        f"used: expected seconds such as 3.990s or never, got {text!r}", token=text
    )


# used: texts seen: a dump prints them to the millisecond, so a node's flows
# share a few thousand ("0.004s", "never").
_USED: Memo[str, float | None] = Memo(_used_seconds, 1 << 14)


# ---- The Lark transformer ------------------------------------------------


def _col(token: object) -> int | None:
    return getattr(token, "column", None)


_N = TypeVar("_N", bound=Node)


def _located(
    build: Callable[[str, tuple[Arg, ...]], _N],
    name: Token,
    args: tuple[Arg, ...] | None,
) -> _N:
    """``build(name, args)``, its errors placed in the text: a SemanticError
    from a value searches from the name on, any other at the name."""
    try:
        return build(str(name), args or ())
    except SemanticError as exc:
        exc.search_from = name.end_pos or 0  # the token is inside the call
        raise
    except ValueError as exc:
        raise SemanticError(str(exc), _col(name)) from None


@v_args(inline=True)
class ToRecords(Transformer[Token, Any]):
    """Turns the tree of grammars/dump_flows.lark into records.

    A line gives a Flow, or a ("header"|"meta"|"comment", ...) tuple.
    """

    def start(self, line: Any) -> Any:
        return line

    # -- flow

    def flow(self, *children: Any) -> Flow:
        items: list[Item] = []
        it = iter(children)
        for child in it:
            if isinstance(child, Token) and child.type == "ACTIONS":
                break
            sep = next(it)
            items.append((child, str(sep)))
        actions = next(it)
        trailer = next(it, None)
        return assemble(items, actions, trailer)

    def key(self, name: Token, args: tuple[Arg, ...] | None) -> Key:
        return _located(key, name, args)

    def attribute(self, name: Token, value: Token) -> tuple[str, str]:
        return (str(name), str(value))

    def trailer(self, sep: Token, value: Token) -> tuple[str, str]:
        return (str(sep)[: -len("dp-extra-info:")], str(value))

    def UNFORMATTABLE_KEY(self, token: Token) -> Unformattable:
        return Unformattable(str(token))

    def EMPTY(self, token: Token) -> Unformattable:
        return Unformattable(str(token))

    # -- actions

    def actions(self, *actions: Any) -> tuple[Action, ...]:
        return tuple(self._action(a) for a in actions)

    def _action(self, arg: Any) -> Action:
        if isinstance(arg, Unformattable):
            return Action(arg.text, None)
        if isinstance(arg, Token):
            return make_action(Masked(typed(str(arg)), None, str(arg)))
        return make_action(arg)

    def bad_length_action(self, prefix: Token, call: Node) -> Action:
        return BadLength(call.name, call.args, str(prefix))

    def LEFTOVER(self, token: Token) -> Unformattable:
        return Unformattable(str(token))

    # -- nested key-value syntax

    def args(self, *args: Any) -> tuple[Arg, ...]:
        return tuple(
            masked(str(a), None, str(a)) if isinstance(a, Token) else a for a in args
        )

    def field(self, name: Token, value: Masked) -> Field:
        return field(str(name), value)

    def call(self, name: Token, args: tuple[Arg, ...] | None) -> Node:
        return _located(node, name, args)

    def group(self, args: tuple[Arg, ...] | None) -> Node:
        return Node("", args or ())

    def masked(self, value: Token, mask: Token | None = None) -> Masked:
        text = str(value) if mask is None else f"{value}/{mask}"
        try:
            return masked(str(value), None if mask is None else str(mask), text)
        except ValueError as exc:
            raise SemanticError(str(exc), _col(value)) from None

    def tlv_list(self, *tlvs: GeneveOption) -> GeneveOptions:
        return GeneveOptions(tuple(tlvs))

    def tlv(self, args: tuple[Arg, ...]) -> GeneveOption:
        return geneve_option(args)

    # -- other lines

    def pmd_header(self, _prefix: Token, core: Token) -> tuple[str, str]:
        return ("header", f"pmd on cpu core: {core}")

    def main_header(self, _text: Token) -> tuple[str, str]:
        return ("header", "main thread")

    def meta(self, _prefix: Token, text: Token) -> tuple[str, str]:
        return ("meta", str(text))

    def comment(self, text: Token) -> tuple[str, str]:
        return ("comment", str(text))
