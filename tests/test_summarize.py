"""``ovsflow summarize`` and the summary behind it, on dumps with known counts."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest
from helpers import DATA, guide_lines

from ovsflow import parse_flow
from ovsflow.cli import main
from ovsflow.summary import Summary, offload_class

# One flow of each offload class; packets and bytes chosen so that every sum
# below can be checked by hand.
FLOWS = [
    # hardware: 100 packets / 10000 bytes, all in hardware
    "in_port(1),eth_type(0x0800),ipv4(proto=6,frag=no), packets:100, bytes:10000, "
    "used:1.000s, offloaded:yes, dp:tc, actions:2",
    # partial (DPDK): 40 / 4000
    "in_port(2),eth_type(0x0800),ipv4(proto=17,frag=no), packets:40, bytes:4000, "
    "used:1.000s, offloaded:partial, dp:ovs, actions:1",
    # tc_software: 30 / 3000
    "in_port(2),eth_type(0x86dd),ipv6(proto=58,frag=no), packets:30, bytes:3000, "
    "used:1.000s, dp:tc, actions:1",
    # software: 20 / 2000
    "in_port(3),eth_type(0x0806), packets:20, bytes:2000, used:never, dp:ovs, "
    "actions:userspace(pid=1)",
    # software, tunnelled: 10 / 1000
    "tunnel(tun_id=0x5,src=192.0.2.1,dst=192.0.2.2,flags(+key)),in_port(4),"
    "eth_type(0x0800),ipv4(proto=6,frag=no), packets:10, bytes:1000, used:never, "
    "dp:ovs, actions:1",
]


def summary_of(lines: list[str], by: str | None = None) -> Summary:
    summary = Summary(by=by)
    summary.add_all(parse_flow(line) for line in lines)
    return summary


def test_each_flow_falls_in_its_offload_class() -> None:
    classes = [offload_class(parse_flow(line)) for line in FLOWS]
    assert classes == ["hardware", "partial", "tc_software", "software", "software"]
    no_m = parse_flow("in_port(1), packets:1, bytes:1, used:never, actions:drop")
    assert offload_class(no_m) == "unknown"


def test_totals_classes_and_ratios() -> None:
    d = summary_of(FLOWS).as_dict()
    assert (d["flows"], d["packets"], d["bytes"]) == (5, 200, 20000)
    assert d["classes"]["software"] == {"flows": 2, "packets": 30, "bytes": 3000}
    assert d["classes"]["partial"] == {"flows": 1, "packets": 40, "bytes": 4000}
    assert d["offloaded"] == {"flows": 1, "packets": 100, "bytes": 10000}
    assert d["ratio"] == {"flows": 0.2, "packets": 0.5, "bytes": 0.5}
    assert d["by_dp"] == {
        "ovs": {"flows": 3, "packets": 70, "bytes": 7000},
        "tc": {"flows": 2, "packets": 130, "bytes": 13000},
    }


def test_top_flows_not_in_hardware_by_packets() -> None:
    summary = Summary(top_n=2)
    summary.add_all(parse_flow(line) for line in FLOWS)
    assert [(t.packets, t.offload_class) for t in summary.top] == [
        (40, "partial"),
        (30, "tc_software"),
    ]


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ("in_port", {"1": 100, "2": 70, "3": 20, "4": 10}),
        ("dp", {"ovs": 70, "tc": 130}),
        ("eth_type", {"0x0800": 150, "0x86dd": 30, "0x0806": 20}),
        ("ip_proto", {"6": 110, "17": 40, "58": 30, "(none)": 20}),
        ("tun_dst", {"192.0.2.2": 10, "(none)": 190}),
    ],
)
def test_grouping_by_each_field(by: str, expected: dict[str, int]) -> None:
    groups = summary_of(FLOWS, by=by).groups
    assert {k: v.total.packets for k, v in groups.items()} == expected


def test_guide_dump_gives_the_figures_in_the_issue() -> None:
    d = summary_of(guide_lines()).as_dict()
    assert d["flows"] == 2
    assert d["classes"]["hardware"]["flows"] == 2
    assert d["by_dp"] == {"tc": {"flows": 2, "packets": 81967, "bytes": 109981294}}
    assert (d["packets"], d["offloaded"]["packets"]) == (81967, 81963)
    assert (d["bytes"], d["offloaded"]["bytes"]) == (109981294, 109981030)


def test_cli_json_on_the_bundled_sample(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["summarize", "--sample", "kube-ovn-yusur-2200e", "--format", "json"]) == 0
    )
    d = json.loads(capsys.readouterr().out)
    assert d["offloaded"] == {"flows": 2, "packets": 81963, "bytes": 109981030}
    assert d["skipped_lines"] == []
    assert set(d["classes"]) == {
        "hardware",
        "partial",
        "tc_software",
        "software",
        "unknown",
    }


def test_cli_sums_several_files_and_reads_gzip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    offloaded = tmp_path / "offloaded.txt"
    offloaded.write_text(FLOWS[0] + "\n")
    rest = tmp_path / "rest.txt.gz"
    rest.write_bytes(gzip.compress(("\n".join(FLOWS[1:]) + "\n").encode()))
    assert main(["summarize", str(offloaded), str(rest), "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["flows"], d["packets"], d["ratio"]["packets"]) == (5, 200, 0.5)


def test_cli_reports_bad_lines_and_still_summarizes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dump = tmp_path / "dump.txt"
    dump.write_text(f"{FLOWS[0]}\nin_port(1),eth(\n{FLOWS[3]}\n")
    assert main(["summarize", str(dump), "--format", "json"]) == 0
    captured = capsys.readouterr()
    d = json.loads(captured.out)
    assert d["flows"] == 2
    assert [(s["line"], s["source"]) for s in d["skipped_lines"]] == [(2, str(dump))]
    assert f"skipped {dump}: line 2: expected" in captured.err


def test_cli_strict_makes_a_bad_line_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dump = tmp_path / "dump.txt"
    dump.write_text(f"{FLOWS[0]}\nin_port(1),eth(\n")
    assert main(["summarize", "--strict", str(dump)]) == 2
    err = capsys.readouterr().err
    assert f"{dump}: line 2, column 16: expected" in err


def test_cli_says_plainly_when_the_dump_has_no_m(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "in_port(1), packets:7, bytes:70, used:never, actions:drop\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    assert main(["summarize", "-"]) == 0
    out = capsys.readouterr().out
    assert "taken without -m" in out
    assert "unknown" in out


def test_cli_csv_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dump = tmp_path / "dump.txt"
    dump.write_text("\n".join(FLOWS) + "\n")
    assert main(["summarize", str(dump), "--format", "csv"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == "group,scope,name,flows,packets,bytes"
    assert ",total,all,5,200,20000" in rows
    assert ",offloaded,hardware,1,100,10000" in rows


def test_real_ovs_dump_sections_and_counts() -> None:
    path = DATA / "ovs-dummy-dpctl-m.txt"
    summary = Summary()
    from ovsflow.dump import DumpReader

    reader = DumpReader(path)
    summary.add_all(reader)
    assert reader.sections == ["main thread"]
    lines = [x for x in path.read_text().splitlines() if x.startswith("ufid:")]
    assert summary.totals.total.flows == len(lines)
    assert summary.totals.classes["software"].flows == len(lines)  # dp:ovs, dummy


def test_vendor_hardware_counters_above_the_totals_are_capped_and_said() -> None:
    # Flow 1 says 20 packets in hardware of 10 (counters read at different
    # moments): 10 in hardware, not 20.  Flow 2: 5 of 30, 100 of 900 bytes.
    # In all 40 packets, 15 in hardware; 1000 + 900 bytes, 1000 + 100 in hw.
    summary = Summary()
    for line in (
        "in_port(1), packets:10, bytes:1000, used:0.1s, offload_packets:20, "
        "offload_bytes:2000, offloaded:yes, dp:tc, actions:2",
        "in_port(2), packets:30, bytes:900, used:0.1s, offload_packets:5, "
        "offload_bytes:100, offloaded:yes, dp:tc, actions:1",
    ):
        summary.add(parse_flow(line))
    hw = summary.totals.offloaded
    assert (hw.packets, hw.bytes) == (15, 1100)
    assert summary.totals.ratio["packets"] == 15 / 40
    assert any(
        n.startswith("1 flow reports more packets or bytes in hardware")
        for n in summary.notes()
    )
