"""Kubernetes manifests that publish SR-IOV VFs and attach them through Kube-OVN.

The objects are those of the Kube-OVN offload guide: the SR-IOV device
plugin's ConfigMap, a Multus ``NetworkAttachmentDefinition`` using the
``kube-ovn`` CNI, and a Pod (or Deployment) that asks for a VF. Optionally an
equivalent ``SriovNetworkNodePolicy`` for the SR-IOV network operator, and the
settings of Kube-OVN's ``install.sh`` that turn offload on.

Every builder returns plain ``dict`` objects; :func:`to_yaml` writes them as one
stream. All names are checked (see :mod:`ovsflow.manifest_names`) when the
:class:`ManifestSettings` is made, so a builder never sees a bad one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from ovsflow import manifest_names as names
from ovsflow.errors import ManifestError

Manifest = dict[str, Any]

DEFAULT_IMAGE = "docker.io/library/nginx:alpine"
DEFAULT_PLUGIN_VERSION = "v3.6.2"
# The ConfigMap the plugin's sriovdp-daemonset.yaml mounts.
DEFAULT_CONFIGMAP = "kube-system/sriovdp-config"
# Where the operator's README and Helm chart install it.
DEFAULT_OPERATOR_NAMESPACE = "sriov-network-operator"
KUBE_OVN_SOCKET = "/run/openvswitch/kube-ovn-daemon.sock"
DEFAULT_NETWORK_ANNOTATION = "v1.multus-cni.io/default-network"
RESOURCE_ANNOTATION = "k8s.v1.cni.cncf.io/resourceName"
DEVICE_TYPES = ("netDevice", "accelerator", "auxNetDevice")
_NUMBER_LIKE = re.compile(r"[-+.]?[0-9][0-9A-Za-z.+_:-]*")


@dataclass(frozen=True, slots=True)
class ManifestSettings:
    """What the manifests are made from; every field is checked on creation.

    ``resource`` is ``prefix/name``; ``nad``, ``pod`` and ``configmap`` are
    ``namespace/name``; ``vendor`` and ``device`` are the VF's PCI IDs.
    ``pf_names`` and ``root_devices`` may carry a ``#0-3`` VF range.
    Raises :class:`ManifestError` naming the first bad field.
    """

    vendor: str
    device: str
    resource: str
    nad: str
    pod: str
    image: str = DEFAULT_IMAGE
    vfs: int = 1
    plugin_version: str = DEFAULT_PLUGIN_VERSION
    configmap: str = DEFAULT_CONFIGMAP
    container: str | None = None
    workload: Literal["pod", "deployment"] = "pod"
    device_type: str = "netDevice"
    drivers: tuple[str, ...] = ()
    pf_names: tuple[str, ...] = ()
    root_devices: tuple[str, ...] = ()
    is_rdma: bool = False

    def __post_init__(self) -> None:
        plugin = names.parse_plugin_version(self.plugin_version)
        names.check_pci_id(self.vendor, "a vendor ID")
        names.check_pci_id(self.device, "a VF device ID")
        names.check(names.resource_problem(self.resource, plugin))
        for value, what in ((self.nad, "NAD"), (self.configmap, "ConfigMap")):
            names.check_namespaced(value, what)
        names.check_namespaced(self.pod, self.workload)
        names.check(names.dns_label_problem(self.container_name, "container name"))
        names.check_image(self.image)

        if self.vfs < 1:
            raise ManifestError(f"a pod needs at least 1 VF, not {self.vfs}")
        if self.workload not in ("pod", "deployment"):
            raise ManifestError(
                f"workload must be pod or deployment: {self.workload!r}"
            )
        if self.device_type not in DEVICE_TYPES:
            raise ManifestError(f"deviceType must be one of {', '.join(DEVICE_TYPES)}")
        if self.device_type == "auxNetDevice" and plugin < (3, 6, 0):
            raise ManifestError("deviceType auxNetDevice needs device plugin v3.6.0")
        for driver in self.drivers:
            names.check(names.dns_label_problem(driver.replace("_", "-"), "driver"))
        for entry in self.pf_names:
            names.check_vf_selector(entry, "pfNames")
        for entry in self.root_devices:
            names.check_vf_selector(entry, "rootDevices")

    @property
    def plugin(self) -> tuple[int, int, int]:
        return names.parse_plugin_version(self.plugin_version)

    @property
    def container_name(self) -> str:
        return self.container or self.pod.rpartition("/")[2]


def device_plugin_configmap(settings: ManifestSettings) -> Manifest:
    """The device plugin's ConfigMap with one ``resourceList`` entry.

    ``selectors`` is one object for plugins before v3.6.0 and a list of one
    object from then on (the form the plugin's README prefers); keys are
    written only when they differ from the plugin's defaults.
    """
    selector: dict[str, Any] = {
        "vendors": [settings.vendor],
        "devices": [settings.device],
    }
    for key, values in (
        ("drivers", settings.drivers),
        ("pfNames", settings.pf_names),
        ("rootDevices", settings.root_devices),
    ):
        if values:
            selector[key] = list(values)
    if settings.is_rdma:
        selector["isRdma"] = True

    prefix, _, name = settings.resource.partition("/")
    entry: dict[str, Any] = {"resourceName": name, "resourcePrefix": prefix}
    if settings.device_type != "netDevice":
        entry["deviceType"] = settings.device_type
    list_form = settings.plugin >= names.PLUGIN_LIST_SELECTORS
    entry["selectors"] = [selector] if list_form else selector

    namespace, cm_name = settings.configmap.split("/")
    config = json.dumps({"resourceList": [entry]}, indent=2) + "\n"
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": cm_name, "namespace": namespace},
        "data": {"config.json": config},
    }


def network_attachment_definition(settings: ManifestSettings) -> Manifest:
    """The NAD handing the VF to Kube-OVN; its ``provider`` is ``name.ns.ovn``."""
    namespace, name = settings.nad.split("/")
    config = {
        "cniVersion": "0.3.1",
        "name": "kube-ovn",
        "plugins": [
            {
                "type": "kube-ovn",
                "server_socket": KUBE_OVN_SOCKET,
                "provider": f"{name}.{namespace}.ovn",
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    return {
        "apiVersion": "k8s.cni.cncf.io/v1",
        "kind": "NetworkAttachmentDefinition",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "annotations": {RESOURCE_ANNOTATION: settings.resource},
        },
        "spec": {"config": json.dumps(config, indent=2) + "\n"},
    }


def workload(settings: ManifestSettings) -> Manifest:
    """A Pod, or a one-replica Deployment, that asks for ``vfs`` VFs.

    The default-network annotation always names the NAD with its namespace:
    without one Multus looks in its own namespace, not the pod's.
    """
    namespace, name = settings.pod.split("/")
    count = str(settings.vfs)
    container = {
        "name": settings.container_name,
        "image": settings.image,
        "resources": {
            "requests": {settings.resource: count},
            "limits": {settings.resource: count},
        },
    }
    annotations = {DEFAULT_NETWORK_ANNOTATION: settings.nad}
    if settings.workload == "pod":
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "annotations": annotations,
            },
            "spec": {"containers": [container]},
        }

    labels = {"app.kubernetes.io/name": name[:63].rstrip("-.")}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels, "annotations": annotations},
                "spec": {"containers": [container]},
            },
        },
    }


def sriov_network_node_policy(
    settings: ManifestSettings,
    numvfs: int,
    *,
    pf_device: str | None = None,
    namespace: str = DEFAULT_OPERATOR_NAMESPACE,
) -> tuple[Manifest, list[str]]:
    """The operator's policy creating ``numvfs`` switchdev VFs, and warnings.

    ``pf_device`` is the PF's device ID (the operator selects PFs, not VFs);
    it is looked up from the VF's when ovsflow knows the pair. A warning is
    returned when the operator's default supported-NIC list lacks the NIC,
    and always one about the resource prefix, which the operator sets
    globally rather than per policy.
    """
    names.check(names.dns_label_problem(namespace, "operator namespace"))
    if numvfs < 1:
        raise ManifestError(f"a policy needs at least 1 VF, not {numvfs}")
    known = [nic for nic in known_nics() if nic[0] == settings.vendor]
    if pf_device is None:
        pairs = [nic[1] for nic in known if nic[2] == settings.device]
        if len(pairs) != 1:
            raise ManifestError(
                f"PF device ID of {settings.vendor}:{settings.device} unknown: give it"
            )
        pf_device = pairs[0]
    names.check_pci_id(pf_device, "a PF device ID")

    warnings = []
    supported = {(nic[0], nic[1]) for nic in known_nics() if nic[3]}
    if (settings.vendor, pf_device) not in supported:
        warnings.append(
            f"NIC {settings.vendor}:{pf_device} is not in the SR-IOV network"
            " operator's default supported-NIC list; its webhook refuses the policy"
            " unless the NIC is added to ConfigMap supported-nic-ids"
        )
    prefix, _, name = settings.resource.partition("/")
    warnings.append(
        f"the operator publishes {name!r} under its own RESOURCE_PREFIX; set it to"
        f" {prefix!r} so that pods asking for {settings.resource!r} get VFs"
    )

    nic: dict[str, Any] = {"vendor": settings.vendor, "deviceID": pf_device}
    pf_names = [entry.partition("#")[0] for entry in settings.pf_names]
    if pf_names:
        nic["pfNames"] = pf_names
    if settings.root_devices:
        nic["rootDevices"] = [e.partition("#")[0] for e in settings.root_devices]
    spec: dict[str, Any] = {
        "resourceName": name,
        "nodeSelector": {"feature.node.kubernetes.io/network-sriov.capable": "true"},
        "numVfs": numvfs,
        "nicSelector": nic,
        "deviceType": "netdevice",
        "eSwitchMode": "switchdev",
    }
    if settings.is_rdma:
        spec["isRdma"] = True
    policy_name = name.lower().replace("_", "-")
    names.check(names.dns_subdomain_problem(policy_name, "policy name"))
    metadata = {"name": policy_name, "namespace": namespace}
    policy = {
        "apiVersion": "sriovnetwork.openshift.io/v1",
        "kind": "SriovNetworkNodePolicy",
        "metadata": metadata,
        "spec": spec,
    }
    return policy, warnings


def kube_ovn_install_env(iface: str, *, enable_lb: bool = False) -> str:
    """Settings for Kube-OVN's ``install.sh`` that turn offload on, as an env file.

    ``install.sh`` reads each as ``${NAME:-default}``, so exporting them before
    running it is enough (``set -a; . ./offload.env; set +a``). ``ENABLE_LB``
    is off as in the offload guide.
    """
    if not iface:
        raise ManifestError(
            "IFACE is empty: give the NIC that carries the tunnels (the PF, e.g. p0)"
        )
    names.check_ifaces(iface)
    lines = [
        "# Kube-OVN install.sh settings for hardware offload (from ovsflow).",
        "HW_OFFLOAD=true",
        f"IFACE={iface}",
        f"ENABLE_LB={'true' if enable_lb else 'false'}",
        "ENABLE_MIRROR=false",
    ]
    return "\n".join(lines) + "\n"


def known_nics() -> list[tuple[str, str, str, bool, str]]:
    """ovsflow's table of SR-IOV NICs: vendor, PF, VF, in operator list, name."""
    text = resources.files("ovsflow").joinpath("data/sriov_nics.txt").read_text()
    rows = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            vendor, pf, vf, operator, name = line.split()
            rows.append((vendor, pf, vf, operator == "yes", name))
    return rows


def to_yaml(objects: list[Manifest]) -> str:
    """One YAML stream; multi-line strings (the JSON configs) as ``|`` blocks."""
    import yaml

    dumper: Any = type("Dumper", (yaml.SafeDumper,), {})

    def represent_str(dumper: Any, value: str) -> Any:
        style = "|" if "\n" in value else None
        if _NUMBER_LIKE.fullmatch(value):
            # Kubernetes' YAML reads plain "1e10" (a valid device ID) as a float.
            style = "'"
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    # A subclass, so that PyYAML's shared SafeDumper is left as it was.
    dumper.add_representer(str, represent_str)
    text: str = yaml.dump_all(objects, Dumper=dumper, sort_keys=False, width=88)
    return text
