"""The history dashboard's rendering: files written, points and markers placed, user text
escaped, bad data refused with its location; and the axis ticks the page script mirrors.

Regenerate the golden page after an intended change with
`BENCHACTION_UPDATE_GOLDEN=1 python -m pytest tests/unit/report/test_dashboard.py`.
"""

from __future__ import annotations

import copy
import json
import math
import os
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchaction.report import DashboardData, write_site
from benchaction.report.chart import Frame, nice_ticks, x_ticks
from benchaction.report.dashboard import render_dashboard
from tests.support.dashboards import history_config, history_data, history_point

GOLDEN = Path(__file__).parent / "golden"


class _Elements(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    return parser


def _with(tag: str, attr: str, page: _Elements) -> list[dict[str, str | None]]:
    return [a for t, a in page.tags if t == tag and attr in a]


def test_write_site_writes_the_page_its_assets_and_the_data(tmp_path: Path) -> None:
    data = history_data(12)
    index = write_site(data, tmp_path / "site")
    assert index == tmp_path / "site" / "index.html"
    html = index.read_text(encoding="utf-8")
    assert '<link rel="stylesheet" href="assets/dashboard.css">' in html
    assert '<script src="assets/dashboard.js"></script>' in html
    assert (tmp_path / "site" / "assets" / "dashboard.js").read_text().startswith("// bench-action")
    assert "--worse" in (tmp_path / "site" / "assets" / "dashboard.css").read_text()
    assert json.loads((tmp_path / "site" / "data.json").read_text()) == data
    # Written twice into the same folder: replaced, not refused.
    assert write_site(data, tmp_path / "site") == index


def test_every_point_is_drawn_with_its_values_and_its_run_listed_with_links() -> None:
    data = history_data(12)
    page = _parse(render_dashboard(data))
    circles = _with("circle", "data-point", page)
    assert len(circles) == 2 * 4 * 12  # configs x series x runs
    point = data["configs"][0]["series"][0]["points"][5]
    drawn = circles[5]
    assert drawn["data-point"] == "5"
    assert float(str(drawn["data-v"])) == pytest.approx(
        point["center"], rel=1e-5
    )  # six significant digits
    assert float(str(drawn["data-lo"])) == pytest.approx(
        point["low"], rel=1e-5
    )  # six significant digits
    assert float(str(drawn["data-hi"])) == pytest.approx(
        point["high"], rel=1e-5
    )  # six significant digits
    assert drawn["data-n"] == "5"
    # The run's row (newest first) carries what the tooltip and the click join to the point.
    rows = _with("tr", "data-run", page)
    assert rows[11 - 5] == {
        "data-run": "5",
        "data-profile": point["profile"],
        "data-fingerprint": point["fingerprint"],
    }
    links = {(a.get("class"), a.get("href")) for t, a in page.tags if t == "a"}
    assert ("run", point["url"]) in links
    assert ("commit", point["commit_url"]) in links
    assert "2026-11-01 05:00 UTC" in "".join(page.text)


def test_change_points_are_marked_with_their_change_and_direction() -> None:
    page = render_dashboard(history_data(12))
    parsed = _parse(page)
    markers = _with("g", "data-change-point", parsed)
    assert [m["class"] for m in markers] == ["cp worse", "cp better", "cp worse", "cp better"]
    assert page.count(">+12.0 %</text>") == 4
    # The top summary names the newest change and its config.
    assert 'Latest change in <a href="#config-0">numpy-mlp</a>' in page
    assert "throughput is 12.0 % faster since" in page


def test_points_of_one_run_line_up_across_series_even_when_a_series_misses_runs() -> None:
    data = history_data(6)
    config = data["configs"][0]
    del config["series"][1]["points"][2]  # throughput missing in run 2
    config["series"][1]["change_points"] = []
    page = _parse(render_dashboard(data))
    by_series: dict[str, list[tuple[str | None, str | None]]] = {}
    index = -1
    for t, a in page.tags:
        if t == "svg":
            index += 1
        if t == "circle" and "data-point" in a:
            by_series.setdefault(str(index), []).append((a["data-point"], a["cx"]))
    latency, throughput = by_series["0"], by_series["1"]
    assert len(latency) == 6
    assert len(throughput) == 5
    assert set(throughput) < set(latency)  # same run index, same x
    assert ("2", dict(latency)["2"]) not in throughput


def test_filters_offer_each_profile_and_runner_with_their_run_counts() -> None:
    page = _parse(render_dashboard(history_data(12)))
    options = [a.get("value") for t, a in page.tags if t == "option"]
    assert options == ["", "full", "pr", "", "a1b2c3d4", "e5f6a7b8"]
    text = "".join(page.text)
    assert "full (6 runs)" in text  # 3 of 12 runs, in 2 configs
    rows = _with("tr", "data-run", page)
    assert {(r["data-profile"], r["data-fingerprint"]) for r in rows} == {
        ("pr", "a1b2c3d4"),
        ("pr", "e5f6a7b8"),
        ("full", "a1b2c3d4"),
        ("full", "e5f6a7b8"),
    }


def test_a_run_without_profile_or_fingerprint_gets_a_filter_value_of_its_own() -> None:
    data = history_data(4)
    for config in data["configs"]:
        for series in config["series"]:
            series["points"][0]["profile"] = ""
            series["points"][0]["fingerprint"] = ""
    page = _parse(render_dashboard(data))
    options = [a.get("value") for t, a in page.tags if t == "option"]
    assert options.count("(none)") == 2  # one in each select; "" stays "all"
    assert options.count("") == 2
    row = _with("tr", "data-run", page)[-1]
    assert (row["data-profile"], row["data-fingerprint"]) == ("(none)", "(none)")


def test_user_text_is_escaped_and_only_web_links_are_linked() -> None:
    data = history_data(4)
    hostile = '<script>alert("x")</script>'
    data["configs"][0]["name"] = hostile
    data["configs"][0]["series"][0]["scenario"] = hostile
    data["configs"][0]["series"][0]["label"] = hostile
    point = data["configs"][0]["series"][0]["points"][0]
    point["profile"] = hostile
    point["url"] = "javascript:alert(1)"
    point["commit_url"] = "javascript:alert(2)"
    html = render_dashboard(data)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "javascript:" not in html
    assert html.count("<script") == 1  # the page's own script tag


def test_a_history_without_change_points_or_runs_says_so() -> None:
    data = history_data(5)
    data["latest_change"] = None
    data["configs"] = [history_config("quiet", 5, 1, shift_at=None)]
    data["configs"][0]["series"][1]["points"] = []
    html = render_dashboard(data)
    assert "No change point in the history" in html
    assert "No runs of this series yet." in html
    data["configs"] = []
    assert "No runs recorded yet" in render_dashboard(data)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "center",
            math.nan,
            r"configs\[0\] \('numpy-mlp'\) series 'default'/'latency_p50_ms' points\[1\]: center is nan",
        ),
        ("high", None, r"points\[1\]: high is None; every point needs finite"),
        ("date", "yesterday", r"points\[1\]: date 'yesterday' is not ISO 8601"),
    ],
)
def test_a_malformed_point_is_refused_with_its_location(
    field: str, value: object, message: str
) -> None:
    data = history_data(4)
    data["configs"][0]["series"][0]["points"][1][field] = value  # type: ignore[literal-required]
    with pytest.raises(ValueError, match=message):
        render_dashboard(data)


def test_a_malformed_date_outside_the_points_is_refused_with_its_location() -> None:
    data = history_data(4)
    data["generated_at"] = "now"
    with pytest.raises(ValueError, match=r"^generated_at: date 'now' is not ISO 8601"):
        render_dashboard(data)
    data = history_data(4)
    data["latest_change"] = copy.deepcopy(data["latest_change"])  # one object in both places
    assert data["configs"][0]["latest_change"] is not None
    data["configs"][0]["latest_change"]["date"] = "2026-13-01"
    with pytest.raises(ValueError, match=r"^configs\[0\] \('numpy-mlp'\) latest_change: date"):
        render_dashboard(data)


def test_a_change_point_outside_its_series_is_refused() -> None:
    data = history_data(6)
    data["configs"][0]["series"][2]["change_points"][0]["index"] = 6
    with pytest.raises(
        ValueError,
        match=r"series 'burst'/'latency_p50_ms' change_points\[0\]: index 6 is outside the series' 6 points",
    ):
        render_dashboard(data)


def test_golden_page_of_three_runs(tmp_path: Path) -> None:
    data: DashboardData = copy.deepcopy(history_data(3))
    data["configs"] = [history_config("numpy-mlp", 3, 5, shift_at=2)]
    data["configs"][0]["series"] = data["configs"][0]["series"][:1]
    data["configs"][0]["series"][0]["points"].append(history_point(3, 13.5, profile="full"))
    html = write_site(data, tmp_path).read_text(encoding="utf-8")
    path = GOLDEN / "dashboard-three-runs.html"
    if os.environ.get("BENCHACTION_UPDATE_GOLDEN") == "1":
        path.write_text(html, encoding="utf-8")
    assert html == path.read_text(encoding="utf-8")


@given(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(0, 1e6, allow_nan=False),
)
def test_ticks_cover_the_range_with_a_round_step_and_distinct_labels(
    lo: float, span: float
) -> None:
    ticks, decimals = nice_ticks(lo, lo + span)
    slack = (ticks[1] - ticks[0]) * 1e-6  # the rounding tolerance that avoids a spare tick
    assert ticks[0] <= lo + slack
    assert ticks[-1] >= lo + span - slack
    assert 2 <= len(ticks) <= 9
    labels = [f"{t:.{decimals}f}" for t in ticks]
    assert len(set(labels)) == len(labels)


def test_ticks_of_a_flat_series_surround_it() -> None:
    ticks, decimals = nice_ticks(12.0, 12.0)
    assert ticks[0] < 12.0 < ticks[-1]
    assert (ticks, decimals) == ([11.0, 11.5, 12.0, 12.5, 13.0], 1)


def test_ticks_of_a_flat_zero_stay_at_or_above_zero() -> None:
    assert nice_ticks(0.0, 0.0) == ([0.0, 0.25, 0.5, 0.75, 1.0], 2)
    assert nice_ticks(-2.0, -2.0)[0][0] < -2.0


def test_ticks_refuse_non_finite_ranges() -> None:
    with pytest.raises(ValueError, match="chart values must be finite"):
        nice_ticks(0.0, math.inf)


def test_x_ticks_label_the_ends_and_a_few_runs_between() -> None:
    assert x_ticks(4) == [0, 1, 2, 3]
    assert x_ticks(1000) == [0, 200, 400, 599, 799, 999]
    frame = Frame(runs=1000)
    assert frame.x(0) == frame.left
    assert frame.x(999) == frame.width - frame.right
    assert Frame(runs=1).x(0) == frame.left + (frame.width - frame.left - frame.right) / 2
