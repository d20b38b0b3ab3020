"""The table's caches by shared records give what the records themselves say.

ovsflow.table works each match key, action and action list out once and
copies the result to every row that shares the record; the reasons and OVN
columns are worked out once per combination of the facts they read.  These
tests build the same flows with shared records (parse_flow's caches) and
without (the grammar), and compare with the functions the columns come from.
"""

from __future__ import annotations

import gzip
import random
import re
from typing import Any

import pyarrow as pa
from helpers import REPO, corpus_lines

from ovsflow import parse_flow
from ovsflow.explain import disable, reasons, rules_from_document
from ovsflow.ovn import decode
from ovsflow.parse import parse_flow_reference
from ovsflow.ports import load
from ovsflow.table import SCHEMA, flow_row, iter_batches, to_arrow

PORTS = load(REPO / "tests" / "data" / "ports" / "ovs-dummy-ports.json")
RULES = disable(
    rules_from_document(
        {
            "format": "ovsflow-explain-rules/1",
            "rules": [
                {"name": "tunnel_ct", "when": {"match": ["ct_state", "tunnel"]}},
                {
                    "name": "no_commit",
                    "when": {"action": ["ct"], "without": ["commit"]},
                },
                {"name": "out", "when": {"action": ["output"], "class": ["software"]}},
                {"name": "port", "when": {"in_port": ["software"]}},
                {"name": "never", "when": {"used": "never"}},
            ],
        }
    ),
    ["never"],
)

# Repeated keys: each column takes the first key that fills it.
REPEATS = (
    "recirc_id(0),in_port(1),eth_type(0x0800),"
    "ipv4(src=10.0.0.1/0.0.0.0,dst=10.1.0.0/255.255.0.0,proto=6,frag=no),"
    "ipv4(src=10.0.0.2,dst=10.0.0.3,proto=17,frag=first),"
    "tcp(src=1/0,dst=2),tcp(src=3,dst=4/0xff00), packets:1, bytes:1, used:never, "
    "actions:clone(ct(commit,zone=4),recirc(0x9)),recirc(0x3),"
    "check_pkt_len(size=200,gt(5),le(6,userspace(pid=3,slow_path(action)))),2"
)


def node_lines(count: int) -> list[str]:
    """Lines of the large real-OVS input with other addresses and source ports
    (tunnel headers' too), as connections on one node: most action lists and
    some keys are new, most pieces of them shared."""
    with gzip.open(REPO / "benchmarks" / "data" / "ovs-dummy-large.txt.gz", "rt") as f:
        base = [x.rstrip("\n") for x in f if "actions:" in x][::7]
    rng = random.Random(5)
    peers = [f"10.9.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(64)]
    out = []
    for i in range(count):
        line = ADDRESS.sub(lambda m: rng.choice(peers), base[i % len(base)])
        out.append(SOURCE_PORT.sub(lambda m: f"src={rng.randrange(1, 65535)}", line))
    return out


ADDRESS = re.compile(r"(?<![/\d.])\d+\.\d+\.\d+\.\d+(?![\d/])")
SOURCE_PORT = re.compile(r"\bsrc=\d+(?![\w.:/])")


def test_shared_and_unshared_records_give_the_same_table() -> None:
    lines = [text for _, _, text in corpus_lines()] + node_lines(600)
    shared = [parse_flow(text, line=n) for n, text in enumerate(lines, 1)]
    alone = [parse_flow_reference(text, line=n) for n, text in enumerate(lines, 1)]
    plain: dict[str, Any] = {}
    for options in (plain, {"ports": PORTS, "rules": RULES}):
        table = to_arrow(shared, source="s", **options)
        assert table.equals(to_arrow(alone, source="s", **options))
        small = iter_batches(shared, source="s", batch_size=97, **options)
        batches = pa.Table.from_batches(list(small), schema=SCHEMA)
        assert batches.to_pylist() == table.to_pylist()


def test_reasons_and_ovn_columns_follow_each_flow() -> None:
    flows = [parse_flow(text) for text in node_lines(1500)]
    assert len({id(flow.actions) for flow in flows}) > 500  # mostly new lists
    for rules in (None, RULES):
        table = to_arrow(flows, ports=PORTS, rules=rules)
        rows = table.select(["reasons", "ovn_datapath", "ovn_direction"]).to_pylist()
        for flow, row in zip(flows, rows, strict=True):
            found = reasons(flow, rules, PORTS)
            assert row["reasons"] == [r.rule for r in found], str(flow)
            ovn = decode(flow)
            assert row["ovn_direction"] == (ovn and ovn.direction), str(flow)
            assert row["ovn_datapath"] == (ovn and ovn.datapath), str(flow)


def test_repeated_keys_fill_each_column_from_the_first_key_that_has_it() -> None:
    row = flow_row(parse_flow(REPEATS))
    # The first ipv4 matches src under mask 0: its mask and prefix count,
    # its address does not, and the second key's does.
    assert (row["ipv4_src"], row["ipv4_src_mask"], row["ipv4_src_prefix"]) == (
        "10.0.0.2",
        "0.0.0.0",
        0,
    )
    assert (row["ipv4_dst"], row["ipv4_dst_prefix"]) == ("10.1.0.0", 16)
    assert (row["ip_proto"], row["ip_frag"]) == (6, "no")
    assert (row["tcp_src"], row["tcp_src_mask"]) == (3, 0)
    assert (row["tcp_dst"], row["tcp_dst_mask"]) == (2, 0xFF00)
    # Nested actions count in walk order: clone's recirc comes first.
    assert row["recirc"] == 9 and row["ct_commit"] is True
    assert row["output_ports"] == ["5", "6", "2"]
    assert row["action_kinds"] == [
        "clone",
        "ct",
        "recirc",
        "check_pkt_len",
        "output",
        "userspace",
    ]
    assert row["reasons"] == ["slow_path", "check_pkt_len", "clone", "never_used"]
