"""The walkthrough notebook: committed clean, and it runs top to bottom."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import IN_CI, REPO

NOTEBOOK = REPO / "notebooks" / "offload-analysis.ipynb"


def _need(module: str) -> None:
    try:
        __import__(module)
    except ModuleNotFoundError:
        message = f"{module} is not installed (the 'test' extra has it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def test_notebook_is_committed_without_outputs() -> None:
    _need("nbformat")
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, "the notebook has no code"
    for number, cell in enumerate(code, start=1):
        assert cell.outputs == [], f"code cell {number} has outputs"
        assert cell.execution_count is None, f"code cell {number} was run"


def test_notebook_runs_top_to_bottom(tmp_path: Path) -> None:
    for module in ("nbformat", "nbclient", "ipykernel", "matplotlib"):
        _need(module)
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    # Unix sockets under tmp_path rather than TCP ports; the kernel starts in
    # the repository, so it imports this working tree's ovsflow.
    manager = KernelManager(
        kernel_name="python3", transport="ipc", ip=str(tmp_path / "kernel")
    )
    client = NotebookClient(
        nb,
        km=manager,
        timeout=180,
        resources={"metadata": {"path": str(REPO)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, if one fails

    outputs = [o for cell in nb.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    texts = "".join(
        o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in outputs
    )
    # The diff of the bundled pair finds each case tests/capture_samples.py made.
    assert "'readded': 1" in texts
    assert "'appeared': 4" in texts and "'disappeared': 4" in texts
    assert any("image/svg+xml" in o.get("data", {}) for o in outputs)
