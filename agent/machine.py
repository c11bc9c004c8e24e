"""The report's ``machine`` block: who this machine is and what it is made of."""
from __future__ import annotations

from agent.report import Machine
from agent.state import hostname, machine_id
from checks.probes import Host


def describe_machine(host: Host) -> Machine:
    return Machine(id=machine_id(host), hostname=hostname(), os=host.os,
                   os_version=host.os_version, arch=host.arch)
