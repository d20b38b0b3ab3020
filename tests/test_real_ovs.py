"""A real Open vSwitch (dummy datapath) dumps flows of every kind, and they add up.

The live tests run against the session's sandbox OVS (``tests/ovs.py``) after
``tests/ovs_scenarios.py`` installed its rules and sent its frames; the stored
tests check the captures in ``tests/data/ovs-dummy-*.txt`` the same way, so
they also run where OVS is not installed.  Feature and counter checks read the
text itself; the parser checks wait for ``ovsflow.parse_flow``.
"""

from __future__ import annotations

import io
import json
import re

import ovs_scenarios
import pytest
from helpers import DATA
from ovs import ALLOWED_PORT_TYPES
from ovs_scenarios import (
    LiveFlows,
    counters_from_text,
    expected,
    first_pass_totals,
    flow_lines,
)

import ovsflow

EXPECTED = expected()
NUMBERS: dict[str, int] = EXPECTED["port_numbers"]

#: Point 2 of issue 3, each as a text that must occur in the plain dump.
FEATURES = {
    "ipv4 tcp": "ipv4(proto=6,frag=no),tcp(dst=80)",
    "ipv4 udp": "ipv4(proto=17,frag=no),udp(dst=53)",
    "ipv4 icmp": "ipv4(proto=1,frag=no),icmp(type=8)",
    "ipv6 tcp": "ipv6(proto=6,frag=no),tcp(dst=443)",
    "ipv6 udp": "ipv6(proto=17,frag=no),udp(dst=53)",
    "ipv6 icmp": "icmpv6(type=128)",
    "arp": "eth_type(0x0806),arp(",
    "neighbour solicitation": "icmpv6(type=135)",
    "neighbour advertisement": "icmpv6(type=136)",
    "vlan match with encap": "vlan(vid=10,pcp=0),encap(eth_type(0x0800)",
    "vlan push": "push_vlan(vid=10,pcp=0)",
    "vlan pop": "pop_vlan",
    "mpls match": "eth_type(0x8847),mpls(label=200",
    "mpls push": "push_mpls(label=100,",
    "mpls pop": "pop_mpls(eth_type=0x800)",
    "conntrack lookup": "actions:ct(zone=5),recirc(",
    "conntrack commit with nat": "ct(commit,zone=5,nat(src=203.0.113.99))",
    "conntrack nat reply": "ct(zone=5,nat),recirc(",
    "ct_state match": "ct_state(+new+trk)",
    "ct_state established": "+est+trk)",
    "recirculated flow": "recirc_id(0x",
    "tunnel match": "tunnel(tun_id=0x64,src=192.0.2.2,dst=192.0.2.1",
    "geneve tlv match": "geneve({class=0xffff,type=0x80,len=4,0xa})",
    "vxlan push": "vxlan(flags=0x8000000,vni=0x64)",
    "geneve push with option": "geneve(crit,vni=0xc8,options({class=0xffff",
    "tunnel push": "tnl_push(tnl_port(4789),header(",
    "tunnel pop vxlan": "actions:tnl_pop(4789)",
    "tunnel pop geneve": "actions:tnl_pop(6081)",
    "meter": "actions:meter(0),",
    "clone": "actions:clone(ct(commit,zone=7),",
    "sample (ipfix)": "sample(sample=50.0%,actions(userspace(pid=0,flow_sample(",
    "sample (sflow)": "userspace(pid=0,sFlow(",
    "check_pkt_len": "check_pkt_len(size=200,gt(2),le(22))",
    "select group hash": "hash(sym_l4(0)),recirc(",
    "dp_hash match": "dp_hash(",
    "controller": "userspace(pid=0,controller(reason=1",
    "drop": "actions:drop",
    "tcp flags": "flags:S",
}

#: What only ``-m`` shows.
VERBOSE_FEATURES = {
    "ufid": "ufid:",
    "datapath layer": "dp:ovs",
    "ct_zone match": "ct_zone(",
    "ct_tuple4": "ct_tuple4(",
    "tcp_flags key": "tcp_flags(",
    "neighbour discovery keys": "nd(target=2001:db8::1",
    "port names": "in_port(vxlan_sys_4789)",
    "extra info": "dp-extra-info:miniflow_bits(",
}

FORMS_WITH_ALL_FLOWS = (
    "dpctl",
    "dpctl-m",
    "dpctl-names",
    "dpctl-m-names",
    "dpctl-m-no-names",
    "dpctl-m-type-ovs",
    "dpctl-m-type-non-offloaded",
    "dpctl-m-type-all",
)
FORMS_WITHOUT_FLOWS = tuple(
    f"dpctl-m-type-{t}" for t in ("tc", "dpdk", "offloaded", "partially-offloaded")
)
DPIF_FORMS = tuple(
    f"dpif-{m}{bridge}" for m in ("", "m-") for bridge in ovs_scenarios.BRIDGE_PORTS
)

requires_parse_flow = pytest.mark.skipif(
    not hasattr(ovsflow, "parse_flow"), reason="awaits ovsflow.parse_flow (parser)"
)
requires_parse_dump = pytest.mark.skipif(
    not hasattr(ovsflow, "parse_dump"), reason="awaits ovsflow.parse_dump (parser)"
)


def stored(form: str) -> str:
    return (DATA / f"ovs-dummy-{form}.txt").read_text()


# -- the live OVS ------------------------------------------------------------


@pytest.fixture(scope="module")
def live(ovs_flows: LiveFlows) -> dict[str, str]:
    """Every dump form, taken once from the sandbox after the scenarios ran."""
    return ovs_scenarios.dump_all(ovs_flows.ovs)


def test_sandbox_has_only_dummy_and_tunnel_ports(ovs_flows: LiveFlows) -> None:
    ovs = ovs_flows.ovs
    types = ovs.interface_types()
    assert set(types.values()) <= ALLOWED_PORT_TYPES
    assert {"vxlan", "geneve", "dummy"} <= set(types.values())
    kinds = set(re.findall(r"\((\S+?)[:)]", ovs.appctl("dpif/show")))
    assert kinds == {"dummy", "dummy-internal", "vxlan", "geneve"}


def test_sandbox_runs_on_its_own_sockets(ovs_flows: LiveFlows) -> None:
    ovs = ovs_flows.ovs
    assert ovs.control_socket.parent == ovs.base
    assert ovs.appctl("dpctl/dump-dps").split() == ["dummy@ovs-dummy"]


@pytest.mark.parametrize("feature", FEATURES, ids=list(FEATURES))
def test_live_plain_dump_shows_every_feature(
    live: dict[str, str], feature: str
) -> None:
    assert FEATURES[feature] in live["dpctl"]


@pytest.mark.parametrize("feature", VERBOSE_FEATURES, ids=list(VERBOSE_FEATURES))
def test_live_verbose_dump_shows_what_only_m_prints(
    live: dict[str, str], feature: str
) -> None:
    assert VERBOSE_FEATURES[feature] in live["dpctl-m"]


def test_sflow_and_ipfix_exports_reach_the_local_listeners(
    ovs_flows: LiveFlows,
) -> None:
    # Both sample half the packets; 20 frames each make silence a 1e-6 event.
    assert ovs_scenarios.wait_for_datagrams(ovs_flows.sflow) > 0, "no sFlow"
    assert ovs_scenarios.wait_for_datagrams(ovs_flows.ipfix) > 0, "no IPFIX"


@pytest.mark.parametrize("form", FORMS_WITH_ALL_FLOWS)
def test_live_counters_add_up_to_the_frames_sent(
    live: dict[str, str], form: str
) -> None:
    lines = flow_lines(live[form])
    assert first_pass_totals(counters_from_text(lines), NUMBERS) == EXPECTED["ports"]


def test_live_bridge_dumps_together_hold_every_flow(live: dict[str, str]) -> None:
    lines = [line for form in DPIF_FORMS[:3] for line in flow_lines(live[form])]
    totals = first_pass_totals(counters_from_text(lines), NUMBERS)
    assert totals == EXPECTED["ports"]
    assert len(lines) == len(flow_lines(live["dpctl"]))


@pytest.mark.parametrize("form", FORMS_WITHOUT_FLOWS)
def test_offload_filters_are_accepted_and_empty_on_the_dummy_datapath(
    live: dict[str, str], form: str
) -> None:
    assert live[form] == ""


def test_unknown_type_filter_is_refused_by_ovs(ovs_flows: LiveFlows) -> None:
    with pytest.raises(RuntimeError, match=r"Failed to parse type \(hw\)"):
        ovs_flows.ovs.appctl("dpctl/dump-flows", "type=hw")


@requires_parse_flow
@pytest.mark.parametrize("form", ovs_scenarios.DUMP_FORMS)
def test_every_live_line_parses_and_prints_back_to_itself(
    live: dict[str, str], form: str
) -> None:
    for line in flow_lines(live[form]):
        assert str(ovsflow.parse_flow(line)) == line


@requires_parse_flow
@pytest.mark.parametrize("form", FORMS_WITH_ALL_FLOWS)
def test_parsed_live_counters_add_up_to_the_frames_sent(
    live: dict[str, str], form: str
) -> None:
    flows = [ovsflow.parse_flow(line) for line in flow_lines(live[form])]
    counted = ((str(f), f.stats.packets, f.stats.bytes) for f in flows)
    assert first_pass_totals(counted, NUMBERS) == EXPECTED["ports"]


@requires_parse_dump
@pytest.mark.parametrize("form", ovs_scenarios.DUMP_FORMS)
def test_parse_dump_reads_every_live_flow_and_skips_the_headers(
    live: dict[str, str], form: str
) -> None:
    flows = list(ovsflow.parse_dump(io.StringIO(live[form])))
    assert [str(flow) for flow in flows] == flow_lines(live[form])


# -- the stored captures -----------------------------------------------------


def test_stored_captures_cover_every_dump_form() -> None:
    for form in ovs_scenarios.DUMP_FORMS:
        assert (DATA / f"ovs-dummy-{form}.txt").exists(), form


@pytest.mark.parametrize("feature", FEATURES, ids=list(FEATURES))
def test_stored_plain_capture_shows_every_feature(feature: str) -> None:
    assert FEATURES[feature] in stored("dpctl")


@pytest.mark.parametrize("feature", VERBOSE_FEATURES, ids=list(VERBOSE_FEATURES))
def test_stored_verbose_capture_shows_what_only_m_prints(feature: str) -> None:
    assert VERBOSE_FEATURES[feature] in stored("dpctl-m")


@pytest.mark.parametrize("form", FORMS_WITH_ALL_FLOWS)
def test_stored_counters_add_up_to_the_frames_sent(form: str) -> None:
    lines = flow_lines(stored(form))
    assert first_pass_totals(counters_from_text(lines), NUMBERS) == EXPECTED["ports"]


def test_expected_counters_are_worked_out_from_the_frames() -> None:
    document = ovs_scenarios.expected_document(EXPECTED["port_numbers"])
    assert json.loads(json.dumps(document)) == EXPECTED


@requires_parse_flow
@pytest.mark.parametrize("form", ovs_scenarios.DUMP_FORMS)
def test_every_stored_line_parses_and_prints_back_to_itself(form: str) -> None:
    for line in flow_lines(stored(form)):
        assert str(ovsflow.parse_flow(line)) == line
