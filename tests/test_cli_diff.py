"""``ovsflow diff``: the figures of tests/test_diff.py, as the command prints them."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path

import pytest
from helpers import DATA

from ovsflow.cli import main

BEFORE = DATA / "analysis" / "before.txt"
AFTER = DATA / "analysis" / "after.txt"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["diff", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_table(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, str(BEFORE), str(AFTER), "--interval", "10")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "interval: 10 s (given)"
    assert lines[1] == (
        "flows: 5 before, 5 after: 3 kept, 1 re-added, 1 appeared, 1 disappeared"
    )
    assert lines[4].split() == ["in", "interval", "285", "28500", "28.500", "2850.000"]
    assert lines[5].split() == ["in", "hardware", "210", "21000", "21.000", "2100.000"]
    assert lines[6].split() == ["hardware", "ratio", "73.684%", "73.684%"]
    assert "re-added (counters went backwards: counted since re-added):" in lines
    assert "disappeared (no rate: what they ran is unknown):" in lines


def test_json(capsys: pytest.CaptureFixture[str]) -> None:
    args = [str(BEFORE), str(AFTER), "--interval", "10", "--format", "json"]
    status, out, _ = run(capsys, *args)
    assert status == 0
    data = json.loads(out)
    assert data["interval"] == 10.0
    assert data["totals"]["packets_per_s"] == 28.5
    assert data["totals"]["hardware_packet_ratio"] == 210 / 285
    statuses = sorted(f["status"] for f in data["flows"])
    assert statuses == ["appeared", "disappeared", "kept", "kept", "kept", "readded"]


def test_csv(capsys: pytest.CaptureFixture[str]) -> None:
    args = [str(BEFORE), str(AFTER), "--interval", "10", "--format", "csv"]
    status, out, _ = run(capsys, *args)
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert (rows[0]["status"], rows[0]["packets"], rows[0]["bytes"]) == (
        "total",
        "285",
        "28500",
    )
    assert (rows[1]["status"], rows[1]["packets_per_s"]) == ("kept", "20.0")
    gone = next(r for r in rows if r["status"] == "disappeared")
    assert gone["packets"] == "" and gone["packets_per_s"] == ""


def test_interval_from_file_times(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before, after = tmp_path / "before.txt", tmp_path / "after.txt"
    shutil.copy(BEFORE, before)
    shutil.copy(AFTER, after)
    os.utime(before, (1_000_000, 1_000_000))
    os.utime(after, (1_000_005, 1_000_005))
    status, out, _ = run(capsys, str(before), str(after), "--format", "json")
    assert status == 0
    data = json.loads(out)
    assert (data["interval"], data["interval_from"]) == (
        5.0,
        "file modification times",
    )
    assert data["totals"]["packets_per_s"] == 57.0


def test_a_zero_interval_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, str(BEFORE), str(AFTER), "--interval", "0")
    assert status == 2
    assert err == (
        "ovsflow: error: the interval between the dumps must be positive and "
        "finite, not 0 seconds (given)\n"
    )


def test_l2_bytes_is_said(capsys: pytest.CaptureFixture[str]) -> None:
    args = [str(BEFORE), str(AFTER), "--interval", "10", "--l2-bytes"]
    status, out, _ = run(capsys, *args)
    assert status == 0
    # tc flows a and c ran 210 packets: 14 bytes more each.
    assert out.splitlines()[4].split()[3] == str(28500 + 14 * 210)
    assert "bytes of dp:tc flows include the 14-byte Ethernet header" in out
