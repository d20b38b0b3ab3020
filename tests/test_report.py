"""``ovsflow report``: the page's figures, its safety, and how it looks in Chromium."""

from __future__ import annotations

import html
import importlib.util
import os
import re
import subprocess
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers import DATA, IN_CI, need

from ovsflow import samples
from ovsflow.charts import SERIES
from ovsflow.cli import main
from ovsflow.report import CAPTURE_TIME, FILE_TIME, dump_time, load_dumps, render_report

if importlib.util.find_spec("matplotlib") is None:  # the 'report' extra
    if IN_CI:
        raise RuntimeError("matplotlib is missing: scripts/test.sh installs it")
    pytest.skip("matplotlib is not installed", allow_module_level=True)

CHROMIUM = Path("/usr/bin/chromium")
HOSTILE = DATA / "report" / "hostile.txt"
YUSUR = samples.path("kube-ovn-yusur-2200e")
BEFORE = samples.path("ovs-dummy-before")
AFTER = samples.path("ovs-dummy-after")


def card(page: str, what: str) -> tuple[str, str]:
    """(ratio, 'part of whole') of the summary card ``what`` of a page."""
    found = re.search(
        rf'<div class="what">{what}</div><div class="ratio">([^<]*)</div>'
        r'<div class="of">([^<]*)</div>',
        page,
    )
    assert found, f"no card {what!r}"
    return found[1], found[2]


def with_header(path: Path, text: str, when: str) -> Path:
    """Write ``text`` under an ovsflow-meta header whose time is ``when``."""
    path.write_text(f'# ovsflow-meta: {{"node": "n1", "time": "{when}"}}\n{text}')
    return path


def counters(path: Path) -> tuple[int, int, int]:
    """(flows, packets, bytes) of a dump, read with a regex, not the parser."""
    found = re.findall(r"packets:(\d+), bytes:(\d+)", path.read_text())
    return len(found), sum(int(p) for p, _ in found), sum(int(b) for _, b in found)


# -- figures ----------------------------------------------------------------


def test_yusur_sample_figures_worked_out_by_hand() -> None:
    # Two offloaded:yes dp:tc flows; this vendor build prints offload_packets:
    # packets 75021 + 6946 = 81967, in hardware 75019 + 6944 = 81963;
    # bytes 109521630 + 459664 = 109981294, in hardware 109521498 + 459532.
    page = render_report(load_dumps([YUSUR]))
    assert card(page, "flows in hardware") == ("100.0%", "2 of 2")
    # 81963 / 81967 = 99.995 %: not all of it, so not printed as 100.0%.
    assert card(page, "packets in hardware") == (">99.9%", "81,963 of 81,967")
    assert card(page, "bytes in hardware") == (">99.9%", "109,981,030 of 109,981,294")
    assert "TC flows without the 14-byte" in page


def test_l2_bytes_adds_14_bytes_per_tc_packet_and_says_so() -> None:
    page = render_report(load_dumps([YUSUR]), l2_bytes=True)
    # 109981294 + 14 * 81967 = 111128832
    assert card(page, "bytes in hardware")[1].endswith(" of 111,128,832")
    assert "include 14 bytes of Ethernet header per packet" in page


def test_mixed_dumps_add_up_and_list_the_busiest_software_flow() -> None:
    flows, packets, nbytes = counters(BEFORE)
    page = render_report(load_dumps([YUSUR, BEFORE]))
    assert card(page, "flows in hardware")[1] == f"2 of {flows + 2}"
    assert card(page, "packets in hardware")[1] == f"81,963 of {packets + 81967:,}"
    assert card(page, "bytes in hardware")[1] == (
        f"109,981,030 of {nbytes + 109981294:,}"
    )
    # Most packets first; among equals the line read first.
    packets, line = min(
        (-int(m[1]), n)
        for n, text in enumerate(BEFORE.read_text().splitlines(), start=1)
        if (m := re.search(r"packets:(\d+),", text))
    )
    top = page.split("<h2>Busiest flows not in hardware</h2>")[1]
    first_row = top.split("<tbody>")[1].split("</tr>")[0]
    assert f"{html.escape(str(BEFORE))}, line {line}</div>" in first_row
    assert f'<td class="n">{-packets:,}</td>' in first_row


def test_a_series_of_one_ovs_counts_its_latest_dump_only() -> None:
    # BEFORE and AFTER are two snapshots of one OVS (same node and socket in
    # their headers): counters are lifetime totals, so the figures are those
    # of AFTER alone, plus the Yusur dump (no header: a dump of its own).
    flows, packets, nbytes = counters(AFTER)
    page = render_report(load_dumps([BEFORE, AFTER, YUSUR]))
    assert card(page, "flows in hardware")[1] == f"2 of {flows + 2}"
    assert card(page, "packets in hardware")[1] == f"81,963 of {packets + 81967:,}"
    assert card(page, "bytes in hardware")[1] == (
        f"109,981,030 of {nbytes + 109981294:,}"
    )
    assert "3 dumps," in page
    assert "1 dump is an earlier snapshot of an OVS that a later dump also" in page
    # The earlier snapshot still has its own row over time.
    timeline = page.split("<h2>Over time</h2>")[1].split("<h2>")[0]
    assert html.escape(str(BEFORE)) in timeline


def test_dumps_are_ordered_by_capture_time_else_file_time(tmp_path: Path) -> None:
    late = tmp_path / "late.txt"
    late.write_text(HOSTILE.read_text())
    stamp = datetime(2031, 1, 1, tzinfo=UTC).timestamp()
    os.utime(late, (stamp, stamp))
    early = with_header(
        tmp_path / "early.txt", YUSUR.read_text(), "2030-06-01T08:00:00Z"
    )

    loaded = load_dumps([late, AFTER, early, BEFORE])

    names = [Path(d.source).name for d in loaded.dumps]
    assert names == [BEFORE.name, AFTER.name, "early.txt", "late.txt"]
    assert [d.time_basis for d in loaded.dumps] == [CAPTURE_TIME] * 3 + [FILE_TIME]
    page = render_report(loaded)
    inputs = page.split("<h2>Inputs</h2>")[1]
    assert inputs.index("early.txt") < inputs.index("late.txt")
    assert "2030-06-01 08:00:00 UTC</td><td>capture time" in inputs
    assert "2031-01-01 00:00:00 UTC</td><td>file modification time" in inputs
    assert "placed by their file&#x27;s modification time" in page


def test_dump_time_falls_back_from_a_bad_header_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "d.txt"
    path.write_text("")
    os.utime(path, (0, 0))
    assert dump_time([{"time": "yesterday"}], path) == (
        datetime(1970, 1, 1, tzinfo=UTC),
        FILE_TIME,
    )


def test_share_between_dumps_of_one_node_comes_from_their_growth(
    tmp_path: Path,
) -> None:
    # Ten seconds later the first Yusur flow ran 75021 more packets, none in
    # hardware (offload_packets unchanged), the second 6946 more, 6944 of
    # them in hardware: 6944 / (75021 + 6946) = 8.47 % of the interval.
    text = YUSUR.read_text()
    later = text.replace("packets:75021,", "packets:150042,")
    later = later.replace("packets:6946,", "packets:13892,")
    later = later.replace("offload_packets:6944,", "offload_packets:13888,")
    dumps = [
        with_header(tmp_path / "a.txt", text, "2030-06-01T08:00:00Z"),
        with_header(tmp_path / "b.txt", later, "2030-06-01T08:00:10Z"),
    ]
    other = tmp_path / "c.txt"
    other.write_text(
        '# ovsflow-meta: {"node": "n2", "time": "2030-06-01T08:00:20Z"}\n' + text
    )
    page = render_report(load_dumps([*dumps, other]))
    rows = page.split("<h2>Over time</h2>")[1].split("<tbody>")[1].split("</tr>")
    assert rows[0].endswith('<td class="n">-</td>')  # nothing before it
    assert rows[1].endswith('<td class="n">8.5%</td>')
    assert rows[2].endswith('<td class="n">-</td>')  # another node: no interval


def test_an_empty_dump_gives_a_page_that_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    page = render_report(load_dumps([empty]))
    assert "1 dump, 0 flows," in page
    assert "No flows were read: are the inputs empty?" in page
    assert card(page, "packets in hardware") == ("-", "0 of 0")
    assert "<svg" not in page


def test_one_dump_has_no_time_chart_and_says_why() -> None:
    page = render_report(load_dumps([YUSUR]))
    assert "One point in time only" in page
    assert 'aria-label="Share in hardware over time"' not in page


MIXED = DATA / "analysis" / "mixed.txt"
PORTS = DATA / "ports" / "ovs-dummy-ports.json"


def section_rows(page: str, heading: str) -> list[list[str]]:
    """The cells of the first table under ``<h2>heading</h2>``, tags dropped."""
    part = page.split(f"<h2>{heading}</h2>")[1].split("<h2>")[0]
    body = part.split("<tbody>")[1].split("</tbody>")[0]
    rows = []
    for row in body.split("</tr>"):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
        if cells:
            text = [html.unescape(re.sub(r"<[^>]+>", " ", c)) for c in cells]
            rows.append([" ".join(t.split()) for t in text])
    return rows


def test_why_not_in_hardware_groups_the_reasons_biggest_first() -> None:
    # mixed.txt (tests/test_pods.py): not in hardware are line 4 (tc_software,
    # 30 packets, 3000 bytes), 5 (partial, 20/2000), 6 (10/1000), 7
    # (used:never, 5/500) and 8 (no -m, 1/100): 66 packets.  Without ports
    # only tc_software and never_used fire; 5, 6 and 8 are "(no rule)", last.
    page = render_report(load_dumps([MIXED]))
    rows = section_rows(page, "Why not in hardware")
    assert [row[1:] for row in rows] == [
        ["1", "30", "3,000", "45.5%"],
        ["1", "5", "500", "7.6%"],
        ["3", "31", "3,100", "47.0%"],
    ]
    assert [row[0] for row in rows] == [
        # The titles of ovsflow/data/explain_rules.json.
        "tc_software dp:tc without offloaded: the NIC refused the rule or "
        "tc-policy keeps it in software",
        "never_used never used (used:never): no packet has matched it yet",
        "(no rule) no rule explains these flows",
    ]
    assert "Without a port table (--ports)" in page


def test_ports_add_the_input_port_rule_and_the_pod_sections() -> None:
    from ovsflow.ports import load

    page = render_report(load_dumps([MIXED], ports=load(PORTS)))
    # Ports 1, 3 and 4 (lines 5, 7, 8: 26 packets) are dummy netdevs.
    rows = section_rows(page, "Why not in hardware")
    assert [(row[0].split(" ", 1)[0], *row[1:4]) for row in rows] == [
        ("tc_software", "1", "30", "3,000"),
        ("in_port_not_representor", "3", "26", "2,600"),
        ("never_used", "1", "5", "500"),
        ("(no", "1", "10", "1,000"),  # "(no rule) no rule explains..."
    ]
    # Port 1 is shop/web-0 (lines 2 and 5; 100 of 120 packets in hardware),
    # 3 is shop/db-1 (line 7); the rest has no pod (40 of 91 in hardware).
    assert [row[:4] + row[5:6] for row in section_rows(page, "By pod")] == [
        ["shop/web-0", "2", "120", "12,000", "83.3%"],
        ["(none)", "4", "91", "9,100", "44.0%"],
        ["shop/db-1", "1", "5", "500", "0.0%"],
    ]
    assert [row[:3] for row in section_rows(page, "By namespace")] == [
        ["shop", "3", "125"],
        ["(none)", "4", "91"],
    ]
    without = render_report(load_dumps([MIXED]))
    assert "<h2>By pod</h2>" not in without
    assert "Without a port table" not in page


def test_rendering_twice_gives_the_same_page() -> None:
    loaded = load_dumps([BEFORE, AFTER])
    assert render_report(loaded) == render_report(loaded)


# -- untrusted text and a self-contained page --------------------------------


class Inventory(HTMLParser):
    """Every tag and every attribute value of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [(k, v or "") for k, v in attrs]
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def test_flow_text_is_escaped_and_skipped_lines_are_shown() -> None:
    page = render_report(load_dumps([HOSTILE]))
    assert "<img" not in page and "<script" not in page and "<b>" not in page
    assert "&lt;img/src=x/onerror=document.title=7&gt;" in page
    assert "<code>&lt;script&gt;</code>" in page  # the port of the second flow
    assert card(page, "flows in hardware") == ("50.0%", "1 of 2")
    assert card(page, "packets in hardware") == ("11.1%", "5 of 45")
    skipped = page.split("<h2>Skipped lines</h2>")[1]
    assert "1 lines were skipped in all." in skipped
    assert f"{html.escape(str(HOSTILE))}:4</code>" in skipped
    assert "this line is not a flow &amp; has &lt;i&gt;markup&lt;/i&gt;" in skipped


def test_the_page_loads_nothing() -> None:
    page = render_report(load_dumps([YUSUR, BEFORE, AFTER]))
    seen = Inventory()
    seen.feed(page)
    fetching = {"script", "link", "img", "iframe", "object", "embed", "video"}
    assert not fetching & set(seen.tags)
    for name, value in seen.attrs:
        if name in ("src", "href", "xlink:href", "action", "srcset", "data"):
            assert value.startswith("#"), (name, value)
    css = "".join(seen.styles) + " ".join(v for k, v in seen.attrs if k == "style")
    assert "@import" not in css
    assert set(re.findall(r"url\((.)", css)) <= {"#"}
    assert seen.tags.count("svg") == 3  # dp, port and time charts


# -- the CLI ----------------------------------------------------------------


def test_cli_writes_the_page_and_lists_skipped_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    args = [str(HOSTILE), "--sample", "kube-ovn-yusur-2200e", "-o", str(out)]
    assert main(["report", *args]) == 0
    err = capsys.readouterr().err
    assert f"skipped {HOSTILE}: line 4:" in err
    assert re.search(rf"wrote {out} \([\d,]+ bytes\): 4 flows from 2 dumps", err)
    assert card(out.read_text(), "flows in hardware") == ("75.0%", "3 of 4")


def test_cli_strict_stops_at_the_bad_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    assert main(["report", "--strict", str(HOSTILE), "-o", str(out)]) == 2
    assert "line 4, column 5" in capsys.readouterr().err
    assert not out.exists()


def test_cli_says_in_one_line_when_it_cannot_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "missing" / "report.html"
    assert main(["report", str(HOSTILE), "-o", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert err == (
        f"ovsflow: error: cannot write the report to {str(out)!r}: "
        "No such file or directory"
    )


# -- in a real browser --------------------------------------------------------


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with no network, sync or updates of its own."""
    command = [
        str(need(CHROMIUM)),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp / 'chromium-profile'}",
        *args,
    ]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=True
    )


def screenshot(page: Path, tmp: Path, width: int = 1280, height: int = 3600) -> Path:
    png = tmp / f"{page.stem}.png"
    chromium(
        tmp, f"--screenshot={png}", f"--window-size={width},{height}", page.as_uri()
    )
    return png


def colour_counts(png: Path) -> dict[str, int]:
    """Pixels of each chart series colour, give or take anti-aliasing."""
    from PIL import Image

    with Image.open(png) as image:
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 24) or []
    out = {}
    for key, _, hex_colour in SERIES:
        want = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        out[key] = sum(
            n
            for n, c in colours
            if max(abs(a - b) for a, b in zip(c, want, strict=True)) <= 6
        )
    out["distinct"] = len(colours)
    return out


def test_a_blank_page_shows_no_chart_colours(tmp_path: Path) -> None:
    # The check below must be able to fail: a page without charts has none
    # of the series colours.
    page = tmp_path / "blank.html"
    page.write_text("<!DOCTYPE html><title>x</title><p>no charts here</p>")
    counts = colour_counts(screenshot(page, tmp_path, 800, 600))
    assert counts["flows"] == counts["packets"] == counts["bytes"] == 0


def test_chromium_shows_the_charts(tmp_path: Path) -> None:
    text = YUSUR.read_text()
    node = [
        with_header(
            tmp_path / "n1-a.txt", text + BEFORE.read_text(), "2030-06-01T08:00:00Z"
        ),
        with_header(
            tmp_path / "n1-b.txt", text + AFTER.read_text(), "2030-06-01T08:00:30Z"
        ),
    ]
    page = tmp_path / "report.html"
    assert main(["report", *map(str, node), "-o", str(page)]) == 0

    counts = colour_counts(screenshot(page, tmp_path))

    # Bars of all three series (the tc layer is in hardware) and the lines of
    # the time chart; 1,500 pixels is about one bar 300 px long.
    for key, _, _ in SERIES:
        assert counts[key] > 1500, counts
    assert counts["distinct"] > 200, counts  # text, bars, lines: not a flat page


def test_chromium_shows_the_pod_charts(tmp_path: Path) -> None:
    pages = {}
    for name, extra in (("without", []), ("with", ["--ports", str(PORTS)])):
        pages[name] = tmp_path / f"{name}.html"
        assert main(["report", str(MIXED), "-o", str(pages[name]), *extra]) == 0
    without = colour_counts(screenshot(pages["without"], tmp_path, 1280, 5200))
    with_ports = colour_counts(screenshot(pages["with"], tmp_path, 1280, 5200))
    # Two more charts, by pod and by namespace, each with bars of all three
    # series (shop/web-0 and shop hold a flow in hardware): about 1,000
    # pixels or more per bar.
    for key, _, _ in SERIES:
        assert with_ports[key] > without[key] + 2000, (key, without, with_ports)


def test_chromium_runs_no_script_from_a_hostile_dump(tmp_path: Path) -> None:
    page = tmp_path / "hostile.html"
    assert main(["report", str(HOSTILE), "-o", str(page)]) == 0
    dom = chromium(tmp_path, "--virtual-time-budget=2000", "--dump-dom", page.as_uri())
    # An <img onerror> that ran would have set the title to 7.
    assert "<title>Open vSwitch offload report</title>" in dom.stdout
    assert "<img" not in dom.stdout and "<script" not in dom.stdout
    assert "&lt;img/src=x/onerror=document.title=7&gt;" in dom.stdout


def test_counters_past_2_to_the_53_are_shown_exactly(tmp_path: Path) -> None:
    # 2**54 + 1 = 18,014,398,509,481,985: a double cannot hold it; the page
    # shows it digit for digit.
    dump = tmp_path / "big.txt"
    dump.write_text(
        "in_port(1), packets:18014398509481985, bytes:18014398509481985, "
        "used:0.1s, offloaded:yes, dp:tc, actions:2\n"
    )
    page = render_report(load_dumps([dump]))
    assert card(page, "packets in hardware") == (
        "100.0%",
        "18,014,398,509,481,985 of 18,014,398,509,481,985",
    )
