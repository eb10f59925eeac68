"""The comment's latency chart and the report's sweep chart drawn by Mermaid itself, in headless
Chromium: the head line keeps its colour with and without base bars (the theme's first palette
colour is near-white).

Needs Debian's `chromium` and npm (the mermaid package is npm-packed once into the pytest cache);
skipped without them locally, a failure on CI.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import pytest

from benchaction.report import render_comment
from benchaction.stats import StatsSettings, compare_documents
from tests.support.browser import Page, chromium_or_skip, headless_page
from tests.support.documents import two_scenario_doc
from tests.support.npm import npm_file
from tests.support.paths import REPO_ROOT

# Pinned so a new Mermaid cannot change the result silently; GitHub renders with a current one.
MERMAID = "mermaid@12.3.0"
MERMAID_MEMBER = "package/dist/mermaid.min.js"
HEAD_COLOUR, BASE_COLOUR = "#0969da", "#8c959f"


def _mermaid_js(request: pytest.FixtureRequest) -> bytes:
    cache = request.config.cache.mkdir("mermaid")
    kept = cache / (MERMAID.replace("@", "-") + ".min.js")
    if not kept.exists():
        partial = kept.with_suffix(".tmp")
        partial.write_bytes(npm_file(MERMAID, MERMAID_MEMBER, cache))
        partial.replace(kept)
    return kept.read_bytes()


def _charts() -> list[str]:
    """The comment's two charts: predict has base bars, health (new in the head) has none."""
    base = two_scenario_doc("predict", 1.0, 1.0, "a" * 40)
    head = two_scenario_doc("predict", 1.12, 1.0, "b" * 40)
    base["scenarios"] = [s for s in base["scenarios"] if s["name"] == "predict"]
    c = compare_documents(base, head, StatsSettings())
    body = render_comment(c, base, head, marker="", limit=65_536)
    return [block.split("```", 1)[0] for block in body.split("```mermaid\n")[1:]]


def _sweep_chart() -> str:
    """The report's throughput-latency chart, as its golden file (tests/unit/report) holds it."""
    text = (
        REPO_ROOT / "tests" / "unit" / "report" / "golden" / "report-streaming-sweep.md"
    ).read_text()
    return text.split("```mermaid\n", 1)[1].split("```", 1)[0]


def _without_config(chart: str) -> str:
    """The chart as it was drawn before the palette was named: no front matter."""
    return chart.split("---\n", 2)[2] if chart.startswith("---\n") else chart


@pytest.fixture(scope="module")
def drawn(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Page]:
    binary = chromium_or_skip()
    folder = tmp_path_factory.mktemp("chart")
    (folder / "mermaid.min.js").write_bytes(_mermaid_js(request))
    charts = _charts()
    charts += [_without_config(charts[1]), _sweep_chart()]  # the control: theme colours
    blocks = "".join(f'<pre class="mermaid">{html.escape(c)}</pre>' for c in charts)
    page = (
        f"<!doctype html><html><body>{blocks}<script src='mermaid.min.js'></script>"
        "<script>mermaid.initialize({startOnLoad: false});</script></body></html>"
    )
    (folder / "index.html").write_text(page)
    with headless_page(binary) as tab:
        tab.goto((folder / "index.html").as_uri())
        tab.evaluate("mermaid.run()")
        yield tab


def _plots(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate(
        """[...document.querySelectorAll('pre.mermaid svg')].map(svg => ({
            lines: [...svg.querySelectorAll('[class*=line-plot] path')].map(p => p.getAttribute('stroke')),
            bars: [...svg.querySelectorAll('[class*=bar-plot] rect')].map(r => r.getAttribute('fill')),
        }))"""
    )
    return found


def _lightness(colour: str) -> float:
    """The mean of a #rrggbb colour's channels, 0 (black) to 1 (white)."""
    channels = [int(colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)]
    return sum(channels) / (3 * 255)


def test_the_head_line_is_blue_with_and_without_base_bars(drawn: Page) -> None:
    with_base, without_base, old, sweep = _plots(drawn)
    assert with_base == {"lines": [HEAD_COLOUR], "bars": [BASE_COLOUR] * 3}
    assert without_base == {"lines": [HEAD_COLOUR], "bars": []}
    assert sweep == {"lines": [HEAD_COLOUR], "bars": []}
    # Without the named palette Mermaid took its theme's first colour, near-white on white.
    assert old["bars"] == [] and _lightness(old["lines"][0]) > 0.9, old
    assert _lightness(HEAD_COLOUR) < 0.5 and _lightness(BASE_COLOUR) < 0.7
    assert drawn.errors() == []
