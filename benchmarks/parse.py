"""Flows per second: ovsflow against the Open vSwitch project's own parser.

Runs ovsflow's ``parse_dump`` (full typed records, every field decoded) and
``ovs.flow.odp.ODPFlow`` from PyPI ``ovs[flow]`` on the same lines in the same
run, and prints both rates and their ratio.  Inputs are named after what they
stress:

- ``real_dumps``: every flow line captured from a real OVS (tests/data) and
  the bundled samples, as they are;
- ``many_flows``: those lines multiplied into a large dump whose addresses,
  ports and ufids vary, so that most keys are new to the caches;
- ``tunnel_heavy``: Geneve/VXLAN flows only, with varied tunnel endpoints.

``--quick`` uses small inputs (CI's smoke run).  No result is asserted:
machines here are shared and noisy; read the ratio, not the seconds.
"""

from __future__ import annotations

import argparse
import gc
import random
import re
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ovsflow import parse as ovsflow_parse  # noqa: E402
from ovsflow.dump import parse_dump  # noqa: E402
from ovsflow.values import _TYPED  # noqa: E402

_TOP_COMMA = re.compile(r"[(),]")


def real_lines() -> list[str]:
    files = sorted((REPO / "tests" / "data").glob("ovs-*.txt"))
    files += sorted((REPO / "ovsflow" / "samples").glob("*.txt"))
    out = []
    for path in files:
        for line in path.read_text().splitlines():
            if line and not line.startswith(("flow-dump", "#")):
                out.append(line)
    return out


_IPV4 = re.compile(r"\b(\d+)\.(\d+)\.(\d+)\.(\d+)\b")
_PORT = re.compile(r"\b(src|dst|tp_src|tp_dst)=(\d+)(?![\d.:])")
_UFID = re.compile(r"ufid:[0-9a-f-]{36}")
_COUNT = re.compile(r"\b(packets|bytes):(\d+)")


def vary(line: str, rng: random.Random) -> str:
    """The same flow with other addresses, ports, ufid and counters."""
    line = _IPV4.sub(
        lambda m: (
            f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        ),
        line,
    )
    line = _PORT.sub(lambda m: f"{m.group(1)}={rng.randrange(1, 65535)}", line)
    line = _UFID.sub(lambda m: f"ufid:{uuid.UUID(int=rng.getrandbits(128))}", line)
    return _COUNT.sub(lambda m: f"{m.group(1)}:{rng.randrange(10**7)}", line)


def inputs(quick: bool) -> dict[str, list[str]]:
    rng = random.Random(7)
    real = real_lines()
    n = 2_000 if quick else 100_000
    many = [vary(rng.choice(real), rng) for _ in range(n)]
    tunnel = [x for x in real if "tunnel(" in x or "tnl_push" in x or "geneve" in x]
    tunnels = [vary(rng.choice(tunnel), rng) for _ in range(n // 4)]
    return {
        "real_dumps": real * (1 if quick else 20),
        "many_flows": many,
        "tunnel_heavy": tunnels,
    }


def clear_caches() -> None:
    ovsflow_parse._KEYS.clear()
    ovsflow_parse._ACTION_LISTS.clear()
    _TYPED.clear()


def run_ovsflow(lines: list[str]) -> int:
    clear_caches()
    return sum(1 for _ in parse_dump("\n".join(lines) + "\n"))


def run_odpflow(lines: list[str]) -> int:
    from ovs.flow.odp import ODPFlow

    return sum(1 for line in lines if ODPFlow(line) is not None)


def run_split(lines: list[str]) -> int:
    """The floor: read each line and cut it at top-level commas."""
    count = 0
    for line in lines:
        depth = 0
        for m in _TOP_COMMA.finditer(line):
            c = m.group()
            depth += (c == "(") - (c == ")")
        count += 1
    return count


def measure(func: Callable[[list[str]], int], lines: list[str]) -> tuple[float, float]:
    """(flows per second, peak MiB traced) of a function, in two runs.

    tracemalloc slows Python several times over, so the rate comes from a run
    without it and the memory from a second run with it.
    """
    gc.collect()
    start = time.perf_counter()
    n = func(lines)
    elapsed = time.perf_counter() - start
    gc.collect()
    tracemalloc.start()
    func(lines)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return n / elapsed, peak


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs (smoke run)")
    args = parser.parse_args()
    try:
        import ovs.flow.odp  # noqa: F401
    except ImportError:
        print("needs the reference parser: pip install 'ovs[flow]'", file=sys.stderr)
        return 1
    print(
        f"{'input':<14} {'flows':>8} {'ovsflow/s':>11} {'ODPFlow/s':>11} "
        f"{'ratio':>6} {'split/s':>11} {'of split':>8}  (peak MiB ovsflow/ODPFlow)"
    )
    for name, lines in inputs(args.quick).items():
        same = supported_by_odpflow(lines)
        dropped = len(lines) - len(same)
        ours, ours_mem = measure(run_ovsflow, same)
        ref, ref_mem = measure(run_odpflow, same)
        floor, _ = measure(run_split, same)
        print(
            f"{name:<14} {len(same):>8} {ours:>11.0f} {ref:>11.0f} {ours / ref:>5.1f}x "
            f"{floor:>11.0f} {ours / floor:>7.1%}  ({ours_mem:.1f}/{ref_mem:.1f})"
            + (f"  [{dropped} lines ODPFlow rejects left out]" if dropped else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
