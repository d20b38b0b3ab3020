"""The fast path and the Lark grammar give identical records for every line."""

from __future__ import annotations

import dataclasses
import enum
import gzip
from pathlib import Path

import pytest
from helpers import REPO, conformance_lines, corpus_lines, guide_lines
from hypothesis import given, settings
from hypothesis import strategies as st

from ovsflow import ParseError, parse_flow
from ovsflow import parse as fast
from ovsflow.limits import MAX_LINE_LENGTH
from ovsflow.parse import parse_flow_reference

HEAD = "in_port(1), packets:0, bytes:0, used:never, actions:"
TAIL = ", packets:0, bytes:0, used:never, actions:drop"
OVS_LARGE = REPO / "benchmarks" / "data" / "ovs-dummy-large.txt.gz"


def deep(value: object) -> object:
    """Everything a record holds, text and layout included, with its type."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__name__,
            tuple(deep(getattr(value, f.name)) for f in dataclasses.fields(value)),
        )
    if isinstance(value, tuple):
        return tuple(deep(v) for v in value)
    if isinstance(value, enum.Enum):
        return (type(value).__name__, value.value)
    return (type(value).__name__, value)


def assert_same_on_both_paths(line: str) -> None:
    """The fast path takes the line and builds exactly what the grammar does."""
    fast.clear_caches()
    flow = fast._fast(line, 1, None)
    assert flow is not None, "the fast path left this line to the grammar"
    assert deep(flow) == deep(parse_flow_reference(line))
    again = parse_flow(line)  # now from the caches
    assert deep(again) == deep(flow)
    assert str(flow) == line


def ovs_large_sample() -> list[str]:
    """Every 60th flow line of the large real-OVS benchmark input."""
    with gzip.open(OVS_LARGE, "rt") as f:
        lines = [x.rstrip("\n") for x in f if "actions:" in x]
    return lines[::60]


@pytest.mark.parametrize(("name", "number", "line"), corpus_lines())
def test_real_dump_lines_agree(name: str, number: int, line: str) -> None:
    assert_same_on_both_paths(line)


@pytest.mark.parametrize("line", guide_lines())
def test_guide_lines_agree(line: str) -> None:
    assert_same_on_both_paths(line)


@pytest.mark.parametrize("key", conformance_lines("odp-at-keys.txt"))
def test_odp_at_keys_agree(key: str) -> None:
    assert_same_on_both_paths(key + TAIL)


@pytest.mark.parametrize("actions", conformance_lines("odp-at-actions.txt"))
def test_odp_at_actions_agree(actions: str) -> None:
    assert_same_on_both_paths(HEAD + actions)


def test_the_large_real_ovs_benchmark_input_agrees() -> None:
    lines = ovs_large_sample()
    assert len(lines) > 300
    for line in lines:
        assert_same_on_both_paths(line)


# ---- Generated keys and actions ------------------------------------------

WORDS = st.sampled_from(
    ["0", "1", "0x800", "64", "10.0.0.1", "255.255.0.0", "fe80::1", "::",
     "02:00:00:00:0a:01", "ff:ff:ff:ff:ff:ff", "no", "first", "+trk-new",
     "trk|est", "csum|key", "-df+csum", "p1", "commit", "50.0%", "0xffff"]
)  # fmt: skip
NAMES = st.sampled_from(
    ["src", "dst", "proto", "frag", "tun_id", "zone", "class", "type", "len",
     "ct_state", "flags", "tcp_flags", "eth", "ipv4", "encap", "set", "nat",
     "tunnel", "geneve", "ct", "clone", "header", "x.y-z"]
)  # fmt: skip


def _value(word: str, mask: str | None) -> str:
    return word if mask is None else f"{word}/{mask}"


leaf = st.one_of(
    st.builds(_value, WORDS, st.none() | WORDS),
    st.builds(
        lambda n, v: f"{n}={v}", NAMES, st.builds(_value, WORDS, st.none() | WORDS)
    ),
)


def _nest(args: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    arg_lists = st.lists(args, max_size=4).map(",".join)
    return st.one_of(
        st.builds(lambda n, a: f"{n}({a})", NAMES, arg_lists),
        arg_lists.map(lambda a: f"({a})"),
        st.lists(
            st.lists(args, min_size=1, max_size=4).map(
                lambda a: "{" + ",".join(a) + "}"
            ),
            min_size=1,
            max_size=3,
        ).map("".join),
    )


args = st.recursive(leaf, _nest, max_leaves=6)
keys = st.builds(lambda n, a: f"{n}({','.join(a)})", NAMES, st.lists(args, max_size=4))
actions = st.lists(
    st.one_of(
        WORDS.filter(lambda w: "/" not in w),
        _nest(args).filter(lambda t: t[0] != "(" and t[0] != "{"),
    ),
    min_size=1,
    max_size=4,
).map(",".join)
# Text that is often not grammatical: the fast path must then leave it to
# the grammar, which raises.
noise = st.text(st.sampled_from("ab0=/,(){}:. "), min_size=1, max_size=30)


def assert_agree_or_both_fail(line: str) -> None:
    fast.clear_caches()
    try:
        expected = parse_flow_reference(line)
    except ParseError as exc:
        with pytest.raises(ParseError) as info:
            parse_flow(line)
        assert str(info.value) == str(exc)
        return
    assert deep(parse_flow(line)) == deep(expected)


@settings(max_examples=120, deadline=None)
@given(st.lists(keys, min_size=1, max_size=3), actions)
def test_generated_nested_keys_and_actions_agree(keys: list[str], actions: str) -> None:
    assert_agree_or_both_fail(
        ",".join(keys) + ", packets:1, bytes:2, used:never, actions:" + actions
    )


@settings(max_examples=300, deadline=None)
@given(noise, noise)
def test_garbled_keys_and_actions_agree(key: str, action: str) -> None:
    assert_agree_or_both_fail(f"in_port(1),k({key}){TAIL}")
    assert_agree_or_both_fail(HEAD + action)


# ---- Limits --------------------------------------------------------------


def test_a_line_past_the_length_limit_is_left_to_the_grammar() -> None:
    line = HEAD + "userspace(pid=1,userdata(" + "ab" * (MAX_LINE_LENGTH // 2) + "))"
    assert fast._fast(line, 1, None) is None


def test_deep_nesting_is_left_to_the_grammar_without_recursion() -> None:
    # 100,000 levels: a recursive splitter would blow Python's stack.
    depth = 100_000
    assert fast._fast(HEAD + "clone(" * depth + "drop" + ")" * depth, 1, None) is None
    assert fast._fast("k(" * depth + "1" + ")" * depth + TAIL, 1, None) is None
    # Nesting OVS prints goes the fast way.
    line = HEAD + "clone(" * 10 + "drop" + ")" * 10
    assert fast._fast(line, 1, None) is not None


def test_caches_stay_within_their_limit() -> None:
    fast.clear_caches()
    for i in range(fast._CACHE_LIMIT + 10):
        parse_flow(f"k(x={i}), packets:0, bytes:0, used:never, actions:{i}")
    for cache in (fast._KEYS, fast._ACTION_LISTS, fast._ARGS):
        assert 0 < len(cache) <= fast._CACHE_LIMIT


def test_ovs_large_input_is_a_dump_of_thousands_of_distinct_flows() -> None:
    with gzip.open(Path(OVS_LARGE), "rt") as f:
        lines = [x for x in f if "actions:" in x]
    ufids = {x.split(",", 1)[0] for x in lines if x.startswith("ufid:")}
    assert len(lines) > 10_000
    assert len(ufids) > 4_000
