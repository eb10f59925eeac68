"""Scraping a server's Prometheus endpoint around one load: once before it, every `interval`
in a background thread while it runs, and once after it ended.

The thread only fetches text (socket time, the GIL released); parsing waits until the load is
over, so the scrape never competes with the load engine for the interpreter. A scrape that
fails or times out is kept as a failure with its reason; it never raises into the run.
"""

from __future__ import annotations

import contextlib
import http.client
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from .prometheus import Scrape, summarize_window

__all__ = ["MAX_PAGE_BYTES", "MAX_SCRAPES", "LoadScrapes", "MetricsScraper", "http_get"]

MAX_SCRAPES = 3600
"""Scrapes kept during one load; past this, every other one is dropped and the interval doubles."""
MAX_PAGE_BYTES = 16 * 1024 * 1024
"""A metrics page larger than this is refused (a server exposing per-request label sets)."""
MAX_HELD_BYTES = 128 * 1024 * 1024
"""Text held for one load before thinning, whatever the scrape count."""


class LoadScrapes:
    """The scrapes around one load; `summary` reads them once the load is over."""

    def __init__(self, before: Scrape, families: Sequence[str] | None = None) -> None:
        self.before = before
        self.families = families  # kept in the summary; None: the detected server's defaults
        self.during: list[Scrape] = []
        self.after: Scrape | None = None
        self.held_bytes = 0

    def summary(self, window_ns: tuple[int, int], load_start_ns: int) -> dict[str, Any]:
        """What the metrics did over the window (absolute perf_counter_ns); see prometheus.py."""
        after = self.after or Scrape(time.perf_counter_ns(), None, "no scrape after the load")
        return summarize_window(
            self.before, self.during, after, self.families, window_ns, load_start_ns
        )


Fetch = Callable[[str, float], str]


def http_get(url: str, timeout_s: float) -> str:
    """The text at `url` (plain http), asked for in the classic text format; raises on an error
    status, a page over MAX_PAGE_BYTES, or an answer not complete within `timeout_s`."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    # A fresh connection per scrape: one a second on loopback costs nothing, and no stale
    # keep-alive connection can fail a scrape. read1 returns what has arrived, so the deadline
    # also bounds a server that trickles its answer.
    deadline = time.monotonic() + timeout_s
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=timeout_s)
    try:
        conn.request("GET", target, headers={"Accept": "text/plain;version=0.0.4"})
        answer = conn.getresponse()
        if answer.status != 200:
            raise ValueError(f"HTTP {answer.status} {answer.reason}")
        data = bytearray()
        while chunk := answer.read1(1 << 16):
            data += chunk
            if len(data) > MAX_PAGE_BYTES:
                raise ValueError(f"the metrics page is larger than {MAX_PAGE_BYTES >> 20} MiB")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the answer took longer than {timeout_s:g} s")
        return data.decode("utf-8", "replace")
    finally:
        conn.close()


class MetricsScraper:
    """Scrapes one metrics URL; `around_load` brackets a load with scrapes. `families` are the
    ones its summaries keep (None: the defaults of the server detected)."""

    def __init__(
        self,
        url: str,
        *,
        interval_s: float,
        timeout_s: float,
        families: Sequence[str] | None = None,
        fetch: Fetch | None = None,
        clock: Callable[[], int] = time.perf_counter_ns,
        max_scrapes: int = MAX_SCRAPES,
    ) -> None:
        self.url = url
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.families = families
        self._fetch = fetch or http_get
        self._clock = clock
        self._max_scrapes = max(2, max_scrapes)

    def scrape(self) -> Scrape:
        """One scrape, stamped halfway between sending and the last byte; failures kept."""
        sent = self._clock()
        try:
            text = self._fetch(self.url, self.timeout_s)
        except (http.client.HTTPException, OSError, ValueError) as exc:
            return Scrape(self._clock(), None, f"GET {self.url}: {type(exc).__name__}: {exc}")
        return Scrape((sent + self._clock()) // 2, text)

    @contextlib.contextmanager
    def around_load(self) -> Iterator[LoadScrapes]:
        """Scrape now, every `interval_s` in a thread while the block runs, and again after."""
        scrapes = LoadScrapes(self.scrape(), self.families)
        stop = threading.Event()
        thread = threading.Thread(
            target=self._every_interval, args=(scrapes, stop), name="metrics-scrape", daemon=True
        )
        thread.start()
        try:
            yield scrapes
        finally:
            stop.set()
            thread.join(self.timeout_s + 1.0)
            scrapes.after = self.scrape()

    def _every_interval(self, scrapes: LoadScrapes, stop: threading.Event) -> None:
        interval = self.interval_s
        while not stop.wait(interval):
            scrape = self.scrape()
            if stop.is_set():
                return  # the load is over: the scrape after it stands for the end
            scrapes.during.append(scrape)
            scrapes.held_bytes += len(scrape.text or "")
            if len(scrapes.during) >= self._max_scrapes or scrapes.held_bytes > MAX_HELD_BYTES:
                # Keep the whole span at half the density, as the GPU series does.
                scrapes.during[:] = scrapes.during[1::2]
                scrapes.held_bytes = sum(len(s.text or "") for s in scrapes.during)
                interval *= 2
