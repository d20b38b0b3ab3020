"""``ovsflow manifest render|check``: SR-IOV, Multus and Kube-OVN manifests."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from pathlib import Path

from ovsflow import manifest_check, manifests
from ovsflow.cli._help import DefaultsFormatter

_FORMATTER = DefaultsFormatter
_log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``manifest`` and its subcommands to the top-level parser."""
    parser = subparsers.add_parser(
        "manifest",
        help="write or check the manifests that publish and attach VFs",
        description="Write or check SR-IOV device plugin, Multus and pod manifests.",
    )
    sub = parser.add_subparsers(
        dest="manifest_command", metavar="ACTION", required=True
    )
    _add_render(sub)
    _add_check(sub)


def _add_render(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    render = sub.add_parser(
        "render",
        formatter_class=_FORMATTER,
        help="print the ConfigMap, NAD and pod as one YAML stream",
        description=(
            "Print the SR-IOV device plugin ConfigMap, the Kube-OVN"
            " NetworkAttachmentDefinition and a pod asking for a VF, as one YAML"
            " stream; every name is checked first."
        ),
    )
    add = render.add_argument
    add("--vendor", required=True, help="VF vendor ID, four hex digits (e.g. 1f47)")
    add("--device", required=True, help="VF device ID, four hex digits (e.g. 110f)")
    add("--resource", required=True, help="resource as prefix/name")
    add("--nad", required=True, help="NetworkAttachmentDefinition as namespace/name")
    add("--pod", required=True, help="pod (or deployment) as namespace/name")
    add("--image", default=manifests.DEFAULT_IMAGE, help="container image")
    add("--container", help="container name (default: the pod's name)")
    add("--vfs", type=int, default=1, help="VFs the pod requests")
    add(
        "--workload",
        choices=("pod", "deployment"),
        default="pod",
        help="write a Pod or a one-replica Deployment",
    )
    add(
        "--plugin-version",
        default=manifests.DEFAULT_PLUGIN_VERSION,
        help="SR-IOV device plugin release the ConfigMap is for",
    )
    add("--configmap", default=manifests.DEFAULT_CONFIGMAP, help="namespace/name")
    add(
        "--device-type",
        choices=manifests.DEVICE_TYPES,
        default="netDevice",
        help="device plugin deviceType",
    )
    add("--driver", action="append", default=[], help="selector: VF driver (repeat)")
    add("--pf-name", action="append", default=[], help="selector: PF name[#0-3]")
    add("--root-device", action="append", default=[], help="selector: PF PCI[#0-3]")
    add("--rdma", action="store_true", help="selector: isRdma")
    add(
        "--operator-policy",
        type=int,
        metavar="NUMVFS",
        help="also write a SriovNetworkNodePolicy creating NUMVFS VFs per PF",
    )
    add("--pf-device", help="PF device ID for the policy (known NICs: looked up)")
    add(
        "--operator-namespace",
        default=manifests.DEFAULT_OPERATOR_NAMESPACE,
        help="namespace of the SR-IOV network operator",
    )
    add("--install-env", metavar="FILE", help="write Kube-OVN install.sh settings here")
    add("--iface", default="", help="IFACE for install.sh: the NIC (names, commas)")
    render.set_defaults(func=_run_render)


def _add_check(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = sub.add_parser(
        "check",
        formatter_class=_FORMATTER,
        help="report the usual mistakes in manifests",
        description=(
            "Report mistakes in manifests read together: provider, NAD and"
            " resource names that do not line up, requests and limits that"
            " differ, names the device plugin rejects, bad JSON, and core"
            " objects against the Kubernetes schema. Exit status 1 if any."
        ),
    )
    check.add_argument("files", nargs="+", metavar="FILE", help="YAML files")
    check.add_argument(
        "--plugin-version",
        default=manifests.DEFAULT_PLUGIN_VERSION,
        help="SR-IOV device plugin release the ConfigMap is for",
    )
    check.add_argument(
        "--kubernetes-version",
        help="schemas to check against (default: newest in kubernetes-validate)",
    )
    check.add_argument(
        "--no-schema",
        dest="schema",
        action="store_false",
        help="skip the Kubernetes schema check",
    )
    check.add_argument(
        "--format", choices=("table", "json"), default="table", help="output format"
    )
    check.set_defaults(func=_run_check)


def _run_render(args: argparse.Namespace) -> int:
    settings = manifests.ManifestSettings(
        vendor=args.vendor,
        device=args.device,
        resource=args.resource,
        nad=args.nad,
        pod=args.pod,
        image=args.image,
        vfs=args.vfs,
        plugin_version=args.plugin_version,
        configmap=args.configmap,
        container=args.container,
        workload=args.workload,
        device_type=args.device_type,
        drivers=tuple(args.driver),
        pf_names=tuple(args.pf_name),
        root_devices=tuple(args.root_device),
        is_rdma=args.rdma,
    )
    objects = [
        manifests.device_plugin_configmap(settings),
        manifests.network_attachment_definition(settings),
        manifests.workload(settings),
    ]
    if args.operator_policy is not None:
        policy, warnings = manifests.sriov_network_node_policy(
            settings,
            args.operator_policy,
            pf_device=args.pf_device,
            namespace=args.operator_namespace,
        )
        objects.append(policy)
        for warning in warnings:
            _log.warning("%s", warning)
    env = manifests.kube_ovn_install_env(args.iface) if args.install_env else None

    # Everything is checked before anything is written.
    text = manifests.to_yaml(objects)
    if env is not None:
        Path(args.install_env).write_text(env)
    print(text, end="")
    return 0


def _run_check(args: argparse.Namespace) -> int:
    findings = manifest_check.check_files(
        args.files,
        plugin_version=args.plugin_version,
        kubernetes_version=args.kubernetes_version,
        schema=args.schema,
    )
    if args.format == "json":
        print(json.dumps([dataclasses.asdict(f) for f in findings], indent=2))
    else:
        for finding in findings:
            print(finding)
    return 1 if findings else 0
