"""Typed records for datapath flows: keys, actions, statistics, flows.

A dump line such as::

    ufid:67c2..., recirc_id(0),in_port(2),eth_type(0x0800),ipv4(src=10.0.1.10,...),
    packets:75021, bytes:109521630, used:3.990s, offloaded:yes, dp:tc,
    actions:set(tunnel(...)),genev_sys_6081

becomes a :class:`Flow` whose ``match`` is a :class:`Match` of :class:`Key`
records, whose ``actions`` are :class:`Action` records (a subclass for each
action OVS prints), and whose ``stats`` is a :class:`Stats`.  Keys and actions
share one nested shape, :class:`Node`: a name and a tuple of arguments, each a
:class:`Field` (``name=value``), a nested :class:`Node`, a positional
:class:`~ovsflow.values.Masked` value, a
:class:`~ovsflow.values.FlagsMatch` or a :class:`GeneveOptions` list.

``str()`` of any record gives back the text OVS printed for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar, Union
from uuid import UUID

from ovsflow.values import FlagsMatch, Masked, Value

if TYPE_CHECKING:
    from ovsflow.actions import Action


@dataclass(frozen=True, slots=True)
class Field:
    """``name=value`` inside a key or action, e.g. ``src=10.0.0.1/255.0.0.0``."""

    name: str
    value: Masked | FlagsMatch

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


@dataclass(frozen=True, slots=True)
class GeneveOption:
    """One Geneve TLV option: ``{class=0x102,type=0x80,len=4,0xa0006}``.

    Each part may carry a mask (``class=0xffff/0``) in a masked match.
    """

    option_class: Masked
    type: Masked
    length: Masked
    data: Masked | None

    def __str__(self) -> str:
        data = "" if self.data is None else f",{self.data}"
        return f"{{class={self.option_class},type={self.type},len={self.length}{data}}}"


@dataclass(frozen=True, slots=True)
class GeneveOptions:
    """The list of Geneve options inside ``geneve(...)``."""

    options: tuple[GeneveOption, ...]

    def __str__(self) -> str:
        return "".join(str(o) for o in self.options)

    def __iter__(self) -> Iterator[GeneveOption]:
        return iter(self.options)

    def __len__(self) -> int:
        return len(self.options)


Arg = Union[Field, "Node", Masked, FlagsMatch, GeneveOptions]


@dataclass(frozen=True, slots=True)
class Node:
    """``name(arg,arg,...)``, or a bare ``name`` when ``args`` is None.

    The shape shared by match keys, actions and everything nested in them
    (``encap(...)``, ``tunnel(...)``, ``nat(...)``, ``gt(...)``...).  A
    parenthesised list without a name (GRE in ``tnl_push``) has name ``""``.
    """

    name: str
    args: tuple[Arg, ...] | None = None

    def __str__(self) -> str:
        if self.args is None:
            return self.name
        return f"{self.name}({','.join(str(a) for a in self.args)})"

    def __getitem__(self, name: str) -> Masked | FlagsMatch | Node:
        """The value of field ``name``, or the nested node called ``name``."""
        for arg in self.args or ():
            if isinstance(arg, Field) and arg.name == name:
                return arg.value
            if isinstance(arg, Node) and arg.name == name:
                return arg
        raise KeyError(name)

    def get(
        self, name: str, default: Masked | FlagsMatch | Node | None = None
    ) -> Masked | FlagsMatch | Node | None:
        """Like ``node[name]``, with a default."""
        try:
            return self[name]
        except KeyError:
            return default

    def __contains__(self, name: object) -> bool:
        return any(
            isinstance(a, (Field, Node)) and a.name == name for a in self.args or ()
        )

    @property
    def fields(self) -> dict[str, Masked | FlagsMatch]:
        """The ``name=value`` arguments as a dict (first one wins)."""
        out: dict[str, Masked | FlagsMatch] = {}
        for arg in self.args or ():
            if isinstance(arg, Field):
                out.setdefault(arg.name, arg.value)
        return out

    @property
    def positional(self) -> tuple[Masked | FlagsMatch, ...]:
        """Arguments without a name, as in ``in_port(1)`` or ``ct_state(+trk)``."""
        return tuple(a for a in self.args or () if isinstance(a, (Masked, FlagsMatch)))

    @property
    def value(self) -> Masked | FlagsMatch | None:
        """The single positional argument (``in_port(1)`` -> 1), if any."""
        pos = self.positional
        return pos[0] if pos else None

    def values(self) -> dict[str, Value]:
        """Field values without masks: ``{"src": IPv4Address(...), ...}``."""
        return {k: v.value for k, v in self.fields.items() if isinstance(v, Masked)}


@dataclass(frozen=True, slots=True)
class Key(Node):
    """One match key: ``in_port(1)``, ``ipv4(src=...,dst=...)``, ``encap(...)``."""


@dataclass(frozen=True, slots=True)
class Unformattable:
    """Text OVS prints where it cannot format an attribute.

    ``key12(01 02)`` parses as an ordinary key; this type holds what does not:
    ``(bad key length 4, expected 12)(...)``, ``<empty>``, ``***2 leftover
    bytes***``.  It is kept, not dropped, so that nothing in a dump is lost.
    """

    text: str

    @property
    def name(self) -> str:
        return "<unformattable>"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Match:
    """The match keys of a flow, in the order OVS printed them."""

    keys: tuple[Key | Unformattable, ...]

    def __str__(self) -> str:
        return ",".join(str(k) for k in self.keys)

    def __iter__(self) -> Iterator[Key | Unformattable]:
        return iter(self.keys)

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, name: str) -> Key:
        key = self.get(name)
        if key is None:
            raise KeyError(name)
        return key

    def get(self, name: str) -> Key | None:
        """The key called ``name``, or None."""
        for key in self.keys:
            if isinstance(key, Key) and key.name == name:
                return key
        return None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    @property
    def in_port(self) -> Value | None:
        """The input port: a number, or a name with ``--names``."""
        key = self.get("in_port")
        value = key.value if key else None
        return value.value if isinstance(value, Masked) else None

    @property
    def ct_state(self) -> FlagsMatch | None:
        """The ``ct_state`` match, decoded to flags to be set and clear."""
        key = self.get("ct_state")
        value = key.value if key else None
        return value if isinstance(value, FlagsMatch) else None

    @property
    def eth_type(self) -> int | None:
        """The outermost Ethertype matched, if any."""
        key = self.get("eth_type")
        value = key.value if key else None
        return (
            value.value
            if isinstance(value, Masked) and isinstance(value.value, int)
            else None
        )

    @property
    def ip_proto(self) -> int | None:
        """The IP protocol number matched by ``ipv4``/``ipv6``, if any."""
        for name in ("ipv4", "ipv6"):
            key = self.get(name)
            proto = key.get("proto") if key else None
            wanted = isinstance(proto, Masked) and not proto.is_wildcard
            if wanted and isinstance(proto.value, int):  # type: ignore[union-attr]
                return proto.value  # type: ignore[union-attr]
        return None

    @property
    def tunnel(self) -> Key | None:
        """The ``tunnel(...)`` key of a flow received from a tunnel."""
        return self.get("tunnel")

    @property
    def geneve(self) -> tuple[GeneveOption, ...]:
        """Geneve options matched in ``tunnel(geneve(...))``."""
        tunnel = self.tunnel
        node = tunnel.get("geneve") if tunnel else None
        if not isinstance(node, Node):
            return ()
        return tuple(
            o for a in node.args or () if isinstance(a, GeneveOptions) for o in a
        )

    @property
    def mpls_lses(self) -> tuple[dict[str, Masked], ...]:
        """MPLS label stack entries from ``mpls(...)``, outermost first."""
        key = self.get("mpls")
        if key is None:
            return ()
        entries: list[dict[str, Masked]] = []
        for arg in key.args or ():
            if not isinstance(arg, Field) or not isinstance(arg.value, Masked):
                continue
            if arg.name == "label" or not entries:
                entries.append({})
            entries[-1][arg.name] = arg.value
        return tuple(entries)


# Fast constructors for the records parsing builds most (see
# ovsflow.values.new_masked): they set the slots the way the dataclass
# __init__ does, without its frozen checks.
_new = object.__new__


def _setter(cls: type, name: str) -> Callable[[object, object], None]:
    return cls.__dict__[name].__set__  # type: ignore[no-any-return]


_field_name, _field_value = _setter(Field, "name"), _setter(Field, "value")
_node_name, _node_args = _setter(Node, "name"), _setter(Node, "args")
_match_keys = _setter(Match, "keys")


def new_field(name: str, value: Masked | FlagsMatch) -> Field:
    """``Field(name, value)``, made faster."""
    field = _new(Field)
    _field_name(field, name)
    _field_value(field, value)
    return field


NodeType = TypeVar("NodeType", bound=Node)


def new_node(cls: type[NodeType], name: str, args: tuple[Arg, ...] | None) -> NodeType:
    """``cls(name, args)`` for Node or a subclass without fields of its own."""
    node = _new(cls)
    _node_name(node, name)
    _node_args(node, args)
    return node


def new_match(keys: tuple[Key | Unformattable, ...]) -> Match:
    """``Match(keys)``, made faster."""
    match = _new(Match)
    _match_keys(match, keys)
    return match


@dataclass(frozen=True, slots=True)
class Stats:
    """Counters of a flow: ``packets:N, bytes:N, used:Xs, flags:SF.``.

    ``used`` is seconds since the flow last matched a packet, None for
    ``never``.  ``extra`` holds statistics a vendor build adds, such as
    ``offload_packets``, typed as integers when they are integers.
    """

    packets: int = 0
    bytes: int = 0
    used: float | None = None
    flags: str | None = None
    extra: tuple[tuple[str, int | str], ...] = ()

    def get(self, name: str) -> int | str | None:
        """A vendor statistic by name, or None."""
        for key, value in self.extra:
            if key == name:
                return value
        return None

    @property
    def offload_packets(self) -> int | None:
        """Packets the NIC handled, where the vendor build reports it."""
        value = self.get("offload_packets")
        return value if isinstance(value, int) else None

    @property
    def offload_bytes(self) -> int | None:
        """Bytes the NIC handled, where the vendor build reports it."""
        value = self.get("offload_bytes")
        return value if isinstance(value, int) else None


# How a line was laid out: for each top-level item in order, its kind ("key",
# "ufid", or the statistic/attribute name), its text as printed (None for
# keys), and the separator that followed it.  Only used to print the line back
# exactly; vendor builds differ in order and separators.
Layout = tuple[tuple[str, "str | None", str], ...]


@dataclass(frozen=True, slots=True)
class Flow:
    """One datapath flow, as one line of ``dpctl/dump-flows`` prints it.

    ``offloaded`` is ``"yes"``, ``"partial"`` or None; ``dp`` the datapath
    layer that holds the flow (``ovs``, ``tc``, ``dpdk``, ``dummy``) when the
    dump was taken with ``-m``.  ``line`` is the line number in the dump and
    ``section`` the dump header the flow came under (``pmd on cpu core: 3``,
    ``main thread``); neither takes part in equality.
    """

    match: Match
    actions: tuple[Action, ...]
    stats: Stats = field(default_factory=Stats)
    ufid: UUID | None = None
    offloaded: str | None = None
    dp: str | None = None
    dp_extra_info: str | None = None
    attrs: tuple[tuple[str, str], ...] = ()
    line: int = field(default=0, compare=False)
    section: str | None = field(default=None, compare=False)
    layout: Layout | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        from ovsflow._format import format_flow

        return format_flow(self)

    format = __str__


_flow_match = _setter(Flow, "match")
_flow_actions = _setter(Flow, "actions")
_flow_stats = _setter(Flow, "stats")
_flow_ufid = _setter(Flow, "ufid")
_flow_offloaded = _setter(Flow, "offloaded")
_flow_dp = _setter(Flow, "dp")
_flow_dp_extra_info = _setter(Flow, "dp_extra_info")
_flow_attrs = _setter(Flow, "attrs")
_flow_line = _setter(Flow, "line")
_flow_section = _setter(Flow, "section")
_flow_layout = _setter(Flow, "layout")
_stats_packets = _setter(Stats, "packets")
_stats_bytes = _setter(Stats, "bytes")
_stats_used = _setter(Stats, "used")
_stats_flags = _setter(Stats, "flags")
_stats_extra = _setter(Stats, "extra")


def new_flow(
    match: Match,
    actions: tuple[Action, ...],
    stats: Stats,
    ufid: UUID | None,
    offloaded: str | None,
    dp: str | None,
    dp_extra_info: str | None,
    attrs: tuple[tuple[str, str], ...],
    line: int,
    section: str | None,
    layout: Layout | None,
) -> Flow:
    """``Flow(...)`` with every field given, made faster."""
    flow = _new(Flow)
    _flow_match(flow, match)
    _flow_actions(flow, actions)
    _flow_stats(flow, stats)
    _flow_ufid(flow, ufid)
    _flow_offloaded(flow, offloaded)
    _flow_dp(flow, dp)
    _flow_dp_extra_info(flow, dp_extra_info)
    _flow_attrs(flow, attrs)
    _flow_line(flow, line)
    _flow_section(flow, section)
    _flow_layout(flow, layout)
    return flow


def new_stats(
    packets: int,
    nbytes: int,
    used: float | None,
    flags: str | None,
    extra: tuple[tuple[str, int | str], ...],
) -> Stats:
    """``Stats(...)`` with every field given, made faster."""
    stats = _new(Stats)
    _stats_packets(stats, packets)
    _stats_bytes(stats, nbytes)
    _stats_used(stats, used)
    _stats_flags(stats, flags)
    _stats_extra(stats, extra)
    return stats
