"""Regenerate the sample pair ``ovsflow/samples/ovs-dummy-{before,after}.txt``.

Run ``PYTHONPATH=. python tests/capture_samples.py`` on a machine with Debian's
``openvswitch-switch``.  It starts a sandbox OVS (``tests/ovs.py``), builds the
scenarios of ``tests/ovs_scenarios.py`` and takes two snapshots with
``ovsflow.collect`` (so each starts with its ``# ovsflow-meta:`` header),
about three seconds apart.  Between them every datapath flow is purged and
the frames are sent again, so that a diff of the two shows every case:

- the ``tcp4`` flow on p1 gets 10 more frames than before (its counters grow);
- the ``udp4`` flow on p1 got 5 more frames than the scenario's before the
  first snapshot and the scenario's 2 after: it is re-added under the same
  ufid (a dpif-netdev ufid is a hash of the packet's key) with counters that
  went backwards;
- the ``drop`` frames on p24 are not sent again (that flow disappears);
- the ``controller`` frames on p23 are sent only after the first snapshot
  (that flow appears);
- every other flow is re-added with the counters it had (no traffic), but
  the conntrack flows of p9 and p10 and the select-group flows of p21 come
  back under new ufids, so they count as gone and new, as they would on a
  real node.

ufids, ``used:`` and the header's times change from run to run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import ovs_scenarios as sc
from ovs import OvsSandbox

from ovsflow.collect import Source, collect_snapshot

SAMPLES = Path(__file__).resolve().parent.parent / "ovsflow" / "samples"
LATER = "controller"  # the megaflow label first sent between the snapshots


def capture(out_dir: Path) -> list[Path]:
    """Write the two snapshots into ``out_dir``; return their paths."""
    sflow, ipfix = sc.Listener(), sc.Listener()
    with (
        tempfile.TemporaryDirectory(prefix="ovsflow-ovs-") as tmp,
        OvsSandbox(Path(tmp)) as ovs,
    ):
        # 1. Everything but the late frames, then the first snapshot.
        sc.build(ovs, sflow.port, ipfix.port)
        for injection in sc.INJECTIONS:
            extra = 5 if injection.megaflow == "udp4" else 0
            if injection.megaflow != LATER:
                for _ in range(injection.count + extra):
                    ovs.receive(injection.port, injection.frame)
        ovs.appctl("revalidator/wait")
        source = Source(target=str(ovs.control_socket))
        before = collect_snapshot(source)

        # 2. Two seconds later, every flow is purged and the frames are sent
        #    again, with the changes of the module docstring.
        time.sleep(2)
        ovs.appctl("revalidator/purge")
        for injection in sc.INJECTIONS:
            count = injection.count + (10 if injection.megaflow == "tcp4" else 0)
            if injection.megaflow != "drop":
                for _ in range(count):
                    ovs.receive(injection.port, injection.frame)
        ovs.appctl("revalidator/wait")
        after = collect_snapshot(source)
    sflow.close()
    ipfix.close()

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, snapshot in (("before", before), ("after", after)):
        path = out_dir / f"ovs-dummy-{name}.txt"
        path.write_text(snapshot.text)
        written.append(path)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SAMPLES, help="where to write")
    args = parser.parse_args()
    for path in capture(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
