"""Property tests: flows built in Python print, parse back and compare equal."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from ovsflow import EthAddr, FlagsMatch, Flow, Key, Masked, Match, Stats, parse_flow
from ovsflow.actions import make_action
from ovsflow.records import Field, Node
from ovsflow.values import CtState

words = st.from_regex(r"[a-z][a-z_]{0,7}", fullmatch=True)
ints = st.integers(min_value=0, max_value=(1 << 64) - 1)
ipv4 = st.integers(0, (1 << 32) - 1).map(IPv4Address)
ipv6 = st.integers(0, (1 << 128) - 1).map(IPv6Address)
macs = st.binary(min_size=6, max_size=6).map(
    lambda b: EthAddr(":".join(f"{x:02x}" for x in b))
)


def masked_of(values: st.SearchStrategy[object]) -> st.SearchStrategy[Masked]:
    return st.builds(Masked, values, st.none() | values)  # type: ignore[arg-type]


values = (
    masked_of(ints)
    | masked_of(ipv4)
    | masked_of(ipv6)
    | masked_of(macs)
    | st.builds(Masked, words)
)
fields = st.builds(Field, words, values)
flat_keys = st.builds(
    lambda name, args: Key(name, tuple(args)),
    words.filter(lambda w: w not in ("ct_state", "tcp_flags", "flags")),
    st.lists(fields | values, max_size=5),
)
ct_bits = st.integers(0, int(CtState.dnat) * 2 - 1)
ct_state = st.builds(
    lambda s, c: Key("ct_state", (FlagsMatch("ct_state", s, c & ~s),)), ct_bits, ct_bits
)
nested_keys = st.builds(
    lambda name, inner: Key(name, tuple(Node(k.name, k.args) for k in inner)),
    st.sampled_from(["encap", "tunnel"]),
    st.lists(flat_keys, min_size=1, max_size=3),
)
actions = st.lists(
    st.integers(0, 65535).map(lambda p: make_action(Masked(p)))
    | st.sampled_from(["drop", "pop_vlan", "ct_clear"]).map(
        lambda n: make_action(Masked(n))
    )
    | st.builds(lambda k: make_action(Node("set", (Node(k.name, k.args),))), flat_keys)
    | st.builds(
        lambda zone: make_action(
            Node("ct", (Masked("commit"), Field("zone", Masked(zone))))
        ),
        st.integers(1, 65535),
    ),
    min_size=1,
    max_size=4,
)
stats = st.builds(
    Stats,
    ints,
    ints,
    st.none() | st.integers(0, 10**6).map(lambda ms: ms / 1000),
    st.none() | st.sampled_from(["S", "SF.", "P."]),
    st.lists(
        st.tuples(st.sampled_from(["offload_packets", "offload_bytes"]), ints),
        max_size=2,
        unique_by=lambda t: t[0],
    ).map(tuple),
)
flows = st.builds(
    Flow,
    st.lists(flat_keys | ct_state | nested_keys, min_size=1, max_size=6).map(
        lambda keys: Match(tuple(keys))
    ),
    actions.map(tuple),
    stats,
    st.none() | st.uuids().map(lambda u: UUID(str(u))),
    st.none() | st.sampled_from(["yes", "partial"]),
    st.none() | st.sampled_from(["ovs", "tc", "dpdk"]),
)


@settings(max_examples=300, deadline=None)
@given(flows)
def test_generated_flows_format_parse_back_and_compare_equal(flow: Flow) -> None:
    text = str(flow)
    parsed = parse_flow(text)
    assert parsed == flow
    assert str(parsed) == text
