"""The port table: datapath numbers and names to interfaces and pods.

``data/ports/ovs-dummy-ports.json`` was saved by ``collect_ports`` from a
sandbox OVS with the topology of the bundled dummy dumps, after
``ovs-vsctl set Interface`` gave p1 Kube-OVN ids (pod web-0 in shop) and p3
OVN-Kubernetes ids (``iface-id=shop_db-1``).  The live test sets ids the
same way on the session's real OVS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import DATA
from ovs_scenarios import LiveFlows

from ovsflow.cli import main
from ovsflow.collect import Source, collect_ports
from ovsflow.errors import InputError
from ovsflow.ports import Interface, PortTable, load, parse_dpctl_show, parse_dpif_show

PORTS = DATA / "ports" / "ovs-dummy-ports.json"


@pytest.fixture(scope="module")
def table() -> PortTable:
    return load(PORTS)


@pytest.mark.parametrize(
    ("port", "name", "ofport", "dp_port", "bridge", "kind"),
    [
        (1, "p1", 1, 1, "br1", "software"),
        ("p1", "p1", 1, 1, "br1", "software"),
        (30, "phy30", 30, 30, "br0", "software"),
        # Bridge ports: OpenFlow 65534, datapath 100..102 (dpif/show).
        (100, "br0", 65534, 100, "br0", "software"),
        ("br2", "br2", 65534, 102, "br2", "software"),
        # Tunnel interfaces live on shared datapath vports.
        (4789, "vxlan40", 40, 4789, "br1", "tunnel"),
        ("vxlan_sys_4789", "vxlan40", 40, 4789, "br1", "tunnel"),
        ("genev_sys_6081", "geneve41", 41, 6081, "br1", "tunnel"),
    ],
)
def test_datapath_numbers_and_names_find_the_interface(
    table: PortTable,
    port: int | str,
    name: str,
    ofport: int,
    dp_port: int,
    bridge: str,
    kind: str,
) -> None:
    iface = table.lookup(port)
    assert iface is not None
    assert (iface.name, iface.ofport, iface.dp_port, iface.bridge) == (
        name,
        ofport,
        dp_port,
        bridge,
    )
    assert table.kind(port) == kind


def test_unknown_ports_give_none(table: PortTable) -> None:
    assert table.lookup(999) is None
    assert table.lookup("nosuch") is None
    assert table.pod(999) is None


def test_kube_ovn_and_ovn_kubernetes_ids_give_namespace_and_pod(
    table: PortTable,
) -> None:
    web, db = table.lookup(1), table.lookup(3)
    assert web is not None and db is not None
    assert (table.pod(1), web.cni) == ("shop/web-0", "kube-ovn")
    assert (table.pod("p3"), db.cni) == ("shop/db-1", "ovn-kubernetes")
    assert table.pod(2) is None


def test_ovn_kubernetes_secondary_network_prefix_is_skipped() -> None:
    ids = (("iface-id", "tenant.blue_shop_db-1"), ("sandbox", "abc"))
    assert Interface("x", external_ids=ids).pod == "shop/db-1"


@pytest.mark.parametrize(
    ("status", "ids", "kind"),
    [
        ((("driver_name", "mlx5e_rep"),), (), "representor"),
        ((("driver_name", "veth"),), (), "software"),
        ((("driver_name", "mlx5_core"),), (), "unknown"),
        ((), (("vf-netdev-name", "enp3s0f0v1"),), "representor"),
    ],
)
def test_representors_are_told_by_driver_or_ids(
    status: tuple[tuple[str, str], ...], ids: tuple[tuple[str, str], ...], kind: str
) -> None:
    assert Interface("eth1", "", external_ids=ids, status=status).kind() == kind


def test_dpctl_and_dpif_show_lines_as_ovs_prints_them() -> None:
    dpctl = "system@ovs-system:\n  port 0: ovs-system (internal)\n  port 3: eth1\n"
    dpif = "system@ovs-system: hit:0 missed:0\n  br-int:\n    eth1 7/3: (system)\n"
    assert parse_dpctl_show(dpctl) == {0: ("ovs-system", "internal"), 3: ("eth1", "")}
    assert parse_dpif_show(dpif) == {"eth1": ("br-int", 7, 3)}


def test_bad_port_file_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "ports.json"
    path.write_text('{"format": "ovsflow-ports/1",\n "interfaces": }')
    with pytest.raises(InputError) as caught:
        load(path)
    assert str(caught.value).startswith(
        f"port file {str(path)!r}: line 2, column 16: expected JSON"
    )
    path.write_text('{"data": []}')
    with pytest.raises(InputError, match=r"expected the JSON of 'ovs-vsctl"):
        load(path)


# -- the real OVS -------------------------------------------------------------

KUBE_OVN_IDS = {
    "iface-id": "nginx-7d8c.default",
    "vendor": "kube-ovn",
    "pod_name": "nginx-7d8c",
    "pod_namespace": "default",
    "ip": "10.16.0.12",
}


@pytest.fixture
def kube_ovn_port(ovs_flows: LiveFlows) -> Iterator[str]:
    """p5 of the sandbox with the external_ids Kube-OVN's daemon sets."""
    ovs = ovs_flows.ovs
    ids = [f"external_ids:{k}={v}" for k, v in KUBE_OVN_IDS.items()]
    ovs.vsctl("set", "Interface", "p5", *ids)
    try:
        yield "p5"
    finally:
        ovs.vsctl("remove", "Interface", "p5", "external_ids", *KUBE_OVN_IDS)


def test_port_table_of_the_real_ovs_maps_ports_to_the_pod(
    ovs_flows: LiveFlows, kube_ovn_port: str
) -> None:
    ovs = ovs_flows.ovs
    source = Source(target=str(ovs.control_socket), db=f"unix:{ovs.db_socket}")
    table = PortTable.from_outputs(**_outputs(collect_ports(source)))
    # p5 is datapath port 5 (its digits, tests/ovs_scenarios.py).
    assert table.lookup(5).name == kube_ovn_port  # type: ignore[union-attr]
    assert table.pod(5) == "default/nginx-7d8c"
    assert table.pod("p5") == "default/nginx-7d8c"
    assert table.lookup(5).iface_id == "nginx-7d8c.default"  # type: ignore[union-attr]
    assert table.pod(6) is None


def test_collect_ports_then_explain_shows_the_pod(
    ovs_flows: LiveFlows,
    kube_ovn_port: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ovs = ovs_flows.ovs
    dump, ports = tmp_path / "dump.txt", tmp_path / "ports.json"
    args = ["collect", "--target", str(ovs.control_socket), "-o", str(dump)]
    args += ["--db", f"unix:{ovs.db_socket}", "--ports", str(ports)]
    assert main(args) == 0
    assert json.loads(ports.read_text())["format"] == "ovsflow-ports/1"
    explain = ["explain", str(dump), "--ports", str(ports), "--format", "json"]
    assert main([*explain, "--top", "100"]) == 0
    document = json.loads(capsys.readouterr().out)
    items = [i for g in document["reasons"] for i in g["items"]]
    from_p5 = [i for i in items if "in_port(p5)" in i["flow"]]
    assert from_p5, "the scenarios send frames into p5"
    assert {i["in_port"]["pod"] for i in from_p5} == {"default/nginx-7d8c"}
    blamed = next(
        g for g in document["reasons"] if g["rule"] == "in_port_not_representor"
    )
    assert any("in_port(p5)" in i["flow"] for i in blamed["items"])


def _outputs(document: dict[str, object]) -> dict[str, object]:
    return {k: document[k] for k in ("interfaces", "dpctl_show", "dpif_show")}
