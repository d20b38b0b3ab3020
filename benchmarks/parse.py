"""Flows per second: ovsflow against the Open vSwitch project's own parser.

Runs ovsflow's ``parse_dump`` (full typed records, every field decoded) and
``ovs.flow.odp.ODPFlow`` from PyPI ``ovs[flow]`` on the same lines in the same
run, and prints both rates, their ratio, and the peak memory each needed.
Inputs are named after what they stress:

- ``real_dumps``: every flow line captured from a real OVS (tests/data) and
  the bundled samples, as they are, several times over;
- ``ovs_large``: thousands of distinct flows from a real OVS (the test
  suite's sandbox, see make_ovs_input.py), in several dump forms;
- ``many_flows``: real lines whose addresses (masks too), ports, ufids and
  counters all vary at random, so that most keys are new to the caches: the
  worst case;
- ``mixed``: tunnels, conntrack and vendor statistics (offload_packets,
  offloaded:yes, dp:tc) in equal parts, varied as on one busy node: new
  ufids, counters and source ports on every line, addresses among 4,096
  hosts, masks and service/tunnel ports as printed;
- ``tunnel_heavy``: Geneve/VXLAN flows only, varied the same way;
- ``mixed_random``, ``tunnel_random``: the same lines varied as many_flows
  (every address and mask at random): their worst case.

The ``split`` column is the floor: Python reading the same lines and cutting
each at its top-level commas (str.split and a parenthesis count), building
nothing.  ``--input FILE`` adds a dump of your own.

``--size N`` also times ``ovsflow summarize`` on an N-flow dump (``--jobs 1``
and all cores) with its peak memory, against an awk one-liner that only sums
the packets column and counts ``offloaded:yes``.

``--quick`` uses small inputs (CI's smoke run).  No result is asserted:
machines are shared and noisy; read the ratios, not the seconds.  Parse
rates are CPU time of this process, with ovsflow, ODPFlow and the split
taking turns (best of three rounds).
"""

from __future__ import annotations

import argparse
import gc
import gzip
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ovsflow import parse as ovsflow_parse  # noqa: E402
from ovsflow.dump import parse_dump  # noqa: E402
from ovsflow.parallel import default_jobs  # noqa: E402

OVS_LARGE = REPO / "benchmarks" / "data" / "ovs-dummy-large.txt.gz"
#: Lines a tracemalloc run reads (tracemalloc slows Python several times).
MEMORY_LINES = 2_000

# ---- Inputs --------------------------------------------------------------


def dump_lines(path: Path) -> list[str]:
    """The flow lines of a dump file (plain or gzip)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:  # type: ignore[operator]
        return [
            line.rstrip("\n")
            for line in f
            if line.strip() and not line.startswith(("flow-dump", "#"))
        ]


def real_lines() -> list[str]:
    files = sorted((REPO / "tests" / "data").glob("ovs-*.txt"))
    files += sorted((REPO / "ovsflow" / "samples").glob("*.txt"))
    return [line for path in files for line in dump_lines(path)]


_IPV4 = re.compile(r"\b(\d+)\.(\d+)\.(\d+)\.(\d+)\b")
_PORT = re.compile(r"\b(src|dst|tp_src|tp_dst)=(\d+)(?![\w.:])")
_UFID = re.compile(r"ufid:[0-9a-f-]{36}")
_COUNT = re.compile(r"\b(packets|bytes|offload_packets|offload_bytes):(\d+)")


def vary(line: str, rng: random.Random) -> str:
    """The same flow with other addresses, ports, ufid and counters.

    Every address (masks too) and port is new: the worst case for caches.
    """
    line = _IPV4.sub(
        lambda m: (
            f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        ),
        line,
    )
    line = _PORT.sub(lambda m: f"{m.group(1)}={rng.randrange(1, 65535)}", line)
    return _new_ids(line, rng)


def _new_ids(line: str, rng: random.Random) -> str:
    line = _UFID.sub(lambda m: f"ufid:{uuid.UUID(int=rng.getrandbits(128))}", line)
    return _COUNT.sub(lambda m: f"{m.group(1)}:{rng.randrange(10**7)}", line)


# How many hosts (pods, VMs, tunnel endpoints) one node's flows name.
NODE_PEERS = 4096
_ADDRESS = re.compile(r"(?<![/\d.])(\d+)\.(\d+)\.(\d+)\.(\d+)\b")
_SRC_PORT = re.compile(r"\bsrc=(\d+)(?![\w.:])")


def vary_as_on_a_node(line: str, rng: random.Random, peers: list[str]) -> str:
    """The same flow as another connection on one busy node.

    What a node's dump holds: addresses among the hosts it talks to
    (``peers``), source ports of any value (client ports, the UDP source
    port of a tunnel that hashes the inner flow), and the rest as OVS prints
    it for that node: masks (prefix masks, not random bits), service and
    tunnel destination ports (6081, 4789).
    """
    line = _ADDRESS.sub(lambda m: rng.choice(peers), line)
    line = _SRC_PORT.sub(lambda m: f"src={rng.randrange(1024, 65536)}", line)
    return _new_ids(line, rng)


def _is_tunnel(line: str) -> bool:
    return "tunnel(" in line or "tnl_push" in line or "geneve" in line


def _is_conntrack(line: str) -> bool:
    return "ct(" in line or ("ct_state(" in line and "ct_state(0/0)" not in line)


def inputs(quick: bool, extra: list[Path]) -> dict[str, list[str]]:
    """The benchmark inputs by name (see the module docstring)."""
    rng = random.Random(7)
    real = real_lines()
    n = 300 if quick else 10_000
    tunnel = [x for x in real if _is_tunnel(x)]
    conntrack = [x for x in real if _is_conntrack(x)]
    vendor = [x for x in real if "offload_packets" in x]
    pools = [tunnel, conntrack, vendor]
    peers = [
        f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        for _ in range(NODE_PEERS)
    ]
    out = {
        "real_dumps": real * (1 if quick else 10),
        "ovs_large": dump_lines(OVS_LARGE)[: n if quick else None],
        "many_flows": [vary(rng.choice(real), rng) for _ in range(n)],
        "mixed": [
            vary_as_on_a_node(rng.choice(pools[i % 3]), rng, peers) for i in range(n)
        ],
        "tunnel_heavy": [
            vary_as_on_a_node(rng.choice(tunnel), rng, peers) for _ in range(n // 2)
        ],
        "mixed_random": [vary(rng.choice(pools[i % 3]), rng) for i in range(n)],
        "tunnel_random": [vary(rng.choice(tunnel), rng) for _ in range(n // 2)],
    }
    for path in extra:
        out[path.name] = dump_lines(path)
    return out


# ---- What is timed -------------------------------------------------------


def clear_caches() -> None:
    ovsflow_parse.clear_caches()


def run_ovsflow(lines: list[str]) -> int:
    """Full typed records of every line, through the dump reader."""
    clear_caches()
    return sum(1 for _ in parse_dump(iter(lines)))


def run_odpflow(lines: list[str]) -> int:
    from ovs.flow.odp import ODPFlow

    return sum(1 for line in lines if ODPFlow(line) is not None)


def run_split(lines: list[str]) -> int:
    """The floor: cut each line at its top-level commas, build nothing."""
    count = 0
    for line in lines:
        items, held = [], ""
        for part in line.split(","):
            held = f"{held},{part}" if held else part
            if held.count("(") == held.count(")"):
                items.append(held)
                held = ""
        count += 1
    return count


def rates(funcs: list[Callable[[list[str]], int]], lines: list[str]) -> list[float]:
    """Flows per second of each function: the best of three rounds.

    The functions take turns within each round, so that a neighbour's burst
    of work slows them alike, and the time is the CPU time of this process
    (time.process_time): the parsers run on one thread, and on a shared
    machine wall time would measure the neighbours too.
    """
    best = [float("inf")] * len(funcs)
    for _ in range(3):
        for i, func in enumerate(funcs):
            gc.collect()
            start = time.process_time()
            func(lines)
            best[i] = min(best[i], time.process_time() - start)
    return [len(lines) / b for b in best]


def peak_mib(func: Callable[[list[str]], int], lines: list[str]) -> float:
    """Peak MiB Python allocated while reading ``lines``."""
    gc.collect()
    tracemalloc.start()
    func(lines)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return peak


def supported_by_odpflow(lines: list[str]) -> list[str]:
    from ovs.flow.odp import ODPFlow

    ok = []
    for line in lines:
        try:
            ODPFlow(line)
        except Exception:
            continue
        ok.append(line)
    return ok


def parse_table(sets: dict[str, list[str]]) -> None:
    print(
        f"{'input':<14} {'flows':>7} {'ovsflow/s':>10} {'ODPFlow/s':>10} "
        f"{'ratio':>6} {'split/s':>9} {'of split':>8}  peak MiB ovsflow/ODPFlow"
    )
    for name, lines in sets.items():
        same = supported_by_odpflow(lines)
        dropped = len(lines) - len(same)
        ours, ref, floor = rates([run_ovsflow, run_odpflow, run_split], same)
        sample = same[:MEMORY_LINES]
        ours_mem, ref_mem = peak_mib(run_ovsflow, sample), peak_mib(run_odpflow, sample)
        print(
            f"{name:<14} {len(same):>7} {ours:>10.0f} {ref:>10.0f} {ours / ref:>5.1f}x "
            f"{floor:>9.0f} {ours / floor:>8.1%}  {ours_mem:.1f}/{ref_mem:.1f}"
            + (f"  [{dropped} lines ODPFlow rejects left out]" if dropped else ""),
            flush=True,
        )
    print(f"(peak MiB: Python allocations reading the first {MEMORY_LINES} lines)")


# ---- ovsflow summarize on a large dump -----------------------------------

_UFID_TEXT = re.compile(r"ufid:[0-9a-f-]{36}")
_PACKETS = re.compile(r"packets:\d+")


def write_big_dump(path: Path, size: int) -> None:
    """A dump of ``size`` flows: the ovs_large lines with new ufids and counts.

    Every tenth flow is marked ``offloaded:yes`` (as TC would print it) so the
    offload column has something to count.
    """
    base = dump_lines(OVS_LARGE)
    rng = random.Random(11)
    with path.open("w") as out:
        for i in range(size):
            line = base[i % len(base)]
            line = _UFID_TEXT.sub(f"ufid:{uuid.UUID(int=rng.getrandbits(128))}", line)
            line = _PACKETS.sub(f"packets:{i % 9973}", line, count=1)
            if i % 10 == 0:
                line = line.replace(", actions:", ", offloaded:yes, actions:", 1)
            out.write(line + "\n")


def timed_child(argv: list[str]) -> tuple[float, float | None]:
    """(seconds, peak RSS MiB or None) of a command.

    The peak comes from GNU time (Debian package ``time``), which forks the
    command from its own small process: the harness's rusage of its children
    would count this big process's pages in each child before its exec.  For
    ``--jobs N`` it is the largest single process, not the sum.
    """
    gnu_time = Path("/usr/bin/time")
    wrapped = [str(gnu_time), "-f", "%M", *argv] if gnu_time.exists() else argv
    start = time.perf_counter()
    done = subprocess.run(wrapped, capture_output=True, text=True, check=True, cwd=REPO)
    elapsed = time.perf_counter() - start
    if not gnu_time.exists():
        return elapsed, None
    return elapsed, int(done.stderr.strip().splitlines()[-1]) / 1024


AWK = (
    '{for(i=1;i<=NF;i++) if($i ~ /^packets:/){sub(/^packets:/,"",$i);'
    'sub(/,$/,"",$i); p+=$i} if(/offloaded:yes/) o++} END{print p, o}'
)


def summarize_table(size: int) -> None:
    awk = shutil.which("mawk") or shutil.which("awk")
    with tempfile.TemporaryDirectory(prefix="ovsflow-bench-") as tmp:
        path = Path(tmp) / "big.txt"
        write_big_dump(path, size)
        mib = path.stat().st_size / 2**20
        print(f"\novsflow summarize on {size} flows ({mib:.0f} MiB of text)")
        print(f"{'command':<34} {'seconds':>8} {'flows/s':>9} {'peak RSS MiB':>13}")
        rows: list[tuple[str, list[str]]] = []
        if awk:
            rows.append(
                (f"{Path(awk).name} (packets, offloaded)", [awk, AWK, str(path)])
            )
        jobs = default_jobs()
        cli = [sys.executable, "-m", "ovsflow", "summarize", "--format", "json"]
        rows.append(("ovsflow summarize --jobs 1", [*cli, "--jobs", "1", str(path)]))
        if jobs > 1:
            rows.append(
                (
                    f"ovsflow summarize --jobs {jobs}",
                    [*cli, "--jobs", str(jobs), str(path)],
                )
            )
        for label, argv in rows:
            seconds, peak = timed_child(argv)
            shown = "-" if peak is None else f"{peak:.0f}"
            print(f"{label:<34} {seconds:>8.1f} {size / seconds:>9.0f} {shown:>13}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs (smoke run)")
    parser.add_argument(
        "--input",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="also benchmark this dump file (plain or .gz)",
    )
    parser.add_argument(
        "--size",
        type=int,
        default=0,
        metavar="N",
        help="also time 'ovsflow summarize' on an N-flow dump (e.g. 1000000)",
    )
    parser.add_argument(
        "--pure-python",
        action="store_true",
        help="parse table: switch the compiled fast path (ovsflow._speedups) off",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="INPUT",
        help="run only these inputs (real_dumps, ovs_large, ...)",
    )
    args = parser.parse_args()
    try:
        import ovs.flow.odp  # noqa: F401
    except ImportError:
        print("needs the reference parser: pip install 'ovs[flow]'", file=sys.stderr)
        return 1
    if not OVS_LARGE.exists():
        print(
            f"{OVS_LARGE} is missing: run benchmarks/make_ovs_input.py", file=sys.stderr
        )
        return 1
    if args.pure_python:
        ovsflow_parse._speedups = None  # type: ignore[assignment]
    kind = "compiled" if ovsflow_parse.is_compiled() else "pure Python"
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, ovsflow {kind}")
    sets = inputs(args.quick, args.input)
    if args.only:
        sets = {k: v for k, v in sets.items() if k in args.only}
    parse_table(sets)
    if args.size:
        summarize_table(args.size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
