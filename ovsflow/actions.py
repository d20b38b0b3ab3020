"""Datapath actions, one class for each kind OVS prints (lib/odp-util.c).

Every action is a :class:`~ovsflow.records.Node` (a name and its arguments,
exactly as printed); the subclasses add typed accessors.  An action OVS
prints that ovsflow does not know is an :class:`Action` with its name and
arguments, never dropped.  :func:`make_action` picks the class.
"""

from __future__ import annotations

from dataclasses import dataclass

from ovsflow.records import Field, Key, Node
from ovsflow.values import Masked, Value


@dataclass(frozen=True, slots=True)
class Action(Node):
    """An action; subclasses below add accessors for the kinds OVS prints."""

    @property
    def kind(self) -> str:
        """The action's kind: ``output``, ``ct``, ``set``, ``tnl_push``..."""
        return self.name


def _int(node: Node, name: str) -> int | None:
    value = node.get(name)
    if isinstance(value, Masked) and isinstance(value.value, int):
        return value.value
    return None


def _first_int(node: Node) -> int | None:
    value = node.value
    if isinstance(value, Masked) and isinstance(value.value, int):
        return value.value
    return None


def _nested_actions(node: Node | None) -> tuple[Action, ...]:
    """The actions nested in ``node``.

    An argument that is no action (``clone(a=1)``: the grammar takes it, no
    OVS prints it) becomes an action named by its text, so that what reads
    nested actions (the table, explain) never fails on a line that parsed.
    """
    if node is None or node.args is None:
        return ()
    return tuple(
        make_action(a) if isinstance(a, (Node, Masked)) else Action(str(a), None)
        for a in node.args
    )


@dataclass(frozen=True, slots=True)
class Output(Action):
    """Output to a port: a bare port number, or a port name with ``--names``."""

    @property
    def kind(self) -> str:
        return "output"

    @property
    def port(self) -> Value:
        """The output port."""
        return _port_value(self.name)


def _port_value(text: str) -> Value:
    return int(text) if text.isdigit() else text


@dataclass(frozen=True, slots=True)
class Drop(Action):
    """``drop``; a reason, where a build prints one, is in ``args``."""

    @property
    def reason(self) -> str | None:
        """The drop reason, when OVS printed one (``drop(reason)``)."""
        return str(self.args[0]) if self.args else None


@dataclass(frozen=True, slots=True)
class Recirc(Action):
    """``recirc(0x1)``: send the packet through the datapath again."""

    @property
    def recirc_id(self) -> int | None:
        return _first_int(self)


@dataclass(frozen=True, slots=True)
class Ct(Action):
    """``ct(commit,zone=5,mark=...,label=...,helper=ftp,nat(...))``."""

    @property
    def commit(self) -> bool:
        return any(
            isinstance(a, Masked) and a.value == "commit" for a in self.args or ()
        )

    @property
    def force_commit(self) -> bool:
        return any(
            isinstance(a, Masked) and a.value == "force_commit" for a in self.args or ()
        )

    @property
    def zone(self) -> int | None:
        return _int(self, "zone")

    @property
    def helper(self) -> str | None:
        value = self.get("helper")
        return str(value) if value is not None else None

    @property
    def timeout(self) -> str | None:
        value = self.get("timeout")
        return str(value) if value is not None else None

    @property
    def nat(self) -> Node | None:
        """The ``nat(...)`` argument, if the action translates addresses."""
        value = self.get("nat")
        return value if isinstance(value, Node) else None


@dataclass(frozen=True, slots=True)
class SetField(Action):
    """``set(KEY)``: set a header field (masked when OVS uses a masked set)."""

    @property
    def key(self) -> Key | None:
        """The key being set, e.g. ``ipv4(src=...)`` or ``tunnel(...)``."""
        for arg in self.args or ():
            if isinstance(arg, Node):
                return Key(arg.name, arg.args)
        return None

    @property
    def is_masked(self) -> bool:
        """True when any field is set under a mask (a masked set action)."""
        key = self.key
        return key is not None and any(
            isinstance(a, Field)
            and isinstance(a.value, Masked)
            and a.value.mask is not None
            for a in key.args or ()
        )


@dataclass(frozen=True, slots=True)
class TnlPush(Action):
    """``tnl_push(tnl_port(N),header(...),out_port(N))``: encapsulate."""

    @property
    def header(self) -> Node | None:
        value = self.get("header")
        return value if isinstance(value, Node) else None

    @property
    def tnl_port(self) -> Value | None:
        node = self.get("tnl_port")
        value = node.value if isinstance(node, Node) else None
        return value.value if isinstance(value, Masked) else None

    @property
    def out_port(self) -> Value | None:
        node = self.get("out_port")
        value = node.value if isinstance(node, Node) else None
        return value.value if isinstance(value, Masked) else None

    @property
    def tunnel_dst(self) -> Value | None:
        """The outer destination address of the pushed header."""
        header = self.header
        for name in ("ipv4", "ipv6"):
            ip = header.get(name) if header else None
            dst = ip.get("dst") if isinstance(ip, Node) else None
            if isinstance(dst, Masked):
                return dst.value
        return None


@dataclass(frozen=True, slots=True)
class TnlPop(Action):
    """``tnl_pop(N)``: decapsulate and continue on tunnel port N."""

    @property
    def port(self) -> Value | None:
        value = self.value
        return value.value if isinstance(value, Masked) else None


@dataclass(frozen=True, slots=True)
class Clone(Action):
    """``clone(ACTIONS)``: run actions on a copy of the packet."""

    @property
    def actions(self) -> tuple[Action, ...]:
        return _nested_actions(self)


@dataclass(frozen=True, slots=True)
class Sample(Action):
    """``sample(sample=50.0%,actions(...))``."""

    @property
    def probability(self) -> float | None:
        """The sampling probability as a percentage."""
        value = self.get("sample")
        text = str(value) if value is not None else ""
        return float(text.rstrip("%")) if text.endswith("%") else None

    @property
    def actions(self) -> tuple[Action, ...]:
        value = self.get("actions")
        return _nested_actions(value if isinstance(value, Node) else None)


@dataclass(frozen=True, slots=True)
class CheckPktLen(Action):
    """``check_pkt_len(size=200,gt(ACTIONS),le(ACTIONS))``."""

    @property
    def size(self) -> int | None:
        return _int(self, "size")

    @property
    def gt(self) -> tuple[Action, ...]:
        value = self.get("gt")
        return _nested_actions(value if isinstance(value, Node) else None)

    @property
    def le(self) -> tuple[Action, ...]:
        value = self.get("le")
        return _nested_actions(value if isinstance(value, Node) else None)


@dataclass(frozen=True, slots=True)
class DecTtl(Action):
    """``dec_ttl(le_1(ACTIONS))``: actions for packets whose TTL runs out."""

    @property
    def le_1(self) -> tuple[Action, ...]:
        value = self.get("le_1")
        return _nested_actions(value if isinstance(value, Node) else None)


@dataclass(frozen=True, slots=True)
class Userspace(Action):
    """``userspace(pid=N,...)``: send the packet up to ovs-vswitchd."""

    @property
    def pid(self) -> int | None:
        return _int(self, "pid")

    @property
    def cookie(self) -> Node | None:
        """The cookie: ``sFlow(...)``, ``slow_path(...)``, ``controller(...)``..."""
        for arg in self.args or ():
            if isinstance(arg, Node):
                return arg
        return None


@dataclass(frozen=True, slots=True)
class Hash(Action):
    """``hash(l4(0))`` or ``hash(sym_l4(0))``."""

    @property
    def algorithm(self) -> str | None:
        node = self.args[0] if self.args else None
        return node.name if isinstance(node, Node) else None

    @property
    def basis(self) -> int | None:
        node = self.args[0] if self.args else None
        return _first_int(node) if isinstance(node, Node) else None


@dataclass(frozen=True, slots=True)
class Meter(Action):
    """``meter(N)``."""

    @property
    def meter_id(self) -> int | None:
        return _first_int(self)


@dataclass(frozen=True, slots=True)
class Trunc(Action):
    """``trunc(N)``: truncate the packet to N bytes for the next output."""

    @property
    def max_len(self) -> int | None:
        return _first_int(self)


@dataclass(frozen=True, slots=True)
class LbOutput(Action):
    """``lb_output(N)``: balance-tcp bond output."""

    @property
    def bond_id(self) -> int | None:
        return _first_int(self)


@dataclass(frozen=True, slots=True)
class BadLength(Action):
    """An action OVS printed as ``bad length N, expected M for: actionK(...)``."""

    prefix: str = ""

    def __str__(self) -> str:
        return self.prefix + Node.__str__(self)


_CLASSES: dict[str, type[Action]] = {
    "drop": Drop,
    "recirc": Recirc,
    "ct": Ct,
    "set": SetField,
    "tnl_push": TnlPush,
    "tnl_pop": TnlPop,
    "clone": Clone,
    "sample": Sample,
    "check_pkt_len": CheckPktLen,
    "dec_ttl": DecTtl,
    "userspace": Userspace,
    "hash": Hash,
    "meter": Meter,
    "trunc": Trunc,
    "lb_output": LbOutput,
}


def make_action(arg: object) -> Action:
    """The typed action for a parsed argument (a Node or a bare value)."""
    if isinstance(arg, Action):
        return arg
    if isinstance(arg, Node):
        return action_class(arg.name, arg.args)(arg.name, arg.args)
    if isinstance(arg, Masked):
        text = str(arg)
        return action_class(text, None)(text, None)
    raise TypeError(f"not an action: {arg!r}")


def action_class(name: str, args: tuple[object, ...] | None) -> type[Action]:
    """The class for an action called ``name`` (a port number or name: Output)."""
    cls = _CLASSES.get(name)
    if cls is not None:
        return cls
    if args is None and name not in _BARE_ACTIONS and _looks_like_port(name):
        return Output
    return Action


# Actions OVS prints without parentheses; anything else bare is a port.
_BARE_ACTIONS = frozenset(
    {"pop_vlan", "pop_eth", "ct_clear", "drop", "pop_mpls", "pop_nsh"}
)


def _looks_like_port(name: str) -> bool:
    return bool(name) and name[0] not in "<*"
