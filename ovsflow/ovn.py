"""OVN's Geneve metadata: logical datapath and logical ports of a tunnelled flow.

Between chassis, OVN sends the packet's logical context in the Geneve header
(ovn-architecture(7), "Tunnel Encapsulations"; ``put_encapsulation()`` in
OVN's ``controller/physical.c``):

- the 24-bit VNI (``tun_id``) is the logical datapath's tunnel key;
- one option, class ``0x0102`` type ``0x80``, 4 bytes of data: one reserved
  bit, then the 15-bit logical ingress port key, then the 16-bit logical
  egress port key::

      0                   1                   2                   3
      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
     |R|   logical ingress port (15) |   logical egress port (16)    |
     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

A flow carries it in its match (``tunnel(tun_id=..,geneve({class=0x102,...}))``,
received from a tunnel) or in its actions (``set(tunnel(...))`` for the kernel
and TC datapaths, ``tnl_push(...geneve(vni=..,options(...)))`` for the
userspace datapath).

>>> from ovsflow.parse import parse_flow
>>> flow = parse_flow("tunnel(tun_id=0x5,dst=192.0.2.1,"
...     "geneve({class=0x102,type=0x80,len=4,0xa0006})),in_port(3), "
...     "packets:1, bytes:60, used:1.0s, actions:2")
>>> decode(flow)
OvnMetadata(direction='received', datapath=5, ingress_port=10, egress_port=6)
"""

from __future__ import annotations

from dataclasses import dataclass

from ovsflow.actions import SetField, TnlPush
from ovsflow.records import Flow, GeneveOption, GeneveOptions, Node
from ovsflow.values import Masked

__all__ = ["OVN_OPTION_CLASS", "OVN_OPTION_TYPE", "OvnMetadata", "decode", "ports"]

#: The Geneve option class OVN registered (IANA "Open Virtual Networking").
OVN_OPTION_CLASS = 0x0102
#: The option type OVN uses for its logical ports (critical bit set).
OVN_OPTION_TYPE = 0x80


@dataclass(frozen=True, slots=True)
class OvnMetadata:
    """OVN's logical context of a flow.

    ``direction`` is ``"received"`` when it comes from the flow's tunnel match
    and ``"sent"`` when the flow's actions put it on the packet.  ``datapath``
    (the VNI) is None when the dump does not show ``tun_id``/``vni``.
    """

    direction: str
    datapath: int | None
    ingress_port: int
    egress_port: int

    def as_dict(self) -> dict[str, object]:
        return {
            "direction": self.direction,
            "datapath": self.datapath,
            "ingress_port": self.ingress_port,
            "egress_port": self.egress_port,
        }


def ports(option: GeneveOption) -> tuple[int, int] | None:
    """(ingress, egress) logical port keys of OVN's option, else None.

    None for any other option, for an option whose class or type is only
    partly matched, and for data that is not 4 bytes.

    >>> from ovsflow.values import Masked as M
    >>> ports(GeneveOption(M(0x102), M(0x80), M(4), M(0x6000A)))
    (6, 10)
    """
    if not _exact(option.option_class, OVN_OPTION_CLASS, 0xFFFF):
        return None
    if not _exact(option.type, OVN_OPTION_TYPE, 0xFF):
        return None
    if not _exact(option.length, 4, 0x1F):
        return None
    data = option.data.value if option.data is not None else None
    if not isinstance(data, int) or data >> 32:
        return None
    return (data >> 16) & 0x7FFF, data & 0xFFFF


def decode(flow: Flow) -> OvnMetadata | None:
    """OVN's logical datapath and ports of ``flow``, or None if it has none.

    The tunnel match wins over the actions: a flow received from a tunnel is
    described by where it came from.
    """
    tunnel = flow.match.tunnel
    if tunnel is not None:
        found = _from_tunnel(tunnel, "received")
        if found is not None:
            return found
    for action in flow.actions:
        if isinstance(action, SetField):
            key = action.key
            if key is not None and key.name == "tunnel":
                found = _from_tunnel(key, "sent")
                if found is not None:
                    return found
        elif isinstance(action, TnlPush):
            header = action.header
            geneve = header.get("geneve") if header is not None else None
            if isinstance(geneve, Node):
                found = _from_geneve_header(geneve)
                if found is not None:
                    return found
    return None


def _from_tunnel(tunnel: Node, direction: str) -> OvnMetadata | None:
    geneve = tunnel.get("geneve")
    if not isinstance(geneve, Node):
        return None
    keys = _first_ovn_option(geneve)
    if keys is None:
        return None
    return OvnMetadata(direction, _int(tunnel.get("tun_id")), *keys)


def _from_geneve_header(geneve: Node) -> OvnMetadata | None:
    options = geneve.get("options")
    keys = _first_ovn_option(options) if isinstance(options, Node) else None
    if keys is None:
        return None
    return OvnMetadata("sent", _int(geneve.get("vni")), *keys)


def _first_ovn_option(node: Node) -> tuple[int, int] | None:
    for arg in node.args or ():
        if isinstance(arg, GeneveOptions):
            for option in arg:
                keys = ports(option)
                if keys is not None:
                    return keys
    return None


def _exact(masked: Masked, wanted: int, bits: int) -> bool:
    """True when ``masked`` matches exactly ``wanted`` on all of its ``bits``."""
    mask = masked.mask
    full = mask is None or (isinstance(mask, int) and mask & bits == bits)
    return full and masked.value == wanted


def _int(value: object) -> int | None:
    if isinstance(value, Masked) and isinstance(value.value, int):
        return value.value
    return None
