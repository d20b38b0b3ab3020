"""Find the usual mistakes in SR-IOV, Multus and Kube-OVN manifests.

:func:`check_files` reads YAML files and returns :class:`Finding` records,
each naming the file, the line where the object starts, the object and the
field. Checks, object by object:

- device plugin ConfigMap: ``config.json`` parses; each resource name and
  prefix would be accepted; ``selectors`` has the form the plugin version
  reads; vendor and device IDs are four lowercase hex digits;
- NetworkAttachmentDefinition: ``spec.config`` parses; a ``kube-ovn`` plugin's
  ``provider`` is ``{name}.{namespace}.ovn``; the resource annotation is valid;
- Pod and workloads with a pod template: Multus annotations name a NAD among
  the files checked, the default network with its namespace; every VF
  resource is published by a ConfigMap entry (or an operator policy) and has
  equal requests and limits;
- core kinds against the Kubernetes JSON schema (``kubernetes-validate``).

Cross-references are resolved among the files checked together, so give the
ConfigMap, the NADs and the pods in one call.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ovsflow import manifest_names as names
from ovsflow.errors import ManifestError
from ovsflow.manifests import DEFAULT_NETWORK_ANNOTATION, RESOURCE_ANNOTATION

NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks"
# The plugin's --resource-prefix default, used when an entry gives none.
PLUGIN_DEFAULT_PREFIX = "intel.com"
_TEMPLATE_KINDS = {"Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job"}
_SCHEMA_GROUPS = {"v1", "apps/v1", "batch/v1"}


@dataclass(frozen=True, slots=True)
class Finding:
    """One mistake: where it is and what is wrong."""

    file: str
    line: int
    object: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.object}: {self.field}: {self.message}"


@dataclass(frozen=True, slots=True)
class _Document:
    file: str
    line: int
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", "?"))

    @property
    def namespace(self) -> str:
        return str(_get(self.body, "metadata", "namespace") or "default")

    @property
    def name(self) -> str:
        return str(_get(self.body, "metadata", "name") or "?")

    @property
    def label(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


def check_files(
    paths: Iterable[str | Path],
    *,
    plugin_version: str = "v3.6.2",
    kubernetes_version: str | None = None,
    schema: bool = True,
) -> list[Finding]:
    """Every finding in the files, in file and line order.

    ``kubernetes_version`` picks the schemas (default: the newest the
    ``kubernetes-validate`` package ships); ``schema=False`` skips them.
    Raises :class:`ManifestError` when a file cannot be read at all.
    """
    plugin = names.parse_plugin_version(plugin_version)
    docs: list[_Document] = []
    findings: list[Finding] = []
    for path in paths:
        loaded, problems = _load(Path(path))
        docs += loaded
        findings += problems

    checker = _Checker(docs, plugin)
    findings += checker.run()
    if schema:
        findings += _schema_findings(docs, kubernetes_version)
    return sorted(findings, key=lambda f: (f.file, f.line))


def _load(path: Path) -> tuple[list[_Document], list[Finding]]:
    import yaml

    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"cannot read {str(path)!r}: {exc}") from exc
    docs: list[_Document] = []
    loader = yaml.SafeLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            body = loader.construct_document(node)
            if isinstance(body, dict):
                docs.append(_Document(str(path), node.start_mark.line + 1, body))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc)
        return docs, [Finding(str(path), line, "-", "-", f"YAML: {problem}")]
    finally:
        loader.dispose()
    return docs, []


class _Checker:
    def __init__(self, docs: list[_Document], plugin: tuple[int, int, int]) -> None:
        self.docs = docs
        self.plugin = plugin
        self.findings: list[Finding] = []
        self.published: set[str] = set()
        self.policy_names: set[str] = set()
        self.nads: dict[str, str | None] = {}

    def run(self) -> list[Finding]:
        for doc in self.docs:
            if doc.kind == "ConfigMap":
                self._configmap(doc)
            elif doc.kind == "SriovNetworkNodePolicy":
                self.policy_names.add(str(_get(doc.body, "spec", "resourceName")))
            elif doc.kind == "NetworkAttachmentDefinition":
                self._nad(doc)
        for doc in self.docs:
            template = _pod_template(doc)
            if template is not None:
                self._pod(doc, *template)
        return self.findings

    def add(self, doc: _Document, field: str, message: str) -> None:
        self.findings.append(Finding(doc.file, doc.line, doc.label, field, message))

    def _configmap(self, doc: _Document) -> None:
        text = _get(doc.body, "data", "config.json")
        if not isinstance(text, str) or "resourceList" not in text:
            return
        field = "data[config.json]"
        try:
            config = json.loads(text)
        except json.JSONDecodeError as exc:
            self.add(doc, field, f"JSON does not parse: {exc}")
            return
        for i, entry in enumerate(_as_list(_get(config, "resourceList"))):
            self._resource_entry(doc, f"{field}.resourceList[{i}]", entry)

    def _resource_entry(self, doc: _Document, field: str, entry: Any) -> None:
        if not isinstance(entry, dict):
            self.add(doc, field, "expected an object")
            return
        name = str(entry.get("resourceName", ""))
        prefix = str(entry.get("resourcePrefix") or PLUGIN_DEFAULT_PREFIX)
        problem = names.resource_name_problem(name, self.plugin)
        if problem:
            self.add(doc, f"{field}.resourceName", problem)
        problem = names.resource_prefix_problem(prefix)
        if problem:
            self.add(doc, f"{field}.resourcePrefix", problem)
        self.published.add(f"{prefix}/{name}")

        selectors = entry.get("selectors")
        version = "v" + ".".join(map(str, self.plugin))
        if isinstance(selectors, list) and self.plugin < names.PLUGIN_LIST_SELECTORS:
            self.add(
                doc,
                f"{field}.selectors",
                f"device plugin {version} reads one object here, not a list",
            )
        for j, selector in enumerate(_as_list(selectors)):
            where = f"{field}.selectors" + (
                f"[{j}]" if isinstance(selectors, list) else ""
            )
            for key, what in (("vendors", "a vendor ID"), ("devices", "a device ID")):
                values = _get(selector, key)
                for k, value in enumerate(_as_list(values)):
                    problem = names.pci_id_problem(value, what)
                    if problem:
                        self.add(doc, f"{where}.{key}[{k}]", problem)

    def _nad(self, doc: _Document) -> None:
        resource = _get(doc.body, "metadata", "annotations", RESOURCE_ANNOTATION)
        self.nads[f"{doc.namespace}/{doc.name}"] = resource
        if isinstance(resource, str):
            problem = names.resource_problem(resource, self.plugin)
            if problem:
                self.add(doc, f"metadata.annotations[{RESOURCE_ANNOTATION}]", problem)

        text = _get(doc.body, "spec", "config")
        try:
            config = json.loads(text) if isinstance(text, str) else None
        except json.JSONDecodeError as exc:
            self.add(doc, "spec.config", f"JSON does not parse: {exc}")
            return
        if not isinstance(config, dict):
            self.add(doc, "spec.config", "expected a JSON object in a string")
            return
        plugins = config.get("plugins", [config])
        expected = f"{doc.name}.{doc.namespace}.ovn"
        for i, plugin in enumerate(_as_list(plugins)):
            provider = _get(plugin, "provider")
            if _get(plugin, "type") == "kube-ovn" and provider != expected:
                self.add(
                    doc,
                    f"spec.config.plugins[{i}].provider",
                    f"is {provider!r}; Kube-OVN needs {expected!r} ({{name}}."
                    "{namespace}.ovn of this NAD)",
                )

    def _pod(self, doc: _Document, path: str, meta: Any, spec: Any) -> None:
        annotations = _get(meta, "annotations") or {}
        needed: dict[str, str] = {}
        for nad, field in self._networks(doc, path, annotations):
            if nad not in self.nads:
                self.add(
                    doc, field, f"no NetworkAttachmentDefinition {nad} in the files"
                )
            elif isinstance(self.nads[nad], str):
                needed[str(self.nads[nad])] = nad

        requested: set[str] = set()
        for kind in ("initContainers", "containers"):
            for i, container in enumerate(_as_list(_get(spec, kind))):
                where = f"{path}spec.{kind}[{i}].resources"
                requested |= self._resources(doc, where, _get(container, "resources"))
        for resource, nad in needed.items():
            if resource not in requested:
                self.add(
                    doc,
                    f"{path}spec.containers",
                    f"NAD {nad} gives VFs of {resource!r}, which no container requests",
                )

    def _networks(
        self, doc: _Document, path: str, annotations: Any
    ) -> Iterator[tuple[str, str]]:
        field = f"{path}metadata.annotations[{DEFAULT_NETWORK_ANNOTATION}]"
        default = _get(annotations, DEFAULT_NETWORK_ANNOTATION)
        if isinstance(default, str) and "/" not in default:
            self.add(
                doc,
                field,
                f"{default!r} has no namespace: Multus then looks in its own"
                f" namespace, not the pod's; write 'namespace/{default}'",
            )
        elif isinstance(default, str):
            yield default, field

        field = f"{path}metadata.annotations[{NETWORKS_ANNOTATION}]"
        value = _get(annotations, NETWORKS_ANNOTATION)
        if isinstance(value, str) and value.strip().startswith("["):
            try:
                entries = json.loads(value)
            except json.JSONDecodeError as exc:
                self.add(doc, field, f"JSON does not parse: {exc}")
                return
            for entry in _as_list(entries):
                ns = _get(entry, "namespace") or doc.namespace
                yield f"{ns}/{_get(entry, 'name')}", field
        elif isinstance(value, str):
            for item in filter(None, (v.strip() for v in value.split(","))):
                ref = item.partition("@")[0]
                yield (ref if "/" in ref else f"{doc.namespace}/{ref}"), field

    def _resources(self, doc: _Document, where: str, resources: Any) -> set[str]:
        requests = _get(resources, "requests") or {}
        limits = _get(resources, "limits") or {}
        extended = {
            str(key)
            for key in [*_keys(requests), *_keys(limits)]
            if "/" in str(key) and "kubernetes.io/" not in str(key)
        }
        for resource in sorted(extended):
            request, limit = _get(requests, resource), _get(limits, resource)
            if request is not None and str(request) != str(limit):
                self.add(
                    doc,
                    f"{where}.requests[{resource}]",
                    f"is {request!r} but the limit is {limit!r}; extended resources"
                    " need equal requests and limits",
                )
            self._published(doc, f"{where}.limits[{resource}]", resource)
        return extended

    def _published(self, doc: _Document, field: str, resource: str) -> None:
        prefix, _, name = resource.partition("/")
        if resource in self.published or name in self.policy_names:
            return
        prefixes = {p.partition("/")[0] for p in self.published}
        known = {p.partition("/")[2] for p in self.published}
        if prefix not in prefixes and name not in known and not self._vf(resource):
            return  # not an SR-IOV resource as far as these files tell
        offered = ", ".join(sorted(self.published)) or "none"
        self.add(
            doc,
            field,
            f"no device plugin ConfigMap entry in the files publishes {resource!r}"
            f" (published: {offered})",
        )

    def _vf(self, resource: str) -> bool:
        return resource in {r for r in self.nads.values() if isinstance(r, str)}


def _pod_template(doc: _Document) -> tuple[str, Any, Any] | None:
    if doc.kind == "Pod":
        return "", _get(doc.body, "metadata"), _get(doc.body, "spec")
    if doc.kind in _TEMPLATE_KINDS:
        template = _get(doc.body, "spec", "template")
        return "spec.template.", _get(template, "metadata"), _get(template, "spec")
    if doc.kind == "CronJob":
        path = "spec.jobTemplate.spec.template."
        template = _get(doc.body, "spec", "jobTemplate", "spec", "template")
        return path, _get(template, "metadata"), _get(template, "spec")
    return None


def _schema_findings(docs: list[_Document], version: str | None) -> list[Finding]:
    try:
        import kubernetes_validate
    except ImportError as exc:
        raise ManifestError(
            "the schema check needs kubernetes-validate: pip install 'ovsflow[k8s]'"
        ) from exc
    version = version or kubernetes_validate.latest_version()
    findings = []
    for doc in docs:
        if doc.body.get("apiVersion") not in _SCHEMA_GROUPS:
            continue
        try:
            kubernetes_validate.validate(doc.body, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            field = "".join(
                f"[{p}]" if isinstance(p, int) else f".{p}" for p in exc.path
            ).lstrip(".")
            message = f"Kubernetes {version} schema: {exc.message}"
            label = doc.label
            findings.append(Finding(doc.file, doc.line, label, field or "-", message))
        except kubernetes_validate.SchemaNotFoundError:
            continue
    return findings


def _get(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _keys(value: Any) -> list[Any]:
    return list(value) if isinstance(value, dict) else []
