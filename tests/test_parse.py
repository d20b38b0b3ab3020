"""Parsing single flow lines: every key, mask form and action OVS prints."""

from __future__ import annotations

import uuid
from ipaddress import IPv4Address, IPv6Address
from uuid import UUID

import pytest
from helpers import conformance_lines, corpus_lines, guide_lines

from ovsflow import CtState, EthAddr, FlagsMatch, Masked, ParseError, parse_flow
from ovsflow._build import SemanticError, ufid_value
from ovsflow.actions import (
    CheckPktLen,
    Clone,
    Ct,
    DecTtl,
    Drop,
    Hash,
    Meter,
    Output,
    Recirc,
    Sample,
    SetField,
    TnlPop,
    TnlPush,
    Userspace,
)
from ovsflow.parse import parse_flow_reference
from ovsflow.records import Node, Unformattable
from ovsflow.values import Frag, TcpFlags, TunnelFlags

TAIL = ", packets:0, bytes:0, used:never, actions:drop"


def key_of(text: str) -> Node:
    flow = parse_flow(text + TAIL)
    (key,) = flow.match.keys
    assert isinstance(key, Node)
    return key


def actions_of(text: str) -> tuple[object, ...]:
    return parse_flow(
        "in_port(1), packets:0, bytes:0, used:never, actions:" + text
    ).actions


# ---- Conformance: OVS's own test strings ----------------------------------


@pytest.mark.parametrize("line", conformance_lines("odp-at-keys.txt"))
def test_every_odp_at_key_string_parses_and_prints_back(line: str) -> None:
    text = line + " actions:drop"
    text = line + TAIL
    flow = parse_flow(text)
    assert str(flow) == text
    assert flow == parse_flow_reference(text)


@pytest.mark.parametrize("line", conformance_lines("odp-at-actions.txt"))
def test_every_odp_at_action_string_parses_and_prints_back(line: str) -> None:
    text = "in_port(1), packets:0, bytes:0, used:never, actions:" + line
    flow = parse_flow(text)
    assert str(flow) == text
    assert flow == parse_flow_reference(text)


# ---- Real dumps ----------------------------------------------------------


@pytest.mark.parametrize(("name", "number", "line"), corpus_lines())
def test_real_dump_lines_round_trip_and_fast_path_agrees_with_grammar(
    name: str, number: int, line: str
) -> None:
    flow = parse_flow(line)
    assert str(flow) == line
    assert flow == parse_flow_reference(line)


def test_guide_lines_decode_to_the_values_printed() -> None:
    first, second = (parse_flow(line) for line in guide_lines())
    assert first.ufid == UUID("67c2e10f-92d4-4574-be70-d072815ff166")
    assert (first.stats.packets, first.stats.bytes) == (75021, 109521630)
    assert (first.stats.offload_packets, first.stats.offload_bytes) == (
        75019,
        109521498,
    )
    assert first.stats.used == pytest.approx(3.990)
    assert (first.offloaded, first.dp) == ("yes", "tc")
    assert first.match.in_port == "d85b161b6840_h"
    assert first.match["ipv4"]["src"] == Masked(IPv4Address("10.0.1.10"))
    assert first.match["ipv4"]["tos"] == Masked(0, 3)
    assert first.match["tcp"].values() == {"src": 60774, "dst": 9001}
    set_action, output = first.actions
    assert isinstance(set_action, SetField) and isinstance(output, Output)
    assert output.port == "genev_sys_6081"
    tunnel = set_action.key
    assert tunnel is not None and tunnel.name == "tunnel"
    assert tunnel["dst"] == Masked(IPv4Address("192.168.201.12"))
    assert second.match.geneve[0].data == Masked(0x6000A)
    assert second.match.geneve[0].option_class == Masked(0x102)
    assert second.stats.used == pytest.approx(4.170)
    flags = second.match.tunnel["flags"]  # type: ignore[index]
    assert isinstance(flags, Node)
    assert flags.value == FlagsMatch("flags", TunnelFlags.key, 0)


# ---- Keys ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        ("recirc_id(0x1a)", None, Masked(26)),
        ("dp_hash(0x5/0xf)", None, Masked(5, 15)),
        ("skb_priority(0/0)", None, Masked(0, 0)),
        ("skb_mark(0x1234)", None, Masked(0x1234)),
        ("in_port(3)", None, Masked(3)),
        ("in_port(br-int)", None, Masked("br-int")),
        ("in_port(2/0xffff)", None, Masked(2, 0xFFFF)),
        ("ct_zone(0x5)", None, Masked(5)),
        ("ct_mark(0x10/0xff)", None, Masked(0x10, 0xFF)),
        (
            "ct_label(0x1/0xffffffffffffffffffffffffffffffff)",
            None,
            Masked(1, (1 << 128) - 1),
        ),
        ("eth_type(0x86dd)", None, Masked(0x86DD)),
        (
            "eth(src=00:01:02:03:04:05,dst=10:11:12:13:14:15)",
            "dst",
            Masked(EthAddr("10:11:12:13:14:15")),
        ),
        (
            "eth(src=00:01:02:03:04:05/ff:ff:ff:00:00:00)",
            "src",
            Masked(EthAddr("00:01:02:03:04:05"), EthAddr("ff:ff:ff:00:00:00")),
        ),
        (
            "ipv4(src=10.0.0.0/255.0.0.0,proto=6,frag=no)",
            "src",
            Masked(IPv4Address("10.0.0.0"), IPv4Address("255.0.0.0")),
        ),
        (
            "ipv4(src=10.0.0.1,proto=6,tos=0x80/0xfc,frag=later)",
            "tos",
            Masked(0x80, 0xFC),
        ),
        ("ipv4(src=10.0.0.1,frag=first)", "frag", Masked(Frag.first)),
        ("ipv6(src=::1,frag=later)", "frag", Masked(Frag.later)),
        (
            "ipv6(src=fe80::1/ffff::,label=0x12345,hlimit=64,frag=no)",
            "src",
            Masked(IPv6Address("fe80::1"), IPv6Address("ffff::")),
        ),
        ("ipv6(src=::1,label=0x12345/0xfffff)", "label", Masked(0x12345, 0xFFFFF)),
        ("tcp(src=80,dst=8080/0xff00)", "dst", Masked(8080, 0xFF00)),
        ("udp(src=53,dst=4000)", "src", Masked(53)),
        ("sctp(src=38,dst=39)", "dst", Masked(39)),
        ("icmp(type=8,code=0)", "type", Masked(8)),
        ("icmpv6(type=135,code=0)", "type", Masked(135)),
        (
            "arp(sip=1.1.1.1,tip=2.2.2.2,op=1,sha=00:0f:10:11:12:13,"
            "tha=00:14:15:16:17:18)",
            "tip",
            Masked(IPv4Address("2.2.2.2")),
        ),
        (
            "nd(target=::3,sll=00:05:06:07:08:09,tll=00:0a:0b:0c:0d:0e)",
            "tll",
            Masked(EthAddr("00:0a:0b:0c:0d:0e")),
        ),
        ("nd_ext(reserved=0x0,options_type=2)", "options_type", Masked(2)),
        ("packet_type(ns=1,id=0x800)", "id", Masked(0x800)),
        ("vlan(vid=99,pcp=7)", "vid", Masked(99)),
        ("vlan(tci=0x1234/0xfff)", "tci", Masked(0x1234, 0xFFF)),
        (
            "ct_tuple4(src=10.10.10.10,dst=20.20.20.20,proto=17,tp_src=1,tp_dst=2)",
            "tp_dst",
            Masked(2),
        ),
        (
            "ct_tuple6(src=::1,dst=::2,proto=6,src_port=1,dst_port=2)",
            "src_port",
            Masked(1),
        ),
        (
            "nsh(flags=0,ttl=63,mdtype=1,np=3,spi=0x100,si=255,c1=0x1)",
            "ttl",
            Masked(63),
        ),
        (
            "tunnel(tun_id=0x7f10354,src=10.10.10.10,dst=20.20.20.20,ttl=64,"
            "tp_dst=6081)",
            "tun_id",
            Masked(0x7F10354),
        ),
        (
            "tunnel(ipv6_src=::1,ipv6_dst=::2,tos=0x4,ttl=64/0)",
            "ipv6_dst",
            Masked(IPv6Address("::2")),
        ),
    ],
)
def test_key_fields_decode_to_typed_values(
    text: str, field: str | None, expected: Masked
) -> None:
    key = key_of(text)
    value = key.value if field is None else key[field]
    assert value == expected
    assert str(key) == text


@pytest.mark.parametrize(
    ("mask", "exact", "wildcard"),
    [("", True, False), ("/0", False, True), ("/0xff", False, False)],
)
def test_integer_masks_say_exact_or_wildcard(
    mask: str, exact: bool, wildcard: bool
) -> None:
    value = key_of(f"skb_mark(0{mask})").value
    assert isinstance(value, Masked)
    assert (value.is_exact, value.is_wildcard) == (exact, wildcard)


def test_address_masks_give_prefix_lengths() -> None:
    ipv4 = key_of("ipv4(src=10.1.0.0/255.255.0.0,dst=1.2.3.4/0.0.0.0)")
    assert ipv4["src"].prefix_len == 16  # type: ignore[union-attr]
    assert ipv4["dst"].is_wildcard  # type: ignore[union-attr]
    ipv6 = key_of("ipv6(src=2001:db8::/ffff:ffff::,dst=::1)")
    assert ipv6["src"].prefix_len == 32  # type: ignore[union-attr]
    assert ipv6["dst"].prefix_len == 128  # type: ignore[union-attr]
    eth = key_of("eth(src=00:00:00:00:00:00/00:00:00:00:00:00)")
    assert eth["src"].is_wildcard  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("flag_form", "numeric_form"),
    [
        ("ct_state(+trk+est-new)", "ct_state(0x22/0x23)"),
        ("ct_state(-new-est+trk)", "ct_state(0x20/0x23)"),
        ("ct_state(trk|est)", "ct_state(0x22)"),
        ("ct_state(+rpl+snat-dnat)", "ct_state(0x48/0xc8)"),
    ],
)
def test_ct_state_numeric_and_flag_forms_agree(
    flag_form: str, numeric_form: str
) -> None:
    assert key_of(flag_form).value == key_of(numeric_form).value


def test_ct_state_names_the_flags_to_set_and_clear() -> None:
    value = key_of("ct_state(+trk+est-new-inv)").value
    assert isinstance(value, FlagsMatch)
    assert value.set_flags == CtState.trk | CtState.est
    assert value.clear_flags == CtState.new | CtState.inv
    assert key_of("ct_state(0/0)").value == FlagsMatch("ct_state", 0, 0)


@pytest.mark.parametrize(
    ("flag_form", "numeric_form"),
    [
        ("tcp_flags(syn|ack)", "tcp_flags(0x12)"),
        ("tcp_flags(+syn-ack)", "tcp_flags(0x2/0x12)"),
    ],
)
def test_tcp_flags_numeric_and_flag_forms_agree(
    flag_form: str, numeric_form: str
) -> None:
    assert key_of(flag_form).value == key_of(numeric_form).value
    assert key_of(flag_form).value.set_flags & TcpFlags.syn  # type: ignore[union-attr]


def test_tunnel_flags_exact_and_masked_forms_decode() -> None:
    exact = key_of("tunnel(tun_id=0x1,flags(csum|key))")["flags"]
    masked = key_of("tunnel(tun_id=0x1,flags(-df+csum+key))")["flags"]
    assert isinstance(exact, Node) and isinstance(masked, Node)
    assert exact.value == FlagsMatch(
        "flags", TunnelFlags.csum | TunnelFlags.key, TunnelFlags.df | TunnelFlags.oam
    )
    assert masked.value == FlagsMatch(
        "flags", TunnelFlags.csum | TunnelFlags.key, TunnelFlags.df
    )


def test_geneve_options_are_typed_tlvs_with_masks() -> None:
    text = (
        "tunnel(geneve({class=0x102,type=0x80,len=4,0xa0006/0xffffffff}"
        "{class=0xffff/0,type=0x1,len=8,0x1122334455667788}))"
    )
    flow = parse_flow(text + TAIL)
    first, second = flow.match.geneve
    assert first.data == Masked(0xA0006, 0xFFFFFFFF)
    assert second.option_class == Masked(0xFFFF, 0)
    assert (second.type, second.length) == (Masked(1), Masked(8))
    assert str(flow).startswith(text)


def test_vxlan_erspan_gtpu_options_inside_tunnel() -> None:
    tunnel = key_of(
        "tunnel(tun_id=0x1,vxlan(gbp(id=10,flags=0x1)),erspan(ver=2,dir=1,hwid=0x7),"
        "gtpu(flags=0x30,msgtype=255))"
    )
    vxlan = tunnel["vxlan"]
    assert isinstance(vxlan, Node)
    assert vxlan["gbp"]["id"] == Masked(10)  # type: ignore[index]
    assert tunnel["erspan"]["hwid"] == Masked(7)  # type: ignore[index]
    assert tunnel["gtpu"]["msgtype"] == Masked(255)  # type: ignore[index]


def test_encap_inside_encap_keeps_both_vlans() -> None:
    line = (
        "in_port(1),eth_type(0x88a8),vlan(vid=10,pcp=0),encap(eth_type(0x8100),"
        "vlan(vid=20,pcp=0),encap(eth_type(0x0800),ipv4(src=1.1.1.1,frag=no)))" + TAIL
    )
    flow = parse_flow(line)
    outer = flow.match["encap"]
    inner = outer["encap"]
    assert outer["vlan"]["vid"] == Masked(20)  # type: ignore[index]
    assert inner["ipv4"]["src"] == Masked(IPv4Address("1.1.1.1"))  # type: ignore[index]
    assert str(flow) == line


def test_mpls_label_stack_entries_keep_their_order() -> None:
    flow = parse_flow(
        "mpls(label=100,tc=0,ttl=64,bos=0,label=200,tc=1,ttl=63,bos=1)" + TAIL
    )
    labels = [lse["label"].value for lse in flow.match.mpls_lses]
    assert labels == [100, 200]
    assert flow.match.mpls_lses[1]["tc"] == Masked(1)


def test_unformattable_keys_are_kept_not_errors() -> None:
    flow = parse_flow("key99(01 02 03),in_port(1)" + TAIL)
    assert flow.match["key99"].value == Masked("01 02 03")
    flow = parse_flow("(bad key length 4, expected 12)(01 02 03 04),in_port(1)" + TAIL)
    assert isinstance(flow.match.keys[0], Unformattable)


# ---- Statistics and attributes --------------------------------------------


def test_stats_used_never_and_tcp_flags() -> None:
    flow = parse_flow(
        "in_port(1), packets:10, bytes:600, used:never, flags:SF., actions:2"
    )
    assert (flow.stats.used, flow.stats.flags) == (None, "SF.")


def test_vendor_stats_of_unknown_names_are_kept_and_typed() -> None:
    flow = parse_flow(
        "in_port(1), packets:3, bytes:9, hw_drops:7, owner:nic0, used:1.000s, "
        "actions:drop"
    )
    assert flow.stats.get("hw_drops") == 7
    assert flow.attrs == (("owner", "nic0"),)


def test_attributes_in_any_order_and_with_either_separator() -> None:
    line = (
        "in_port(1), packets:1, bytes:2, used:0.001s,dp:tc,offloaded:yes,actions:drop"
    )
    flow = parse_flow(line)
    assert (flow.offloaded, flow.dp) == ("yes", "tc")
    assert str(flow) == line


def test_dp_extra_info_after_the_actions() -> None:
    line = (
        "in_port(1), packets:1, bytes:2, used:never, dp:ovs, actions:2, "
        "dp-extra-info:miniflow_bits(4,1)"
    )
    flow = parse_flow(line)
    assert flow.dp_extra_info == "miniflow_bits(4,1)"
    assert [str(a) for a in flow.actions] == ["2"]
    assert str(flow) == line


def test_dpif_dump_flows_puts_a_space_after_the_ufid() -> None:
    line = (
        "ufid:3f6e499d-9cee-4099-b473-a6a704cadfc2 recirc_id(0),in_port(1), "
        "packets:0, bytes:0, used:never, actions:drop"
    )
    assert parse_flow(line).ufid == UUID("3f6e499d-9cee-4099-b473-a6a704cadfc2")
    assert str(parse_flow(line)) == line


# ---- Actions -------------------------------------------------------------


def test_output_to_numbers_and_names_and_drop() -> None:
    out1, out2, drop = actions_of("1,tap0,drop")
    assert isinstance(out1, Output) and out1.port == 1
    assert isinstance(out2, Output) and out2.port == "tap0"
    assert isinstance(drop, Drop)


def test_ct_with_commit_zone_mark_label_helper_and_nat() -> None:
    (ct,) = actions_of(
        "ct(commit,zone=5,mark=0x1/0xff,label=0x2/0x3,helper=ftp,"
        "nat(src=10.0.0.240-10.0.0.254:32768-65535,random))"
    )
    assert isinstance(ct, Ct)
    assert (ct.commit, ct.force_commit, ct.zone, ct.helper) == (True, False, 5, "ftp")
    assert ct["mark"] == Masked(1, 0xFF)
    assert (
        ct.nat is not None and str(ct.nat["src"]) == "10.0.0.240-10.0.0.254:32768-65535"
    )


def test_recirc_hash_meter_and_tunnel_pop() -> None:
    recirc, hash_, meter, pop = actions_of(
        "recirc(0x2a),hash(l4(7)),meter(3),tnl_pop(4)"
    )
    assert isinstance(recirc, Recirc) and recirc.recirc_id == 42
    assert isinstance(hash_, Hash) and (hash_.algorithm, hash_.basis) == ("l4", 7)
    assert isinstance(meter, Meter) and meter.meter_id == 3
    assert isinstance(pop, TnlPop) and pop.port == 4


def test_tnl_push_header_is_typed() -> None:
    (push,) = actions_of(
        "tnl_push(tnl_port(4789),header(size=50,type=4,eth(dst=f8:bc:12:44:34:b6,"
        "src=f8:bc:12:46:58:e0,dl_type=0x0800),ipv4(src=1.1.2.88,dst=1.1.2.92,proto=17,"
        "tos=0,ttl=64,frag=0x4000),udp(src=0,dst=4789,csum=0x0),vxlan(flags=0x8000000,"
        "vni=0x1c7)),out_port(100))"
    )
    assert isinstance(push, TnlPush)
    assert (push.tnl_port, push.out_port) == (4789, 100)
    assert push.tunnel_dst == IPv4Address("1.1.2.92")


def test_nested_action_lists() -> None:
    clone, sample, cpl, dec = actions_of(
        "clone(ct_clear,2),sample(sample=9.7%,actions(1,2)),"
        "check_pkt_len(size=200,gt(4),le(5)),dec_ttl(le_1(userspace(pid=1)))"
    )
    assert isinstance(clone, Clone) and [str(a) for a in clone.actions] == [
        "ct_clear",
        "2",
    ]
    assert isinstance(sample, Sample) and sample.probability == pytest.approx(9.7)
    assert [str(a) for a in sample.actions] == ["1", "2"]
    assert isinstance(cpl, CheckPktLen) and cpl.size == 200
    assert [a.port for a in cpl.gt] == [4]  # type: ignore[attr-defined]
    assert isinstance(dec, DecTtl) and isinstance(dec.le_1[0], Userspace)


def test_userspace_cookie_and_masked_set() -> None:
    user, setf = actions_of(
        "userspace(pid=9765,slow_path(cfm)),set(ipv4(src=10.0.0.1/255.255.255.0))"
    )
    assert isinstance(user, Userspace) and user.pid == 9765
    assert user.cookie is not None and user.cookie.name == "slow_path"
    assert isinstance(setf, SetField) and setf.is_masked


def test_unknown_actions_are_kept_with_their_text() -> None:
    (action,) = actions_of("frobnicate(level=3)")
    assert type(action).__name__ == "Action"
    assert (action.name, str(action)) == ("frobnicate", "frobnicate(level=3)")


# ---- Errors --------------------------------------------------------------


def test_a_cut_line_names_the_column_and_what_was_expected() -> None:
    text = "in_port(1),eth(src=00:01:02:03:04:05"
    with pytest.raises(ParseError) as info:
        parse_flow(text)
    assert str(info.value) == (
        "line 1, column 37: expected one of ')', ',', '/', found the end of the line\n"
        "    in_port(1),eth(src=00:01:02:03:04:05\n"
        "                                        ^"
    )


def test_bad_values_point_at_their_token() -> None:
    with pytest.raises(ParseError) as info:
        parse_flow("ipv4(src=300.1.1.1), packets:0, bytes:0, used:never, actions:drop")
    assert info.value.column == 10
    assert "invalid IPv4 address '300.1.1.1'" in info.value.message


def test_counters_beyond_64_bits_are_errors() -> None:
    with pytest.raises(ParseError, match="does not fit in 64 bits"):
        parse_flow(
            "in_port(1), packets:18446744073709551616, bytes:0, used:never, "
            "actions:drop"
        )


def test_parse_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_flow("not a flow")


@pytest.mark.parametrize(
    "text",
    [
        "2b8b0d67-8a6f-4c8b-9c1c-1d3f4e5a6b7c",
        "2B8B0D67-8A6F-4C8B-9C1C-1D3F4E5A6B7C",
        "{2b8b0d67-8a6f-4c8b-9c1c-1d3f4e5a6b7c}",
        "2b8b0d678a6f4c8b9c1c1d3f4e5a6b7c",
        "2b8b0d67-8a6f-4c8b-9c1c-1d3f4e5a6b7g",  # not hex
        "2b8b0d67-8a6f-4c8b-9c1c-1d3f4e5a6b7",  # a digit short
        "2b8b0d67-8a6f-4c8b-9c1c-1d3f4e5a6_7c",  # int() takes "_"
        "2b8b0d67-8a6f-4c8b-9c1c-1d3f4e5a6b\u06637c",  # int() takes this digit
        "2b8b0d67-8a6f-4c8b-9c1c-1d3f4e5a6b7c0",
        "2b8b0d678-a6f-4c8b-9c1c-1d3f4e5a6b7c",  # hyphen misplaced
    ],
)
def test_ufids_are_read_as_uuid_reads_them(text: str) -> None:
    # ufid_value reads the usual form itself; it must agree with UUID()
    # on every text, the usual form or not.
    try:
        expected: object = uuid.UUID(text)
    except ValueError:
        expected = ValueError
    try:
        got: object = ufid_value(text)
    except SemanticError:
        got = ValueError
    assert got == expected
    if isinstance(got, uuid.UUID):
        assert (str(got), got.is_safe, hash(got)) == (
            str(expected),
            uuid.SafeUUID.unknown,
            hash(expected),
        )
