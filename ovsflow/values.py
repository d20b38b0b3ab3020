"""Typed leaf values of a flow: numbers, addresses, masks and flag matches.

Every value in a dump is typed from its text alone, the way a reader of the
dump sees it: ``6`` and ``0x0800`` are integers, ``10.0.1.6`` an IPv4 address,
``0a:c9:1c:70:01:09`` an Ethernet address, ``fe80::1`` an IPv6 address, and
everything else (port names, ``no``, ``+trk-new``) a string.  Flag fields
(``ct_state``, ``tcp_flags``, tunnel ``flags``) are decoded further into a
:class:`FlagsMatch` by the key that holds them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
from socket import AF_INET, inet_pton
from typing import TypeVar


class EthAddr(str):
    """An Ethernet address as OVS prints it: six lowercase hex pairs."""

    __slots__ = ()


Value = int | str | IPv4Address | IPv6Address | EthAddr

_DEC = re.compile(r"[0-9]+\Z")
_IPV6_CHARS = re.compile(r"[0-9a-fA-F:.]+\Z")


class ValueRangeError(ValueError):
    """A token looks like an address but is out of range (``300.1.1.1``)."""


K = TypeVar("K")
V = TypeVar("V")


class Memo(dict[K, V]):
    """Values by key, each made once by ``make`` and kept; emptied when it
    holds ``limit`` of them, so memory stays bounded.  A hit is one dict
    lookup in C; ``make`` runs on a miss, and what it raises is not kept."""

    def __init__(self, make: Callable[[K], V], limit: int) -> None:
        super().__init__()
        self.make = make
        self.limit = limit

    def __missing__(self, key: K) -> V:
        value = self.make(key)
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value


def typed(text: str) -> Value:
    """The typed value of one token of a dump.

    >>> typed("0x0800"), typed("10.0.1.6"), typed("genev_sys_6081")
    (2048, IPv4Address('10.0.1.6'), 'genev_sys_6081')
    """
    return _TYPED[text]


#: More decimal digits than any number OVS prints (a 128-bit ct_label has 39).
#: A longer run of digits is hex data printed without 0x, such as the up to
#: 131,024 digits of ``userdata(...)``, and stays text: converting it would
#: cost time quadratic in its length (Python refuses past 4,300 digits).
_MAX_DEC_DIGITS = 40


# One pass tells which of the shapes above a token has: the number of the
# group that matched (decimal, hex, IPv4, Ethernet), or no match.
_SHAPE = re.compile(
    r"([0-9]+)\Z|(0[xX][0-9a-fA-F]+)\Z|([0-9]{1,3}(?:\.[0-9]{1,3}){3})\Z"
    r"|([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5})\Z"
)
_DECIMAL, _HEXADECIMAL, _ADDRESS4, _ETHERNET = 1, 2, 3, 4


def _type_token(text: str) -> Value:
    shape = _SHAPE.match(text)
    kind = shape.lastindex if shape is not None else None
    if kind == _DECIMAL:
        return int(text) if len(text) <= _MAX_DEC_DIGITS else text
    if kind == _HEXADECIMAL:
        return int(text, 16)
    if kind == _ADDRESS4:
        return _ipv4(text)
    if kind == _ETHERNET:
        return EthAddr(text)
    if ":" in text and _IPV6_CHARS.match(text):
        try:
            return IPv6Address(text)
        except ValueError:
            pass  # not every word with a colon is an address
    return text


# Token text -> typed value.  Dumps repeat the same few thousand tokens
# (ports, zero masks, addresses of a node's pods) millions of times, so typing
# each distinct token once pays for itself many times over.
_TYPED: Memo[str, Value] = Memo(_type_token, 1 << 18)


def _ipv4(text: str) -> IPv4Address:
    """Four dotted decimal octets (the caller checked the shape), typed.

    ``inet_pton`` does the reading: four times faster than
    ``IPv4Address(text)``, which matters as dumps hold millions of addresses.
    Like it, it refuses an octet past 255 and leading zeros (``01``, octal to
    some readers); tests/test_fastpath.py checks both agree on tricky texts.
    """
    try:
        return IPv4Address(int.from_bytes(inet_pton(AF_INET, text), "big"))
    except OSError:
        raise ValueRangeError(f"invalid IPv4 address {text!r}") from None


def format_value(value: Value) -> str:
    """Text for a value built in Python (not parsed): OVS's usual form."""
    if isinstance(value, bool):
        raise TypeError("booleans are not flow values")
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, int):
        return str(value) if value < 10 else hex(value)
    return str(value)


@dataclass(frozen=True, slots=True)
class Masked:
    """A value with an optional mask: ``value/mask`` in a dump.

    ``mask`` is ``None`` when OVS printed no mask (an exact match).  ``text``
    is the token as the dump spelled it, kept only so that a record prints
    back exactly; it takes no part in equality.
    """

    value: Value
    mask: Value | None = None
    text: str | None = field(default=None, compare=False, repr=False)

    @property
    def is_exact(self) -> bool:
        """True when every bit of the value is matched."""
        if self.mask is None:
            return True
        if isinstance(self.mask, IPv4Address):
            return int(self.mask) == 0xFFFFFFFF
        if isinstance(self.mask, IPv6Address):
            return int(self.mask) == (1 << 128) - 1
        if isinstance(self.mask, EthAddr):
            return self.mask.lower() == "ff:ff:ff:ff:ff:ff"
        return False

    @property
    def is_wildcard(self) -> bool:
        """True for ``0/0`` and the like: the field matches anything."""
        mask = self.mask
        if mask is None:
            return False
        if isinstance(mask, EthAddr):
            return mask == "00:00:00:00:00:00"
        if isinstance(mask, str):
            return False
        return int(mask) == 0

    @property
    def prefix_len(self) -> int | None:
        """For an address with a CIDR mask, its prefix length, else None."""
        if not isinstance(self.value, (IPv4Address, IPv6Address)):
            return None
        bits = self.value.max_prefixlen
        if self.mask is None:
            return bits
        if not isinstance(self.mask, (IPv4Address, IPv6Address)):
            return None
        mask = int(self.mask)
        inverted = ~mask & ((1 << bits) - 1)
        if inverted & (inverted + 1):
            return None  # not a contiguous mask such as 255.0.255.0
        return bits - inverted.bit_length()

    def __str__(self) -> str:
        if self.text is not None:
            return self.text
        if self.mask is None:
            return format_value(self.value)
        return f"{format_value(self.value)}/{format_value(self.mask)}"


# Records are built millions of times: the frozen dataclass __init__ sets
# each field through object.__setattr__; setting the slots directly (what
# __init__ does, without its checks of the frozen flag) takes half the time.
# The instances are the same: equal, hashed and still immutable to callers.
_new = object.__new__
_set_value = Masked.__dict__["value"].__set__
_set_mask = Masked.__dict__["mask"].__set__
_set_text = Masked.__dict__["text"].__set__


def new_masked(value: Value, mask: Value | None, text: str | None) -> Masked:
    """``Masked(value, mask, text)``, made faster (see above)."""
    masked = _new(Masked)
    _set_value(masked, value)
    _set_mask(masked, mask)
    _set_text(masked, text)
    return masked


class CtState(enum.IntFlag):
    """Connection tracking state bits (``OVS_CS_F_*``)."""

    new = 0x01
    est = 0x02
    rel = 0x04
    rpl = 0x08
    inv = 0x10
    trk = 0x20
    snat = 0x40
    dnat = 0x80


class TcpFlags(enum.IntFlag):
    """TCP header flags as ``tcp_flags(...)`` names them."""

    fin = 0x001
    syn = 0x002
    rst = 0x004
    psh = 0x008
    ack = 0x010
    urg = 0x020
    ece = 0x040
    cwr = 0x080
    ns = 0x100


class TunnelFlags(enum.IntFlag):
    """Tunnel flags (``FLOW_TNL_F_*``) as ``tunnel(...,flags(...))`` names them."""

    df = 0x1
    csum = 0x2
    key = 0x4
    oam = 0x8


# (str, Enum), not StrEnum: StrEnum would change str() and format() of a
# member, which users' code and saved output may rely on.
class Frag(str, enum.Enum):  # noqa: UP042
    """IP fragment type of ``ipv4(...,frag=...)``/``ipv6``: ``OVS_FRAG_TYPE_*``."""

    no = "no"
    first = "first"
    later = "later"


def decode_frag(masked: Masked) -> Masked:
    """``frag=no`` etc. with its value as a :class:`Frag`.

    OVS prints frag as a name; a numeric value (the ``frag=0x4000`` of an IP
    header inside ``tnl_push``) or an unknown name is left as it is.
    """
    value = masked.value
    if isinstance(value, str) and value in Frag.__members__ and masked.mask is None:
        return Masked(Frag(value), None, masked.text)
    return masked


FLAG_KINDS: dict[str, type[enum.IntFlag]] = {
    "ct_state": CtState,
    "tcp_flags": TcpFlags,
    "flags": TunnelFlags,
}

_FLAG_TOKEN = re.compile(r"([+-]?)([A-Za-z_\[\]0-9]+)")


@dataclass(frozen=True, slots=True)
class FlagsMatch:
    """A match on flag bits: which must be set and which must be clear.

    OVS prints it as flags (``+trk+est-new``, or ``trk|est`` for an exact
    match) or as numbers (``0x22/0x3e``); both decode to the same value.
    Bits outside the named flags are ignored in ``clear``.
    """

    kind: str
    set: int
    clear: int
    text: str | None = field(default=None, compare=False, repr=False)

    @property
    def set_flags(self) -> enum.IntFlag:
        """The flags that must be set, as named flags."""
        return FLAG_KINDS[self.kind](self.set)

    @property
    def clear_flags(self) -> enum.IntFlag:
        """The flags that must be clear, as named flags."""
        return FLAG_KINDS[self.kind](self.clear)

    @property
    def is_wildcard(self) -> bool:
        """True when no flag is matched at all."""
        return not self.set and not self.clear

    def __str__(self) -> str:
        if self.text is not None:
            return self.text
        flags = FLAG_KINDS[self.kind]
        return (
            "".join(
                ("+" if self.set & f.value else "-") + str(f.name)
                for f in flags
                if (self.set | self.clear) & f.value
            )
            or "0/0"
        )


def decode_flags(kind: str, masked: Masked) -> FlagsMatch:
    """Decode the flag field ``kind`` (a key of FLAG_KINDS) from its tokens."""
    flags = FLAG_KINDS[kind]
    known = sum(f.value for f in flags)
    value, mask, text = masked.value, masked.mask, masked.text
    if isinstance(value, int) and (mask is None or isinstance(mask, int)):
        m = known if mask is None else mask & known
        return FlagsMatch(kind, value & m, ~value & m, text)
    if not isinstance(value, str) or mask is not None:
        raise ValueError(f"{kind}: expected flags or a number, got {text!r}")
    if "|" in value or not value or value[0] not in "+-":
        bits = _flag_bits(flags, value.split("|") if value else [], kind)
        return FlagsMatch(kind, bits, known & ~bits, text)
    set_bits = clear_bits = 0
    for sign, name in _FLAG_TOKEN.findall(value):
        bit = _flag_bits(flags, [name], kind)
        if sign == "-":
            clear_bits |= bit
        else:
            set_bits |= bit
    return FlagsMatch(kind, set_bits, clear_bits, text)


def _flag_bits(flags: type[enum.IntFlag], names: list[str], kind: str) -> int:
    bits = 0
    for name in names:
        if name.startswith("[") and name.endswith("]"):
            bits |= int(name[1:-1], 16)  # OVS prints bits it cannot name as [200]
            continue
        try:
            bits |= flags[name].value
        except KeyError:
            expected = ", ".join(str(f.name) for f in flags)
            raise ValueError(
                f"unknown {kind} flag {name!r} (expected one of {expected})"
            ) from None
    return bits


# ---- Field widths --------------------------------------------------------

# What each numeric or address field of a key may hold, as lib/odp-util.c
# scans it (parse_odp_key_mask_attr: SCAN_FIELD with u8, be16, u32, ipv4,
# in6_addr, eth; scan_vid 12 bits, scan_mpls_label 20 bits, scan_ipv6_label 20
# bits...).  A number is a width in bits; "" names the one value of a
# single-valued key such as eth_type(0x0800).  The set() action, push_vlan,
# push_mpls and the header of tnl_push print the same fields under the same
# names, so they share the table.  Fields not listed are not checked.
IPV4, IPV6, ETH = "an IPv4 address", "an IPv6 address", "an Ethernet address"
_U8, _U16, _U32 = 8, 16, 32
Widths = dict[str, "int | str"]
_VLAN: Widths = {"vid": 12, "pcp": 3, "cfi": 1, "tpid": _U16}
_MPLS: Widths = {"label": 20, "tc": 3, "ttl": _U8, "bos": 1, "eth_type": _U16}
_PORTS: Widths = {"src": _U16, "dst": _U16}
_TP: Widths = {"tp_src": _U16, "tp_dst": _U16}
FIELD_WIDTHS: dict[str, Widths] = {
    "in_port": {"": _U32},  # printed as a name with --names: then not checked
    "skb_priority": {"": _U32},
    "skb_mark": {"": _U32},
    "recirc_id": {"": _U32},
    "dp_hash": {"": _U32},
    "ct_state": {"": _U32},
    "ct_zone": {"": _U16},
    "ct_mark": {"": _U32},
    "ct_label": {"": 128},
    "eth_type": {"": _U16},
    "tcp_flags": {"": _U16},
    "ct_tuple4": {"src": IPV4, "dst": IPV4, "proto": _U8, **_TP},
    "ct_tuple6": {"src": IPV6, "dst": IPV6, "proto": _U8, **_TP},
    "tunnel": {
        "tun_id": 64,
        "src": IPV4,
        "dst": IPV4,
        "ipv6_src": IPV6,
        "ipv6_dst": IPV6,
        "tos": _U8,
        "ttl": _U8,
        **_TP,
    },
    "eth": {"src": ETH, "dst": ETH, "dl_type": _U16},
    "vlan": _VLAN,
    "push_vlan": _VLAN,
    "mpls": _MPLS,
    "push_mpls": _MPLS,
    "ipv4": {"src": IPV4, "dst": IPV4, "proto": _U8, "tos": _U8, "ttl": _U8},
    "ipv6": {
        "src": IPV6,
        "dst": IPV6,
        "label": 20,
        "proto": _U8,
        "tclass": _U8,
        "hlimit": _U8,
    },
    "tcp": _PORTS,
    "udp": {**_PORTS, "csum": _U16},
    "sctp": _PORTS,
    "icmp": {"type": _U8, "code": _U8},
    "icmpv6": {"type": _U8, "code": _U8},
    "arp": {"sip": IPV4, "tip": IPV4, "op": _U16, "sha": ETH, "tha": ETH},
    "nd": {"target": IPV6, "sll": ETH, "tll": ETH},
    "nd_ext": {"nd_reserved": _U32, "nd_options_type": _U8},
    "packet_type": {"ns": _U16, "id": _U16},
}

KIND_TYPES: dict[str, type] = {IPV4: IPv4Address, IPV6: IPv6Address, ETH: EthAddr}


def check_width(key: str, name: str, masked: Masked) -> str | None:
    """Why ``masked`` cannot be field ``name`` of ``key``, or None if it can.

    ``name`` is "" for the value of a single-valued key.  Both the value and
    the mask must fit the field (see FIELD_WIDTHS).

    >>> check_width("tcp", "dst", Masked(70000, None, "70000"))
    'tcp(dst=70000): the value does not fit in 16 bits'
    """
    want = FIELD_WIDTHS.get(key, _NO_WIDTHS).get(name)
    if want is None:
        return None
    value, mask = masked.value, masked.mask
    if isinstance(want, int):  # the common case first, without a message
        if (type(value) is int and not value >> want) and (
            mask is None or (type(mask) is int and not mask >> want)
        ):
            return None
    else:
        kind = KIND_TYPES[want]
        if isinstance(value, kind) and (mask is None or isinstance(mask, kind)):
            return None
    return _width_problem(key, name, masked, want)


_NO_WIDTHS: Widths = {}


def _width_problem(key: str, name: str, masked: Masked, want: int | str) -> str | None:
    text = str(masked)
    if len(text) > 40:
        text = text[:40] + "..."  # the whole token is under the caret anyway
    shown = f"{key}({name}={text})" if name else f"{key}({text})"
    for part, value in (("the value", masked.value), ("the mask", masked.mask)):
        if value is None:
            continue
        if isinstance(want, str):
            if not isinstance(value, KIND_TYPES[want]):
                return f"{shown}: {part} is not {want}"
        elif isinstance(value, int) or (isinstance(value, str) and _DEC.match(value)):
            # A str of digits is one too long to convert: it cannot fit.
            if isinstance(value, str) or value >> want:
                return f"{shown}: {part} does not fit in {want} bits"
        elif not (key in _NAMED and isinstance(value, str)):
            return f"{shown}: {part} is not a number"
    return None


# Single-valued keys whose value may also be a word: a port name (--names)
# or flags (ct_state(+trk), tcp_flags(syn|ack)), checked when decoded.
_NAMED = frozenset({"in_port", "ct_state", "tcp_flags"})


__all__ = [
    "CtState",
    "EthAddr",
    "FlagsMatch",
    "Frag",
    "Masked",
    "TcpFlags",
    "TunnelFlags",
    "Value",
    "check_width",
    "decode_flags",
    "decode_frag",
    "typed",
]
