"""The installed version of ovsflow."""

from __future__ import annotations


def package_version() -> str:
    """The version pip installed, or ``(not installed)`` in a source tree."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ovsflow")
    except PackageNotFoundError:  # running from a source tree
        return "(not installed)"
