"""The history dashboard: main-branch runs over commits as a static site for GitHub Pages.

Charts are SVG rendered here (no chart library: the page works offline, without script, and
stays light at 1,000 runs); a small script adds the profile/runner filters and tooltips.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import urlsplit

import jinja2

from benchaction.report.chart import Frame, nice_ticks, polyline, x_ticks

__all__ = [
    "DashboardChangePoint",
    "DashboardConfig",
    "DashboardData",
    "DashboardPoint",
    "DashboardSeries",
    "LatestChange",
    "write_site",
]

ASSETS = ("dashboard.css", "dashboard.js")
NONE = "(none)"  # shown for a run without a profile or fingerprint
DENSE = 120  # above this many points a chart draws the line and shows points on hover only


class DashboardPoint(TypedDict):
    """One main-branch run of one series: its value, trial spread and provenance."""

    commit: str
    date: str
    url: str | None
    commit_url: str | None
    profile: str
    fingerprint: str
    center: float
    low: float
    high: float
    n: int


class DashboardChangePoint(TypedDict):
    """A detected shift: `index` is the first point of the new level in the series' points."""

    index: int
    commit: str
    date: str
    change: float
    worse: bool


class LatestChange(TypedDict):
    """The newest change point of a config (or of all configs), with its sentence."""

    scenario: str
    metric: str
    label: str
    commit: str
    date: str
    url: str | None
    change: float
    worse: bool
    text: str


class DashboardSeries(TypedDict):
    """One scenario x metric of a config over its runs, oldest first."""

    scenario: str
    metric: str
    label: str
    unit: str
    higher_is_better: bool
    points: list[DashboardPoint]
    change_points: list[DashboardChangePoint]


class DashboardConfig(TypedDict):
    """The history of one benchmark config."""

    name: str
    runs: int
    latest_change: LatestChange | None
    series: list[DashboardSeries]


class DashboardData(TypedDict):
    """Everything the dashboard shows; the history module builds it from the store."""

    title: str
    generated_at: str
    tool_version: str
    latest_change: LatestChange | None
    configs: list[DashboardConfig]


def _parse_date(text: str, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(
            f"{where}: date {text!r} is not ISO 8601 (e.g. 2026-12-03T10:00:00+00:00)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _when(text: str) -> str:
    return _parse_date(text, "date").astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _link(url: str | None) -> str | None:
    """Only http(s) links reach an href: the data carries user-controlled text."""
    return url if url and urlsplit(url).scheme in ("http", "https") else None


def _num(value: float) -> str:
    """About four significant digits, never in exponent form."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = min(6, max(0, 3 - math.floor(math.log10(abs(value)))))
    return f"{value:,.{decimals}f}"


def _sig(value: float) -> float:
    return float(f"{value:.6g}")


def _pct(change: float) -> str:
    return f"{change * 100:+.1f} %"


def _check_series(series: DashboardSeries, where: str) -> None:
    for i, p in enumerate(series["points"]):
        for key, value in (("center", p["center"]), ("low", p["low"]), ("high", p["high"])):
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(
                    f"{where} points[{i}]: {key} is {value!r}; every point needs finite "
                    "center, low and high values (drop runs without the metric instead)"
                )
        _parse_date(p["date"], f"{where} points[{i}]")
    for j, cp in enumerate(series["change_points"]):
        if not 0 <= cp["index"] < len(series["points"]):
            raise ValueError(
                f"{where} change_points[{j}]: index {cp['index']} is outside the series' "
                f"{len(series['points'])} points; it must index into `points`"
            )


def _runs(config: DashboardConfig) -> list[DashboardPoint]:
    """The config's runs (commit + date) across all its series, oldest first."""
    seen: dict[tuple[str, str], DashboardPoint] = {}
    for s in config["series"]:
        for p in s["points"]:
            seen.setdefault((p["commit"], p["date"]), p)
    return sorted(seen.values(), key=lambda p: _parse_date(p["date"], "date"))


@dataclass(frozen=True)
class _Plotted:
    """One point as drawn: its run's position and its values (for the filter script's scale).

    Commit, date, profile, runner and links are the run's, kept once in the config's runs
    table; the script joins them for tooltips and clicks (15 series would repeat them 15x).
    """

    run: int
    x: float
    y: float
    v: float
    lo: float
    hi: float
    n: int


def _chart(series: DashboardSeries, index: dict[tuple[str, str], int], runs: int) -> dict[str, Any]:
    """The template's view of one series: axis ticks, band, line, points and change markers."""
    frame = Frame(runs=runs)
    placed = sorted(
        ((index[(p["commit"], p["date"])], p) for p in series["points"]), key=lambda t: t[0]
    )
    # The page carries six significant digits, and both it and the server place points by them.
    values = {r: (_sig(p["center"]), _sig(p["low"]), _sig(p["high"])) for r, p in placed}
    ticks, decimals = nice_ticks(
        min((v[1] for v in values.values()), default=0.0),
        max((v[2] for v in values.values()), default=1.0),
    )
    lo, hi = ticks[0], ticks[-1]
    points = [
        _Plotted(
            run=r,
            x=frame.x(r),
            y=frame.y(values[r][0], lo, hi),
            v=values[r][0],
            lo=values[r][1],
            hi=values[r][2],
            n=p["n"],
        )
        for r, p in placed
    ]
    band = [(pt.x, frame.y(pt.hi, lo, hi)) for pt in points] + [
        (pt.x, frame.y(pt.lo, lo, hi)) for pt in reversed(points)
    ]
    changes = []
    last_x = -math.inf
    row = 0
    for cp in sorted(series["change_points"], key=lambda c: c["index"]):
        p = series["points"][cp["index"]]
        x = frame.x(index[(p["commit"], p["date"])])
        row = 1 - row if x - last_x < 48 else 0
        last_x = x
        anchor = (
            "end"
            if x > frame.width - frame.right - 24
            else "start"
            if x < frame.left + 24
            else "middle"
        )
        changes.append(
            {
                "run": index[(p["commit"], p["date"])],
                "x": x,
                "label": _pct(cp["change"]),
                "label_y": frame.top - 14 + 11 * row,
                "anchor": anchor,
                "worse": cp["worse"],
                "href": _link(p["commit_url"]) or _link(p["url"]),
                "tip": f"change point at {cp['commit'][:7]} ({_when(cp['date'])}): "
                f"{series['label']} {_pct(cp['change'])}, {'worse' if cp['worse'] else 'better'}",
            }
        )
    last = placed[-1][1] if placed else None
    return {
        "series": series,
        "frame": frame,
        "dense": len(points) > DENSE,
        "yticks": [(frame.y(t, lo, hi), f"{t:,.{decimals}f}") for t in ticks],
        "points": points,
        "line": polyline([(pt.x, pt.y) for pt in points]),
        "band": polyline(band),
        "changes": changes,
        "latest": None if last is None else f"{_num(last['center'])} {series['unit']}".strip(),
    }


def _config(config: DashboardConfig, number: int) -> dict[str, Any]:
    where = f"configs[{number}] ({config['name']!r})"
    for s in config["series"]:
        _check_series(s, f"{where} series {s['scenario']!r}/{s['metric']!r}")
    runs = _runs(config)
    index = {(p["commit"], p["date"]): i for i, p in enumerate(runs)}
    frame = Frame(runs=len(runs))
    return {
        "name": config["name"],
        "anchor": f"config-{number}",
        "claimed_runs": config["runs"],
        "latest": config["latest_change"],
        "runs": [
            {
                "i": i,
                "short": p["commit"][:7],
                "commit": p["commit"],
                "when": _when(p["date"]),
                # An empty value would read as "all" in the filters.
                "profile": p["profile"] or NONE,
                "fingerprint": p["fingerprint"] or NONE,
                "url": _link(p["url"]),
                "commit_url": _link(p["commit_url"]),
            }
            for i, p in enumerate(runs)
        ],
        "xticks": [
            (
                frame.x(i),
                runs[i]["commit"][:7],
                _when(runs[i]["date"])[5:10],
                _link(runs[i]["commit_url"]),
            )
            for i in x_ticks(len(runs))
        ],
        "charts": [_chart(s, index, len(runs)) for s in config["series"]],
    }


def _latest(data: DashboardData, configs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The top summary: the newest change, the config it belongs to and its commit's link."""
    change = data["latest_change"]
    if change is None:
        return None
    for config in configs:
        if config["latest"] == change:
            commit_url = next(
                (r["commit_url"] for r in config["runs"] if r["commit"] == change["commit"]), None
            )
            return {"change": change, "config": config, "commit_url": commit_url}
    return {"change": change, "config": None, "commit_url": None}


def _choices(configs: list[dict[str, Any]], key: str) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for config in configs:
        for run in config["runs"]:
            counts[run[key]] = counts.get(run[key], 0) + 1
    return sorted(counts.items())


ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("benchaction", "report/templates"),
    autoescape=True,  # names, commits and labels are user data
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["num"] = _num
ENV.filters["pct"] = _pct
ENV.filters["when"] = _when
ENV.filters["link"] = _link


def render_dashboard(data: DashboardData) -> str:
    """The dashboard's index.html; raises ValueError naming the first malformed field."""
    _parse_date(data["generated_at"], "generated_at")
    changes = [("latest_change", data["latest_change"])] + [
        (f"configs[{i}] ({c['name']!r}) latest_change", c["latest_change"])
        for i, c in enumerate(data["configs"])
    ]
    for where, change in changes:
        if change is not None:
            _parse_date(change["date"], where)
    configs = [_config(c, i) for i, c in enumerate(data["configs"])]
    return ENV.get_template("dashboard.html.j2").render(
        data=data,
        configs=configs,
        latest=_latest(data, configs),
        profiles=_choices(configs, "profile"),
        fingerprints=_choices(configs, "fingerprint"),
        total_runs=sum(len(c["runs"]) for c in configs),
    )


def write_site(data: DashboardData, out_dir: Path) -> Path:
    """Write out_dir/index.html (and its data/asset files); return the index path."""
    page = render_dashboard(data)
    assets = out_dir / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    source = resources.files("benchaction.report").joinpath("assets")
    for name in ASSETS:
        with resources.as_file(source.joinpath(name)) as path:
            shutil.copyfile(path, assets / name)
    (out_dir / "data.json").write_text(
        json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    index = out_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
