"""Flows to a table: ``to_arrow`` and ``to_dataframe`` of many parsed flows.

The flows are parsed first (not timed); then each function runs in a fresh
child process forked from the parser, which prints its best time of
``--repeat`` runs, flows per second, and peak memory: Python objects
(tracemalloc, in a run of its own as it slows Python) and Arrow buffers
(the pool's high-water mark).  Inputs are named after what they stress:

- ``ovs_large``: the flows of a real OVS (benchmarks/data), each line made
  another connection on one busy node (new ufids, counters, source ports,
  addresses among 4,096 hosts), as many times as needed;
- ``many_flows``: the same lines with every address, mask and port at
  random: most match keys differ, the worst case for the per-key cache;
- ``repeated``: the real lines as they are, over and over: the best case.

``--gc both`` runs each function twice: with Python's cyclic collector
paused while a batch is filled (what ovsflow does) and running (what it
did before), so the two compare in one run.  ``--flows N`` (default
200,000) sets the size; ``--quick`` uses 2,000 flows
(CI's smoke run).  Nothing is asserted: read the figures side by side.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import random
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import pyarrow as pa  # noqa: E402
from parse import (  # noqa: E402
    NODE_PEERS,
    OVS_LARGE,
    dump_lines,
    vary,
    vary_as_on_a_node,
)

import ovsflow.table  # noqa: E402
from ovsflow.dump import parse_dump  # noqa: E402
from ovsflow.records import Flow  # noqa: E402
from ovsflow.table import to_arrow, to_dataframe  # noqa: E402

FUNCTIONS: dict[str, Callable[[list[Flow]], Any]] = {
    "to_arrow": to_arrow,
    "to_dataframe": to_dataframe,
}


def lines_of(name: str, size: int) -> list[str]:
    """``size`` flow lines of the input ``name``."""
    base = dump_lines(OVS_LARGE)
    rng = random.Random(7)
    if name == "repeated":
        return [base[i % len(base)] for i in range(size)]
    if name == "many_flows":
        return [vary(base[i % len(base)], rng) for i in range(size)]
    peers = [
        f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        for _ in range(NODE_PEERS)
    ]
    return [vary_as_on_a_node(base[i % len(base)], rng, peers) for i in range(size)]


def measure(func: Callable[[list[Flow]], Any], flows: list[Flow], repeat: int) -> str:
    """In a child: best seconds (wall, CPU), Python and Arrow peak MiB, rows."""
    best = cpu = float("inf")
    for _ in range(repeat):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = func(flows)
        best = min(best, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
        del result
    arrow_peak = pa.default_memory_pool().max_memory() / 2**20
    gc.collect()
    tracemalloc.start()
    result = func(flows)
    python_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    rows = len(result)
    return f"{best} {cpu} {python_peak} {arrow_peak} {rows}"


@contextmanager
def _collector_running() -> Iterator[None]:
    yield


def _child(name: str, flows: list[Flow], repeat: int, pause: bool, out: Any) -> None:
    if not pause:  # as before ovsflow.table paused the collector per batch
        ovsflow.table._collector_paused = _collector_running
    out.send(measure(FUNCTIONS[name], flows, repeat))
    out.close()


def in_child(name: str, flows: list[Flow], repeat: int, pause: bool) -> list[float]:
    """``measure`` in a forked child, so that each peak starts from the flows."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    args = (name, flows, repeat, pause, send)
    child = context.Process(target=_child, args=args)
    child.start()
    send.close()
    line = receive.recv()
    child.join()
    return [float(x) for x in line.split()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=200_000, help="flows per input")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs, best kept")
    parser.add_argument("--quick", action="store_true", help="2,000 flows, one run")
    parser.add_argument(
        "--input",
        action="append",
        choices=("ovs_large", "many_flows", "repeated"),
        help="inputs to run (default: all)",
    )
    parser.add_argument(
        "--gc",
        choices=("paused", "running", "both"),
        default="paused",
        help="Python's cyclic collector while a batch is filled: paused (as "
        "ovsflow does), running (as before it did), or both, side by side",
    )
    args = parser.parse_args()
    size, repeat = (2_000, 1) if args.quick else (args.flows, args.repeat)
    names = args.input or ["ovs_large", "many_flows", "repeated"]

    modes = ["running", "paused"] if args.gc == "both" else [args.gc]

    print(f"{size} flows; best of {repeat}; peaks above the parsed flows")
    header = f"{'input':<12} {'function':<13} {'gc':<8} {'seconds':>8} {'cpu s':>7}"
    print(f"{header} {'flows/s':>8} {'python MiB':>11} {'arrow MiB':>10}")
    for input_name in names:
        text = "\n".join(lines_of(input_name, size)) + "\n"
        flows = list(parse_dump(text))
        del text
        for name in FUNCTIONS:
            for mode in modes:
                figures = in_child(name, flows, repeat, mode == "paused")
                seconds, cpu, python_peak, arrow_peak, rows = figures
                assert int(rows) == len(flows)
                print(
                    f"{input_name:<12} {name:<13} {mode:<8} {seconds:>8.3f} "
                    f"{cpu:>7.3f} {len(flows) / seconds:>8.0f} "
                    f"{python_peak:>11.1f} {arrow_peak:>10.1f}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
