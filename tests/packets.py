"""Build the Ethernet frames the real-OVS tests inject, byte by byte.

The tests know the length of every frame they send without asking OVS or the
parser, so the counters in a dump can be checked against what was sent.  Only
what the scenarios need is here: Ethernet, 802.1Q, MPLS, ARP, IPv4, IPv6, TCP,
UDP, ICMP, ICMPv6 (echo and neighbour discovery), VXLAN and Geneve.  Checksums
are real, because OVS's userspace conntrack and tunnel decapsulation check them.
"""

from __future__ import annotations

import ipaddress
import struct

ETH_IPV4 = 0x0800
ETH_ARP = 0x0806
ETH_VLAN = 0x8100
ETH_IPV6 = 0x86DD
ETH_MPLS = 0x8847

PROTO_ICMP = 1
PROTO_TCP = 6
PROTO_UDP = 17
PROTO_ICMPV6 = 58


def mac(text: str) -> bytes:
    """``"aa:bb:cc:dd:ee:ff"`` as six bytes."""
    return bytes(int(part, 16) for part in text.split(":"))


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def eth(dst: str, src: str, ethertype: int, payload: bytes) -> bytes:
    return mac(dst) + mac(src) + struct.pack("!H", ethertype) + payload


def vlan(vid: int, ethertype: int, payload: bytes, pcp: int = 0) -> bytes:
    """An 802.1Q tag and what follows it; the outer ethertype is 0x8100."""
    return struct.pack("!HH", (pcp << 13) | vid, ethertype) + payload


def mpls(label: int, payload: bytes, ttl: int = 64) -> bytes:
    """One MPLS label stack entry with the bottom-of-stack bit set."""
    return struct.pack("!I", (label << 12) | (1 << 8) | ttl) + payload


def arp(op: int, sha: str, spa: str, tha: str, tpa: str) -> bytes:
    head = struct.pack("!HHBBH", 1, ETH_IPV4, 6, 4, op)
    return head + mac(sha) + _ip(spa) + mac(tha) + _ip(tpa)


def ipv4(src: str, dst: str, proto: int, payload: bytes, ttl: int = 64) -> bytes:
    """An IPv4 header (don't-fragment set, valid checksum) and its payload."""
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(payload),
        1,
        0x4000,
        ttl,
        proto,
        0,
        _ip(src),
        _ip(dst),
    )
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def ipv6(src: str, dst: str, proto: int, payload: bytes, hlim: int = 64) -> bytes:
    head = struct.pack("!IHBB", 6 << 28, len(payload), proto, hlim)
    return head + _ip(src) + _ip(dst) + payload


def tcp(src: str, dst: str, sport: int, dport: int, flags: int = 0x02) -> bytes:
    """A TCP header without payload (SYN by default), checksummed for src/dst."""
    segment = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, flags, 8192, 0, 0)
    return _l4_checksummed(src, dst, PROTO_TCP, segment, 16)


def udp(src: str, dst: str, sport: int, dport: int, payload: bytes = b"") -> bytes:
    datagram = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return _l4_checksummed(src, dst, PROTO_UDP, datagram, 6)


def icmp_echo(ident: int = 1, seq: int = 1, payload: bytes = b"ping") -> bytes:
    message = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + payload
    return message[:2] + struct.pack("!H", checksum(message)) + message[4:]


def icmpv6(src: str, dst: str, kind: int, code: int, body: bytes) -> bytes:
    message = struct.pack("!BBH", kind, code, 0) + body
    return _l4_checksummed(src, dst, PROTO_ICMPV6, message, 2)


def icmpv6_echo(src: str, dst: str, ident: int = 1, seq: int = 1) -> bytes:
    return icmpv6(src, dst, 128, 0, struct.pack("!HH", ident, seq) + b"ping")


def neighbor_solicitation(src: str, dst: str, target: str, sll: str) -> bytes:
    """ICMPv6 type 135 with a source link-layer address option."""
    body = b"\0\0\0\0" + _ip(target) + b"\x01\x01" + mac(sll)
    return icmpv6(src, dst, 135, 0, body)


def neighbor_advertisement(src: str, dst: str, target: str, tll: str) -> bytes:
    """ICMPv6 type 136 (solicited, override) with a target link-layer option."""
    body = b"\x60\0\0\0" + _ip(target) + b"\x02\x01" + mac(tll)
    return icmpv6(src, dst, 136, 0, body)


def vxlan(vni: int, inner: bytes) -> bytes:
    """A VXLAN header (I flag set) and the inner Ethernet frame."""
    return struct.pack("!II", 0x08000000, vni << 8) + inner


def geneve(vni: int, inner: bytes, options: bytes = b"") -> bytes:
    """A Geneve header carrying an Ethernet frame, with ``options`` as given."""
    assert len(options) % 4 == 0
    first = (len(options) // 4) & 0x3F
    return struct.pack("!BBHI", first, 0, 0x6558, vni << 8) + options + inner


def geneve_option(opt_class: int, opt_type: int, data: bytes) -> bytes:
    """One Geneve TLV option; ``data`` must be a multiple of four bytes."""
    assert len(data) % 4 == 0
    return struct.pack("!HBB", opt_class, opt_type, len(data) // 4) + data


def _ip(text: str) -> bytes:
    return ipaddress.ip_address(text).packed


def _l4_checksummed(src: str, dst: str, proto: int, data: bytes, at: int) -> bytes:
    """``data`` with its checksum at offset ``at`` filled in (pseudo-header)."""
    if ipaddress.ip_address(src).version == 4:
        pseudo = _ip(src) + _ip(dst) + struct.pack("!BBH", 0, proto, len(data))
    else:
        pseudo = _ip(src) + _ip(dst) + struct.pack("!I3xB", len(data), proto)
    value = checksum(pseudo + data) or 0xFFFF
    return data[:at] + struct.pack("!H", value) + data[at + 2 :]
