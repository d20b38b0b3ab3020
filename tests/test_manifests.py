"""ovsflow.manifests and ovsflow.manifest_names: what is rendered, what is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from ovsflow.errors import ManifestError
from ovsflow.manifests import (
    ManifestSettings,
    device_plugin_configmap,
    kube_ovn_install_env,
    network_attachment_definition,
    sriov_network_node_policy,
    to_yaml,
    workload,
)

DATA = Path(__file__).parent / "data" / "manifests"
GUIDE = dict(
    vendor="1f47",
    device="110f",
    resource="yusur.tech/sriov_dpu",
    nad="kube-system/test",
    pod="default/nginx",
)


def guide_objects() -> list[dict[str, Any]]:
    """The guide's objects, with the JSON strings inside parsed too."""
    return [
        with_json_parsed(d)
        for d in yaml.safe_load_all(DATA.joinpath("guide.yaml").read_text())
    ]


def with_json_parsed(obj: dict[str, Any]) -> dict[str, Any]:
    obj = json.loads(json.dumps(obj))
    if obj["kind"] == "ConfigMap":
        obj["data"]["config.json"] = json.loads(obj["data"]["config.json"])
    if obj["kind"] == "NetworkAttachmentDefinition":
        obj["spec"]["config"] = json.loads(obj["spec"]["config"])
    return obj


def rendered(settings: ManifestSettings) -> list[dict[str, Any]]:
    text = to_yaml(
        [
            device_plugin_configmap(settings),
            network_attachment_definition(settings),
            workload(settings),
        ]
    )
    return [with_json_parsed(d) for d in yaml.safe_load_all(text)]


def test_the_guides_settings_for_plugin_v3_5_render_exactly_the_guides_objects():
    settings = ManifestSettings(**GUIDE, plugin_version="v3.5.1")

    assert rendered(settings) == guide_objects()


def test_from_plugin_v3_6_selectors_are_a_list_and_all_else_is_the_guides():
    expected = guide_objects()
    entry = expected[0]["data"]["config.json"]["resourceList"][0]
    entry["selectors"] = [entry["selectors"]]

    assert rendered(ManifestSettings(**GUIDE)) == expected


def test_rendered_core_objects_pass_the_kubernetes_schema_offline():
    for obj in yaml.safe_load_all(to_yaml(rendered_raw(ManifestSettings(**GUIDE)))):
        kubernetes_validate.validate(obj, "1.30", strict=True)


def rendered_raw(settings: ManifestSettings) -> list[dict[str, Any]]:
    return [device_plugin_configmap(settings), workload(settings)]


def test_a_deployment_carries_the_annotation_and_the_vfs_in_its_pod_template():
    settings = ManifestSettings(
        **GUIDE | {"pod": "web/nginx"}, workload="deployment", vfs=2
    )

    deployment = workload(settings)
    kubernetes_validate.validate(deployment, "1.30", strict=True)

    template = deployment["spec"]["template"]
    assert deployment["metadata"] == {"name": "nginx", "namespace": "web"}
    assert template["metadata"]["annotations"] == {
        "v1.multus-cni.io/default-network": "kube-system/test"
    }
    assert template["spec"]["containers"][0]["resources"] == {
        "requests": {"yusur.tech/sriov_dpu": "2"},
        "limits": {"yusur.tech/sriov_dpu": "2"},
    }


def test_extra_selectors_are_written_as_the_plugin_reads_them():
    settings = ManifestSettings(
        **GUIDE,
        drivers=("mlx5_core",),
        pf_names=("p0#0-3,7",),
        root_devices=("0000:00:0a.0#0-3",),
        is_rdma=True,
        device_type="netDevice",
    )

    config = json.loads(device_plugin_configmap(settings)["data"]["config.json"])

    assert config == {
        "resourceList": [
            {
                "resourceName": "sriov_dpu",
                "resourcePrefix": "yusur.tech",
                "selectors": [
                    {
                        "vendors": ["1f47"],
                        "devices": ["110f"],
                        "drivers": ["mlx5_core"],
                        "pfNames": ["p0#0-3,7"],
                        "rootDevices": ["0000:00:0a.0#0-3"],
                        "isRdma": True,
                    }
                ],
            }
        ]
    }


def test_a_device_id_that_looks_like_a_number_is_quoted_in_yaml():
    settings = ManifestSettings(**GUIDE | {"device": "1e10"})
    policy, _ = sriov_network_node_policy(settings, 4, pf_device="1e00")

    text = to_yaml([policy])

    assert "deviceID: '1e00'" in text
    assert yaml.safe_load(text)["spec"]["nicSelector"]["deviceID"] == "1e00"


def test_the_operator_policy_for_the_yusur_card_warns_it_is_not_supported():
    policy, warnings = sriov_network_node_policy(ManifestSettings(**GUIDE), 7)

    assert policy == {
        "apiVersion": "sriovnetwork.openshift.io/v1",
        "kind": "SriovNetworkNodePolicy",
        "metadata": {"name": "sriov-dpu", "namespace": "sriov-network-operator"},
        "spec": {
            "resourceName": "sriov_dpu",
            "nodeSelector": {
                "feature.node.kubernetes.io/network-sriov.capable": "true"
            },
            "numVfs": 7,
            "nicSelector": {"vendor": "1f47", "deviceID": "1001"},
            "deviceType": "netdevice",
            "eSwitchMode": "switchdev",
        },
    }
    assert warnings[0].startswith("NIC 1f47:1001 is not in the SR-IOV network operator")


def test_a_connectx5_policy_has_only_the_prefix_warning():
    settings = ManifestSettings(**GUIDE | {"vendor": "15b3", "device": "1018"})

    policy, warnings = sriov_network_node_policy(settings, 8, pf_device=None)

    assert policy["spec"]["nicSelector"] == {"vendor": "15b3", "deviceID": "1017"}
    assert len(warnings) == 1
    assert "RESOURCE_PREFIX" in warnings[0]


def test_a_corigine_policy_needs_its_pf_id_and_warns():
    settings = ManifestSettings(**GUIDE | {"vendor": "19ee", "device": "6003"})

    with pytest.raises(ManifestError, match="PF device ID of 19ee:6003 unknown"):
        sriov_network_node_policy(settings, 4)
    _, warnings = sriov_network_node_policy(settings, 4, pf_device="4000")
    assert "19ee:4000 is not in the SR-IOV network operator's" in warnings[0]


def test_the_install_env_turns_offload_on_as_the_guide_does():
    assert kube_ovn_install_env("p0") == (
        "# Kube-OVN install.sh settings for hardware offload (from ovsflow).\n"
        "HW_OFFLOAD=true\n"
        "IFACE=p0\n"
        "ENABLE_LB=false\n"
        "ENABLE_MIRROR=false\n"
    )


@pytest.mark.parametrize("iface", ["", "p0; rm -rf /", "$(reboot)", "p0 p1", "../x"])
def test_the_install_env_refuses_an_iface_a_shell_would_misread(iface: str):
    with pytest.raises(ManifestError):
        kube_ovn_install_env(iface)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"vendor": "1F47"}, "expected a vendor ID as four lowercase hex digits"),
        ({"vendor": "0x1f47"}, "expected a vendor ID as four lowercase hex digits"),
        ({"device": "110"}, "expected a VF device ID as four lowercase hex digits"),
        ({"resource": "sriov_dpu"}, "resource 'sriov_dpu' has no prefix"),
        ({"resource": "Yusur.tech/sriov_dpu"}, "resource prefix 'Yusur.tech' is not"),
        (
            {"resource": "kubernetes.io/vf"},
            "resource prefix 'kubernetes.io' is reserved",
        ),
        ({"resource": "x.kubernetes.io/vf"}, "resource prefix 'x.kubernetes.io' is"),
        ({"resource": "yusur.tech/_dpu"}, "resource name '_dpu' must be 1-63"),
        ({"resource": "yusur.tech/dpu_"}, "resource name 'dpu_' must be 1-63"),
        ({"resource": "yusur.tech/" + "a" * 64}, "resource name 'aaaa"),
        ({"resource": "yusur.tech/sriov.dpu"}, "resource name 'sriov.dpu' must be"),
        ({"nad": "test"}, "NAD 'test' needs a namespace"),
        ({"nad": "Kube-System/test"}, "NAD namespace 'Kube-System' is not a DNS label"),
        ({"nad": "kube-system/te_st"}, "NAD name 'te_st' is not a DNS subdomain"),
        ({"pod": "default/../../x"}, "pod namespace 'default/../..' is not a DNS"),
        ({"pod": "default/nginx.v1"}, "container name 'nginx.v1' is not a DNS label"),
        ({"image": "nginx alpine"}, "expected a container image reference"),
        ({"vfs": 0}, "a pod needs at least 1 VF, not 0"),
        ({"plugin_version": "latest"}, "expected a device plugin version"),
        ({"pf_names": ("p0#3-1",)}, "pfNames entry 'p0#3-1': range '3-1' runs down"),
        ({"pf_names": ("../p0",)}, "pfNames entry: expected an interface name"),
        ({"root_devices": ("00:0a.0",)}, "rootDevices entry: PCI address '00:0a.0'"),
    ],
)
def test_bad_names_are_refused_before_any_yaml(change: dict[str, Any], message: str):
    with pytest.raises(ManifestError) as caught:
        ManifestSettings(**GUIDE | change)

    assert str(caught.value).startswith(message)


def test_a_hyphen_in_the_resource_name_needs_plugin_v3_6():
    settings = GUIDE | {"resource": "yusur.tech/sriov-dpu"}

    assert ManifestSettings(**settings).resource == "yusur.tech/sriov-dpu"
    with pytest.raises(ManifestError) as caught:
        ManifestSettings(**settings, plugin_version="v3.5.1")
    assert str(caught.value) == (
        "resource name 'sriov-dpu' has '-', which the device plugin allows only"
        " from v3.6.0 (this is v3.5.1)"
    )


def test_a_very_long_name_is_cut_short_in_the_message():
    with pytest.raises(ManifestError) as caught:
        ManifestSettings(**GUIDE | {"nad": "kube-system/" + "x" * 100_000})

    assert len(str(caught.value)) < 300
