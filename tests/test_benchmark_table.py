"""The table benchmark still runs (a smoke run; no time is asserted)."""

from __future__ import annotations

import subprocess
import sys

from helpers import REPO


def test_table_benchmark_runs_on_a_small_input() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "table.py"),
            "--quick",
            "--input",
            "repeated",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    lines = result.stdout.splitlines()
    assert lines[0].startswith("2000 flows; best of 1;")
    assert [line.split()[:2] for line in lines[2:]] == [
        ["repeated", "to_arrow"],
        ["repeated", "to_dataframe"],
    ]
