"""Fuzz the flow parser and the dump reader, by hand, for as long as you like.

Three ways to run it (from the repository, with ``pip install -e '.[test]'``):

    python fuzz/fuzz_parse.py --count 100000     # mutated real lines, a table
    python fuzz/fuzz_parse.py --extremes         # the largest inputs, timed
    pip install atheris
    python fuzz/fuzz_parse.py fuzz/corpus -max_total_time=600   # atheris

The mutations are those of ``tests/test_fuzz.py`` (cut, duplicate, delete,
insert and swap characters and fragments, huge numbers, deep brackets),
applied to the real lines of ``tests/data``, OVS's odp.at strings and the
guide.  Under atheris they are mixed with libFuzzer's own byte mutations,
the corpus directory starts from those lines, and every input is also read
as a whole dump.  Anything but a Flow or a ParseError from ``parse_flow``,
or any exception from the lenient dump reader, is a finding: atheris stops
and writes the input to ``crash-*``; add it to the tests, then fix it.
"""

from __future__ import annotations

import argparse
import io
import random
import resource
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

OUTCOMES: Counter[str] = Counter()


def depth(text: str) -> int:
    """How deeply the brackets of ``text`` nest."""
    deepest = level = 0
    for c in text:
        if c in "({":
            level += 1
            deepest = max(deepest, level)
        elif c in ")}":
            level = max(level - 1, 0)
    return deepest


def count(runs: int, seed: int) -> int:
    """Parse ``runs`` mutated lines and print what became of them."""
    from test_fuzz import SEEDS, mutate, outcome

    rng = random.Random(seed)
    longest = deepest = 0
    start = time.perf_counter()
    for _ in range(runs):
        text = mutate(rng, rng.choice(SEEDS), SEEDS)
        longest, deepest = max(longest, len(text)), max(deepest, depth(text))
        try:
            kind = "parsed" if outcome(text) is not None else "ParseError"
        except Exception as exc:  # a finding: count it, show it, go on
            kind = f"other: {type(exc).__name__}"
            print(f"{kind}: {text!r}", file=sys.stderr)
        OUTCOMES[kind] += 1
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"| mutated inputs | {runs} |")
    for kind in ("ParseError", "parsed"):
        print(f"| {kind} | {OUTCOMES.pop(kind, 0)} |")
    print(f"| any other outcome | {sum(OUTCOMES.values())} |")
    print(f"| longest line tried | {longest} characters |")
    print(f"| deepest nesting tried | {deepest} levels |")
    print(f"| time | {elapsed:.1f} s | peak RSS | {peak} MiB |")
    return 1 if OUTCOMES else 0


def _timed(name: str, run: Callable[[], str], size: int, nest: int) -> None:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        result = run()
    except Exception as exc:
        result = f"{type(exc).__name__}: {str(exc).splitlines()[0][:70]}"
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"| {name} | {size} | {nest} | {result} | {elapsed:.3f} s | {peak:.1f} MiB |")


def extremes() -> int:
    """Time the largest and deepest inputs, one by one."""
    import tempfile

    from ovsflow import ParseError, parse_flow
    from ovsflow.dump import parse_dump
    from ovsflow.limits import MAX_LINE_LENGTH, MAX_NESTING

    head = "in_port(1), packets:1, bytes:2, used:never, actions:"

    def flow(text: str) -> Callable[[], str]:
        def run() -> str:
            try:
                f = parse_flow(text)
            except ParseError as exc:
                return f"ParseError at column {exc.column}"
            return f"Flow, {len(f.match.keys)} keys, {len(f.actions)} actions"

        return run

    cases = [
        (
            "userdata, 131,024 hex digits",
            head + f"userspace(pid=1,userdata({'61' * 65512}),actions)",
        ),
        ("8,191 set(encap()) actions", head + ",".join(["set(encap())"] * 8191)),
        ("16,383 encap() keys", "encap()," * 16382 + "encap()" + head[10:] + "drop"),
        ("33 nested encap", "encap(" * 33 + ")" * 33 + head[10:] + "drop"),
        (
            f"{MAX_NESTING} nested clone",
            head + "clone(" * MAX_NESTING + "1" + ")" * MAX_NESTING,
        ),
        (
            f"{MAX_NESTING + 1} nested clone",
            head + "clone(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1),
        ),
        ("100,000 open brackets", "in_port(" * 100_000),
        ("line at the length limit", head + "1," * (MAX_LINE_LENGTH // 2 - 27) + "2"),
        ("line over the length limit", head + "1," * (MAX_LINE_LENGTH // 2) + "2"),
    ]
    print("| input | characters | nesting | result | time | peak memory |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, text in cases:
        _timed(name, flow(text), len(text), depth(text))

    giant = 64 * MAX_LINE_LENGTH
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "giant.txt"
        with path.open("wb") as out:
            out.write(f"{head}1\n".encode())
            out.write(b"in_port(1)," + b"x" * giant + b"\n")
            out.write(f"{head}2\n".encode())

        def read() -> str:
            reader = parse_dump(path, on_error="skip")
            flows = sum(1 for _ in reader)
            return f"{flows} flows, {len(reader.skipped)} skipped"

        _timed("dump file with a 64 MiB line", read, giant + 11, 1)
    return 0


def fuzz(argv: list[str]) -> int:
    """Run atheris with our mutations mixed into libFuzzer's."""
    import atheris

    with atheris.instrument_imports():
        from ovsflow import InputError, ParseError, parse_flow
        from ovsflow.dump import parse_dump
    from test_fuzz import SEEDS, mutate

    corpus = next((Path(a) for a in argv[1:] if not a.startswith("-")), None)
    if corpus is not None and not (corpus.is_dir() and any(corpus.iterdir())):
        corpus.mkdir(parents=True, exist_ok=True)
        for n, line in enumerate(SEEDS):
            (corpus / f"seed-{n:04d}").write_text(line + "\n", encoding="utf-8")

    def one_input(data: bytes) -> None:
        text = data.decode("utf-8", errors="replace")
        try:
            flow = parse_flow(text)
        except ParseError:
            OUTCOMES["ParseError"] += 1
        else:
            OUTCOMES["parsed"] += 1
            assert parse_flow(str(flow)) == flow, text
        try:  # the lenient reader: flows and skips, or a binary-data InputError
            for _ in parse_dump(io.BufferedReader(io.BytesIO(data)), on_error="skip"):
                pass
        except InputError:
            OUTCOMES["InputError (reader)"] += 1
        if OUTCOMES.total() % 5000 == 0:  # libFuzzer exits without unwinding
            print(f"outcomes: {dict(OUTCOMES)}", file=sys.stderr)

    def mutator(data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        if rng.random() < 0.5:
            return atheris.Mutate(data, max_size)
        text = data.decode("utf-8", errors="replace") or rng.choice(SEEDS)
        return mutate(rng, text, SEEDS).encode("utf-8")[:max_size]

    atheris.Setup(argv, one_input, custom_mutator=mutator)
    try:
        atheris.Fuzz()
    finally:
        print(f"outcomes: {dict(OUTCOMES)}", file=sys.stderr)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, help="parse this many mutated lines")
    parser.add_argument("--seed", type=int, default=0, help="random seed for --count")
    parser.add_argument(
        "--extremes", action="store_true", help="time the largest inputs"
    )
    args, rest = parser.parse_known_args()
    if args.count:
        return count(args.count, args.seed)
    if args.extremes:
        return extremes()
    return fuzz([sys.argv[0], *rest])


if __name__ == "__main__":
    sys.exit(main())
