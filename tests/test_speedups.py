"""The compiled fast path (ovsflow/_speedups.pyx) against the Python one and
the grammar.

Each line is read three ways, each with empty caches: by the compiled path,
by the Python fast path alone (the compiled module switched off), and by
the Lark grammar.  All three must build the same records (types, values,
text and layout), or all must refuse the line with the same error.
"""

from __future__ import annotations

import gc
import random
import sys
from collections.abc import Iterator

import pytest
from helpers import DATA, IN_CI, conformance_lines, corpus_lines, guide_lines
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fastpath import (
    actions,
    deep,
    keys,
    noise,
    ovs_large_sample,
)

from ovsflow import ParseError, parse_flow
from ovsflow import parse as fast
from ovsflow.limits import MAX_NESTING
from ovsflow.parse import parse_flow_reference

if fast._speedups is None:
    message = "ovsflow._speedups is not built (no C compiler at install time)"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)

core = fast._speedups


@pytest.fixture
def python_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The Python fast path alone, as without a C compiler."""
    monkeypatch.setattr(fast, "_speedups", None)
    yield


def compiled(line: str) -> object:
    """What the compiled path alone makes of a line: a Flow, or None."""
    fast.clear_caches()
    return core.flow(line, line.find("actions:"), 1, None)


def read(line: str, *, use_core: bool) -> object:
    """deep() of the flow parse_flow gives, or the error's text."""
    saved = fast._speedups
    fast._speedups = core if use_core else None
    fast.clear_caches()
    try:
        return deep(parse_flow(line))
    except ParseError as exc:
        return ("error", str(exc))
    finally:
        fast._speedups = saved


def reference(line: str) -> object:
    try:
        return deep(parse_flow_reference(line))
    except ParseError as exc:
        return ("error", str(exc))


def assert_three_agree(line: str) -> None:
    expected = reference(line)
    assert read(line, use_core=False) == expected
    assert read(line, use_core=True) == expected


def assert_compiled_takes(line: str) -> None:
    """The compiled path reads the line itself, and as the others do."""
    flow = compiled(line)
    assert flow is not None, "the compiled path left this line to Python"
    assert deep(flow) == reference(line)
    assert str(flow) == line
    assert_three_agree(line)


# ---- Every line we keep ------------------------------------------------


@pytest.mark.parametrize(("name", "number", "line"), corpus_lines())
def test_real_dump_lines(name: str, number: int, line: str) -> None:
    assert_compiled_takes(line)


@pytest.mark.parametrize("line", guide_lines())
def test_guide_lines(line: str) -> None:
    assert_compiled_takes(line)


TAIL = ", packets:0, bytes:0, used:never, actions:drop"


@pytest.mark.parametrize("key", conformance_lines("odp-at-keys.txt"))
def test_odp_at_keys(key: str) -> None:
    assert_three_agree(key + TAIL)


@pytest.mark.parametrize("acts", conformance_lines("odp-at-actions.txt"))
def test_odp_at_actions(acts: str) -> None:
    assert_three_agree("in_port(1), packets:0, bytes:0, used:never, actions:" + acts)


def test_the_large_real_ovs_benchmark_input() -> None:
    for line in ovs_large_sample():
        assert_compiled_takes(line)


def test_warm_caches_give_the_same_records_as_cold_ones() -> None:
    """Lines read one after the other share keys, arguments and actions."""
    lines = [line for _, _, line in corpus_lines()] + ovs_large_sample()
    fast.clear_caches()
    warm = [deep(parse_flow(line)) for line in lines]
    assert warm == [read(line, use_core=True) for line in lines]


# ---- What the compiled path decides itself ------------------------------

UFID = "ufid:c684e2e8-b9b9-42de-b267-83c1b8f4ca38"
KEYS = (
    "recirc_id(0),in_port(2),eth_type(0x0800),"
    "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,frag=no)"
)
STATS = "packets:1, bytes:54, used:2.463s"


def data_lines(name: str) -> list[str]:
    """The lines of tests/data/speedups/NAME, less comments."""
    text = (DATA / "speedups" / name).read_text(encoding="utf-8")
    return [x for x in text.splitlines() if x and not x.startswith("#")]


@pytest.mark.parametrize("line", data_lines("takes.txt"))
def test_layouts_and_pieces_the_compiled_path_reads(line: str) -> None:
    assert_compiled_takes(line)


@pytest.mark.parametrize(
    "line",
    [
        # Not its layout, or not text it vouches for: Python decides.  The
        # lines of leaves.txt, and those better made than written out.
        *data_lines("leaves.txt"),
        f"{KEYS}, {STATS}, actions:2, dp-extra-info:" + "(" * (MAX_NESTING + 1),
        f"in_port(1), {STATS}, actions:2\t",
        f"in_port(1), {STATS}, actions:{'a(' * 9}{')' * 9}",
        f"in_port(1), {STATS}, actions:{'a(' * 8}{')' * 8}",
        f"in_port(1), {STATS}, actions:{'a(' * 6}{')' * 6}",
        f"{'a(' * 9}1{')' * 9}, {STATS}, actions:2",
        f"{'a(' * 8}1{')' * 8}, {STATS}, actions:2",
    ],
)
def test_lines_it_leaves_or_refuses_agree(line: str) -> None:
    assert_three_agree(line)


def test_a_line_it_leaves_to_python_is_left_whole() -> None:
    """None, not a partial flow: nothing of such a line is read twice."""
    assert compiled(f"{KEYS}, {STATS}, used:1s, actions:2") is None
    assert compiled(f"in_port(p\u00e9), {STATS}, actions:2") is None
    assert compiled(f"{KEYS}, {STATS}, actions:2, dp-extra-info:") is None


# ---- Generated lines ----------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.lists(keys, min_size=1, max_size=3), actions)
def test_generated_nested_keys_and_actions(keys: list[str], acts: str) -> None:
    assert_three_agree(
        ",".join(keys) + ", packets:1, bytes:2, used:never, actions:" + acts
    )


@settings(max_examples=300, deadline=None)
@given(noise, noise)
def test_garbled_keys_and_actions(key: str, action: str) -> None:
    assert_three_agree(f"in_port(1),k({key}){TAIL}")
    assert_three_agree("in_port(1), packets:0, bytes:0, used:never, actions:" + action)


SEPARATOR = st.sampled_from([",", ", ", " ", ",  ", ""])
STAT_NAMES = st.sampled_from(
    ["packets", "bytes", "used", "flags", "dp", "offloaded", "offload_packets", "x"]
)
STAT_VALUES = st.sampled_from(["0", "7", "1.5s", "never", "S.", "tc", "yes", "a:b"])


@settings(max_examples=300, deadline=None)
@given(
    st.booleans(),
    SEPARATOR,
    st.lists(st.tuples(STAT_NAMES, STAT_VALUES, SEPARATOR), min_size=0, max_size=6),
    st.sampled_from(["", ", dp-extra-info:miniflow_bits(4,1)", ",dp-extra-info:z"]),
)
def test_generated_statistics_and_separators(
    ufid: bool, after_keys: str, stats: list[tuple[str, str, str]], trailer: str
) -> None:
    line = (UFID + ", " if ufid else "") + KEYS + after_keys
    line += "".join(f"{n}:{v}{sep}" for n, v, sep in stats)
    assert_three_agree(line + "actions:2" + trailer)


# ---- Caches, memory ------------------------------------------------------


def _many_keys(n: int, seed: int) -> list[str]:
    """n lines, each with a new ipv4 key, udp port and action list."""
    rng = random.Random(seed)
    return [
        f"recirc_id(0),in_port({rng.randrange(1, 9)}),eth_type(0x0800),"
        f"ipv4(src=10.{i >> 8 & 255}.{i & 255}.1,dst=10.9.{rng.randrange(256)}.2,"
        f"proto=17,frag=no),udp(src={rng.randrange(1, 65536)},dst=4789), "
        f"packets:{i}, bytes:{i * 60}, used:0.{i % 1000:03d}s, "
        f"actions:set(tunnel(tun_id=0x{i:x},dst=10.8.{i & 255}.3,ttl=64)),{i % 7}"
        for i in range(n)
    ]


def test_past_the_cache_limits_every_record_is_still_right() -> None:
    """More new keys and action lists than a cache holds: the caches are
    emptied on the way, and a sample still reads as the grammar reads it."""
    lines = _many_keys(fast._CACHE_LIMIT + 3000, 1)
    fast.clear_caches()
    flows = [parse_flow(line) for line in lines]
    assert len(fast._KEYS) < fast._CACHE_LIMIT
    for line, flow in list(zip(lines, flows, strict=True))[::997]:
        assert deep(flow) == reference(line)
        assert str(flow) == line


def test_reading_lines_again_keeps_no_memory() -> None:
    """Once the caches hold a dump's pieces, reading it again allocates
    nothing that stays: a reference the compiled code kept too many would
    leave objects behind on every line."""
    lines = [line for _, _, line in corpus_lines()] + ovs_large_sample()
    fast.clear_caches()
    for _ in range(2):
        for line in lines:
            parse_flow(line)
    gc.collect()
    before = sys.getallocatedblocks()
    for _ in range(3):
        for line in lines:
            parse_flow(line)
    gc.collect()
    # A few blocks of slack for the interpreter's own free lists.
    assert sys.getallocatedblocks() - before < 100


def test_flows_are_whole_records() -> None:
    """Records made by the compiled path hash, compare, copy and pickle like
    any other (a slot left empty would raise AttributeError)."""
    import copy
    import pickle

    line = f"{UFID}, {KEYS}, {STATS}, dp:tc, actions:2, dp-extra-info:x"
    flow = parse_flow(line)
    assert compiled(line) is not None
    same = pickle.loads(pickle.dumps(flow))
    assert same == flow and hash(same) == hash(flow)
    assert copy.deepcopy(flow) == flow
    assert repr(flow).startswith("Flow(match=Match(keys=(Key(name='recirc_id'")
    assert flow.ufid is not None and str(flow.ufid) == UFID[5:]
    assert flow.ufid.is_safe.name == "unknown"


def test_errors_name_the_column_as_without_it(python_only: None) -> None:
    line = f"tcp(src=70000,dst=1), {STATS}, actions:2"
    with pytest.raises(ParseError) as without:
        parse_flow(line)
    fast._speedups = core
    with pytest.raises(ParseError) as with_core:
        parse_flow(line)
    assert str(with_core.value) == str(without.value)
    assert "70000" in str(with_core.value)


def test_its_records_are_left_out_of_the_cycle_collector() -> None:
    """Frozen records built from the inside out hold no cycle; the collector
    would only walk them again and again (a fifth of the time on lines of
    many new keys).  Untracked, they are still freed by reference count."""
    import weakref

    line = f"{UFID}, {KEYS},tcp(src=1,dst=2), {STATS}, dp:tc, actions:ct(zone=1),2"
    flow = compiled(line)
    assert flow is not None
    records = [flow, flow.match, flow.stats, flow.layout, flow.match.keys]
    records += [*flow.match.keys, *flow.match.keys[-1].args, *flow.actions]
    assert not any(gc.is_tracked(r) for r in records)
    gone = weakref.ref(flow.ufid)
    fast.clear_caches()
    del flow, records
    assert gone() is None


def test_anything_but_a_plain_str_is_left_to_python() -> None:
    class Text(str):
        pass

    line = f"{KEYS}, {STATS}, actions:2"
    end = line.find("actions:")
    assert core.flow(line, end, 1, None) is not None
    assert core.flow(Text(line), end, 1, None) is None
    assert core.flow(line.encode(), end, 1, None) is None
    assert core.flow(None, end, 1, None) is None
    assert deep(parse_flow(Text(line))) == reference(line)
    # An end past the text, even one whose sum with 8 overflows: no read
    # past the text (found with AddressSanitizer and PYTHONMALLOC=malloc).
    for wrong in (-1, 0, end - 1, end + 1, len(line) - 7, len(line), 10**9, 2**63 - 1):
        assert core.flow(line, wrong, 1, None) is None, wrong


TOKENS = [
    "0", "7", "65535", "0123", "999999999999999999", "1000000000000000000",
    "123456789012345678901234567890", "0x0800", "0.0.0.0", "255.255.255.255",
    "10.0.1.6", "01.2.3.4", "1.2.3.04", "00.1.1.1", "256.1.1.1", "1.2.3.256",
    "1234.1.1.1", "1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4a",
    "fe80::1", "02:00:00:00:0a:01", "no", "p1",
]  # fmt: skip


@pytest.mark.parametrize("token", TOKENS)
def test_tokens_it_types_itself_are_typed_as_python_types_them(token: str) -> None:
    """Ports and addresses, the commonest new tokens, are typed in compiled
    code; every other token, and one that may not be what it looks like
    (an octet past 255, a leading zero), by values.typed()."""
    from ovsflow import values

    for line in (
        f"ipv4(src={token},dst=10.0.0.9,proto=6), {STATS}, actions:drop",
        f"tcp(src={token}/{token},dst=1), {STATS}, actions:drop",
        f"in_port(1),eth(src={token},dst=02:00:00:00:0a:01), {STATS}, actions:drop",
    ):
        assert_three_agree(line)
    fast.clear_caches()
    # A key of no known widths: every token is typed, none refused for it.
    fast.clear_caches()
    try:
        expected = values.typed(token)
    except ValueError:  # an address out of range, as the grammar says too
        expected = None
    line = f"k(a={token},b=1), {STATS}, actions:drop"
    if expected is None:
        with pytest.raises(ValueError):
            compiled(line)
        return
    flow = compiled(line)
    assert flow is not None
    value = flow.match["k"]["a"].value  # type: ignore[union-attr]
    assert type(value) is type(expected) and value == expected
    assert hash(value) == hash(expected) and str(value) == str(expected)
