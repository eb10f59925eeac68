"""The `isolation` key of bench.yml: which cores the server and the load workers get."""

from __future__ import annotations

from collections.abc import Mapping

from benchaction.config.checker import Checker
from benchaction.config.fields import KeyPath, cpu_list, did_you_mean, expected
from benchaction.config.model import Isolation

__all__ = ["ISOLATION_FORMS", "build_isolation"]

ISOLATION_FORMS = "one of: auto, off, or a mapping {server: CPU list, load: CPU list}"
_WORDS = ("auto", "off")


def build_isolation(ck: Checker, value: object, path: KeyPath, *, url: bool) -> Isolation:
    """`auto`, `off` or explicit CPU sets; `url`: the server is not started here, so not pinned.

    YAML 1.1 reads a bare `off` (and `no`, `false`) as false and `on` as true: both are accepted.
    """
    if value is False or value == "off":
        return Isolation(mode="off")
    if value is True or value == "auto":
        return Isolation(mode="auto")
    if not isinstance(value, Mapping):
        hint = did_you_mean(value, _WORDS) if isinstance(value, str) else ""
        ck.add(path, expected(ISOLATION_FORMS, value) + hint)
        return Isolation()
    m = ck.mapping(value, path, ("load", "server"))
    server = ck.field(m, "server", path, cpu_list, None)
    load = ck.field(m, "load", path, cpu_list, None)
    if not m:
        ck.add(path, "set server, load or both (CPU lists like '0-2'), or use 'auto' or 'off'")
    if server is not None and load is not None and set(server) & set(load):
        shared = ",".join(map(str, sorted(set(server) & set(load))))
        ck.add(path, f"server and load share CPU {shared}: the two sets must be disjoint")
    if server is not None and url:
        ck.add(
            (*path, "server"),
            "the server at server.url is not started by bench-action, so it cannot be pinned "
            "(set only `load`)",
        )
    return Isolation(mode="explicit", server=server, load=load)
