"""What each match key and each action list puts in a row of the flow table.

:mod:`ovsflow.table` calls :func:`key_values` once per distinct match key and
:func:`actions_values` once per distinct action list (the parser shares
records among flows with the same text), and copies the result into every row
that holds them.  Both return a :class:`Row`: column name -> value, and the
``name=value`` of values that did not fit their column.

Records new to a table are mostly made of shared pieces: the text of an
address is cached by the identity of its record (bounded; :func:`clear_caches`
empties it), and each action's values by its own.
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
from ovsflow.records import Field, GeneveOption, GeneveOptions, Key, Node
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
        found = _ADDRESSES.get(id(masked))
        if found is None:
            found = _address(masked)
        _, mask, prefix, value = found
        if mask is not None:
            self.values[f"{name}_mask"] = mask
        if prefix is not None:
            self.values[f"{name}_prefix"] = prefix
        if value is not None:
            self.values[name] = value

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
    """``node.get(name)`` when it is a Masked value: the first field or nested
    node of that name decides, as in ``Node.__getitem__`` (inlined: this runs
    for every field of every new key)."""
    if node is None:
        return None
    for arg in node.args or ():
        if isinstance(arg, Field):
            if arg.name == name:
                value = arg.value
                return value if isinstance(value, Masked) else None
        elif isinstance(arg, Node) and arg.name == name:
            return None
    return None


# An address's (record, mask text, prefix length, text when matched) by the
# identity of its Masked record: the parser shares one record among all keys
# with the same address, and str() of an address is dear.  The record is
# kept, so that its id is not reused while the entry lives.
_ADDRESSES: dict[int, tuple[Masked, str | None, int | None, str | None]] = {}
_LIMIT = 1 << 16


def clear_caches() -> None:
    """Empty the cache of addresses (it is bounded anyway)."""
    _ADDRESSES.clear()


def _address(masked: Masked) -> tuple[Masked, str | None, int | None, str | None]:
    value, mask = masked.value, masked.mask
    prefix = masked.prefix_len
    if (
        prefix is None
        and isinstance(value, (IPv4Address, IPv6Address))
        and isinstance(mask, int)
        and 0 <= mask <= value.max_prefixlen
    ):
        prefix = mask  # a CIDR length after the slash
    matched = prefix != 0 and not masked.is_wildcard
    found = (
        masked,
        None if mask is None else str(mask),
        prefix,
        str(value) if matched else None,
    )
    if len(_ADDRESSES) >= _LIMIT:
        _ADDRESSES.clear()
    _ADDRESSES[id(masked)] = found
    return found


def _fields(node: Node) -> dict[str, Masked | None]:
    """``_masked(node, name)`` for every name in ``node``, from one pass."""
    out: dict[str, Masked | None] = {}
    for arg in node.args or ():
        if isinstance(arg, Field):
            if arg.name not in out:
                value = arg.value
                out[arg.name] = value if isinstance(value, Masked) else None
        elif isinstance(arg, Node) and arg.name not in out:
            out[arg.name] = None
    return out


def _positional(node: Node | None) -> Masked | None:
    value = node.value if node is not None else None
    return value if isinstance(value, Masked) else None


_NODE_STR: object = Node.__str__


def record_text(record: Any) -> str:
    """``str(record)`` of a key or action: Node.__str__ with the common
    argument, ``name=value`` of a parsed value, formatted in line."""
    if type(record).__str__ is not _NODE_STR:
        return str(record)
    args = record.args
    if args is None:
        return str(record.name)
    texts = [
        f"{arg.name}={arg.value.text}"
        if type(arg) is Field
        and type(arg.value) is Masked
        and arg.value.text is not None
        else _piece(arg)
        for arg in args
    ]
    return f"{record.name}({','.join(texts)})"


def _piece(arg: Any) -> str:
    """``str(arg)`` of an argument of a node (Node.__str__ joins these)."""
    if type(arg) is Masked and arg.text is not None:
        return str(arg.text)
    if type(arg).__str__ is _NODE_STR:
        return record_text(arg)
    return str(arg)


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
    fields = _fields(key)
    row.ethernet("eth_src", fields.get("src"))
    row.ethernet("eth_dst", fields.get("dst"))


def _ip(row: Row, key: Key) -> None:
    fields = _fields(key)
    src, dst = _IP_COLUMNS[key.name]
    row.address(src, fields.get("src"))
    row.address(dst, fields.get("dst"))
    row.number("ip_proto", fields.get("proto"), 8)
    row.text("ip_frag", fields.get("frag"))


_IP_COLUMNS = {"ipv4": ("ipv4_src", "ipv4_dst"), "ipv6": ("ipv6_src", "ipv6_dst")}


def _l4(row: Row, key: Key) -> None:
    fields = _fields(key)
    row.number(f"{key.name}_src", fields.get("src"), 16, True)
    row.number(f"{key.name}_dst", fields.get("dst"), 16, True)


def _icmp(row: Row, key: Key) -> None:
    fields = _fields(key)
    row.number("icmp_type", fields.get("type"), 8)
    row.number("icmp_code", fields.get("code"), 8)


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
        port = action.port  # each read of these walks the arguments
        record["port"] = None if port is None else str(port)
    elif isinstance(action, TnlPush):
        port = action.out_port
        record["port"] = None if port is None else str(port)
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


# What a walk of one action and those nested in it gives: its kinds (each
# once, in order), output ports, whether a ct commits, the recirc ids of its
# recirc actions (the first counts), and its first tnl_push and set(tunnel)
# destinations.
_Walk = tuple[
    tuple[str, ...],
    tuple[str, ...],
    bool,
    tuple[int | None, ...],
    str | None,
    str | None,
]
# One action's (record, text, struct, unfit values, walk), by its identity.
ActionItem = tuple[Action, str, dict[str, Any], tuple[str, ...], _Walk]
ActionItems = dict[int, ActionItem]


def _action_item(action: Action, items: ActionItems) -> ActionItem:
    found = items.get(id(action))
    if found is None:
        text = record_text(action)
        unfit: list[str] = []
        record = _action_record(action, text, unfit)
        found = (action, text, record, tuple(unfit), _walk(action, record))
        if len(items) >= _LIMIT:
            items.clear()
        items[id(action)] = found  # the action is kept: its id stays its own
    return found


def _walk(top: Action, record: dict[str, Any]) -> _Walk:
    kinds: dict[str, None] = {}
    ports: list[str] = []
    commit = False
    recirc: list[int | None] = []
    dst: dict[str, str | None] = {"tnl_push_dst": None, "set_tunnel_dst": None}
    for action in walk_actions((top,)):
        kinds[action.kind] = None
        if isinstance(action, Output):
            ports.append(action.name)
        elif isinstance(action, Ct):
            commit = commit or action.commit or action.force_commit
        elif isinstance(action, Recirc):
            recirc.append(_fit(action.recirc_id, 32, "recirc", []))
        elif isinstance(action, (TnlPush, SetField)):
            column = "tnl_push_dst" if isinstance(action, TnlPush) else "set_tunnel_dst"
            if dst[column] is None:
                # the record has the top action's destination already
                dst[column] = (
                    record["tunnel_dst"] if action is top else _tunnel_dst(action)
                )
    return (
        tuple(kinds),
        tuple(ports),
        commit,
        tuple(recirc),
        dst["tnl_push_dst"],
        dst["set_tunnel_dst"],
    )


def actions_values(
    actions: tuple[Action, ...], items: ActionItems | None = None
) -> Row:
    """The typed action list and the columns derived from every action.

    ``items`` caches what each action gives across calls (the parser shares
    an action among the lists that hold it); the structs are shared.  The
    walk of the list, nested actions included, is the walks of its actions
    one after the other.
    """
    row = Row()
    values = row.values
    items = {} if items is None else items
    found = [_action_item(a, items) for a in actions]
    values["actions"] = [item[2] for item in found]
    for item in found:
        row.unfit.extend(item[3])
    values["actions_text"] = ",".join([item[1] for item in found])

    kinds: dict[str, None] = {}
    ports: list[str] = []
    commit = False
    for item in found:
        walk = item[4]
        kinds.update(dict.fromkeys(walk[0]))
        ports.extend(walk[1])
        commit = commit or walk[2]
        if walk[3] and "recirc" not in values:
            values["recirc"] = walk[3][0]
        if values.get("tnl_push_dst") is None:
            values["tnl_push_dst"] = walk[4]
        if values.get("set_tunnel_dst") is None:
            values["set_tunnel_dst"] = walk[5]
    values["action_kinds"] = list(kinds)
    values["output_ports"] = ports
    values["ct_commit"] = commit
    return row
