"""Probes: each gathers one kind of fact about the machine through a ``core.host.Host``."""
