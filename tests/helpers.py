"""Paths and small helpers shared by the tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
REPO = TESTS.parent
SHARED = REPO.parent / "shared"
CONFORMANCE = SHARED / "conformance"
GUIDE = SHARED / "reference" / "kube-ovn-yusur-offload-guide.md"

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(path: Path) -> Path:
    """The path, or a skip (a failure under CI=true) when it is missing."""
    if not path.exists():
        message = f"{path} is missing (the suite expects shared/ beside the repo)"
        if IN_CI:
            pytest.fail(message)
        # Module level: need() also runs while tests are being collected.
        pytest.skip(message, allow_module_level=True)
    return path


def guide_lines() -> list[str]:
    """The two flow lines of the Kube-OVN/Yusur offload guide."""
    text = need(GUIDE).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.startswith("ufid:")]


def conformance_lines(name: str) -> list[str]:
    """The lines of a file of OVS's own odp.at key or action strings."""
    text = need(CONFORMANCE / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


def corpus_lines() -> list[tuple[str, int, str]]:
    """(file, line number, text) of every flow line of every real dump we keep."""
    out = []
    files = sorted(DATA.glob("ovs-*.txt")) + sorted(
        (REPO / "ovsflow" / "samples").glob("*.txt")
    )
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if line and not line.startswith(("flow-dump from", "#")):
                out.append((path.name, number, line))
    return out
