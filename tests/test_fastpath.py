"""The fast path and the Lark grammar give identical records for every line."""

from __future__ import annotations

import dataclasses
import enum
import gzip
import ipaddress
import random
import re
from pathlib import Path

import pytest
from helpers import REPO, conformance_lines, corpus_lines, guide_lines
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ovsflow import ParseError, parse_flow, values
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


# ---- The quick cut and the careful cut ------------------------------------


def every_line() -> list[str]:
    """Every corpus line, the guide's, and OVS's own key and action strings."""
    return (
        [line for _, _, line in corpus_lines()]
        + guide_lines()
        + [key + TAIL for key in conformance_lines("odp-at-keys.txt")]
        + [HEAD + actions for actions in conformance_lines("odp-at-actions.txt")]
    )


def test_the_quick_cut_takes_every_line_laid_out_as_ovs_prints_it() -> None:
    fast.clear_caches()
    lines = every_line()
    assert len(lines) > 700
    left = [x for x in lines if fast._cut(x, x.find("actions:")) is None]
    assert left == []


def test_the_careful_cut_alone_agrees_with_the_grammar_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The careful cut reads what the quick one does not take; on the same
    # lines it must build the same records.
    monkeypatch.setattr(fast, "_cut", lambda text, end: None)
    for line in every_line():
        assert_same_on_both_paths(line)


def test_keys_that_hold_a_close_and_a_comma_are_joined_back() -> None:
    # "),".split cuts these keys in two or more; the pieces are joined again.
    for key in (
        "tunnel(tun_id=0x5,dst=10.0.0.2,geneve({class=0x102,type=0x80,len=4,"
        "0xa0006}),flags(+key))",
        "encap(eth_type(0x0800),ipv4(src=1.1.1.1),tcp(dst=80))",
        "encap(encap(eth_type(0x8100),vlan(vid=5)),eth_type(0x0800))",
    ):
        line = f"recirc_id(0),{key},in_port(2){TAIL}"
        fast.clear_caches()
        assert fast._cut(line, line.find("actions:")) is not None
        assert_same_on_both_paths(line)
        flow = parse_flow(line)
        assert [k.name for k in flow.match] == [
            "recirc_id",
            key[: key.index("(")],
            "in_port",
        ]


SEPARATORS = st.sampled_from([",", ", ", " "])


def top_level_items(line: str) -> tuple[list[str], str]:
    """The items before ``actions:`` (separators dropped), and the rest."""
    end = line.index("actions:")
    items, depth, start = [], 0, 0
    for i, char in enumerate(line[:end]):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and char in ", ":
            if line[start:i]:
                items.append(line[start:i])
            start = i + 1
    return items, line[end:]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(every_line()),
    st.lists(SEPARATORS, min_size=1, max_size=60),
    st.randoms(use_true_random=False),
)
def test_other_separators_and_orders_agree_with_the_grammar(
    line: str, seps: list[str], rng: random.Random
) -> None:
    # Separators and orders OVS does not print (the grammar takes them):
    # whichever cut reads the line reads what the grammar reads.
    items, rest = top_level_items(line)
    if rng.random() < 0.3:
        rng.shuffle(items)
    text = "".join(item + seps[i % len(seps)] for i, item in enumerate(items))
    assert_agree_or_both_fail(text + rest)


def test_the_quick_cut_gives_up_on_a_key_of_many_pieces() -> None:
    # Each piece leaves one more "(" open: the quick cut stops joining after
    # _MAX_KEY_PIECES pieces (so its work stays linear in the line) and the
    # careful cut and the grammar decide.
    line = "k(" + "a(1),b(" * 2_000 + "2" + ")" * 2_001 + TAIL
    with pytest.raises(fast._Unsure):
        fast._cut(line, line.find("actions:"))
    assert_agree_or_both_fail(line)


BASE = "in_port(1), packets:0, bytes:0, used:never, actions:drop"


@pytest.mark.parametrize(
    "line",
    [
        BASE + ", dp-extra-info:",  # an empty trailer
        BASE + ", dp-extra-info:a\nb",  # a line end inside the line
        BASE.replace("used:never", "used:never, flags:" + "(" * 65),
        BASE + ", dp-extra-info:" + "{" * 65,  # past the nesting limit
        "k(x(1),dp-extra-info:z)" + TAIL,  # the grammar reads a trailer there
        "k(dp-extra-info:z,x(1))" + TAIL,  # and a word here
        "# comment",
        "flow-dump from the main thread:",
    ],
)
def test_lines_found_by_the_break_test_agree(line: str) -> None:
    # Each of these once parsed on the fast path and failed on the grammar
    # (or failed with another message).
    assert_agree_or_both_fail(line)


# ---- Generated keys and actions ------------------------------------------

WORDS = st.sampled_from(
    ["0", "1", "0x800", "64", "10.0.0.1", "255.255.0.0", "fe80::1", "::",
     "02:00:00:00:0a:01", "ff:ff:ff:ff:ff:ff", "no", "first", "+trk-new",
     "trk|est", "csum|key", "-df+csum", "p1", "commit", "50.0%", "0xffff",
     "dp-extra-info:z"]
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


def _piecewise_and_careful(text: str, actions: bool) -> tuple[object, object]:
    """What the piecewise reader and _parse_args make of ``text``.

    Each is the records it built, or "grammar" when it left the text to the
    grammar: unsure of it, or refusing a value in it (a ValueError, which
    _fast answers by asking the grammar too).
    """
    results: list[object] = []
    for read in (fast._nested_args, fast._parse_args):
        fast.clear_caches()
        try:
            if actions:
                if read is fast._nested_args:
                    parts = fast._parts(text)
                    built = tuple(fast._new_action(p) for p in parts)
                else:
                    built = tuple(fast.make_action(a) for a in read(text, True))
            else:
                built = (
                    read(text, 1) if read is fast._nested_args else read(text, False)
                )
        except (fast._Unsure, fast._ToGrammar, ValueError):
            results.append("grammar")
        else:
            results.append(deep(built))
    return results[0], results[1]


@settings(max_examples=300, deadline=None)
@given(st.lists(args, min_size=1, max_size=4).map(",".join), actions)
def test_pieces_read_as_the_careful_loop_reads_them(inner: str, acts: str) -> None:
    # The piecewise reader of nested keys and action lists takes a subset
    # of what _parse_args takes, and builds the same records from it.
    for text, is_actions in ((inner, False), (acts, True)):
        piecewise, careful = _piecewise_and_careful(text, is_actions)
        if piecewise != "grammar":
            assert piecewise == careful


@settings(max_examples=300, deadline=None)
@given(noise)
@example("{0}, ")  # refused by one, unsure for the other: both ask the grammar
def test_garbled_pieces_are_refused_or_read_as_the_careful_loop_reads_them(
    text: str,
) -> None:
    for is_actions in (False, True):
        piecewise, careful = _piecewise_and_careful(text, is_actions)
        if piecewise != "grammar":
            assert piecewise == careful


def test_nested_pieces_are_reused_across_flows() -> None:
    # Two tnl_push actions that differ only in the outer source address
    # share the eth(...) and udp(...) records of their headers.
    fast.clear_caches()
    header = (
        "header(size=50,type=4,eth(dst=02:00:00:00:00:02),ipv4(src={}),udp(dst=4789))"
    )
    first, second = (
        parse_flow(HEAD + "tnl_push(tnl_port(4789)," + header.format(a) + ")")
        for a in ("10.0.0.1", "10.0.0.2")
    )
    one = first.actions[0].header
    two = second.actions[0].header
    assert one is not None and two is not None
    assert one["eth"] is two["eth"] and one["udp"] is two["udp"]
    assert one["ipv4"] != two["ipv4"]


# ---- Values --------------------------------------------------------------

# Dotted quads, and near misses that must stay words or be refused.
TRICKY_IPV4 = [
    "0.0.0.0", "255.255.255.255", "1.2.3.4", "10.0.0.255", "1.2.3.0",
    "256.1.1.1", "10.0.0.256", "999.999.999.999", "100.200.300.1",
    "01.2.3.4", "1.02.3.4", "1.2.3.00", "000.0.0.0", "00.0.0.0", "0.0.0.01",
    "1.2.3", "1.2.3.4.5", " 1.2.3.4", "1.2.3.4 ", "1..2.3", "1.2.3.4\n",
    "\u0661.2.3.4", "1.2.3.4/24", "0x1.2.3.4", "1.2.3.-4", "+1.2.3.4",
]  # fmt: skip


@pytest.mark.parametrize("text", TRICKY_IPV4)
def test_ipv4_addresses_are_typed_as_ipaddress_reads_them(text: str) -> None:
    try:
        expected: object = ipaddress.IPv4Address(text)
    except ValueError:
        expected = ValueError
    try:
        got: object = values._type_token(text)
    except ValueError:
        got = ValueError
    if expected is ValueError and re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,3}){3}", text):
        assert got is ValueError  # a dotted quad out of range is an error
    elif expected is ValueError:
        assert not isinstance(got, ipaddress.IPv4Address)  # another kind of word
    else:
        assert got == expected and type(got) is ipaddress.IPv4Address


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
    for cache in (fast._KEYS, fast._ACTION_LISTS, fast._ARGS, fast._ACTIONS):
        assert 0 < len(cache) <= fast._CACHE_LIMIT
    for i in range(fast._CACHE_LIMIT + 10):
        parse_flow(f"k(n(x={i}),y), packets:0, bytes:0, used:never, actions:ct(z={i})")
    for cache in (fast._KEYS, fast._ACTION_LISTS, fast._NODES, fast._ACTIONS):
        assert 0 < len(cache) <= fast._CACHE_LIMIT


def test_ovs_large_input_is_a_dump_of_thousands_of_distinct_flows() -> None:
    with gzip.open(Path(OVS_LARGE), "rt") as f:
        lines = [x for x in f if "actions:" in x]
    ufids = {x.split(",", 1)[0] for x in lines if x.startswith("ufid:")}
    assert len(lines) > 10_000
    assert len(ufids) > 4_000
