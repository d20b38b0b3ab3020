"""OVN's Geneve option decoded into logical datapath and port keys.

Expected values are worked out by hand from the layout in ovn-architecture(7)
("Tunnel Encapsulations"): one reserved bit, the 15-bit logical ingress port,
the 16-bit logical egress port; the 24-bit VNI is the logical datapath.
"""

from __future__ import annotations

import pytest
from helpers import DATA, REPO

from ovsflow.dump import parse_dump
from ovsflow.ovn import OvnMetadata, decode, ports
from ovsflow.parse import parse_flow
from ovsflow.records import GeneveOption
from ovsflow.values import Masked

SAMPLE = REPO / "ovsflow" / "samples" / "kube-ovn-yusur-2200e.txt"


def option(cls: Masked, kind: Masked, length: Masked, data: int) -> GeneveOption:
    return GeneveOption(cls, kind, length, Masked(data))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # 0x000a0006: bits 30..16 = 0x000a = 10, bits 15..0 = 0x0006 = 6.
        (0x000A0006, (10, 6)),
        # The largest keys: 15 ones, 16 ones.
        (0x7FFFFFFF, (0x7FFF, 0xFFFF)),
        # The reserved top bit is not part of the ingress key.
        (0x80010002, (1, 2)),
        (0, (0, 0)),
    ],
)
def test_ovn_option_splits_into_ingress_and_egress_keys(
    data: int, expected: tuple[int, int]
) -> None:
    assert ports(option(Masked(0x102), Masked(0x80), Masked(4), data)) == expected


@pytest.mark.parametrize(
    "other",
    [
        option(Masked(0xFFFF), Masked(0x80), Masked(4), 0xA),  # another class
        option(Masked(0x102), Masked(0x81), Masked(4), 0xA),  # another type
        option(Masked(0x102), Masked(0x80), Masked(8), 0xA),  # 8 bytes of data
        option(Masked(0x102, 0), Masked(0x80), Masked(4), 0xA),  # class wildcarded
        option(Masked(0x102), Masked(0x80), Masked(4), 1 << 32),  # over 4 bytes
    ],
)
def test_other_options_are_not_decoded(other: GeneveOption) -> None:
    assert ports(other) is None


def test_exactly_masked_class_still_counts() -> None:
    opt = option(Masked(0x102, 0xFFFF), Masked(0x80, 0xFF), Masked(4, 0x1F), 0x30004)
    assert ports(opt) == (3, 4)


def test_sample_flows_decode_both_directions() -> None:
    # Flow 1 sets tun_id=0x5 and 0xa0006 on the way out; flow 2 matches
    # tun_id=0x5 and 0x6000a coming back: the same two ports, swapped.
    first, second = list(parse_dump(SAMPLE))
    assert decode(first) == OvnMetadata("sent", 5, 10, 6)
    assert decode(second) == OvnMetadata("received", 5, 6, 10)


def test_userspace_tnl_push_header_is_decoded() -> None:
    line = (
        "recirc_id(0),in_port(1),eth_type(0x0800),ipv4(frag=no), packets:1, "
        "bytes:60, used:0.1s, actions:tnl_push(tnl_port(6081),header(size=58,"
        "type=5,eth(dst=02:00:00:00:00:02,src=02:00:00:00:00:01,dl_type=0x0800),"
        "ipv4(src=192.0.2.1,dst=192.0.2.2,proto=17,tos=0,ttl=64,frag=0x4000),"
        "udp(src=0,dst=6081,csum=0x0),geneve(crit,vni=0x7,options({class=0x102,"
        "type=0x80,len=4,0x30004}))),out_port(100)),30"
    )
    # 0x00030004: ingress 3, egress 4; vni 0x7 is datapath 7.
    assert decode(parse_flow(line)) == OvnMetadata("sent", 7, 3, 4)


def test_flows_without_ovn_option_decode_to_none() -> None:
    # The dummy dumps carry Geneve option class 0xffff, not OVN's.
    flows = list(parse_dump(DATA / "ovs-dummy-dpctl-m.txt"))
    assert [f for f in flows if decode(f) is not None] == []
    assert any("class=0xffff,type=0x80" in str(f) for f in flows)
