"""Regenerate ``tests/data/ovs-dummy-*.txt`` from a private Open vSwitch.

Run ``python tests/capture_ovs_dumps.py`` on a machine with Debian's
``openvswitch-switch``.  It starts a sandbox OVS (see ``tests/ovs.py``) in a
temporary directory, builds the scenarios of ``tests/ovs_scenarios.py``,
injects their frames, and writes every dump form of ``DUMP_FORMS`` exactly as
``ovs-appctl`` printed it, plus ``ovs-dummy-expected.json`` with the counters
worked out from the frames.  Times (``used:``), ufids and recirculation ids
change from run to run; the flows, keys, actions and counters do not.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import ovs_scenarios
from helpers import DATA
from ovs import OvsSandbox


def capture(out_dir: Path) -> list[Path]:
    """Write the dumps and the expected counters into ``out_dir``."""
    written = []
    sflow, ipfix = ovs_scenarios.Listener(), ovs_scenarios.Listener()
    with (
        tempfile.TemporaryDirectory(prefix="ovsflow-ovs-") as tmp,
        OvsSandbox(Path(tmp)) as ovs,
    ):
        ovs_scenarios.build(ovs, sflow.port, ipfix.port)
        ovs_scenarios.inject(ovs)
        dumps = ovs_scenarios.dump_all(ovs)
        numbers = ovs_scenarios.port_numbers(ovs)
    sflow.close()
    ipfix.close()

    out_dir.mkdir(parents=True, exist_ok=True)
    for form, text in dumps.items():
        path = out_dir / f"ovs-dummy-{form}.txt"
        path.write_text(text)
        written.append(path)
    expected = out_dir / "ovs-dummy-expected.json"
    document = ovs_scenarios.expected_document(numbers)
    expected.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    written.append(expected)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA, help="where to write")
    args = parser.parse_args()
    for path in capture(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
