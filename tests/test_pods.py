"""Reasons, OVN's logical ports and pods as columns, summaries by pod.

The port table ``data/ports/ovs-dummy-ports.json`` comes from a real OVS
(``tests/test_ports.py``): datapath port 1 is p1, pod ``shop/web-0``
(Kube-OVN ids); 3 is p3, pod ``shop/db-1`` (OVN-Kubernetes ids); 2 and 4 are
p2 and p4 with no pod; ``genev_sys_6081`` and ``vxlan_sys_4789`` are the
tunnel vports of geneve41 and vxlan40.  Every port is a dummy netdev, which
the rule ``in_port_not_representor`` calls ``software``; the tunnel vports
are ``tunnel``.

``data/analysis/mixed.txt`` has seven flows with counts chosen to be summed
by hand (``tests/test_analysis.py``):

====  ===============  ===========  =======  ======  ==========================
line  in_port          class        packets  bytes   else
====  ===============  ===========  =======  ======  ==========================
2     1                hardware     100      10000   sets OVN option 0xa0006
3     2                hardware     50       5000    offload_packets:40 (4000 B)
4     genev_sys_6081   tc_software  30       3000    OVN option 0x6000a, out 1
5     1                partial      20       2000
6     vxlan_sys_4789   software     10       1000
7     3                software     5        500     used:never
8     4                unknown      1        100
====  ===============  ===========  =======  ======  ==========================
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from helpers import DATA

from ovsflow import parse_flow, samples
from ovsflow.analysis import HARDWARE, offload_summary
from ovsflow.cli import main
from ovsflow.dump import parse_dump
from ovsflow.explain import Report, default_rules, disable, reasons, rules_from_document
from ovsflow.ovn import decode
from ovsflow.ports import PortTable, load
from ovsflow.summary import Summary
from ovsflow.table import SCHEMA, flow_row, read_dumps, to_arrow, to_dataframe

PORTS = DATA / "ports" / "ovs-dummy-ports.json"
MIXED = DATA / "analysis" / "mixed.txt"
# 33 flows of the real OVS, ports by name (p1, genev_sys_6081...).
DUMMY = DATA / "ovs-dummy-dpctl-m.txt"
# The same flows, ports by datapath number.
DUMMY_NUMBERS = DATA / "ovs-dummy-dpctl-m-no-names.txt"
YUSUR = samples.path("kube-ovn-yusur-2200e")


@pytest.fixture(scope="module")
def ports() -> PortTable:
    return load(PORTS)


def column(df: pd.DataFrame, name: str) -> list[object]:
    """A column as Python values, nulls as None."""
    return pa.array(df[name]).to_pylist()  # type: ignore[no-any-return]


# -- columns ------------------------------------------------------------------


def test_new_columns_have_their_documented_types() -> None:
    strings = pa.list_(pa.string())
    dictionary = pa.dictionary(pa.int32(), pa.string())
    assert SCHEMA.field("reasons").type == strings
    assert SCHEMA.field("output_pods").type == strings
    assert SCHEMA.field("ovn_datapath").type == pa.uint32()
    assert SCHEMA.field("ovn_ingress_port").type == pa.uint16()
    assert SCHEMA.field("ovn_egress_port").type == pa.uint16()
    for name in ("ovn_direction", "in_port_interface", "in_port_pod"):
        assert SCHEMA.field(name).type == dictionary, name
    assert SCHEMA.field("in_port_namespace").type == dictionary


def test_ports_give_interface_pod_and_namespace_of_each_row(ports: PortTable) -> None:
    df = read_dumps([MIXED], ports=ports)
    assert column(df, "in_port_interface") == [
        "p1",
        "p2",
        "geneve41",
        "p1",
        "vxlan40",
        "p3",
        "p4",
    ]
    assert column(df, "in_port_pod") == [
        "shop/web-0",
        None,
        None,
        "shop/web-0",
        None,
        "shop/db-1",
        None,
    ]
    assert column(df, "in_port_namespace") == [
        "shop",
        None,
        None,
        "shop",
        None,
        "shop",
        None,
    ]
    # Outputs: genev_sys_6081; 3 (db-1); 1 (web-0); none; 2; none; 2.
    assert column(df, "output_pods") == [
        [],
        ["shop/db-1"],
        ["shop/web-0"],
        [],
        [],
        [],
        [],
    ]


def test_port_names_and_numbers_find_the_same_pods(ports: PortTable) -> None:
    by_name = read_dumps([DUMMY], ports=ports)
    by_number = read_dumps([DUMMY_NUMBERS], ports=ports)
    assert by_name["in_port"].tolist()[:3] == ["p5", "p3", "vxlan_sys_4789"]
    assert by_number["in_port"].tolist()[:3] == ["5", "3", "4789"]
    for name in ("in_port_interface", "in_port_pod", "in_port_namespace"):
        assert column(by_name, name) == column(by_number, name), name
    # p1 sends on lines 6, 10, 23, p3 on lines 3, 13, 18, 19, 30.
    pods = dict(zip(by_name["line"], column(by_name, "in_port_pod"), strict=True))
    assert sorted(line for line, pod in pods.items() if pod == "shop/web-0") == [
        6,
        10,
        23,
    ]
    assert sorted(line for line, pod in pods.items() if pod == "shop/db-1") == [
        3,
        13,
        18,
        19,
        30,
    ]


def test_output_pods_list_each_pod_once_nested_outputs_included(
    ports: PortTable,
) -> None:
    flow = parse_flow(
        "in_port(2),eth_type(0x0800), packets:1, bytes:60, used:0.1s, dp:ovs, "
        "actions:3,clone(p1),4,3"
    )
    assert flow_row(flow, ports=ports)["output_pods"] == ["shop/db-1", "shop/web-0"]
    assert flow_row(flow)["output_pods"] is None


def test_without_a_port_table_the_port_columns_are_null() -> None:
    df = read_dumps([MIXED])
    for name in ("in_port_interface", "in_port_pod", "in_port_namespace"):
        assert df[name].isna().all(), name
    assert df["output_pods"].isna().all()


def test_reasons_of_the_mixed_dump_with_and_without_ports(ports: PortTable) -> None:
    # Hardware flows have none.  With ports: p1, p3 and p4 are dummy ports,
    # so in_port_not_representor fires on lines 5, 7 and 8 but not on the
    # tunnel vports of lines 4 and 6; line 7 is used:never.
    assert column(read_dumps([MIXED], ports=ports), "reasons") == [
        [],
        [],
        ["tc_software"],
        ["in_port_not_representor"],
        [],
        ["in_port_not_representor", "never_used"],
        ["in_port_not_representor"],
    ]
    assert column(read_dumps([MIXED]), "reasons") == [
        [],
        [],
        ["tc_software"],
        [],
        [],
        ["never_used"],
        [],
    ]


def test_rules_argument_switches_rules_off_and_adds_new_ones() -> None:
    document = {
        "format": "ovsflow-explain-rules/1",
        "rules": [{"name": "drops", "when": {"action": ["drop"]}}],
    }
    rules = rules_from_document(document, disable(default_rules(), ["never_used"]))
    df = read_dumps([MIXED], rules=rules)
    # Line 7 (actions:drop, used:never): the new rule, not the disabled one.
    assert column(df, "reasons")[5] == ["drops"]
    assert column(df, "reasons")[2] == ["tc_software"]


def test_ovn_option_gives_datapath_and_logical_ports() -> None:
    # Yusur sample: flow 1 sets tun_id=0x5 with 0x000a0006 (ingress 10,
    # egress 6); flow 2 matches tun_id=0x5 with 0x0006000a coming back.
    df = read_dumps([YUSUR])
    ovn = ["ovn_datapath", "ovn_ingress_port", "ovn_egress_port", "ovn_direction"]
    assert [column(df, name) for name in ovn] == [
        [5, 5],
        [10, 6],
        [6, 10],
        ["sent", "received"],
    ]
    # Both of its flows are in hardware: no reasons.
    assert column(df, "reasons") == [[], []]


def test_other_geneve_options_leave_the_ovn_columns_null() -> None:
    # Line 20 of the real dump matches class 0xffff, line 33 pushes it.
    df = read_dumps([DUMMY]).set_index("line")
    assert df.loc[20, "geneve"][0]["class"] == 0xFFFF
    assert df[["ovn_datapath", "ovn_ingress_port", "ovn_direction"]].isna().all().all()


def test_cached_values_agree_with_explain_and_ovn_flow_by_flow(
    ports: PortTable,
) -> None:
    # Many flows share keys and actions, so most rows come from the cache.
    flows = [*parse_dump(DUMMY), *parse_dump(MIXED), *parse_dump(YUSUR)]
    rules = default_rules()
    table = to_arrow(flows, ports=ports, rules=rules)
    got_reasons = table.column("reasons").to_pylist()
    got_ovn = table.column("ovn_ingress_port").to_pylist()
    for flow, got, ingress in zip(flows, got_reasons, got_ovn, strict=True):
        assert got == [r.rule for r in reasons(flow, rules, ports)], flow.line
        found = decode(flow)
        assert ingress == (None if found is None else found.ingress_port), flow.line


def test_parquet_keeps_the_new_columns(ports: PortTable, tmp_path: Path) -> None:
    out = tmp_path / "mixed.parquet"
    assert main(["parse", str(MIXED), "--ports", str(PORTS), "-o", str(out)]) == 0
    import pyarrow.parquet as pq

    back = pq.read_table(out)
    assert back.schema == SCHEMA
    assert back.column("in_port_pod").to_pylist()[:4] == [
        "shop/web-0",
        None,
        None,
        "shop/web-0",
    ]
    assert back.column("reasons").to_pylist()[2] == ["tc_software"]


# -- summaries by pod ---------------------------------------------------------

# (flows, packets, bytes, hardware flows, packets, bytes) of mixed.txt:
# web-0 sends lines 2 (hardware) and 5, db-1 line 7, the rest no pod
# (line 3 is in hardware with 40 of its 50 packets).
MIXED_BY_POD = {
    "shop/web-0": (2, 120, 12000, 1, 100, 10000),
    "shop/db-1": (1, 5, 500, 0, 0, 0),
    "(none)": (4, 91, 9100, 1, 40, 4000),
}
MIXED_BY_NAMESPACE = {
    "shop": (3, 125, 12500, 1, 100, 10000),
    "(none)": (4, 91, 9100, 1, 40, 4000),
}
# The real dump, from the packets:/bytes: of its lines: p1 sends 1+2+1
# packets of 42+108+50 bytes, p3 1+1+1+1+2 of 66+64+86+86+148; in all 33
# flows, 93 packets, 5130 bytes; nothing in hardware.
DUMMY_BY_POD = {
    "shop/web-0": (3, 4, 200, 0, 0, 0),
    "shop/db-1": (5, 6, 450, 0, 0, 0),
    "(none)": (25, 83, 4480, 0, 0, 0),
}


def _cli_groups(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> dict[str, tuple[int, ...]]:
    assert main(["summarize", *args, "--format", "json", "--top", "0"]) == 0
    groups = json.loads(capsys.readouterr().out)["by"]["groups"]
    return {
        key: (
            g["flows"],
            g["packets"],
            g["bytes"],
            g["offloaded"]["flows"],
            g["offloaded"]["packets"],
            g["offloaded"]["bytes"],
        )
        for key, g in groups.items()
    }


def _frame_groups(df: pd.DataFrame, by: str) -> dict[str, tuple[int, ...]]:
    figures = offload_summary(df, by=[by])
    names = ("flows", "packets", "bytes", *HARDWARE)
    return {
        "(none)" if pd.isna(row[by]) else row[by]: tuple(int(row[n]) for n in names)
        for _, row in figures.iterrows()
    }


@pytest.mark.parametrize(
    ("dump", "by", "column_name", "expected"),
    [
        (MIXED, "pod", "in_port_pod", MIXED_BY_POD),
        (MIXED, "namespace", "in_port_namespace", MIXED_BY_NAMESPACE),
        (DUMMY, "pod", "in_port_pod", DUMMY_BY_POD),
        (DUMMY_NUMBERS, "pod", "in_port_pod", DUMMY_BY_POD),
    ],
)
def test_summarize_by_pod_and_offload_summary_agree_with_the_hand_figures(
    dump: Path,
    by: str,
    column_name: str,
    expected: dict[str, tuple[int, ...]],
    ports: PortTable,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [str(dump), "--by", by, "--ports", str(PORTS)]
    assert _cli_groups(args, capsys) == expected
    assert _frame_groups(read_dumps([dump], ports=ports), column_name) == expected


def test_by_pod_with_several_jobs_gives_the_one_process_figures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [str(DUMMY), "--by", "pod", "--ports", str(PORTS), "--jobs", "2"]
    assert _cli_groups(args, capsys) == DUMMY_BY_POD


def test_by_pod_needs_a_port_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summarize", str(MIXED), "--by", "pod"]) == 2
    assert capsys.readouterr().err.strip() == (
        "ovsflow: error: --by pod needs --ports PORTS.json"
    )
    with pytest.raises(ValueError, match="grouping by namespace needs a port table"):
        Summary(by="namespace")


def test_a_bad_port_file_is_one_line_of_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "ports.json"
    bad.write_text("{")
    assert main(["parse", str(MIXED), "--ports", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"ovsflow: error: port file {str(bad)!r}: line 1, column 2: "
        "expected JSON: Expecting property name enclosed in double quotes"
    )


# -- reasons as a grouping ----------------------------------------------------


def test_reasons_column_groups_like_explain(ports: PortTable) -> None:
    # The real dump with ports, worked out from its lines: every flow but
    # the two from tunnel vports (lines 4 and 20: 4 packets, 200 bytes) comes
    # from a dummy port; lines 17 and 21 sample to userspace (19 packets,
    # 798 bytes each); line 12 goes to the controller, 22 matches dp_hash,
    # 25 hashes, 27 clones, 29 meters, 34 checks the packet length.
    expected = {
        "in_port_not_representor": (31, 89, 4930),
        "sample": (2, 38, 1596),
        "userspace": (2, 38, 1596),
        "controller": (1, 1, 54),
        "dp_hash_match": (1, 5, 210),
        "hash": (1, 5, 210),
        "clone": (1, 1, 42),
        "meter": (1, 2, 84),
        "check_pkt_len": (1, 3, 736),
        "(no rule)": (2, 4, 200),
    }
    df = read_dumps([DUMMY], ports=ports)
    figures = offload_summary(df, by=["reasons"])
    got = {
        "(no rule)" if pd.isna(row["reasons"]) else row["reasons"]: (
            int(row["flows"]),
            int(row["packets"]),
            int(row["bytes"]),
        )
        for _, row in figures.iterrows()
    }
    assert got == expected

    report = Report(ports=ports)
    report.add_all(parse_dump(DUMMY))
    assert {g.rule: (g.flows, g.packets, g.bytes) for g in report.groups.values()} == (
        expected
    )


def test_to_dataframe_takes_ports_and_rules(ports: PortTable) -> None:
    flow = parse_flow(
        "in_port(3),eth_type(0x0800), packets:7, bytes:700, used:never, dp:tc, "
        "actions:meter(0),1"
    )
    df = to_dataframe([flow], ports=ports, rules=disable(default_rules(), ["meter"]))
    row = df.iloc[0]
    assert list(row["reasons"]) == [
        "tc_software",
        "in_port_not_representor",
        "never_used",
    ]
    assert (row["in_port_pod"], list(row["output_pods"])) == (
        "shop/db-1",
        ["shop/web-0"],
    )


def test_flows_sharing_keys_keep_their_own_class_use_and_actions(
    ports: PortTable,
) -> None:
    # The parser shares key records among these flows; the cache of the
    # row values must still tell them apart by what differs.
    head = "in_port(2),eth_type(0x0800), packets:4, bytes:400, "
    flows = [
        parse_flow(head + "used:0.1s, dp:tc, actions:meter(0),3"),
        parse_flow(head + "used:0.1s, dp:tc, actions:1"),
        parse_flow(head + "used:0.1s, offloaded:yes, dp:tc, actions:1"),
        parse_flow(head + "used:never, dp:tc, actions:1"),
    ]
    assert flows[0].match.keys[0] is flows[3].match.keys[0]
    table = to_arrow(flows, ports=ports)
    assert table.column("reasons").to_pylist() == [
        ["meter", "tc_software", "in_port_not_representor"],
        ["tc_software", "in_port_not_representor"],
        [],
        ["tc_software", "in_port_not_representor", "never_used"],
    ]
    assert table.column("output_pods").to_pylist() == [
        ["shop/db-1"],
        ["shop/web-0"],
        ["shop/web-0"],
        ["shop/web-0"],
    ]
