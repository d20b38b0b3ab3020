"""Rates between two dumps, worked out by hand on ``tests/data/analysis``.

before.txt -> after.txt, 10 seconds apart:

====  ===========  ==============  ==============  ==========================
flow  class        before          after           in the interval
====  ===========  ==============  ==============  ==========================
a     hardware     100 / 10000     300 / 30000     200 / 20000, kept
b     software     50 / 5000       80 / 8000       30 / 3000, kept
c     hardware     1000 / 100000   10 / 1000       10 / 1000, re-added
d     software     7 / 700         -               disappeared, no rate
e     software     -               40 / 4000       40 / 4000, appeared
(no   software     20 / 2000       25 / 2500       5 / 500, kept (matched
ufid)                                              by its match text)
====  ===========  ==============  ==============  ==========================

Total: 285 packets, 28500 bytes; in hardware a + c: 210 packets, 21000 bytes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from helpers import DATA

from ovsflow import InputError, parse_flow, samples
from ovsflow.diff import FLOW_COLUMNS, diff_dumps
from ovsflow.table import read_dumps, to_dataframe

BEFORE = DATA / "analysis" / "before.txt"
AFTER = DATA / "analysis" / "after.txt"
UFID = "00000000-0000-4000-8000-00000000000{}"


def by_flow(result: pd.DataFrame) -> dict[str, dict[str, object]]:
    out = {}
    for row in result.to_dict(orient="records"):
        ufid = row["ufid"]
        name = "no ufid" if pd.isna(ufid) else str(ufid)[-1]
        out[name] = {k: None if pd.isna(v) else v for k, v in row.items()}
    return out


def test_each_flow_of_the_two_dumps() -> None:
    result = diff_dumps(BEFORE, AFTER, interval=10)
    assert list(result.flows.columns) == list(FLOW_COLUMNS)
    flows = by_flow(result.flows)

    def figures(name: str) -> tuple[object, ...]:
        row = flows[name]
        keys = ("status", "packets", "bytes", "hardware_packets", "packets_per_s")
        return tuple(row[k] for k in (*keys, "bytes_per_s"))

    assert figures("a") == ("kept", 200, 20000, 200, 20.0, 2000.0)
    assert figures("b") == ("kept", 30, 3000, 0, 3.0, 300.0)
    assert figures("c") == ("readded", 10, 1000, 10, 1.0, 100.0)
    assert figures("d") == ("disappeared", None, None, None, None, None)
    assert figures("e") == ("appeared", 40, 4000, 0, 4.0, 400.0)
    assert figures("no ufid") == ("kept", 5, 500, 0, 0.5, 50.0)
    assert (flows["c"]["packets_before"], flows["c"]["packets_after"]) == (1000, 10)
    assert (flows["d"]["packets_before"], flows["d"]["packets_after"]) == (7, None)


def test_totals_and_offload_ratio_of_the_interval() -> None:
    result = diff_dumps(BEFORE, AFTER, interval=10)
    assert (result.interval, result.interval_from) == (10.0, "given")
    assert result.totals == {
        "flows_before": 5,
        "flows_after": 5,
        "kept": 3,
        "readded": 1,
        "appeared": 1,
        "disappeared": 1,
        "packets": 285,
        "bytes": 28500,
        "packets_per_s": 28.5,
        "bytes_per_s": 2850.0,
        "hardware_packets": 210,
        "hardware_bytes": 21000,
        "hardware_packets_per_s": 21.0,
        "hardware_bytes_per_s": 2100.0,
        "hardware_packet_ratio": 210 / 285,
        "hardware_byte_ratio": 21000 / 28500,
    }


def test_interval_from_the_files_modification_times(tmp_path: Path) -> None:
    before, after = tmp_path / "before.txt", tmp_path / "after.txt"
    shutil.copy(BEFORE, before)
    shutil.copy(AFTER, after)
    os.utime(before, (1_000_000, 1_000_000))
    os.utime(after, (1_000_030, 1_000_030))
    result = diff_dumps(before, after)
    assert (result.interval, result.interval_from) == (30.0, "file modification times")
    assert result.totals["packets_per_s"] == 285 / 30

    frames = [read_dumps([before]), read_dumps([after])]
    frames[0].attrs["mtime"], frames[1].attrs["mtime"] = 1_000_000, 1_000_030
    assert diff_dumps(*frames).interval == 30.0


def test_an_interval_that_is_not_positive_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="must be positive and finite, not 0 seconds"):
        diff_dumps(BEFORE, AFTER, interval=0)
    with pytest.raises(InputError, match="must be positive and finite, not -5 seconds"):
        diff_dumps(BEFORE, AFTER, interval=-5)
    before, after = tmp_path / "before.txt", tmp_path / "after.txt"
    shutil.copy(BEFORE, before)
    shutil.copy(AFTER, after)
    os.utime(before, (2_000, 2_000))
    os.utime(after, (1_000, 1_000))
    with pytest.raises(
        InputError, match=r"not -1000 seconds \(file modification times\)"
    ):
        diff_dumps(before, after)


def test_without_files_or_interval_the_interval_is_unknown() -> None:
    with pytest.raises(InputError, match="interval between the dumps is unknown"):
        diff_dumps(read_dumps([BEFORE]), read_dumps([AFTER]))


def flows(*counts: tuple[int, int, str]) -> list[object]:
    return [
        parse_flow(
            f"ufid:{UFID.format(i)}, in_port({i}), packets:{p}, bytes:{b}, "
            f"used:0.1s, {attrs}, actions:2"
        )
        for i, (p, b, attrs) in enumerate(counts, start=1)
    ]


def test_hardware_share_of_a_flow_that_moved_in_or_out_of_hardware() -> None:
    before = flows((50, 5000, "dp:tc"), (100, 10000, "offloaded:yes, dp:tc"))
    after = flows((80, 8000, "offloaded:yes, dp:tc"), (120, 12000, "dp:tc"))
    result = diff_dumps(to_dataframe(before), to_dataframe(after), interval=1)
    rows = by_flow(result.flows)
    # Flow 1 went into hardware: at most its 30 new packets count as offloaded.
    assert (rows["1"]["packets"], rows["1"]["hardware_packets"]) == (30, 30)
    # Flow 2 left hardware: its in-hardware counter fell; nothing was offloaded.
    assert (rows["2"]["packets"], rows["2"]["hardware_packets"]) == (20, 0)
    assert result.totals["hardware_packet_ratio"] == 30 / 50


def test_flows_are_told_apart_by_section() -> None:
    # Each PMD thread holds its own copy of a flow, under the same ufid.
    line = f"ufid:{UFID.format(1)}, in_port(1), packets:{{}}, bytes:0, used:0.1s, "
    line += "dp:ovs, actions:2"
    before = [
        parse_flow(line.format(10), section="pmd on cpu core: 1"),
        parse_flow(line.format(20), section="pmd on cpu core: 2"),
    ]
    after = [
        parse_flow(line.format(15), section="pmd on cpu core: 1"),
        parse_flow(line.format(50), section="pmd on cpu core: 2"),
    ]
    result = diff_dumps(before, after, interval=5)
    got = dict(zip(result.flows["section"], result.flows["packets"], strict=True))
    assert got == {"pmd on cpu core: 1": 5, "pmd on cpu core: 2": 30}


def test_a_flow_printed_twice_in_one_dump_counts_once_at_its_latest() -> None:
    # Two copies of one flow in the second dump (a datapath that changed while
    # it was dumped): 15 and then 5 packets.  The flow ran 15 - 10 = 5 packets,
    # not 15 + 5 - 10.
    before = flows((10, 100, "dp:ovs"))
    after = flows((15, 150, "dp:ovs")) + flows((5, 50, "dp:ovs"))
    result = diff_dumps(before, after, interval=1)
    assert result.flows["packets"].tolist() == [5]
    assert result.flows["bytes"].tolist() == [50]
    assert result.notes == [
        "the second dump prints 1 flow more than once (same ufid or match in "
        "one section); each counts once, at its highest counters"
    ]


def test_dumps_with_no_flow_in_common_say_so() -> None:
    # The same datapath dumped without -m (no ufid: keyed by match) and with
    # -m (keyed by ufid): nothing can match.
    plain = DATA / "ovs-dummy-dpctl.txt"
    with_m = DATA / "ovs-dummy-dpctl-m.txt"
    result = diff_dumps(plain, with_m, interval=10)
    assert (result.totals["kept"], result.totals["readded"]) == (0, 0)
    assert any("no flow of the first dump is in the second" in n for n in result.notes)
    assert diff_dumps(BEFORE, AFTER, interval=10).notes == []


def test_counters_past_64_bits_in_total_do_not_wrap() -> None:
    # Two flows that each appeared with 2**63 packets: 2**64 in all, which a
    # uint64 sum would wrap to 0.
    big = 2**63
    after = flows((big, big, "dp:ovs"), (big, big, "dp:tc"))
    result = diff_dumps([], after, interval=1)
    assert result.totals["packets"] == 2**64
    assert result.totals["bytes"] == 2**64


def test_an_infinite_interval_is_refused() -> None:
    with pytest.raises(InputError, match="must be positive and finite, not inf"):
        diff_dumps(BEFORE, AFTER, interval=float("inf"))


def test_json_form_is_plain_values() -> None:
    data = diff_dumps(BEFORE, AFTER, interval=10).as_dict()
    gone = next(f for f in data["flows"] if f["status"] == "disappeared")
    assert gone["packets"] is None and gone["packets_before"] == 7
    assert isinstance(data["flows"][0]["packets"], int)


def test_interval_from_the_capture_times_of_collected_dumps(tmp_path: Path) -> None:
    # The bundled snapshots were written by 'ovsflow collect'; their headers say
    # 2026-12-04T16:48:05.551Z and 2026-12-04T16:48:08.549Z: 2.998 s apart,
    # whatever the files' modification times say (set here to an hour apart).
    before, after = tmp_path / "before.txt", tmp_path / "after.txt"
    shutil.copy(samples.path("ovs-dummy-before"), before)
    shutil.copy(samples.path("ovs-dummy-after"), after)
    os.utime(before, (5_000, 5_000))
    os.utime(after, (8_600, 8_600))
    result = diff_dumps(before, after)
    assert result.interval_from == "capture times"
    assert result.interval == pytest.approx(2.998)

    # A capture time and a modification time are not the same clock.
    shutil.copy(BEFORE, before)
    with pytest.raises(InputError, match="interval between the dumps is unknown"):
        diff_dumps(before, after)


def test_cli_takes_the_interval_from_capture_times() -> None:
    import contextlib
    import io
    import json

    from ovsflow.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(
            [
                "diff",
                str(samples.path("ovs-dummy-before")),
                str(samples.path("ovs-dummy-after")),
                "--format",
                "json",
            ]
        )
    assert status == 0
    result = json.loads(out.getvalue())
    assert result["interval_from"] == "capture times"
    assert result["interval"] == pytest.approx(2.998)
