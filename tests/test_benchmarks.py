"""The benchmark harness still runs (a smoke run; no time is asserted)."""

from __future__ import annotations

import subprocess
import sys

from helpers import REPO


def test_parse_benchmark_runs_on_small_inputs() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "parse.py"), "--quick"],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    rows = [line.split()[0] for line in result.stdout.splitlines()[1:]]
    assert rows == ["real_dumps", "many_flows", "tunnel_heavy"]
