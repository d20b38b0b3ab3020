"""Fuzzing: real dump lines, mutated, give a Flow or a ParseError and nothing else.

The mutations are what copy and paste does to a line (cut, duplicate, lose or
swap pieces) and what a hostile input adds (odd characters, huge numbers,
deep brackets).  ``OVSFLOW_FUZZ_EXAMPLES`` raises the number of examples for a
longer run by hand; ``fuzz/fuzz_parse.py`` runs the same mutations without
hypothesis, or under atheris (see the README).
"""

from __future__ import annotations

import os
import random
import re

from helpers import conformance_lines, corpus_lines, guide_lines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ovsflow import Flow, ParseError, parse_flow
from ovsflow.dump import parse_dump

TAIL = ", packets:1, bytes:2, used:never, actions:"

#: Examples per test; a few seconds in the suite.
EXAMPLES = int(os.environ.get("OVSFLOW_FUZZ_EXAMPLES", "300"))

# Characters that mean something to the grammar, or to a terminal, or that
# are not text at all.
ALPHABET = "(),=/:{}<>[] .-+|_*!#\"'\\0123456789abcdefx\t\x00\r\n\x1b\xe9\ufffd\u2026"

# Values that stress the typing of a number or an address.
BIG = [
    "9" * 30,
    "0x" + "f" * 40,
    "18446744073709551616",
    "1.2.3.4.5",
    "300.1.1.1",
    "1::2::3",
    "00:01:02:03:04:05:06",
    "-1",
    "1e309",
    "nan",
]


def seeds() -> list[str]:
    """Real flow lines: the dumps we keep, OVS's own odp.at strings, the guide."""
    lines = [text for _, _, text in corpus_lines()]
    lines += [key + TAIL + "drop" for key in conformance_lines("odp-at-keys.txt")]
    lines += ["in_port(1)" + TAIL + a for a in conformance_lines("odp-at-actions.txt")]
    return lines + guide_lines()


def _span(rng: random.Random, text: str, longest: int = 12) -> tuple[int, int]:
    start = rng.randrange(len(text) + 1)
    return start, min(len(text), start + rng.randint(1, longest))


def mutate(rng: random.Random, line: str, others: list[str]) -> str:
    """``line`` after one to four random edits; ``others`` lend fragments."""
    for _ in range(rng.randint(1, 4)):
        i, j = _span(rng, line)
        kind = rng.randrange(9)
        if kind == 0:  # delete a fragment
            line = line[:i] + line[j:]
        elif kind == 1:  # insert odd characters
            extra = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 4)))
            line = line[:i] + extra + line[i:]
        elif kind == 2:  # insert a fragment of another real line
            other = rng.choice(others)
            k, m = _span(rng, other, 40)
            line = line[:i] + other[k:m] + line[i:]
        elif kind == 3:  # swap two fragments
            k, m = _span(rng, line)
            if m <= i:
                line = line[:k] + line[i:j] + line[m:i] + line[k:m] + line[j:]
            elif j <= k:
                line = line[:i] + line[k:m] + line[j:k] + line[i:j] + line[m:]
        elif kind == 4:  # cut the line short
            line = line[:i]
        elif kind == 5:  # duplicate a fragment
            line = line[:j] + line[i:j] + line[j:]
        elif kind == 6:  # swap two neighbouring characters
            if 0 < i < len(line):
                line = line[: i - 1] + line[i] + line[i - 1] + line[i + 1 :]
        elif kind == 7:  # a number or address out of range
            numbers = list(re.finditer(r"[0-9a-fx.:]+", line))
            if numbers:
                n = rng.choice(numbers)
                line = line[: n.start()] + rng.choice(BIG) + line[n.end() :]
        else:  # brackets nested deep around a fragment
            depth = rng.choice([2, 33, 64, 65, 500])
            line = line[:i] + "encap(" * depth + line[i:j] + ")" * depth + line[j:]
    return line


def outcome(text: str) -> Flow | None:
    """Parse ``text``: the Flow, or None for a ParseError; anything else fails.

    A Flow must also print back to a text that parses to an equal Flow.
    """
    try:
        flow = parse_flow(text)
    except ParseError:
        return None
    again = parse_flow(str(flow))
    assert again == flow, (text, str(flow))
    return flow


SEEDS = seeds()
fuzz_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@fuzz_settings
@given(st.sampled_from(SEEDS), st.randoms(use_true_random=False))
def test_a_mutated_line_gives_a_flow_or_a_parse_error(
    line: str, rng: random.Random
) -> None:
    text = mutate(rng, line, SEEDS)
    flow = outcome(text)
    assert flow is None or isinstance(flow, Flow)


_JOINED = re.compile(r"lines (\d+)-(\d+) joined")


# A third as many: each example is a whole dump, and every wrapped line is
# parsed again at each of its pieces.
@settings(fuzz_settings, max_examples=max(EXAMPLES // 3, 1))
@given(
    st.lists(st.sampled_from(SEEDS), min_size=1, max_size=6),
    st.randoms(use_true_random=False),
)
def test_a_mutated_dump_accounts_for_every_line(
    lines: list[str], rng: random.Random
) -> None:
    # Mutate some lines, wrap some as a terminal would, and check that each
    # line number ends up as a flow, a skip, part of a join, or a line that
    # is blank, a comment or a section header.
    pieces: list[str] = []
    for line in lines:
        if rng.random() < 0.5:
            line = mutate(rng, line, SEEDS)
        if rng.random() < 0.3:
            width = rng.choice([40, 80, 132])
            pieces += [line[i : i + width] for i in range(0, len(line), width)]
        else:
            pieces.append(line)
    text = "\n".join(pieces) + "\n"
    rows = text.split("\n")[:-1]  # the reader splits at "\n" only
    reader = parse_dump(text, on_error="skip")
    covered = {flow.line for flow in reader}
    covered |= {s.line for s in reader.skipped}
    for note in reader.notes:
        m = _JOINED.match(note.message)
        if m:
            covered |= set(range(int(m.group(1)), int(m.group(2)) + 1))
    quiet = {
        n
        for n, row in enumerate(rows, start=1)
        if not row.strip() or row.strip().startswith(("#", "flow-dump from "))
    }
    assert covered | quiet == set(range(1, len(rows) + 1))
    assert reader.lines == len(rows)
