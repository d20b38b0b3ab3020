"""``ovsflow manifest render|check``, run in-process."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from ovsflow.cli import main

DATA = Path(__file__).parent / "data" / "manifests"
GUIDE_ARGS = [
    "--vendor", "1f47",
    "--device", "110f",
    "--resource", "yusur.tech/sriov_dpu",
    "--nad", "kube-system/test",
    "--pod", "default/nginx",
    "--image", "docker.io/library/nginx:alpine",
    "--vfs", "1",
    "--plugin-version", "v3.6.2",
]  # fmt: skip


def test_render_prints_one_stream_that_check_accepts(capsys, tmp_path: Path):
    assert main(["manifest", "render", *GUIDE_ARGS]) == 0
    out = capsys.readouterr().out
    path = tmp_path / "rendered.yaml"
    path.write_text(out)

    kinds = [d["kind"] for d in yaml.safe_load_all(out)]
    assert kinds == ["ConfigMap", "NetworkAttachmentDefinition", "Pod"]
    assert main(["manifest", "check", str(path)]) == 0
    assert capsys.readouterr().out == ""


def test_render_with_policy_and_install_env(capsys, caplog, tmp_path: Path):
    env = tmp_path / "offload.env"
    args = ["--operator-policy", "7", "--install-env", str(env), "--iface", "p0"]

    assert main(["manifest", "render", *GUIDE_ARGS, *args]) == 0

    policy = list(yaml.safe_load_all(capsys.readouterr().out))[-1]
    assert policy["spec"]["numVfs"] == 7
    assert "NIC 1f47:1001 is not in the SR-IOV network operator" in caplog.text
    assert "HW_OFFLOAD=true\nIFACE=p0\n" in env.read_text()


def test_render_refuses_a_bad_name_and_writes_nothing(capsys, tmp_path: Path):
    env = tmp_path / "offload.env"
    args = ["--install-env", str(env), "--iface", "p0", "--nad", "../etc/test"]

    assert main(["manifest", "render", *GUIDE_ARGS, *args]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "ovsflow: error: NAD namespace '../etc' is not a DNS label (at most 63"
        " lowercase letters, digits and '-', starting and ending with a letter or"
        " digit)\n"
    )
    assert not env.exists()


def test_check_exits_1_and_prints_each_finding(capsys):
    broken = DATA / "broken" / "provider.yaml"

    assert main(["manifest", "check", str(DATA / "guide.yaml"), str(broken)]) == 1

    assert capsys.readouterr().out == (
        f"{broken}:20: NetworkAttachmentDefinition kube-system/test:"
        " spec.config.plugins[0].provider: is 'test.default.ovn'; Kube-OVN needs"
        " 'test.kube-system.ovn' ({name}.{namespace}.ovn of this NAD)\n"
    )


def test_check_as_json(capsys):
    broken = DATA / "broken" / "requests-limits-differ.yaml"

    assert main(["manifest", "check", "--format", "json", str(broken)]) == 1

    [finding] = json.loads(capsys.readouterr().out)
    assert finding["object"] == "Pod default/nginx"
    assert finding["field"] == (
        "spec.containers[0].resources.requests[yusur.tech/sriov_dpu]"
    )


def test_check_of_a_missing_file_is_an_error(capsys, tmp_path: Path):
    assert main(["manifest", "check", str(tmp_path / "none.yaml")]) == 2
    assert capsys.readouterr().err.startswith("ovsflow: error: cannot read")
