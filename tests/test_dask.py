"""Dumps as a Dask DataFrame, on a real multi-process Dask cluster.

The figures are checked against the single-process path (``read_dumps`` of
:mod:`ovsflow.table`, ``ovsflow summarize``, ``ovsflow parse``) on the
real-OVS captures and the bundled samples, and against a dump built here
whose line numbers, sections and skipped lines are known by construction.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask
import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from distributed import Client, LocalCluster
from helpers import DATA, REPO

import ovsflow.dask
from ovsflow import InputError, ParseError
from ovsflow.analysis import offload_summary, top_not_hardware
from ovsflow.cli import main
from ovsflow.table import read_dumps, to_dataframe

SAMPLES = REPO / "ovsflow" / "samples"
# The empty captures (no flow of that type) are left out: the CLI refuses
# an empty input.
OVS_DUMPS = [p for p in sorted(DATA.glob("ovs-dummy-*.txt")) if p.stat().st_size]
SAMPLE_DUMPS = sorted(SAMPLES.glob("*.txt"))
MIXED = DATA / "analysis" / "mixed.txt"
FLOWS = [
    line
    for line in (DATA / "ovs-dummy-dpctl-m.txt").read_text().splitlines()
    if line.startswith("ufid:")
]
LOG_LINE = "2026-12-04T10:00:00.123Z|00042|dpif_netdev|WARN|a log line"


def rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Every row as Python values (dictionary columns compare as strings)."""
    return pa.Table.from_pandas(df, preserve_index=False).to_pylist()


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(
        processes=True,
        n_workers=2,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def client(cluster: LocalCluster) -> Iterator[Client]:
    with Client(cluster) as client:
        yield client


# --- a dump whose every line is known -----------------------------------------


def big_dump(path: Path, copies: int = 12) -> tuple[list[tuple[int, str]], list[int]]:
    """Write a dump of ``copies`` sections of 33 flows, a wrapped flow, a log
    line and a blank line each; return (line, section) of every flow, and the
    line numbers of the log lines, counted while writing."""
    lines: list[str] = ['# ovsflow-meta: {"node": "n1"}']
    flows: list[tuple[int, str]] = []
    logs: list[int] = []
    for n in range(copies):
        section = f"pmd on cpu core: {n}"
        lines.append(f"flow-dump from {section}:")
        for k, flow in enumerate(FLOWS):
            if k == 6:  # a terminal wrapped this one at 80 columns
                flows.append((len(lines) + 1, section))
                lines.extend(flow[i : i + 80] for i in range(0, len(flow), 80))
                continue
            if k == 9:
                lines.append(LOG_LINE)
                logs.append(len(lines))
            if k == 20:
                lines.append("")
            flows.append((len(lines) + 1, section))
            lines.append(flow)
    path.write_text("\n".join(lines) + "\n")
    return flows, logs


@pytest.mark.parametrize("block_bytes", [10**9, 9000, 1800])
def test_blocks_of_a_big_dump_keep_lines_sections_and_wrapped_flows(
    tmp_path: Path, block_bytes: int
) -> None:
    path = tmp_path / "big.txt"
    flows, logs = big_dump(path, copies=6)
    dumps = ovsflow.dask.open_dumps(path, on_error="skip", block_bytes=block_bytes)
    expected_parts = -(-path.stat().st_size // block_bytes)
    assert dumps.flows.npartitions == expected_parts
    with dask.config.set(scheduler="sync"):
        df, skipped = dask.compute(dumps.flows, dumps.skipped)
    assert list(zip(df["line"], df["section"], strict=True)) == flows
    assert skipped["line"].tolist() == logs
    assert set(skipped["reason"]) == {"not a flow: an OVS log line"}
    # Each copy of the wrapped flow was joined back, on its first line.
    wrapped = df[df["ufid"] == FLOWS[6][len("ufid:") :].split(",")[0]]
    assert wrapped["line"].tolist() == [line for line, _ in flows[6 :: len(FLOWS)]]
    assert rows(df) == rows(read_dumps([path], on_error="skip"))


def test_a_bad_line_deep_in_a_big_dump_raises_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    big_dump(path, copies=3)
    lines = [line for line in path.read_text().splitlines() if line != LOG_LINE]
    lines[80:80] = ["in_port(1),eth(src=zz"]
    path.write_text("\n".join(lines) + "\n")
    df = ovsflow.dask.read_dumps(path, block_bytes=2000)
    assert df.npartitions > 10
    with dask.config.set(scheduler="sync"), pytest.raises(ParseError) as caught:
        df.compute()
    assert caught.value.line == 81
    assert "line 81, column 22: expected one of" in str(caught.value)


# --- the DataFrame ----------------------------------------------------------------


def test_meta_is_exactly_the_table_of_to_dataframe() -> None:
    df = ovsflow.dask.read_dumps(str(DATA / "ovs-dummy-*.txt"))
    empty = to_dataframe([])
    assert list(df.columns) == list(empty.columns)
    assert df.dtypes.to_dict() == empty.dtypes.to_dict()
    with dask.config.set(scheduler="sync"):
        assert df.compute().dtypes.to_dict() == empty.dtypes.to_dict()


def test_one_partition_per_dump_in_glob_order_with_sources_as_found() -> None:
    df = ovsflow.dask.read_dumps([str(DATA / "ovs-dummy-dpif-*.txt"), str(MIXED)])
    names = [*sorted(str(p) for p in DATA.glob("ovs-dummy-dpif-*.txt")), str(MIXED)]
    assert df.npartitions == len(names) == 7
    with dask.config.set(scheduler="sync"):
        got = df.compute()
    assert list(dict.fromkeys(got["source"])) == names


def test_file_and_memory_urls_read_through_fsspec() -> None:
    text = MIXED.read_bytes()
    memory = fsspec.filesystem("memory")
    memory.pipe("/ovsflow-test/node1.txt", text)
    memory.pipe("/ovsflow-test/node2.txt", text)
    try:
        with dask.config.set(scheduler="sync"):
            df = ovsflow.dask.read_dumps("memory://ovsflow-test/node*.txt").compute()
            by_file = ovsflow.dask.read_dumps(f"file://{MIXED}").compute()
    finally:
        memory.rm("/ovsflow-test", recursive=True)
    assert sorted(set(df["source"])) == [
        "memory:///ovsflow-test/node1.txt",
        "memory:///ovsflow-test/node2.txt",
    ]
    # mixed.txt: seven flows of 216 packets (tests/test_analysis.py).
    assert (len(df), int(df["packets"].sum())) == (14, 2 * 216)
    assert (len(by_file), int(by_file["packets"].sum())) == (7, 216)
    assert set(by_file["source"]) == {f"file://{MIXED}"}


def test_missing_files_are_input_errors_at_once(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nothing\.txt: no such file"):
        ovsflow.dask.read_dumps(tmp_path / "nothing.txt")
    with pytest.raises(InputError, match=r"\*\.txt: no file matches"):
        ovsflow.dask.read_dumps(str(tmp_path / "*.txt"))
    with pytest.raises(InputError, match="is a directory"):
        ovsflow.dask.read_dumps(tmp_path)


def test_gzip_dumps_are_one_partition(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "big.txt"
    flows, _ = big_dump(path)
    packed = tmp_path / "big.txt.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    df = ovsflow.dask.read_dumps(packed, on_error="skip", block_bytes=1000)
    assert df.npartitions == 1
    with dask.config.set(scheduler="sync"):
        assert df["line"].compute().tolist() == [line for line, _ in flows]


def test_importing_ovsflow_does_not_import_dask() -> None:
    code = "import sys, ovsflow, ovsflow.table; print('dask' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_without_dask_the_error_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['dask'] = None\n"
        "try:\n    import ovsflow.dask\n"
        "except ImportError as exc:\n    print(exc)\n"
        "from ovsflow.cli import main\n"
        "main(['summarize', '--scheduler', 'tcp://127.0.0.1:1', sys.argv[1]])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(MIXED)], capture_output=True, text=True
    )
    assert "pip install 'ovsflow[dask]'" in result.stdout
    assert result.stderr.startswith("ovsflow: error: ovsflow.dask needs Dask")
    assert "pip install 'ovsflow[dask]'" in result.stderr


# --- on a cluster: the same figures as one process --------------------------------

INPUTS = {"ovs": OVS_DUMPS, "samples": SAMPLE_DUMPS, "mixed": [MIXED]}


@pytest.mark.parametrize("inputs", list(INPUTS), ids=list(INPUTS))
def test_analysis_on_the_cluster_gives_the_pandas_figures(
    client: Client, inputs: str
) -> None:
    files = INPUTS[inputs]
    single = read_dumps(files)
    df = ovsflow.dask.read_dumps(files)
    assert df.npartitions == len(files)
    df = df.persist()  # parsed once on the workers, summed below many times
    for by, l2 in [([], False), ([], True), (["dp"], True), (["in_port"], False)]:
        got = offload_summary(df, by, l2_bytes=l2)
        assert rows(got) == rows(offload_summary(single, by, l2_bytes=l2)), by
        assert got.attrs["l2_bytes"] is l2
    for by in (["source", "offload_class"], ["action_kinds"]):
        assert rows(offload_summary(df, by)) == rows(offload_summary(single, by))
    got = top_not_hardware(df, 5, by="bytes")
    assert rows(got) == rows(top_not_hardware(single, 5, by="bytes"))


def test_analysis_of_blocks_on_the_cluster(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    big_dump(path)
    single = read_dumps([path], on_error="skip")
    df = ovsflow.dask.read_dumps(path, on_error="skip", block_bytes=12000)
    assert df.npartitions > 10
    got = offload_summary(df, "in_port")
    assert rows(got) == rows(offload_summary(single, "in_port"))
    # 12 copies of the flows of ovs-dummy-dpctl-m.txt.
    assert int(got["flows"].sum()) == 12 * len(FLOWS) == 12 * 33


def cli_out(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[str, str]:
    assert main(argv) == 0
    captured = capsys.readouterr()
    return captured.out, captured.err


@pytest.mark.parametrize("inputs", list(INPUTS), ids=list(INPUTS))
@pytest.mark.parametrize(
    "options",
    [["--format", "json"], ["--format", "json", "--by", "in_port", "--l2-bytes"]],
    ids=["totals", "by-in_port"],
)
def test_summarize_on_the_cluster_prints_what_one_process_prints(
    capsys: pytest.CaptureFixture[str],
    cluster: LocalCluster,
    inputs: str,
    options: list[str],
) -> None:
    files = [str(p) for p in INPUTS[inputs]]
    here = cli_out(capsys, ["summarize", "--jobs", "1", *options, *files])
    there = cli_out(
        capsys,
        ["summarize", "--scheduler", cluster.scheduler_address, *options, *files],
    )
    assert json.loads(there[0]) == json.loads(here[0])
    assert there[1] == here[1]


def test_summarize_of_a_cut_dump_on_the_cluster(
    capsys: pytest.CaptureFixture[str],
    cluster: LocalCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "big.txt"
    _, logs = big_dump(path)
    here = cli_out(capsys, ["summarize", "--jobs", "1", str(path)])
    monkeypatch.setattr(ovsflow.dask, "BLOCK_BYTES", 2500)
    there = cli_out(
        capsys, ["summarize", "--scheduler", cluster.scheduler_address, str(path)]
    )
    assert there == here
    assert f"{path}: line {logs[-1]}: not a flow: an OVS log line" in there[1]
    assert "12 wrapped lines joined back" in there[1]


def test_strict_summarize_on_the_cluster_names_the_bad_line(
    capsys: pytest.CaptureFixture[str],
    cluster: LocalCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "big.txt"
    _, logs = big_dump(path, copies=4)
    monkeypatch.setattr(ovsflow.dask, "BLOCK_BYTES", 2500)
    assert main(["summarize", "--strict", "--jobs", "1", str(path)]) == 2
    here = capsys.readouterr().err
    argv = ["summarize", "--strict", "--scheduler", cluster.scheduler_address]
    assert main([*argv, str(path)]) == 2
    # The first bad line of the file, though later blocks hold others.
    assert capsys.readouterr().err == here
    assert here.startswith(f"ovsflow: error: {path}: line {logs[0]}, column 1: not")


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_parse_on_the_cluster_writes_what_one_process_writes(
    cluster: LocalCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    path = tmp_path / "big.txt"
    big_dump(path, copies=4)
    files = [str(p) for p in OVS_DUMPS[:3]] + [str(path)]
    here, there = tmp_path / f"here.{fmt}", tmp_path / f"there.{fmt}"
    assert main(["parse", *files, "-o", str(here)]) == 0
    monkeypatch.setattr(ovsflow.dask, "BLOCK_BYTES", 4000)
    argv = ["parse", "--scheduler", cluster.scheduler_address, *files]
    assert main([*argv, "-o", str(there)]) == 0
    if fmt == "parquet":
        assert pq.read_table(there).to_pylist() == pq.read_table(here).to_pylist()
        assert pq.read_schema(there) == pq.read_schema(here)
    else:
        assert there.read_text() == here.read_text()


def test_scheduler_refuses_standard_input(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["summarize", "--scheduler", "tcp://127.0.0.1:1", "-"]) == 2
    assert "not standard input or --live" in capsys.readouterr().err
