"""A non-editable install finds its grammar and bundled samples, and has
the compiled fast path when a C compiler was there to build it; without
one it installs pure Python, and ships no older build of the module."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

from helpers import IN_CI, REPO

# What a build leaves in a tree, and what an install does not need (the
# data of tests and benchmarks, not the package's own).
_LEFT_OUT = {
    ".git", "build", "dist", "ovsflow.egg-info", "__pycache__", ".hypothesis",
    ".pytest_cache", ".mypy_cache", ".ruff_cache", "_speedups.c", "out",
    "notebooks",
}  # fmt: skip


def _left_out(folder: str, names: list[str]) -> list[str]:
    package = Path(folder).name == "ovsflow"
    return [
        n
        for n in names
        if n in _LEFT_OUT or n.endswith(".so") or (n == "data" and not package)
    ]


# pip keeps wheels it built from a directory whose path looks like
# name-version ("pytest-of-root") in its cache, by path: a later run in the
# same temporary path would install that wheel instead of building.  Every
# pip call here passes --no-cache-dir.


def source_copy(tmp_path: Path) -> Path:
    """The working tree, less build output: pip builds in the tree it is
    given, and must neither write into the repository nor find an older
    build there."""
    copy = tmp_path / "src"
    shutil.copytree(REPO, copy, ignore=_left_out)
    return copy


def build_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("OVSFLOW_REQUIRE_SPEEDUPS", None)  # the tests decide what is required
    return env


def test_wheel_install_in_a_fresh_virtualenv_ships_the_grammar(tmp_path: Path) -> None:
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    python = env / "bin" / "python"
    # lark, pandas and pyarrow from the environment running the tests, without
    # a download: a path file puts its site-packages after the venv's own (it
    # is not a site directory, so its own path files, such as an editable
    # ovsflow's, are not read).
    inner = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    outer = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(inner, "outer-env.pth").write_text("\n".join(sorted(outer)) + "\n")
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-cache-dir",
            "--no-deps",
            str(source_copy(tmp_path)),
        ],
        check=True,
        cwd=tmp_path,
        env=build_env(),
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


def _wheel_files(tree: Path, out: Path, env: dict[str, str]) -> list[str]:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-cache-dir",
            "--no-deps",
            "-w",
            out,
            tree,
        ],
        check=True,
        cwd=tree,
        env=env,
        capture_output=True,
    )
    (wheel,) = out.glob("ovsflow-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def _is_module(name: str) -> bool:
    return name.startswith("ovsflow/_speedups.") and name.endswith(".so")


def test_without_a_compiler_the_wheel_is_pure_python(tmp_path: Path) -> None:
    """Even in a tree an earlier build left its module in (build/lib): the
    module that failed to build is not shipped in an older form."""
    tree = source_copy(tmp_path)
    built = _wheel_files(tree, tmp_path / "with-cc", build_env())
    compiled = [n for n in built if _is_module(n)]
    if IN_CI:  # CI has gcc (scripts/test.sh)
        assert len(compiled) == 1
    if compiled:  # what the next build could wrongly pick up
        assert list(tree.glob("build/lib*/ovsflow/_speedups*.so"))
    no_cc = {**build_env(), "CC": "/bin/false", "CXX": "/bin/false"}
    pure = _wheel_files(tree, tmp_path / "without-cc", no_cc)
    assert not [n for n in pure if _is_module(n)]
    assert "ovsflow/grammars/dump_flows.lark" in pure
    assert sorted(set(built) - set(pure)) == compiled
