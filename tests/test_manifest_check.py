"""ovsflow.manifest_check: each usual mistake is found in a broken copy of the guide."""

from __future__ import annotations

from pathlib import Path

import pytest

from ovsflow.manifest_check import Finding, check_files

DATA = Path(__file__).parent / "data" / "manifests"
POD = "Pod default/nginx"
DEFAULT_NETWORK = "metadata.annotations[v1.multus-cni.io/default-network]"


def expected_findings() -> dict[str, list[str]]:
    """broken-findings.txt (each line checked against its file's one edit), by file."""
    expected: dict[str, list[str]] = {}
    for line in (DATA / "broken-findings.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            expected.setdefault(line.partition(":")[0], []).append(line)
    return expected


EXPECTED = expected_findings()


def test_the_guides_manifests_have_no_findings():
    assert check_files([DATA / "guide.yaml"], kubernetes_version="1.30") == []


def test_every_broken_copy_has_a_test():
    assert sorted(p.name for p in (DATA / "broken").iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_mistake_is_found_with_its_file_object_and_field(name: str):
    path = DATA / "broken" / name

    findings = check_files([path], kubernetes_version="1.30")

    assert [str(f).replace(str(path), name, 1) for f in findings] == EXPECTED[name]


def test_a_finding_reads_as_one_line_naming_file_object_and_field():
    finding = Finding("a.yaml", 48, POD, DEFAULT_NETWORK, "no NAD")

    assert str(finding) == (
        "a.yaml:48: Pod default/nginx:"
        " metadata.annotations[v1.multus-cni.io/default-network]: no NAD"
    )


def test_objects_spread_over_several_files_are_checked_together(tmp_path: Path):
    docs = (DATA / "guide.yaml").read_text().split("\n---\n")
    for i, doc in enumerate(docs):
        (tmp_path / f"{i}.yaml").write_text(doc)

    assert check_files(sorted(tmp_path.iterdir()), kubernetes_version="1.30") == []
    assert check_files([tmp_path / "2.yaml"], schema=False)[0].message.startswith(
        "no NetworkAttachmentDefinition kube-system/test in the files"
    )


def test_list_selectors_and_hyphens_are_findings_for_plugin_v3_5(tmp_path: Path):
    text = (DATA / "guide.yaml").read_text()
    text = text.replace('"selectors": {', '"selectors": [{').replace("}}", "}]}")
    path = tmp_path / "v36.yaml"
    path.write_text(text.replace("sriov_dpu", "sriov-dpu"))

    messages = [f.message for f in check_files([path], plugin_version="v3.5.1")]

    assert check_files([path], plugin_version="v3.6.2") == []
    assert messages == [
        "resource name 'sriov-dpu' has '-', which the device plugin allows only"
        " from v3.6.0 (this is v3.5.1)",
        "device plugin v3.5.1 reads one object here, not a list",
        "resource name 'sriov-dpu' has '-', which the device plugin allows only"
        " from v3.6.0 (this is v3.5.1)",
    ]


def test_a_file_that_is_not_yaml_is_one_finding_at_its_line(tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text("kind: Pod\nmetadata: {name: x\n")

    [finding] = check_files([path])

    assert (finding.line, finding.object, finding.field) == (3, "-", "-")
    assert finding.message.startswith("YAML: ")


def test_a_deployment_template_and_the_networks_annotation_are_checked(tmp_path: Path):
    path = tmp_path / "deploy.yaml"
    path.write_text(
        (DATA / "guide.yaml").read_text().split("\n---\n")[1] + "\n---\n" + DEPLOYMENT
    )

    findings = check_files([path], kubernetes_version="1.30")

    assert [(f.object, f.field) for f in findings] == [
        (
            "Deployment web/nginx",
            "spec.template.metadata.annotations[k8s.v1.cni.cncf.io/networks]",
        ),
        (
            "Deployment web/nginx",
            "spec.template.spec.containers[0].resources.requests[yusur.tech/sriov_dpu]",
        ),
        (
            "Deployment web/nginx",
            "spec.template.spec.containers[0].resources.limits[yusur.tech/sriov_dpu]",
        ),
    ]
    assert findings[0].message == "no NetworkAttachmentDefinition web/test in the files"
    assert findings[2].message.startswith("no device plugin ConfigMap entry in the")


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: nginx, namespace: web}
spec:
  selector: {matchLabels: {app: nginx}}
  template:
    metadata:
      labels: {app: nginx}
      annotations:
        k8s.v1.cni.cncf.io/networks: kube-system/test, test@net1
    spec:
      containers:
      - name: nginx
        image: nginx
        resources:
          requests: {yusur.tech/sriov_dpu: 1}
          limits: {yusur.tech/sriov_dpu: 2}
"""
