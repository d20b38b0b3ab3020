"""What each match key and each action list puts in a row of the flow table.

:mod:`ovsflow.table` calls :func:`key_values` once per distinct match key and
:func:`actions_values` once per distinct action list (the parser shares
records among flows with the same text), and copies the result into every row
that holds them.  Both return a :class:`Row`: column name -> value, and the
``name=value`` of values that did not fit their column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from ovsflow.actions import (
    Action,
    CheckPktLen,
    Clone,
    Ct,
    DecTtl,
    Output,
    Recirc,
    Sample,
    SetField,
    TnlPop,
    TnlPush,
)
from ovsflow.records import GeneveOption, GeneveOptions, Key, Node
from ovsflow.values import CtState, FlagsMatch, Masked


class Row:
    """The values of one flow for the columns it fills, and what did not fit."""

    __slots__ = ("unfit", "values")

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.unfit: list[str] = []

    def number(
        self, name: str, masked: Masked | None, bits: int, with_mask: bool = False
    ) -> None:
        """A numeric field and, ``with_mask``, its mask in ``name_mask``."""
        if masked is None:
            return
        value, mask = masked.value, masked.mask
        limit = 1 << bits
        if mask is not None:
            if isinstance(mask, int) and 0 <= mask < limit:
                if with_mask:
                    self.values[f"{name}_mask"] = mask
                if mask == 0:
                    return  # matched under mask 0: not matched at all
            else:
                self.unfit.append(f"{name}_mask={mask}")
        if isinstance(value, int) and 0 <= value < limit:
            self.values[name] = value
        else:
            self.unfit.append(f"{name}={value}")

    def address(self, name: str, masked: Masked | None) -> None:
        """An IP address field: text, mask text and prefix length."""
        if masked is None:
            return
        value, mask = masked.value, masked.mask
        prefix = masked.prefix_len
        if (
            prefix is None
            and isinstance(value, (IPv4Address, IPv6Address))
            and isinstance(mask, int)
            and 0 <= mask <= value.max_prefixlen
        ):
            prefix = mask  # a CIDR length after the slash
        if mask is not None:
            self.values[f"{name}_mask"] = str(mask)
        if prefix is not None:
            self.values[f"{name}_prefix"] = prefix
        if prefix != 0 and not masked.is_wildcard:
            self.values[name] = str(value)

    def ethernet(self, name: str, masked: Masked | None) -> None:
        if masked is None:
            return
        if masked.mask is not None:
            self.values[f"{name}_mask"] = str(masked.mask)
        if not masked.is_wildcard:
            self.values[name] = str(masked.value)

    def text(self, name: str, masked: Masked | None) -> None:
        """A field kept as text (tunnel addresses, frag), as printed."""
        if masked is not None and not masked.is_wildcard:
            self.values[name] = _token(masked)


def _masked(node: Node | None, name: str) -> Masked | None:
    value = node.get(name) if node is not None else None
    return value if isinstance(value, Masked) else None


def _positional(node: Node | None) -> Masked | None:
    value = node.value if node is not None else None
    return value if isinstance(value, Masked) else None


def _token(masked: Masked) -> str:
    """The value as the dump spelled it, without its mask."""
    if masked.text is not None:
        return masked.text.split("/", 1)[0]
    return str(masked.value)


_CT_NAMES: dict[int, str] = {}
_CT_KNOWN = sum(f.value for f in CtState)


def _ct_flags(bits: int) -> str:
    """``est|trk`` for the bits of a ct_state, unnamed bits as ``[0x100]``."""
    names = _CT_NAMES.get(bits)
    if names is None:
        parts = [str(f.name) for f in CtState if bits & f.value]
        if bits & ~_CT_KNOWN:
            parts.append(f"[{bits & ~_CT_KNOWN:#x}]")
        names = "|".join(parts)
        if len(_CT_NAMES) < 4096:  # a hostile dump cannot grow it further
            _CT_NAMES[bits] = names
    return names


def key_values(key: Key) -> Row:
    """The columns one match key fills.

    Only the outermost keys are read: the L3/L4 keys inside ``encap(...)`` of
    a VLAN flow are in ``match_text`` only, as in ``Match.ip_proto``.
    """
    # TODO(schema): descend into encap(...) once summary's groupings do too.
    row = Row()
    name = key.name
    fill = _KEY_COLUMNS.get(name)
    if fill is not None:
        fill(row, key)
    return row


def _in_port(row: Row, key: Key) -> None:
    port = _positional(key)
    if port is not None:
        row.values["in_port"] = _token(port)
        if isinstance(port.value, int) and 0 <= port.value < 1 << 32:
            row.values["in_port_number"] = port.value


def _eth(row: Row, key: Key) -> None:
    row.ethernet("eth_src", _masked(key, "src"))
    row.ethernet("eth_dst", _masked(key, "dst"))


def _ip(row: Row, key: Key) -> None:
    version = key.name
    row.address(f"{version}_src", _masked(key, "src"))
    row.address(f"{version}_dst", _masked(key, "dst"))
    row.number("ip_proto", _masked(key, "proto"), 8)
    row.text("ip_frag", _masked(key, "frag"))


def _l4(row: Row, key: Key) -> None:
    row.number(f"{key.name}_src", _masked(key, "src"), 16, True)
    row.number(f"{key.name}_dst", _masked(key, "dst"), 16, True)


def _icmp(row: Row, key: Key) -> None:
    row.number("icmp_type", _masked(key, "type"), 8)
    row.number("icmp_code", _masked(key, "code"), 8)


def _ct_state(row: Row, key: Key) -> None:
    state = key.value
    if isinstance(state, FlagsMatch) and not state.is_wildcard:
        row.values["ct_state_set"] = _ct_flags(state.set)
        row.values["ct_state_clear"] = _ct_flags(state.clear)


def _tunnel(row: Row, key: Key) -> None:
    row.number("tun_id", _masked(key, "tun_id"), 64)
    row.text("tun_src", _masked(key, "src") or _masked(key, "ipv6_src"))
    row.text("tun_dst", _masked(key, "dst") or _masked(key, "ipv6_dst"))
    row.number("tun_tp_dst", _masked(key, "tp_dst"), 16)
    node = key.get("geneve")
    if isinstance(node, Node):
        options = [
            o for a in node.args or () if isinstance(a, GeneveOptions) for o in a
        ]
        row.values["geneve"] = [_geneve(row, option) for option in options]


def _geneve(row: Row, option: GeneveOption) -> dict[str, Any]:
    part = Row()
    part.number("class", option.option_class, 16, True)
    part.number("type", option.type, 8, True)
    part.number("len", option.length, 8, True)
    data = option.data
    if data is not None:
        part.values["data"] = _token(data)
        if data.mask is not None:
            part.values["mask"] = str(data.mask)
    row.unfit.extend(f"geneve.{item}" for item in part.unfit)
    return part.values


def _scalar(column: str, bits: int) -> Callable[[Row, Key], None]:
    def fill(row: Row, key: Key) -> None:
        row.number(column, _positional(key), bits)

    return fill


# Match key name -> what it fills.
_KEY_COLUMNS: dict[str, Callable[[Row, Key], None]] = {
    "recirc_id": _scalar("recirc_id", 32),
    "in_port": _in_port,
    "eth": _eth,
    "eth_type": _scalar("eth_type", 16),
    "vlan": lambda row, key: row.number("vlan_vid", _masked(key, "vid"), 16),
    "ipv4": _ip,
    "ipv6": _ip,
    "tcp": _l4,
    "udp": _l4,
    "icmp": _icmp,
    "icmpv6": _icmp,
    "ct_state": _ct_state,
    "ct_zone": _scalar("ct_zone", 16),
    "ct_mark": _scalar("ct_mark", 32),
    "tunnel": _tunnel,
}


def walk_actions(actions: Iterable[Action]) -> Iterator[Action]:
    """Every action, and the actions nested in clone, sample, check_pkt_len...

    Depth first, in the order OVS printed them.
    """
    stack = [iter(actions)]
    while stack:
        action = next(stack[-1], None)
        if action is None:
            stack.pop()
            continue
        yield action
        nested: tuple[Action, ...] = ()
        if isinstance(action, (Clone, Sample)):
            nested = action.actions
        elif isinstance(action, CheckPktLen):
            nested = action.gt + action.le
        elif isinstance(action, DecTtl):
            nested = action.le_1
        if nested:
            stack.append(iter(nested))


def _tunnel_dst(action: Action) -> str | None:
    if isinstance(action, TnlPush):
        dst = action.tunnel_dst
        return None if dst is None else str(dst)
    if isinstance(action, SetField):
        key = action.key
        if key is not None and key.name == "tunnel":
            masked = _masked(key, "dst") or _masked(key, "ipv6_dst")
            return None if masked is None else str(masked.value)
    return None


def _action_record(action: Action, text: str, unfit: list[str]) -> dict[str, Any]:
    record: dict[str, Any] = {"kind": action.kind, "text": text}
    if isinstance(action, Output):
        record["port"] = action.name
    elif isinstance(action, TnlPop):
        record["port"] = None if action.port is None else str(action.port)
    elif isinstance(action, TnlPush):
        record["port"] = None if action.out_port is None else str(action.out_port)
    elif isinstance(action, Recirc):
        record["recirc_id"] = _fit(action.recirc_id, 32, "recirc", unfit)
    elif isinstance(action, Ct):
        record["ct_zone"] = _fit(action.zone, 16, "ct.zone", unfit)
        record["commit"] = action.commit or action.force_commit
    record["tunnel_dst"] = _tunnel_dst(action)
    return record


def _fit(value: int | None, bits: int, name: str, unfit: list[str]) -> int | None:
    if value is None or 0 <= value < 1 << bits:
        return value
    unfit.append(f"{name}={value}")
    return None


def actions_values(actions: tuple[Action, ...]) -> Row:
    """The typed action list and the columns derived from every action."""
    row = Row()
    values = row.values
    texts = [str(a) for a in actions]
    values["actions"] = [
        _action_record(a, t, row.unfit) for a, t in zip(actions, texts, strict=True)
    ]
    values["actions_text"] = ",".join(texts)

    kinds: dict[str, None] = {}
    ports: list[str] = []
    commit = False
    for action in walk_actions(actions):
        kinds[action.kind] = None
        if isinstance(action, Output):
            ports.append(action.name)
        elif isinstance(action, Ct):
            commit = commit or action.commit or action.force_commit
        elif isinstance(action, Recirc) and "recirc" not in values:
            values["recirc"] = _fit(action.recirc_id, 32, "recirc", [])
        elif isinstance(action, (TnlPush, SetField)):
            column = "tnl_push_dst" if isinstance(action, TnlPush) else "set_tunnel_dst"
            if values.get(column) is None:
                values[column] = _tunnel_dst(action)
    values["action_kinds"] = list(kinds)
    values["output_ports"] = ports
    values["ct_commit"] = commit
    return row
