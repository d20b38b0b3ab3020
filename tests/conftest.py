"""Shared fixtures.  Keep each small; helpers live in their own modules."""

from __future__ import annotations

import os
from collections.abc import Iterator

import ovs_scenarios
import pytest
from ovs import OvsSandbox, missing_programs


@pytest.fixture(scope="session")
def ovs_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OvsSandbox]:
    """A private ovsdb-server and ovs-vswitchd on the dummy datapath.

    Skips when Open vSwitch is not installed, except under ``CI=true``, where
    a missing OVS is a failure (``.ci/run`` installs it).
    """
    missing = missing_programs()
    if missing:
        message = f"Open vSwitch is not installed (missing {', '.join(missing)})"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    sandbox = OvsSandbox(tmp_path_factory.mktemp("ovs"))
    try:
        sandbox.start()
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture(scope="session")
def ovs_flows(ovs_sandbox: OvsSandbox) -> Iterator[ovs_scenarios.LiveFlows]:
    """The sandbox with every scenario built and its frames injected, once."""
    listeners = ovs_scenarios.Listener(), ovs_scenarios.Listener()
    flows = ovs_scenarios.LiveFlows(ovs_sandbox, *listeners)
    try:
        ovs_scenarios.build(ovs_sandbox, flows.sflow.port, flows.ipfix.port)
        ovs_scenarios.inject(ovs_sandbox)
        yield flows
    finally:
        flows.sflow.close()
        flows.ipfix.close()
