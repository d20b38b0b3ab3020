"""Offload figures from the table, by hand on a small dump and against summarize.

``tests/data/analysis/mixed.txt`` holds seven flows (line numbers in the file):

==  ===============  ====  ============  =======  ======  ========  =====  ==========
ln  in_port          dp    class         packets  bytes   hw pkts   proto  tun_dst/id
==  ===============  ====  ============  =======  ======  ========  =====  ==========
2   1                tc    hardware      100      10000   100       6
3   2                tc    hardware      50       5000    40 (4000  17
                                                          bytes)
4   genev_sys_6081   tc    tc_software   30       3000    0         6      .0.1 / 5
5   1                dpdk  partial       20       2000    0         58
6   vxlan_sys_4789   ovs   software      10       1000    0         17     .0.1 / 7
7   3                ovs   software      5        500     0         -
8   4                -     unknown       1        100     0         17
==  ===============  ====  ============  =======  ======  ========  =====  ==========

Actions: 2 set+output, 3 output, 4 output, 5 ct+recirc, 6 tnl_push+output,
7 drop, 8 output.  Line 3's ``offload_packets:40, offload_bytes:4000`` are
its figures in hardware.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
from helpers import DATA, REPO

from ovsflow import InputError, parse_flow
from ovsflow.analysis import SUMMARY_COLUMNS, offload_summary, top_not_hardware
from ovsflow.cli import main
from ovsflow.summary import CLASSES
from ovsflow.table import read_dumps, to_dataframe

MIXED = DATA / "analysis" / "mixed.txt"
BEFORE = DATA / "analysis" / "before.txt"

# flows, packets, bytes, and the same three in hardware
FIGURES = ["flows", "packets", "bytes", "hardware_flows"]
FIGURES += ["hardware_packets", "hardware_bytes"]


def groups(result: pd.DataFrame, by: list[str]) -> dict[Any, tuple[int, ...]]:
    out = {}
    for row in result.to_dict(orient="records"):
        keys = tuple(None if pd.isna(row[k]) else row[k] for k in by)
        out[keys[0] if len(by) == 1 else keys] = tuple(row[f] for f in FIGURES)
    return out


def test_totals_of_the_mixed_dump() -> None:
    result = offload_summary(read_dumps([MIXED]))
    assert list(result.columns) == list(SUMMARY_COLUMNS)
    row = result.iloc[0]
    assert tuple(row[FIGURES]) == (7, 216, 21600, 2, 140, 14000)
    assert row["hardware_flow_ratio"] == pytest.approx(2 / 7)
    assert row["hardware_packet_ratio"] == pytest.approx(140 / 216)
    assert row["hardware_byte_ratio"] == pytest.approx(14000 / 21600)
    classes = {
        c: tuple(row[f"class_{c}_{n}"] for n in ("flows", "packets", "bytes"))
        for c in CLASSES
    }
    assert classes == {
        "hardware": (2, 150, 15000),
        "partial": (1, 20, 2000),
        "tc_software": (1, 30, 3000),
        "software": (2, 15, 1500),
        "unknown": (1, 1, 100),
    }
    assert result.attrs["l2_bytes"] is False


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        (
            "in_port",
            {
                "1": (2, 120, 12000, 1, 100, 10000),
                "2": (1, 50, 5000, 1, 40, 4000),
                "3": (1, 5, 500, 0, 0, 0),
                "4": (1, 1, 100, 0, 0, 0),
                "genev_sys_6081": (1, 30, 3000, 0, 0, 0),
                "vxlan_sys_4789": (1, 10, 1000, 0, 0, 0),
            },
        ),
        (
            "dp",
            {
                "tc": (3, 180, 18000, 2, 140, 14000),
                "dpdk": (1, 20, 2000, 0, 0, 0),
                "ovs": (2, 15, 1500, 0, 0, 0),
                None: (1, 1, 100, 0, 0, 0),
            },
        ),
        (
            "ip_proto",
            {
                6: (2, 130, 13000, 1, 100, 10000),
                17: (3, 61, 6100, 1, 40, 4000),
                58: (1, 20, 2000, 0, 0, 0),
                None: (1, 5, 500, 0, 0, 0),
            },
        ),
        (
            "tun_dst",
            {
                "192.168.0.1": (2, 40, 4000, 0, 0, 0),
                None: (5, 176, 17600, 2, 140, 14000),
            },
        ),
        (
            "tun_id",
            {
                5: (1, 30, 3000, 0, 0, 0),
                7: (1, 10, 1000, 0, 0, 0),
                None: (5, 176, 17600, 2, 140, 14000),
            },
        ),
        (
            "action_kinds",
            {
                "output": (5, 191, 19100, 2, 140, 14000),
                "set": (1, 100, 10000, 1, 100, 10000),
                "ct": (1, 20, 2000, 0, 0, 0),
                "recirc": (1, 20, 2000, 0, 0, 0),
                "tnl_push": (1, 10, 1000, 0, 0, 0),
                "drop": (1, 5, 500, 0, 0, 0),
            },
        ),
    ],
)
def test_each_grouping_by_hand(by: str, expected: dict[Any, tuple[int, ...]]) -> None:
    assert groups(offload_summary(read_dumps([MIXED]), [by]), [by]) == expected


def test_grouping_by_source_keeps_each_file_apart() -> None:
    result = offload_summary(read_dumps([MIXED, BEFORE]), "source")
    # before.txt: 100+50+1000+7+20 packets; ufids a and c are in hardware.
    assert groups(result, ["source"]) == {
        str(MIXED): (7, 216, 21600, 2, 140, 14000),
        str(BEFORE): (5, 1177, 117700, 2, 1100, 110000),
    }


def test_grouping_by_two_columns() -> None:
    result = offload_summary(read_dumps([MIXED]), ["dp", "offload_class"])
    assert groups(result, ["dp", "offload_class"]) == {
        ("tc", "hardware"): (2, 150, 15000, 2, 140, 14000),
        ("tc", "tc_software"): (1, 30, 3000, 0, 0, 0),
        ("dpdk", "partial"): (1, 20, 2000, 0, 0, 0),
        ("ovs", "software"): (2, 15, 1500, 0, 0, 0),
        (None, "unknown"): (1, 1, 100, 0, 0, 0),
    }


def test_l2_bytes_adds_fourteen_bytes_per_packet_to_tc_flows() -> None:
    result = offload_summary(read_dumps([MIXED]), "dp", l2_bytes=True)
    by_dp = groups(result, ["dp"])
    # tc: 180 packets, 140 of them in hardware.
    assert by_dp["tc"] == (3, 180, 18000 + 14 * 180, 2, 140, 14000 + 14 * 140)
    assert by_dp["ovs"] == (2, 15, 1500, 0, 0, 0)
    total = offload_summary(read_dumps([MIXED]), l2_bytes=True).iloc[0]
    assert total["bytes"] == 21600 + 14 * 180
    assert total["class_hardware_bytes"] == 15000 + 14 * 150
    assert total["class_tc_software_bytes"] == 3000 + 14 * 30
    assert result.attrs["l2_bytes"] is True


def test_no_flows_give_one_row_of_zeros_and_no_ratio() -> None:
    row = offload_summary(read_dumps([MIXED]).iloc[:0]).iloc[0]
    assert tuple(row[FIGURES]) == (0, 0, 0, 0, 0, 0)
    assert row["hardware_packet_ratio"] is pd.NA


def test_grouping_by_an_unknown_column_is_an_error() -> None:
    with pytest.raises(ValueError, match="no such column"):
        offload_summary(read_dumps([MIXED]), ["vni"])


def test_top_flows_not_in_hardware() -> None:
    df = read_dumps([MIXED])
    top = top_not_hardware(df, 3)
    assert top[["line", "offload_class", "packets"]].values.tolist() == [
        [4, "tc_software", 30],
        [5, "partial", 20],
        [6, "software", 10],
    ]
    assert top_not_hardware(df, 10, by="bytes")["line"].tolist() == [4, 5, 6, 7, 8]


# --- the same figures as ``ovsflow summarize`` ---------------------------------

SUMMARIZE_INPUTS = [
    [str(REPO / "ovsflow" / "samples" / "kube-ovn-yusur-2200e.txt")],
    # The empty captures (no flow of that type) are left out: the CLI refuses
    # an empty input.
    [str(p) for p in sorted(DATA.glob("ovs-dummy-*.txt")) if p.stat().st_size],
    [str(MIXED), str(BEFORE)],
]


def summarize_json(
    capsys: pytest.CaptureFixture[str], files: list[str], *options: str
) -> dict[str, Any]:
    assert main(["summarize", "--format", "json", "--top", "0", *options, *files]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def figures_of(row: Any) -> dict[str, Any]:
    """A row of offload_summary in the shape of summarize's JSON."""

    def counts(prefix: str) -> dict[str, int]:
        return {n: int(row[f"{prefix}{n}"]) for n in ("flows", "packets", "bytes")}

    ratio = {
        "flows": row["hardware_flow_ratio"],
        "packets": row["hardware_packet_ratio"],
        "bytes": row["hardware_byte_ratio"],
    }
    return {
        **counts(""),
        "classes": {c: counts(f"class_{c}_") for c in CLASSES},
        "offloaded": counts("hardware_"),
        "ratio": {k: None if pd.isna(v) else v for k, v in ratio.items()},
    }


def summarize_figures(totals: dict[str, Any]) -> dict[str, Any]:
    keep = ("flows", "packets", "bytes", "classes", "offloaded", "ratio")
    return {k: totals[k] for k in keep}


@pytest.mark.parametrize("files", SUMMARIZE_INPUTS, ids=["sample", "ovs", "mixed"])
@pytest.mark.parametrize("l2", [False, True], ids=["as-dumped", "l2-bytes"])
def test_summarize_and_offload_summary_agree(
    capsys: pytest.CaptureFixture[str], files: list[str], l2: bool
) -> None:
    options = ["--l2-bytes"] if l2 else []
    df = read_dumps(files)
    expected = summarize_json(capsys, files, *options)
    assert expected["l2_bytes"] is l2
    total = offload_summary(df, l2_bytes=l2).iloc[0]
    assert figures_of(total) == summarize_figures(expected)

    by_dp = offload_summary(df, "dp", l2_bytes=l2)
    got = {}
    for _, row in by_dp.iterrows():
        dp = "unknown" if pd.isna(row["dp"]) else row["dp"]
        got[dp] = {n: int(row[n]) for n in ("flows", "packets", "bytes")}
    assert got == expected["by_dp"]


@pytest.mark.parametrize("files", SUMMARIZE_INPUTS, ids=["sample", "ovs", "mixed"])
@pytest.mark.parametrize("by", ["in_port", "dp", "eth_type", "ip_proto", "tun_dst"])
def test_summarize_by_and_offload_summary_by_agree(
    capsys: pytest.CaptureFixture[str], files: list[str], by: str
) -> None:
    expected = summarize_json(capsys, files, "--by", by)["by"]["groups"]
    result = offload_summary(read_dumps(files), by)
    got = {}
    for _, row in result.iterrows():
        value = row[by]
        if pd.isna(value):
            key = "(none)"
        elif by == "eth_type":
            key = f"0x{value:04x}"
        else:
            key = str(value)
        got[key] = figures_of(row)
    assert got == {k: summarize_figures(v) for k, v in expected.items()}


def test_summarize_says_which_bytes_it_counted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["summarize", "--l2-bytes", str(MIXED)]) == 0
    out = capsys.readouterr().out
    assert "bytes of dp:tc flows include the 14-byte Ethernet header" in out
    assert out.splitlines()[1].split() == ["total", "7", "216", str(21600 + 14 * 180)]
    assert main(["summarize", str(MIXED)]) == 0
    assert "bytes are as dumped: TC counts them without" in capsys.readouterr().out


def test_counters_past_2_to_the_53_give_ratios_and_a_wrapping_sum_is_refused() -> None:
    # 2**54 + 1 bytes, all in hardware: a ratio of exactly 1, not an Arrow
    # "integer value not in range" error on the cast to double.
    big = 2**54 + 1
    line = (
        f"in_port(1), packets:{big}, bytes:{big}, used:0.1s, offloaded:yes, "
        "dp:tc, actions:2"
    )
    # (Column by column: a pandas row of mixed Arrow types would cast them.)
    result = offload_summary(to_dataframe([parse_flow(line)]))
    assert result["bytes"].iloc[0] == big
    assert result["hardware_byte_ratio"].iloc[0] == 1.0
    # Two flows of 2**63 packets: 2**64 in all, which a uint64 sum wraps to 0.
    half = 2**63
    flows = [
        parse_flow(
            f"in_port({i}), packets:{half}, bytes:1, used:0.1s, dp:ovs, actions:2"
        )
        for i in (1, 2)
    ]
    with pytest.raises(InputError, match="packets of these flows add up past 2"):
        offload_summary(to_dataframe(flows))
