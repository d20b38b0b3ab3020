"""The benchmark harness still runs (a smoke run; no time is asserted)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers import IN_CI, REPO


def need_reference_parser() -> None:
    """ODPFlow (PyPI ovs[flow]); tests/ovs.py shadows ``ovs`` in this process."""
    probe = [sys.executable, "-c", "import ovs.flow.odp"]
    if subprocess.run(probe, capture_output=True, cwd="/").returncode != 0:
        message = "the reference parser is missing: pip install 'ovs[flow]'"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def test_parse_benchmark_runs_on_small_inputs() -> None:
    need_reference_parser()
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "parse.py"),
            "--quick",
            "--size",
            "500",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    lines = result.stdout.splitlines()
    rows = [line.split()[0] for line in lines[2:7]]
    assert rows == ["real_dumps", "ovs_large", "many_flows", "mixed", "tunnel_heavy"]
    summarize = [
        line.split()[0]
        for line in lines
        if line.startswith(("ovsflow summarize", "mawk", "awk"))
    ]
    assert "ovsflow" in summarize
    assert "ovsflow summarize on 500 flows" in result.stdout
