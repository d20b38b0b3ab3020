"""``ovsflow collect`` against the sandbox OVS, directly and through kubectl.

The kubectl route uses a stand-in ``kubectl`` on ``PATH`` (written by the
fixture below) that checks the arguments it is given and runs the command
against the sandbox, so the whole pipeline runs for real.
"""

from __future__ import annotations

import json
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from ovs import OvsSandbox
from ovs_scenarios import (
    LiveFlows,
    counters_from_text,
    expected,
    first_pass_totals,
    flow_lines,
)

import ovsflow
from ovsflow.cli import main
from ovsflow.collect import (
    META_PREFIX,
    Source,
    collect_dump,
    meta_line,
    snapshot_path,
)
from ovsflow.errors import (
    CollectError,
    CollectPermissionError,
    CollectTimeoutError,
    CollectToolMissingError,
    OvsNotRunningError,
    PodNotFoundError,
    SocketMissingError,
)

POD, CONTAINER, CONTEXT = "ovs-ovn-7xk2p", "openvswitch", "kind-ovn"

EXPECTED = expected()

# Stands in for kubectl: accepts only
#   [--context CTX] exec -n NAMESPACE POD [-c CONTAINER] -- COMMAND...
# and runs COMMAND against the sandbox; other pods behave as kubectl does.
STAND_IN = """#!{python}
import json, os, sys, time
args = sys.argv[1:]
with open({log!r}, "a") as log:
    log.write(json.dumps(args) + "\\n")
context = None
if args[:1] == ["--context"]:
    context, args = args[1], args[2:]
if args[:2] != ["exec", "-n"] or "--" not in args:
    sys.exit("stand-in kubectl: unexpected arguments: %r" % (sys.argv[1:],))
head, command = args[: args.index("--")], args[args.index("--") + 1 :]
namespace, pod, rest = head[2], head[3], head[4:]
if rest not in ([], ["-c", {container!r}]) or context not in (None, {context!r}):
    sys.exit("stand-in kubectl: unexpected arguments: %r" % (sys.argv[1:],))
if pod == "slow":
    time.sleep(30)
if pod == "locked":
    sys.stderr.write('ovs-appctl: cannot connect to "/var/run/openvswitch/'
                     'ovs-vswitchd.1.ctl" (Permission denied)\\n')
    sys.exit(1)
if pod != {pod!r} or namespace != "kube-system":
    sys.stderr.write('Error from server (NotFound): pods "%s" not found\\n' % pod)
    sys.exit(1)
os.environ.update({env!r})
os.execvp(command[0], command)
"""


@pytest.fixture
def kubectl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ovs_sandbox: OvsSandbox
) -> Path:
    """A stand-in kubectl first on PATH; returns the log of its argument lists."""
    bin_dir, log = tmp_path / "bin", tmp_path / "kubectl.log"
    bin_dir.mkdir()
    env = {k: v for k, v in ovs_sandbox.env.items() if k.startswith("OVS_")}
    script = STAND_IN.format(
        python=sys.executable,
        log=str(log),
        pod=POD,
        container=CONTAINER,
        context=CONTEXT,
        env=env,
    )
    (bin_dir / "kubectl").write_text(script)
    (bin_dir / "kubectl").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin")
    return log


def header_and_body(text: str) -> tuple[dict[str, object], str]:
    first, _, body = text.partition("\n")
    assert first.startswith(META_PREFIX)
    return json.loads(first[len(META_PREFIX) :]), body


def first_pass(body: str) -> dict[str, dict[str, int]]:
    lines = flow_lines(body)
    return first_pass_totals(counters_from_text(lines), EXPECTED["port_numbers"])


# -- a control socket --------------------------------------------------------


def test_collect_through_the_control_socket_gives_header_then_ovs_text(
    ovs_flows: LiveFlows,
) -> None:
    target = str(ovs_flows.ovs.control_socket)
    meta, body = header_and_body(collect_dump(Source(target=target)))
    assert meta["command"] == ["ovs-appctl", "-t", target, "dpctl/dump-flows", "-m"]
    assert meta["ovs_version"] == "ovs-vswitchd (Open vSwitch) 3.1.0"
    assert (meta["target"], meta["node"], meta["pod"]) == (
        target,
        socket.gethostname(),
        None,
    )
    assert str(meta["time"]).endswith("Z")
    assert body.startswith("flow-dump from the main thread:\n")
    assert first_pass(body) == EXPECTED["ports"]


def test_collect_without_target_reaches_the_local_ovs(
    ovs_flows: LiveFlows, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OVS_RUNDIR", str(ovs_flows.ovs.base))
    meta, body = header_and_body(collect_dump())
    assert meta["command"] == ["ovs-appctl", "dpctl/dump-flows", "-m"]
    assert first_pass(body) == EXPECTED["ports"]


def test_type_filter_goes_to_ovs_and_into_the_header(ovs_flows: LiveFlows) -> None:
    source = Source(target=str(ovs_flows.ovs.control_socket))
    meta, body = header_and_body(collect_dump(source, types="offloaded"))
    assert meta["type"] == "offloaded"
    assert meta["command"][-1] == "type=offloaded"  # type: ignore[index]
    assert body == ""


def test_unknown_type_is_refused_before_running_anything() -> None:
    with pytest.raises(CollectError, match=r"unknown dump type 'hw'; known types"):
        collect_dump(Source(target="/nonexistent.ctl"), types="ovs,hw")


@pytest.mark.skipif(not hasattr(ovsflow, "parse_flow"), reason="awaits the parser")
def test_collected_dump_parses_and_adds_up(ovs_flows: LiveFlows) -> None:
    text = collect_dump(Source(target=str(ovs_flows.ovs.control_socket)))
    lines = [line for line in flow_lines(text) if not line.startswith("#")]
    flows = [ovsflow.parse_flow(line) for line in lines]
    counted = ((str(f), f.stats.packets, f.stats.bytes) for f in flows)
    assert first_pass_totals(counted, EXPECTED["port_numbers"]) == EXPECTED["ports"]


# -- kubectl exec ------------------------------------------------------------


def test_collect_from_a_pod_runs_ovs_appctl_through_kubectl_exec(
    ovs_flows: LiveFlows, kubectl: Path
) -> None:
    source = Source(pod=POD, container=CONTAINER, context=CONTEXT)
    meta, body = header_and_body(collect_dump(source))
    exec_args = ["exec", "-n", "kube-system", POD, "-c", CONTAINER, "--"]
    dump_args = [*exec_args, "ovs-appctl", "dpctl/dump-flows", "-m"]
    assert meta["command"] == ["kubectl", "--context", CONTEXT, *dump_args]
    assert (meta["pod"], meta["namespace"], meta["container"]) == (
        POD,
        "kube-system",
        CONTAINER,
    )
    assert meta["node"] is None
    calls = [json.loads(line) for line in kubectl.read_text().splitlines()]
    assert calls == [
        ["--context", CONTEXT, *exec_args, "ovs-appctl", "version"],
        ["--context", CONTEXT, *dump_args],
    ]
    assert first_pass(body) == EXPECTED["ports"]


def test_cli_collects_from_a_pod_into_a_file(
    ovs_flows: LiveFlows, kubectl: Path, tmp_path: Path
) -> None:
    out = tmp_path / "dump.txt"
    status = main(["collect", "--pod", POD, "-c", CONTAINER, "-o", str(out)])
    assert status == 0
    meta, body = header_and_body(out.read_text())
    assert meta["pod"] == POD
    assert first_pass(body) == EXPECTED["ports"]


def test_pod_not_found_is_named(kubectl: Path) -> None:
    with pytest.raises(PodNotFoundError) as caught:
        collect_dump(Source(pod="ovs-ovn-gone"))
    assert str(caught.value).startswith(
        "pod 'ovs-ovn-gone' not found in namespace 'kube-system': "
        'Error from server (NotFound): pods "ovs-ovn-gone" not found (command: '
    )


def test_missing_kubectl_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CollectToolMissingError, match=r"^'kubectl' was not found"):
        collect_dump(Source(pod=POD))


def test_slow_command_times_out(kubectl: Path) -> None:
    with pytest.raises(CollectTimeoutError, match=r"^timed out after 0.5s waiting"):
        collect_dump(Source(pod="slow"), timeout=0.5)


def test_permission_denied_inside_the_pod_is_named(kubectl: Path) -> None:
    with pytest.raises(CollectPermissionError, match=r"^permission denied talking"):
        collect_dump(Source(pod="locked"))


# -- OVS or its socket not there ---------------------------------------------


def test_missing_socket_is_named(tmp_path: Path) -> None:
    target = str(tmp_path / "ovs-vswitchd.1.ctl")
    with pytest.raises(SocketMissingError) as caught:
        collect_dump(Source(target=target))
    assert str(caught.value).startswith(
        f"the control socket of {target!r} on this host does not exist; "
        "is ovs-vswitchd running? "
        f'ovs-appctl: cannot connect to "{target}" (No such file or directory)'
    )


def test_socket_nobody_listens_on_means_ovs_not_running(tmp_path: Path) -> None:
    path = tmp_path / "stale.ctl"
    with socket.socket(socket.AF_UNIX) as stale:
        stale.bind(str(path))
    with pytest.raises(OvsNotRunningError, match=r"Connection refused"):
        collect_dump(Source(target=str(path)))


def test_no_local_ovs_means_ovs_not_running(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OVS_RUNDIR", str(tmp_path))
    with pytest.raises(OvsNotRunningError) as caught:
        collect_dump()
    assert str(caught.value).startswith(
        "OVS is not running at ovs-vswitchd on this host: "
        f'ovs-appctl: cannot read pidfile "{tmp_path}/ovs-vswitchd.pid"'
    )


def test_cli_prints_one_line_and_exits_2_on_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["collect", "--target", str(tmp_path / "no.ctl")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("ovsflow: error: the control socket of ")
    assert captured.err.count("\n") == 1


# -- series ------------------------------------------------------------------


def test_series_writes_one_file_per_snapshot(
    ovs_flows: LiveFlows, tmp_path: Path
) -> None:
    target = str(ovs_flows.ovs.control_socket)
    pattern = str(tmp_path / "snap-{n:02d}.txt")
    args = ["collect", "--target", target, "--every", "0.2", "--count", "3"]
    assert main([*args, "-o", pattern]) == 0
    files = sorted(tmp_path.glob("snap-*.txt"))
    assert [f.name for f in files] == ["snap-01.txt", "snap-02.txt", "snap-03.txt"]
    times = [header_and_body(f.read_text())[0]["time"] for f in files]
    assert times == sorted(times) and len(set(times)) == 3


def test_series_into_a_directory(ovs_flows: LiveFlows, tmp_path: Path) -> None:
    target = str(ovs_flows.ovs.control_socket)
    assert (
        main(["collect", "--target", target, "--count", "2", "-o", str(tmp_path)]) == 0
    )
    assert len(list(tmp_path.glob("dump-00[12]-*Z.txt"))) == 2


def test_series_without_a_pattern_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["collect", "--count", "2"]) == 2
    assert "needs -o with {n} or {time}, or a directory" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("out/{n}.txt", "out/7.txt"),
        ("out/{n:03d}-{time}.txt", "out/007-20240501T100000Z.txt"),
        ("out/", "out/dump-007-20240501T100000Z.txt"),
    ],
)
def test_snapshot_paths_fill_in_number_and_time(pattern: str, expected: str) -> None:
    when = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)
    assert snapshot_path(pattern, 7, when) == Path(expected)


def test_snapshot_path_without_placeholder_is_refused() -> None:
    with pytest.raises(CollectError, match=r"needs \{n\} or \{time\}"):
        snapshot_path("out.txt", 1, datetime.now(UTC))


def test_meta_line_is_one_json_object_after_the_prefix() -> None:
    line = meta_line({"pod": None, "command": ["ovs-appctl", "version"]})
    assert line == (
        '# ovsflow-meta: {"pod": null, "command": ["ovs-appctl", "version"]}\n'
    )


def test_summarize_live_collects_and_counts_what_ovs_printed(
    ovs_flows: LiveFlows, capsys: pytest.CaptureFixture[str]
) -> None:
    target = str(ovs_flows.ovs.control_socket)
    args = ["summarize", "--live", "--target", target, "--format", "json"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    # The same figures, read from OVS's own text with plain string handling.
    text = ovs_flows.ovs.appctl("dpctl/dump-flows", "-m")
    lines = [x for x in text.splitlines() if x.startswith("ufid:")]
    packets = sum(int(x.split(" packets:")[1].split(",")[0]) for x in lines)
    nbytes = sum(int(x.split(" bytes:")[1].split(",")[0]) for x in lines)
    assert (summary["flows"], summary["packets"], summary["bytes"]) == (
        len(lines),
        packets,
        nbytes,
    )
    assert summary["by_dp"] == {
        "ovs": {"flows": len(lines), "packets": packets, "bytes": nbytes}
    }
    assert summary["sources"][0]["target"] == target
