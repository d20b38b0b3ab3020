"""The public surface: ``ovsflow.__all__`` is sorted and matches the namespace."""

from __future__ import annotations

import os
import subprocess
import sys

from helpers import REPO

import ovsflow


def test_all_is_sorted_and_every_name_exists() -> None:
    assert ovsflow.__all__ == sorted(ovsflow.__all__)
    for name in ovsflow.__all__:
        assert hasattr(ovsflow, name), name


def test_every_public_name_in_the_namespace_is_exported() -> None:
    public = {
        name
        for name, value in vars(ovsflow).items()
        if not name.startswith("_") and not getattr(value, "__file__", None)
    }
    lazy = set(ovsflow._LAZY)  # loaded on first use, then in vars() too
    assert public | lazy == set(ovsflow.__all__)


def test_lazy_names_resolve_to_their_module_and_are_listed() -> None:
    for name, module in ovsflow._LAZY.items():
        assert getattr(ovsflow, name).__module__ == module
        assert name in dir(ovsflow)


def test_importing_ovsflow_does_not_import_pandas() -> None:
    code = "import sys, ovsflow; print('pandas' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.stdout.strip() == "False"
