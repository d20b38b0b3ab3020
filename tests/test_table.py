"""Flows as a table: the schema, each column's value, batches and Parquet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import DATA, corpus_lines

from ovsflow import Flow, parse_flow
from ovsflow.actions import make_action
from ovsflow.records import Field, Key, Match, Node
from ovsflow.table import SCHEMA, flow_row, iter_batches, read_dumps, to_arrow
from ovsflow.values import Masked

MIXED = DATA / "analysis" / "mixed.txt"


def mixed() -> pd.DataFrame:
    return read_dumps([MIXED])


def test_counters_are_uint64_and_low_cardinality_strings_dictionaries() -> None:
    for name in ("packets", "bytes", "offload_packets", "hardware_bytes", "tun_id"):
        assert SCHEMA.field(name).type == pa.uint64(), name
    dictionary = pa.dictionary(pa.int32(), pa.string())
    for name in ("source", "section", "dp", "offloaded", "offload_class", "in_port"):
        assert SCHEMA.field(name).type == dictionary, name


def test_every_dataframe_column_is_arrow_backed() -> None:
    df = mixed()
    assert list(df.columns) == SCHEMA.names
    assert all(isinstance(t, pd.ArrowDtype) for t in df.dtypes)
    for name, dtype in zip(df.columns, df.dtypes, strict=True):
        assert dtype.pyarrow_dtype == SCHEMA.field(name).type, name


def test_rows_of_the_mixed_dump() -> None:
    df = mixed().set_index("line")
    assert list(df.index) == [2, 3, 4, 5, 6, 7, 8]  # line 1 is a comment
    assert df["source"].unique().tolist() == [str(MIXED)]
    assert df["offload_class"].tolist() == [
        "hardware",
        "hardware",
        "tc_software",
        "partial",
        "software",
        "software",
        "unknown",
    ]
    assert df["packets"].tolist() == [100, 50, 30, 20, 10, 5, 1]
    # offload_packets:40 of 50: the vendor figure is what ran in hardware.
    assert df.loc[
        3, ["offload_packets", "hardware_packets", "hardware_bytes"]
    ].tolist() == [
        40,
        40,
        4000,
    ]
    assert df.loc[2, ["hardware_packets", "hardware_bytes"]].tolist() == [100, 10000]
    assert df.loc[4, "hardware_packets"] == 0
    assert df.loc[8, "dp"] is pd.NA
    assert df.loc[7, "used"] is pd.NA  # used:never
    assert df.loc[3, "stats_extra"] == [
        {"name": "offload_packets", "value": "40"},
        {"name": "offload_bytes", "value": "4000"},
    ]


def test_match_columns_follow_the_dump() -> None:
    df = mixed().set_index("line")
    first = df.loc[2]
    assert first["in_port"] == "1" and first["in_port_number"] == 1
    assert (first["eth_src"], first["eth_dst"]) == (
        "02:00:00:00:00:01",
        "02:00:00:00:00:02",
    )
    assert (first["eth_type"], first["ip_proto"], first["ip_frag"]) == (0x0800, 6, "no")
    assert (first["ipv4_src"], first["ipv4_src_prefix"], first["tcp_dst"]) == (
        "10.0.0.1",
        32,
        80,
    )
    # ipv4(src=10.0.1.0/255.255.255.0), udp(src=5000/0xff00)
    second = df.loc[3]
    assert (second["ipv4_src"], second["ipv4_src_mask"]) == (
        "10.0.1.0",
        "255.255.255.0",
    )
    assert second["ipv4_src_prefix"] == 24
    assert (second["udp_src"], second["udp_src_mask"]) == (5000, 0xFF00)
    # ipv6(dst=2001:db8::/ffff:ffff::), icmpv6(type=128,code=0)
    fourth = df.loc[5]
    assert (fourth["ipv6_dst"], fourth["ipv6_dst_prefix"]) == ("2001:db8::", 32)
    assert (fourth["icmp_type"], fourth["icmp_code"], fourth["ip_proto"]) == (
        128,
        0,
        58,
    )
    assert fourth["in_port"] == "1"


def test_a_field_under_mask_zero_is_null_with_its_mask_kept() -> None:
    # ipv4(src=10.0.2.1/0.0.0.0), udp(src=40000/0): the flow matches any value.
    row = mixed().set_index("line").loc[6]
    assert row["ipv4_src"] is pd.NA
    assert (row["ipv4_src_mask"], row["ipv4_src_prefix"]) == ("0.0.0.0", 0)
    assert row["udp_src"] is pd.NA and row["udp_src_mask"] == 0
    assert row["udp_dst"] == 4789


def test_tunnel_and_geneve_columns() -> None:
    row = mixed().set_index("line").loc[4]
    assert (row["tun_id"], row["tun_src"], row["tun_dst"], row["tun_tp_dst"]) == (
        5,
        "192.168.0.2",
        "192.168.0.1",
        6081,
    )
    assert row["in_port"] == "genev_sys_6081" and row["in_port_number"] is pd.NA
    assert row["geneve"] == [
        {
            "class": 0x102,
            "class_mask": None,
            "type": 0x80,
            "type_mask": None,
            "len": 4,
            "len_mask": None,
            "data": "0x6000a",
            "mask": None,
        }
    ]


def test_action_columns() -> None:
    df = mixed().set_index("line")
    assert df.loc[2, "action_kinds"] == ["set", "output"]
    assert df.loc[2, "set_tunnel_dst"] == "192.168.0.2"
    assert df.loc[2, "output_ports"] == ["genev_sys_6081"]
    assert bool(df.loc[5, "ct_commit"]) and not bool(df.loc[6, "ct_commit"])
    assert df.loc[5, "recirc"] == 3
    assert df.loc[6, "tnl_push_dst"] == "192.168.0.9"
    assert df.loc[6, "output_ports"] == ["2"]
    assert df.loc[7, "action_kinds"] == ["drop"]
    push = df.loc[6, "actions"][0]
    assert (push["kind"], push["port"], push["tunnel_dst"]) == (
        "tnl_push",
        "br0",
        "192.168.0.9",
    )


def test_nested_actions_count_in_the_derived_columns() -> None:
    row = flow_row(
        parse_flow(
            "recirc_id(0x1),in_port(2),ct_state(+trk+est-new),ct_zone(0x5),"
            "eth_type(0x0800),ipv4(proto=6,frag=no), packets:1, bytes:60, "
            "used:never, actions:clone(2),check_pkt_len(size=200,gt(4),le(5)),"
            "ct(commit,zone=7),recirc(0x9),3"
        )
    )
    assert row["output_ports"] == ["2", "4", "5", "3"]
    assert row["action_kinds"] == ["clone", "output", "check_pkt_len", "ct", "recirc"]
    assert (row["ct_commit"], row["recirc"], row["recirc_id"]) == (True, 9, 1)
    assert [a["kind"] for a in row["actions"]] == [
        "clone",
        "check_pkt_len",
        "ct",
        "recirc",
        "output",
    ]
    assert (row["actions"][2]["ct_zone"], row["actions"][2]["commit"]) == (7, True)
    assert (row["ct_state_set"], row["ct_state_clear"], row["ct_zone"]) == (
        "est|trk",
        "new",
        5,
    )


def test_vlan_flows_keep_inner_keys_in_match_text_only() -> None:
    row = flow_row(
        parse_flow(
            "in_port(1),eth_type(0x8100),vlan(vid=10,pcp=0),encap(eth_type(0x0800),"
            "ipv4(src=10.1.1.1,proto=6,frag=no)), packets:1, bytes:1, used:never, "
            "actions:drop"
        )
    )
    assert (row["eth_type"], row["vlan_vid"]) == (0x8100, 10)
    assert row["ipv4_src"] is None and row["ip_proto"] is None
    assert "ipv4(src=10.1.1.1" in row["match_text"]


def test_values_that_do_not_fit_their_column_are_listed_not_lost() -> None:
    # The parser refuses these; a flow built in Python may still carry them.
    tcp = Key("tcp", (Field("src", Masked("http")), Field("dst", Masked(70000))))
    flow = Flow(Match((Key("in_port", (Masked("p0"),)), tcp)), ())
    row = flow_row(flow)
    assert row["tcp_src"] is None and row["tcp_dst"] is None
    assert row["unfit_values"] == ["tcp_src=http", "tcp_dst=70000"]
    assert (row["in_port"], row["in_port_number"]) == ("p0", None)

    recirc = make_action(Node("recirc", (Masked(1 << 40),)))
    row = flow_row(Flow(Match(()), (recirc,)))
    assert row["recirc"] is None and row["actions"][0]["recirc_id"] is None
    assert row["unfit_values"] == [f"recirc={1 << 40}"]


def test_sections_come_from_the_dump_headers() -> None:
    df = read_dumps([DATA / "ovs-dummy-dpctl-m.txt"])
    assert set(df["section"].unique()) == {"main thread"}


def test_read_dumps_lists_skipped_lines_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "dump.txt"
    lines = MIXED.read_text().splitlines()
    path.write_text("\n".join([lines[1], "not a flow", lines[2]]) + "\n")
    df = read_dumps([path], on_error="skip")
    assert len(df) == 2
    assert [(s["source"], s["line"]) for s in df.attrs["skipped"]] == [(str(path), 2)]


def test_every_corpus_line_gives_a_row_whose_texts_are_the_lines() -> None:
    lines = corpus_lines()
    flows = [parse_flow(text, line=number) for _, number, text in lines]
    table = to_arrow(flows)
    assert table.num_rows == len(lines)
    for (_, _, text), flow, match, actions, ufid in zip(
        lines,
        flows,
        table.column("match_text").to_pylist(),
        table.column("actions_text").to_pylist(),
        table.column("ufid").to_pylist(),
        strict=True,
    ):
        assert match in text, text
        assert f"actions:{actions}" in text, text
        assert ufid == (None if flow.ufid is None else str(flow.ufid))


def test_iter_batches_reads_lazily_in_batches_of_the_size_asked() -> None:
    lines = MIXED.read_text().splitlines()[1:]
    read = []

    def flows() -> Iterator[Flow]:
        for number, text in enumerate(lines, start=1):
            read.append(number)
            yield parse_flow(text, line=number)

    batches = iter_batches(flows(), source="s", batch_size=3)
    first = next(batches)
    assert first.num_rows == 3 and len(read) == 3
    assert [b.num_rows for b in batches] == [3, 1]
    with pytest.raises(ValueError, match="batch_size"):
        next(iter_batches([], batch_size=0))


def test_no_flows_give_an_empty_table_of_the_schema() -> None:
    table = to_arrow([])
    assert table.num_rows == 0 and table.schema.equals(SCHEMA)


def test_parquet_round_trip_keeps_types_and_values(tmp_path: Path) -> None:
    flows = [parse_flow(text) for _, _, text in corpus_lines()]
    table = to_arrow(flows, source="corpus")
    path = tmp_path / "flows.parquet"
    pq.write_table(table, path)
    back = pq.read_table(path)
    assert back.schema.equals(SCHEMA)
    assert back.to_pylist() == table.to_pylist()


@pytest.mark.parametrize(
    "ufid",
    [
        "2b8b0d67-8a6f-4c8b-9c1c-1d3f4e5a6b7c",
        "2B8B0D67-8A6F-4C8B-9C1C-1D3F4E5A6B7C",
        "urn:2b8b0d678a6f4c8b9c1c1d3f4e5a6b7c",  # 36 characters, UUID() takes it
        "2b8b0d678-a6f-4c8b-9c1c-1d3f4e5a6b7c",  # a hyphen misplaced
        "{2b8b0d67-8a6f-4c8b-9c1c-1d3f4e5a6b7c}",
    ],
)
def test_the_ufid_column_is_the_uuid_in_its_usual_form(ufid: str) -> None:
    # Found by the break test: texts of 36 characters were written as given.
    flow = parse_flow(
        f"ufid:{ufid}, in_port(1), packets:0, bytes:0, used:never, actions:1"
    )
    assert to_arrow([flow]).column("ufid").to_pylist() == [
        "2b8b0d67-8a6f-4c8b-9c1c-1d3f4e5a6b7c"
    ]
