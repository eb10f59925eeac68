"""The written dashboard in a real headless Chromium: it loads from file:// without errors, shows
every point, filters by profile and runner without reloading, and shows tooltips.

Needs Debian's `chromium` (skipped without it locally, a failure on CI, which installs it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchaction.report import DashboardData, write_site
from tests.support.browser import Page, chromium_or_skip, headless_page
from tests.support.dashboards import history_data

RUNS = 40
HOSTILE = "<script>console.error('escaped?')</script><img src=x onerror=\"console.error('xss')\">"


def _points(data: DashboardData, **match: str) -> int:
    return sum(
        1
        for c in data["configs"]
        for s in c["series"]
        for p in s["points"]
        if all(p[k] == v for k, v in match.items())  # type: ignore[literal-required]
    )


@pytest.fixture(scope="module")
def data() -> DashboardData:
    """The test history, with a hostile config name: escaped, it is inert text."""
    history = history_data(RUNS)
    history["configs"][1]["name"] = HOSTILE
    return history


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory, data: DashboardData) -> Iterator[Page]:
    """The dashboard written to a folder and loaded in headless Chromium via file://."""
    binary = chromium_or_skip()
    index = write_site(data, tmp_path_factory.mktemp("site"))
    with headless_page(binary) as tab:
        tab.goto(index.as_uri())
        yield tab


def test_loads_without_errors_and_shows_every_point(page: Page, data: DashboardData) -> None:
    assert page.evaluate("document.body.dataset.ready") == "1", "the page's script did not finish"
    assert page.evaluate("document.querySelectorAll('[data-point]').length") == _points(data)
    assert page.evaluate("document.querySelectorAll('[data-change-point]').length") == 4
    assert page.evaluate("document.querySelectorAll('svg.plot').length") == 8
    assert page.evaluate("document.styleSheets.length") == 1, "the stylesheet did not load"
    assert page.evaluate("document.querySelectorAll('img').length") == 0, "a name was not escaped"
    assert page.errors() == []


def _select(page: Page, which: str, value: str) -> None:
    page.evaluate(
        f"(() => {{ const s = document.getElementById('filter-{which}'); s.value = {value!r};"
        " s.dispatchEvent(new Event('change')); })()"
    )


VISIBLE = "[...document.querySelectorAll('[data-point]')].filter(p => p.checkVisibility()).length"
AXES = (
    "[...document.querySelectorAll('.yaxis text')].map(t => [t.textContent, +t.getAttribute('y')])"
)
POINT_YS = "[...document.querySelectorAll('[data-point]')].map(p => +p.getAttribute('cy'))"
# (checkVisibility() reads true for a hidden SVG <g>; the computed display does not.)
MARKERS = (
    "[...document.querySelectorAll('[data-change-point]')]"
    ".filter(m => getComputedStyle(m).display !== 'none').length"
)
LINE_VERTICES = (
    "[...document.querySelectorAll('polyline.line')]"
    ".reduce((n, l) => n + l.points.numberOfItems, 0)"
)


def test_filters_hide_other_profiles_and_runners_and_refit_the_charts(
    page: Page, data: DashboardData
) -> None:
    page.evaluate("window.loadMarker = 'same page'")
    server_ticks = page.evaluate(AXES)
    server_y = page.evaluate(POINT_YS)
    try:
        _select(page, "profile", "full")
        full = _points(data, profile="full")
        assert 0 < full < _points(data)
        assert page.evaluate(VISIBLE) == full
        assert page.evaluate(LINE_VERTICES) == full, "the line still runs through hidden runs"
        assert page.evaluate(MARKERS) == 0, "the change points (at a pr run) still show"
        assert page.evaluate("document.getElementById('filter-count').textContent") == (
            f"showing {full // 4} runs ({full} points)"  # 4 series a run
        )

        _select(page, "fingerprint", "e5f6a7b8")
        both = _points(data, profile="full", fingerprint="e5f6a7b8")
        assert page.evaluate(VISIBLE) == both
        hidden_rows = "document.querySelectorAll('tr[data-run]:not([hidden])').length"
        assert page.evaluate(hidden_rows) == both // 4, "the runs tables were not filtered"

        _select(page, "profile", "")
        _select(page, "fingerprint", "")
        assert page.evaluate(VISIBLE) == _points(data)
        assert page.evaluate(LINE_VERTICES) == _points(data)
        assert page.evaluate(MARKERS) == 4
        assert page.evaluate("window.loadMarker") == "same page", "filtering reloaded the page"
        # The script's scale (dashboard.js) mirrors the server's (chart.py): all runs shown
        # again, every axis label and point lands where the server put it.
        assert page.evaluate(AXES) == server_ticks
        assert page.evaluate(POINT_YS) == server_y
    finally:
        _select(page, "profile", "")
        _select(page, "fingerprint", "")
    assert page.errors() == []


def test_a_point_shows_its_run_in_a_tooltip_and_a_click_opens_the_run(
    page: Page, data: DashboardData
) -> None:
    first = data["configs"][0]["series"][0]["points"][0]
    box = page.evaluate(
        "(() => { const p = document.querySelector('[data-point]'); p.scrollIntoView({block: 'center'});"
        " const r = p.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
    )
    page.call("Input.dispatchMouseEvent", type="mouseMoved", x=box[0], y=box[1])
    assert page.evaluate("document.getElementById('tooltip').hidden") is False
    tip = page.evaluate("document.getElementById('tooltip').textContent")
    assert first["commit"][:7] in tip
    assert "n=5" in tip
    assert "profile pr" in tip
    assert f"runner {first['fingerprint']}" in tip
    assert "click: open the run" in tip
    # A click on the point navigates to its run: the request is caught and refused here.
    page.call("Fetch.enable", patterns=[{"urlPattern": "https://github.com/*"}])
    try:
        for kind in ("mousePressed", "mouseReleased"):
            page.call(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box[0],
                y=box[1],
                button="left",
                clickCount=1,
            )
        request = page.wait_event("Fetch.requestPaused", timeout_s=5)["params"]
        assert request["request"]["url"] == first["url"]
        page.call("Fetch.failRequest", requestId=request["requestId"], errorReason="Aborted")
    finally:
        page.call("Fetch.disable")
    assert page.evaluate("document.body.dataset.ready") == "1", "the page was left"
    page.call("Input.dispatchMouseEvent", type="mouseMoved", x=5, y=5)
    assert page.evaluate("document.getElementById('tooltip').hidden") is True
    assert page.errors() == []


def test_the_script_refits_a_flat_zero_series_as_the_server_drew_it(tmp_path: Path) -> None:
    """A flat 0 (an error rate) is the padded case of the scale; script and server agree."""
    binary = chromium_or_skip()
    data = history_data(8)
    for point in data["configs"][1]["series"][0]["points"]:
        point["center"] = point["low"] = point["high"] = 0.0
    index = write_site(data, tmp_path)
    with headless_page(binary) as tab:
        tab.goto(index.as_uri())
        server = tab.evaluate(AXES)
        flat = "[...document.querySelectorAll('#config-1 svg.plot')[0].querySelectorAll('.yaxis text')].map(t => t.textContent)"
        assert tab.evaluate(flat) == ["0.00", "0.25", "0.50", "0.75", "1.00"]
        _select(tab, "profile", "pr")
        _select(tab, "profile", "")
        assert tab.evaluate(AXES) == server
        assert tab.errors() == []


def test_a_missing_asset_is_reported_as_an_error(tmp_path: Path, data: DashboardData) -> None:
    """The error collection itself works: a site without its script logs a failed load."""
    binary = chromium_or_skip()
    index = write_site(data, tmp_path)
    (tmp_path / "assets" / "dashboard.js").unlink()
    with headless_page(binary) as tab:
        tab.goto(index.as_uri())
        assert any("dashboard.js" in e for e in tab.errors()), tab.errors()


def test_the_site_history_build_writes_from_a_store_loads_with_its_change_points(
    tmp_path: Path,
) -> None:
    """The whole path a user takes: runs in a folder store, `benchaction history build`, the
    page in Chromium with every run's point and the known shift marked on each series."""
    from benchaction.cli import main
    from benchaction.history import LocalStore
    from tests.support.history import noisy_runs

    binary = chromium_or_skip()
    store = LocalStore(tmp_path / "store")
    for record in noisy_runs([10.0] * 15 + [12.0] * 15):
        store.add(record, "numpy-mlp")
    assert (
        main(["history", "build", "--store", str(store.folder), "-o", str(tmp_path / "site")]) == 0
    )
    with headless_page(binary) as tab:
        tab.goto((tmp_path / "site" / "index.html").as_uri())
        assert tab.evaluate("document.body.dataset.ready") == "1"
        assert tab.evaluate("document.querySelectorAll('[data-point]').length") == 30 * 3
        # latency p50 and throughput move at run 15; the error rate (all zero) does not
        assert tab.evaluate("document.querySelectorAll('[data-change-point]').length") == 2
        assert tab.errors() == []
