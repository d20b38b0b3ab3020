"""Without a C compiler ovsflow runs in pure Python: the parsing tests pass
that way too.

The compiled module (ovsflow._speedups) takes most lines whenever it is
built, so the Python fast path under it would otherwise be tested only line
by line (tests/test_speedups.py).  Here the parsing, reader and summary
tests run again in a child process with OVSFLOW_PURE_PYTHON=1, which
switches the module off as if it had never been built.
"""

from __future__ import annotations

import os
import subprocess
import sys

from helpers import REPO

TESTS = [
    "tests/test_fastpath.py",
    "tests/test_parse.py",
    "tests/test_hostile.py",
    "tests/test_dump.py",
    "tests/test_wrapped.py",
    "tests/test_reader_fastlane.py",
    "tests/test_properties.py",
    "tests/test_summarize.py",
]


def test_the_parsing_tests_pass_in_pure_python() -> None:
    env = {**os.environ, "OVSFLOW_PURE_PYTHON": "1"}
    check = subprocess.run(
        [sys.executable, "-c", "import ovsflow.parse as p; print(p._speedups)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert check.stdout.strip() == "None"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *TESTS],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert " passed" in run.stdout.splitlines()[-1]
