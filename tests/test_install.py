"""A non-editable install finds its grammar and bundled samples, and has
the compiled fast path when a C compiler was there to build it."""

from __future__ import annotations

import json
import subprocess
import venv
from pathlib import Path

from helpers import IN_CI, REPO


def test_wheel_install_in_a_fresh_virtualenv_ships_the_grammar(tmp_path: Path) -> None:
    env = tmp_path / "venv"
    # System site-packages give lark/pandas/pyarrow without a download; ovsflow
    # itself is installed from the source tree, not editable.
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(env)
    python = env / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", str(REPO)],
        check=True,
        cwd=tmp_path,
    )
    code = (
        "import json, ovsflow, ovsflow._grammar as g, ovsflow.parse as p; "
        "core = p._speedups and p._speedups.__file__; "
        "print(json.dumps([ovsflow.__file__, str(g.grammar_path()), core, "
        "str(ovsflow.parse_flow('ufid:67c2e10f-92d4-4574-be70-d072815ff166, "
        "in_port(1),tunnel(geneve({class=0x102,type=0x80,len=4,0xa0006})), "
        "packets:1, bytes:2, used:never, actions:drop').ufid)]))"
    )
    out = subprocess.run(
        [python, "-c", code], check=True, cwd=tmp_path, capture_output=True, text=True
    ).stdout
    module, grammar, core, ufid = json.loads(out)
    assert Path(module).is_relative_to(env)
    if IN_CI:  # CI has gcc (scripts/test.sh): the wheel must hold the module
        assert core is not None and Path(core).is_relative_to(env)
    assert Path(grammar).is_relative_to(env) and Path(grammar).is_file()
    assert ufid == "67c2e10f-92d4-4574-be70-d072815ff166"
    summary = subprocess.run(
        [
            env / "bin" / "ovsflow",
            "summarize",
            "--sample",
            "kube-ovn-yusur-2200e",
            "--format",
            "json",
        ],
        check=True,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    ).stdout
    assert json.loads(summary)["offloaded"]["packets"] == 81963
