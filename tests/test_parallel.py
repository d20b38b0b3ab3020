"""summarize --jobs N gives exactly what one process gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ovsflow import ParseError, parallel
from ovsflow.cli import main
from ovsflow.dump import DumpReader
from ovsflow.summary import Summary


def flow(i: int, extra: str = "") -> str:
    return (
        f"in_port({i % 5}),eth_type(0x0800), packets:{i}, bytes:{60 * i}, "
        f"used:never,{extra} dp:tc, actions:drop"
    )


def write_dump(path: Path, n: int, bad_at: int | None = None) -> list[str]:
    lines = ['# ovsflow-meta: {"node": "n1"}']
    for i in range(1, n + 1):
        if i % 250 == 1:
            lines.append(f"flow-dump from pmd on cpu core: {i // 250}")
        lines.append(flow(i, " offloaded:yes," if i % 3 == 0 else ""))
        if bad_at == i:
            lines.append("this is not a flow")
    path.write_text("\n".join(lines) + "\n")
    return lines


def summarize(
    path: Path, jobs: int, *extra: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, object], str]:
    status = main(
        [
            "summarize",
            "--format",
            "json",
            "--by",
            "in_port",
            "--jobs",
            str(jobs),
            *extra,
            str(path),
        ]
    )
    out, err = capsys.readouterr()
    return status, json.loads(out) if out else {}, err


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 4096)  # dozens of blocks


def test_jobs_give_the_one_process_figures(
    tmp_path: Path, small_blocks: None, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "dump.txt"
    lines = write_dump(path, 1200, bad_at=777)
    one = summarize(path, 1, capsys=capsys)
    two = summarize(path, 2, capsys=capsys)
    assert one == two
    _, doc, _ = two
    # Worked out from what write_dump wrote: flows 1..1200, packets i.
    assert doc["flows"] == 1200
    assert doc["packets"] == 1200 * 1201 // 2
    assert doc["offloaded"]["flows"] == 400  # type: ignore[index]
    bad_line = lines.index("this is not a flow") + 1
    assert [s["line"] for s in doc["skipped_lines"]] == [bad_line]  # type: ignore[union-attr]
    top = doc["top_not_hardware"]
    assert [t["packets"] for t in top] == [
        1199,
        1198,
        1196,
        1195,
        1193,
        1192,
        1190,
        1189,
        1187,
        1186,
    ]  # type: ignore[union-attr]
    assert top[0]["line"] == lines.index(flow(1199)) + 1  # type: ignore[index]
    assert doc["sources"] == [{"node": "n1"}]


def test_sections_carry_across_blocks(tmp_path: Path, small_blocks: None) -> None:
    path = tmp_path / "dump.txt"
    write_dump(path, 1000)
    seen: list[tuple[int, str | None]] = []
    for block in parallel._blocks(path):
        part = parallel._work(block, "d", (None, 0, False, None), "raise")
        assert not part.edge_trouble
    reader = DumpReader(path)
    seen = [(f.line, f.section) for f in reader]
    # Flow i sits under the header written just before it: core (i - 1) // 250.
    assert seen[0][1] == "pmd on cpu core: 0"
    assert seen[-1][1] == "pmd on cpu core: 3"
    summary = Summary(top_n=3)
    parallel.summarize_file(summary, DumpReader(path), 2)
    assert summary.totals.total.flows == 1000
    assert [t.line for t in summary.top] == [
        f.line
        for f in sorted(DumpReader(path), key=lambda f: -f.stats.packets)
        if f.offloaded is None
    ][:3]


def test_a_line_wrapped_across_two_blocks_is_joined_as_in_one_process(
    tmp_path: Path, small_blocks: None, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "dump.txt"
    body = [flow(i) for i in range(1, 400)]
    long = flow(400)
    cut = len(long) // 2
    text = "\n".join(body) + "\n" + long[:cut] + "\n" + long[cut:] + "\n"
    # A comment line as long as it takes for a block to end just after the
    # first piece of the wrapped flow.
    for pad in range(4096):
        path.write_text("#" + "x" * pad + "\n" + text)
        if any(
            b.data.endswith(long[:cut].encode() + b"\n") for b in parallel._blocks(path)
        ):
            break
    else:
        pytest.fail("no padding puts the wrapped flow across two blocks")
    one = summarize(path, 1, capsys=capsys)
    two = summarize(path, 2, capsys=capsys)
    assert one == two
    assert one[1]["flows"] == 400  # 399 whole lines and the wrapped one
    assert "joined into one flow" in one[2]


def test_strict_stops_at_the_same_line(tmp_path: Path, small_blocks: None) -> None:
    path = tmp_path / "dump.txt"
    lines = write_dump(path, 900, bad_at=640)
    errors = []
    for jobs in (1, 2):
        with pytest.raises(ParseError) as info:
            parallel.summarize_file(Summary(), DumpReader(path), jobs)
        errors.append((info.value.line, str(info.value)))
    assert errors[0] == errors[1]
    assert errors[0][0] == lines.index("this is not a flow") + 1


def test_jobs_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["summarize", "--jobs", "0", "x.txt"])
    assert "expected a whole number >= 1" in capsys.readouterr().err


def test_pod_groups_are_counted_on_all_cores_too(
    tmp_path: Path,
    small_blocks: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--by pod needs the port table: the workers get it, and the figures
    are the one-process ones."""
    ports = Path(__file__).parent / "data" / "ports" / "ovs-dummy-ports.json"
    path = tmp_path / "dump.txt"
    write_dump(path, 1200)
    blocks = []
    real_parts = parallel._parts

    def counted(*args: object, **kwargs: object) -> object:
        for part in real_parts(*args, **kwargs):  # type: ignore[arg-type]
            blocks.append(part)
            yield part

    monkeypatch.setattr(parallel, "_parts", counted)
    args = ("--by", "pod", "--ports", str(ports))
    one = summarize(path, 1, *args, capsys=capsys)
    assert not blocks
    two = summarize(path, 2, *args, capsys=capsys)
    assert len(blocks) > 10  # read in blocks, by the workers
    assert one == two
    groups = two[1]["by"]["groups"]  # type: ignore[index]
    # The dump has in_port(i % 5) for flows i = 1..1200 with i packets; the
    # port table puts port 1 in shop/web-0 and port 3 in shop/db-1.
    assert groups["shop/web-0"]["flows"] == 240
    assert groups["shop/web-0"]["packets"] == sum(range(1, 1201, 5))
    assert groups["shop/db-1"]["packets"] == sum(range(3, 1201, 5))
    assert groups["(none)"]["flows"] == 720
