"""Reads bench.yml, applies a profile and overrides, and returns a validated Config.

Every problem is collected and reported at once, each with its file, line and key path.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from benchaction.config import fields, scenario
from benchaction.config import server as server_section
from benchaction.config.checker import Checker
from benchaction.config.fields import FieldError, KeyPath
from benchaction.config.isolation import build_isolation
from benchaction.config.model import Config, Isolation, Scenario, ServerSpec
from benchaction.config.naming import default_name
from benchaction.errors import ConfigError

__all__ = ["PROFILES_BUILTIN", "config_from_mapping", "load_config", "parse_duration", "parse_size"]

PROFILES_BUILTIN = ("pr", "full")
"""Profile names always accepted by --profile, even when the file does not define them."""

TOP_KEYS = (
    "budget",
    "isolation",
    "name",
    "profiles",
    "reuse",
    "scenarios",
    "server",
    "trials",
    "version",
)
PATCH_KEYS = ("budget", "isolation", "name", "reuse", "scenarios", "server", "trials")
"""Top-level keys a profile (or a CLI override) may change."""

_ANY = "[]"
"""Stands for any list index in the key paths of _REPLACES."""
_REPLACES: dict[KeyPath, dict[str, tuple[str, ...]]] = {
    ("server",): {"image": ("build", "url"), "build": ("image", "url"), "url": ("image", "build")},
    ("scenarios", _ANY): {
        "duration": ("requests",),
        "requests": ("duration",),
        "rate": ("concurrency",),
        "concurrency": ("rate", "arrival", "max_concurrency"),
    },
    ("scenarios", _ANY, "sweep"): {"concurrency": ("rate",), "rate": ("concurrency",)},
}
"""Alternatives: a key set by a profile removes these keys, since a profile cannot delete one."""

Lines = dict[KeyPath, int | None]


def parse_duration(value: object, *, where: str, positive: bool = True) -> float:
    """Seconds from a number or a string like 250ms, 1.5s, 2m; `where` prefixes errors."""
    try:
        return fields.duration(value, positive=positive)
    except FieldError as exc:
        raise ConfigError([f"{where}: {exc}"]) from None


def parse_size(value: object, *, where: str) -> int:
    """Bytes from a number or a string like 512m, 2g, 1GiB (1024-based); `where` prefixes errors."""
    try:
        return fields.size(value)
    except FieldError as exc:
        raise ConfigError([f"{where}: {exc}"]) from None


def load_config(
    path: str | Path,
    *,
    profile: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Load and validate a bench.yml, with profile `profile` and then `overrides` merged in."""
    source, file = str(path), Path(path).resolve()
    data, lines, duplicates = _read_yaml(Path(path), source)
    return _checked(data, source, lines, duplicates, file, profile, overrides)


def config_from_mapping(
    data: Mapping[str, Any],
    *,
    source: str,
    file: Path,
    profile: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Check a bench.yml's content built in code (from CLI flags, say); `source` names it in errors.

    `file` stands for the config file: relative paths in `data` start from its folder.
    """
    return _checked(data, source, {}, [], file.resolve(), profile, overrides)


def _checked(
    data: Any,
    source: str,
    lines: Lines,
    duplicates: list[str],
    file: Path,
    profile: str | None,
    overrides: Mapping[str, Any] | None,
) -> Config:
    """The checks and merges shared by a file and a mapping."""
    ck = Checker(source, lines)
    ck.problems.extend(duplicates)
    if not isinstance(data, Mapping):
        what = "a mapping with version, server and scenarios"
        raise ConfigError([f"{source}:1: {fields.expected(what, data)}"])
    if "version" not in data:
        ck.add(("version",), "required key is missing; this bench-action reads version 1")
    elif type(data["version"]) is not int or data["version"] != 1:
        got = fields.describe(data["version"])
        raise ConfigError(
            [ck.format(("version",), f"this bench-action reads version 1, got {got}")]
        )

    doc: dict[Any, Any] = copy.deepcopy(dict(data))
    profiles = _profiles(ck, doc.pop("profiles", {}), _scenario_names(doc))
    if profile is not None:
        if profile in profiles:
            _apply(lines, doc, profiles[profile], ("profiles", profile))
        elif profile not in PROFILES_BUILTIN:
            defined = ", ".join(sorted(profiles)) or "none"
            hint = fields.did_you_mean(profile, list(profiles))
            known = f"defined: {defined}; pr and full are always accepted"
            ck.add(("profiles",), f"no profile named {profile!r}{hint} ({known})")
    if overrides:
        _check_patch(ck, overrides, ("overrides",), _scenario_names(doc), "overrides")
        _apply(lines, doc, overrides, ("overrides",))

    config = _config(ck, doc, file, profile)
    if config is None or ck.problems:
        raise ConfigError(ck.problems)
    return config


def _read_yaml(file: Path, source: str) -> tuple[Any, Lines, list[str]]:
    """The document's data, the line of every key and list item, and duplicate keys found."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{source}: file not found"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{source}: not UTF-8 text (byte {exc.start})"]) from None
    except OSError as exc:
        raise ConfigError([f"{source}: cannot read: {exc.strerror}"]) from None
    loader = yaml.SafeLoader(text)
    lines: Lines = {}
    duplicates: list[str] = []
    try:
        node = loader.get_single_node()
        if node is None:
            return None, lines, duplicates
        _walk(node, (), lines, duplicates, source)
        return loader.construct_document(node), lines, duplicates
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = source if mark is None else f"{source}:{mark.line + 1}:{mark.column + 1}"
        what = ", ".join(part for part in (exc.context, exc.problem) if part)
        raise ConfigError([f"{where}: YAML syntax error: {what}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{source}: YAML error: {exc}"]) from None
    finally:
        loader.dispose()


def _walk(
    node: yaml.Node,
    path: KeyPath,
    lines: Lines,
    duplicates: list[str],
    source: str,
    seen: set[int] | None = None,
) -> None:
    """Record the 1-based line of every mapping key and list item under `node`.

    A node reached again through an alias is not walked again: its values keep the alias's line.
    """
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.tag)
            here = (*path, key)
            line = key_node.start_mark.line + 1
            if here in lines and key != "<<":
                where = f"{source}:{line}: {fields.show_path(here)}"
                duplicates.append(f"{where}: duplicate key (first at line {lines[here]})")
            else:
                lines[here] = line
            _walk(value_node, here, lines, duplicates, source, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), lines, duplicates, source, seen)


def _scenario_names(doc: Mapping[Any, Any]) -> list[str]:
    scenarios = doc.get("scenarios")
    if not isinstance(scenarios, list):
        return []
    names = (s.get("name") for s in scenarios if isinstance(s, Mapping))
    return [n for n in names if isinstance(n, str)]


def _profiles(ck: Checker, value: object, names: list[str]) -> dict[str, Mapping[Any, Any]]:
    """The defined profiles, each checked for its shape (whether selected or not)."""
    if not isinstance(value, Mapping):
        ck.add(("profiles",), fields.expected("a mapping of profile names to settings", value))
        return {}
    out: dict[str, Mapping[Any, Any]] = {}
    for name, body in value.items():
        path: KeyPath = ("profiles", str(name))
        if not isinstance(body, Mapping):
            ck.add(path, fields.expected("a mapping of top-level keys to override", body))
            continue
        _check_patch(ck, body, path, names, "a profile")
        out[str(name)] = body
    return out


def _check_patch(
    ck: Checker, patch: Mapping[Any, Any], src: KeyPath, names: list[str], what: str
) -> None:
    """Report keys a profile may not set and scenario names it does not know."""
    for key in patch:
        if key in ("version", "profiles"):
            ck.add((*src, str(key)), f"cannot be set in {what}")
        elif key not in PATCH_KEYS:
            hint = fields.did_you_mean(str(key), PATCH_KEYS)
            ck.add((*src, str(key)), f"unknown key{hint} (allowed: {', '.join(PATCH_KEYS)})")
    scenarios = patch.get("scenarios")
    if not isinstance(scenarios, Mapping):
        return
    for name, part in scenarios.items():
        here = (*src, "scenarios", str(name))
        if name != "*" and name not in names:
            hint = fields.did_you_mean(str(name), names)
            known = ", ".join(names) or "none"
            ck.add(here, f"unknown scenario{hint} (scenarios: {known}; '*' means all of them)")
        if not isinstance(part, Mapping):
            ck.add(here, fields.expected("a mapping of scenario keys to override", part))


def _apply(lines: Lines, doc: dict[Any, Any], patch: Mapping[Any, Any], src: KeyPath) -> None:
    """Merge a profile or override into the document; lines follow the values they came with."""
    allowed = {k: v for k, v in patch.items() if k in PATCH_KEYS}
    scenarios = allowed.pop("scenarios", None)
    _merge(lines, doc, allowed, dest=(), src=src)
    if scenarios is None:
        return
    if not isinstance(scenarios, Mapping):
        _replace(lines, doc, "scenarios", scenarios, dest=("scenarios",), src=(*src, "scenarios"))
        return
    targets = doc.get("scenarios")
    if not isinstance(targets, list):
        return
    index = {s.get("name"): i for i, s in enumerate(targets) if isinstance(s, Mapping)}
    order = (["*"] if "*" in scenarios else []) + [k for k in scenarios if k != "*"]
    for name in order:
        part = scenarios[name]
        chosen = range(len(targets)) if name == "*" else [index[name]] if name in index else []
        for i in chosen:
            if isinstance(part, Mapping) and isinstance(targets[i], dict):
                theirs: KeyPath = (*src, "scenarios", str(name))
                _merge(lines, targets[i], part, dest=("scenarios", i), src=theirs)


def _merge(
    lines: Lines, base: dict[Any, Any], patch: Mapping[Any, Any], *, dest: KeyPath, src: KeyPath
) -> None:
    """Mappings merge recursively, anything else replaces; one alternative drops the others."""
    replaces = _REPLACES.get(tuple(_ANY if isinstance(p, int) else p for p in dest), {})
    for key in patch:
        for other in replaces.get(key, ()):
            if other not in patch and other in base:
                del base[other]
                _drop_lines(lines, (*dest, other))
    for key, value in patch.items():
        here, theirs = (*dest, str(key)), (*src, str(key))
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(lines, base[key], value, dest=here, src=theirs)
        else:
            _replace(lines, base, key, value, dest=here, src=theirs)


def _replace(
    lines: Lines, base: dict[Any, Any], key: Any, value: Any, *, dest: KeyPath, src: KeyPath
) -> None:
    base[key] = copy.deepcopy(value)
    _drop_lines(lines, dest)
    for path, line in list(lines.items()):
        if path[: len(src)] == src:
            lines[dest + path[len(src) :]] = line
    lines[dest] = lines.get(src)  # None for overrides: they have no line in the file


def _drop_lines(lines: Lines, prefix: KeyPath) -> None:
    for path in [p for p in lines if p[: len(prefix)] == prefix]:
        del lines[path]


def _config(ck: Checker, doc: Mapping[Any, Any], file: Path, profile: str | None) -> Config | None:
    """The top level of the merged document, as a Config (None when a section is unusable)."""
    ck.mapping(doc, (), TOP_KEYS)
    base = file.parent
    server: ServerSpec | None = None
    if "server" in doc:
        scenarios_doc = doc.get("scenarios")
        server = server_section.build_server(
            ck,
            doc["server"],
            ("server",),
            base,
            scenario.ready_path(scenarios_doc),
            scenario.ready_fallback(scenarios_doc),
        )
    else:
        ck.add(("server",), "required key is missing (set one of image, build or url)")
    scenarios: tuple[Scenario, ...] = ()
    if "scenarios" in doc:
        scenarios = scenario.build_scenarios(ck, doc["scenarios"], ("scenarios",), base)
    else:
        ck.add(("scenarios",), "required key is missing (a non-empty list)")
    name = ck.field(doc, "name", (), fields.string, default_name(file))
    trials, max_trials = _trials(ck, doc.get("trials", 3))
    budget = ck.field(doc, "budget", (), fields.duration, None)
    if budget is not None and max_trials is None:
        ck.add(("budget",), "only limits added trials: set trials: {min: N, max: M} as well")
    reuse = ck.field(doc, "reuse", (), fields.boolean, False)
    isolation = Isolation()
    if "isolation" in doc:
        url = server is not None and server.url is not None
        isolation = build_isolation(ck, doc["isolation"], ("isolation",), url=url)
    if server is None or not scenarios:
        return None
    return Config(
        file,
        name,
        server,
        scenarios,
        trials,
        reuse,
        profile,
        isolation=isolation,
        max_trials=max_trials,
        budget_s=budget,
    )


def _trials(ck: Checker, value: object) -> tuple[int, int | None]:
    """A fixed count, or {min, max}: min always run, then more while the verdict is undecided."""
    if not isinstance(value, Mapping):
        return ck.field(
            {"trials": value}, "trials", (), lambda v: fields.integer(v, minimum=1), 3
        ), None
    m = ck.mapping(value, ("trials",), ("max", "min"))
    low = ck.field(m, "min", ("trials",), lambda v: fields.integer(v, minimum=2), 3)
    high = ck.field(m, "max", ("trials",), lambda v: fields.integer(v, minimum=2), None)
    if "max" not in m:
        ck.add(("trials", "max"), "required key is missing (the most trials a side)")
    elif high is not None and high < low:
        ck.add(("trials", "max"), f"expected at least min ({low}), got {high}")
    return low, high
