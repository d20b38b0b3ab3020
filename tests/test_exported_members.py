"""The public surface: ``ovsflow.__all__`` is sorted and matches the namespace."""

from __future__ import annotations

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
    assert public == set(ovsflow.__all__)
