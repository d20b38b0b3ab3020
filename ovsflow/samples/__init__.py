"""Real dumps bundled with ovsflow, for trying it out and for the docs.

``kube-ovn-yusur-2200e``: the two flows of the Kube-OVN hardware offload
guide for a Yusur 2200E NIC (a vendor build of OVS, with offload_packets).

``ovs-dummy-before``, ``ovs-dummy-after``: two ``ovsflow collect`` snapshots
of a private OVS 3.1 on its userspace dummy datapath, three seconds apart,
with flows that grew, came back, appeared and disappeared in between
(made by ``tests/capture_samples.py``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def names() -> list[str]:
    """Names of the bundled sample dumps."""
    root = resources.files(__name__)
    return sorted(p.name[:-4] for p in root.iterdir() if p.name.endswith(".txt"))


def path(name: str) -> Path:
    """The path of a bundled sample dump; ValueError for an unknown name."""
    if name not in names():
        raise ValueError(f"no sample called {name!r}; samples: {', '.join(names())}")
    return Path(str(resources.files(__name__) / f"{name}.txt"))
