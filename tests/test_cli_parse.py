"""``ovsflow parse``: Parquet, JSON Lines and CSV, to a file or standard output."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from helpers import DATA, REPO

from ovsflow.cli import main
from ovsflow.dump import parse_dump
from ovsflow.table import SCHEMA, to_arrow

MIXED = DATA / "analysis" / "mixed.txt"


def test_jsonl_on_stdout_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(MIXED)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 7
    first = json.loads(lines[0])
    assert list(first) == SCHEMA.names
    assert (first["line"], first["packets"], first["used"]) == (2, 100, 1.0)
    assert (first["in_port"], first["offloaded"], first["flags"]) == ("1", "yes", None)
    assert first["output_ports"] == ["genev_sys_6081"]
    third = json.loads(lines[2])
    assert (
        third["geneve"][0]["class"] == 0x102 and third["geneve"][0]["data"] == "0x6000a"
    )


@pytest.mark.parametrize("name", ["flows.parquet", "flows.pq"])
def test_parquet_by_extension_reads_back_as_the_same_table(
    tmp_path: Path, name: str
) -> None:
    out = tmp_path / name
    assert main(["parse", str(MIXED), "-o", str(out)]) == 0
    back = pq.read_table(out)
    assert back.schema.equals(SCHEMA)
    expected = to_arrow(parse_dump(MIXED), source=str(MIXED))
    assert back.to_pylist() == expected.to_pylist()
    assert not list(tmp_path.glob(".*partial"))


def test_csv_by_extension(tmp_path: Path) -> None:
    out = tmp_path / "flows.csv"
    assert main(["parse", str(MIXED), "-o", str(out)]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 7
    assert list(rows[0]) == SCHEMA.names
    assert (rows[0]["packets"], rows[0]["dp"], rows[0]["section"]) == ("100", "tc", "")
    assert json.loads(rows[0]["action_kinds"]) == ["set", "output"]
    assert rows[3]["ct_commit"] == "true" and rows[0]["ct_commit"] == "false"


def test_format_option_wins_over_the_extension(tmp_path: Path) -> None:
    out = tmp_path / "flows.out"
    assert main(["parse", str(MIXED), "-o", str(out), "--format", "jsonl"]) == 0
    assert len(out.read_text().splitlines()) == 7


def test_an_unknown_extension_without_format_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["parse", str(MIXED), "-o", str(tmp_path / "flows.txt")]) == 2
    err = capsys.readouterr().err
    assert "cannot tell the format from the extension '.txt'" in err
    assert "give --format" in err


def test_parquet_is_not_written_to_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(["parse", str(MIXED), "--format", "parquet"]) == 2
    assert "will not write Parquet (binary) to a terminal" in capsys.readouterr().err


def test_skipped_lines_are_counted_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = MIXED.read_text().splitlines()
    dump = tmp_path / "dump.txt"
    dump.write_text("\n".join([lines[1], "in_port(1", lines[2]]) + "\n")
    assert main(["parse", str(dump)]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 2
    assert f"ovsflow: skipped {dump}: line 2:" in err
    assert "1 line skipped in all" in err


def test_strict_stops_and_leaves_no_partial_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dump = tmp_path / "dump.txt"
    dump.write_text(MIXED.read_text() + "in_port(1\n")
    out = tmp_path / "flows.parquet"
    assert main(["parse", "--strict", str(dump), "-o", str(out)]) == 2
    assert "line 9" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [dump]


def test_gzip_and_standard_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    packed = tmp_path / "dump.txt.gz"
    packed.write_bytes(gzip.compress(MIXED.read_bytes()))
    assert main(["parse", str(packed)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 7

    stdin = io.TextIOWrapper(io.BytesIO(MIXED.read_bytes()))
    monkeypatch.setattr(sys, "stdin", stdin)
    assert main(["parse", "-"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["source"] for r in rows} == {"<stdin>"} and len(rows) == 7


def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path) -> None:
    # 20,000 flows: far more than a pipe buffer holds, so the writer meets
    # the closed pipe while it still has rows to write.
    flow_lines = MIXED.read_text().splitlines()[1:]
    big = tmp_path / "big.txt"
    big.write_text("\n".join(flow_lines * 3000) + "\n")
    command = f"{sys.executable} -m ovsflow parse {big} --format jsonl | head -1"
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert json.loads(result.stdout)["line"] == 1


def test_a_format_the_extension_contradicts_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "flows.parquet"
    status = main(["parse", str(DATA / "ovs-dummy-dpctl-m.txt"), "-o", str(out),
                   "--format", "csv"])  # fmt: skip
    assert status == 2
    assert "the extension says parquet, --format says csv" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("command", ["summarize", "explain", "report", "diff"])
def test_top_must_not_be_negative(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--top", "-1", "a.txt", "b.txt"])
    assert exit_info.value.code == 2
    assert "--top: expected a whole number >= 0, got '-1'" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    from ovsflow.parse import is_compiled

    kind = "compiled fast path" if is_compiled() else "pure Python"
    assert capsys.readouterr().out == f"ovsflow {version('ovsflow')} ({kind})\n"


def test_version_says_which_fast_path_runs() -> None:
    """OVSFLOW_PURE_PYTHON=1 switches the compiled module off; --version says
    so (the console script is not fooled by a source tree in the cwd)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "OVSFLOW_PURE_PYTHON": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "ovsflow", "--version"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.endswith(" (pure Python)\n")
