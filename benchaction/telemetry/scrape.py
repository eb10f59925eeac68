"""Scraping a server's Prometheus endpoint around one load: once before it, every `interval`
in a background thread while it runs, and once after it ended.

The thread only fetches text (socket time, the GIL released); parsing waits until the load is
over, so the scrape never competes with the load engine for the interpreter. A scrape that
fails or times out is kept as a failure with its reason; it never raises into the run.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import requests

from .prometheus import Scrape, summarize_window

__all__ = ["MAX_PAGE_BYTES", "MAX_SCRAPES", "LoadScrapes", "MetricsScraper"]

MAX_SCRAPES = 3600
"""Scrapes kept during one load; past this, every other one is dropped and the interval doubles."""
MAX_PAGE_BYTES = 16 * 1024 * 1024
"""A metrics page larger than this is refused (a server exposing per-request label sets)."""
MAX_HELD_BYTES = 128 * 1024 * 1024
"""Text held for one load before thinning, whatever the scrape count."""


class LoadScrapes:
    """The scrapes around one load; `summary` reads them once the load is over."""

    def __init__(self, before: Scrape) -> None:
        self.before = before
        self.during: list[Scrape] = []
        self.after: Scrape | None = None
        self.held_bytes = 0

    def summary(
        self, families: Sequence[str] | None, window_ns: tuple[int, int], load_start_ns: int
    ) -> dict[str, Any]:
        """What the metrics did over the window (absolute perf_counter_ns); see prometheus.py."""
        after = self.after or Scrape(time.perf_counter_ns(), None, "no scrape after the load")
        return summarize_window(self.before, self.during, after, families, window_ns, load_start_ns)


Fetch = Callable[[str, float], str]


def _fetch(session: requests.Session) -> Fetch:
    def fetch(url: str, timeout_s: float) -> str:
        with session.get(url, timeout=timeout_s, stream=True) as answer:
            answer.raise_for_status()
            data = answer.raw.read(MAX_PAGE_BYTES + 1, decode_content=True)
        if len(data) > MAX_PAGE_BYTES:
            raise ValueError(f"the metrics page is larger than {MAX_PAGE_BYTES >> 20} MiB")
        return data.decode("utf-8", "replace")

    return fetch


class MetricsScraper:
    """Scrapes one metrics URL; `around_load` brackets a load with scrapes."""

    def __init__(
        self,
        url: str,
        *,
        interval_s: float,
        timeout_s: float,
        fetch: Fetch | None = None,
        clock: Callable[[], int] = time.perf_counter_ns,
        max_scrapes: int = MAX_SCRAPES,
    ) -> None:
        self.url = url
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self._session: requests.Session | None = None
        if fetch is None:
            self._session = requests.Session()
            fetch = _fetch(self._session)
        self._fetch = fetch
        self._clock = clock
        self._max_scrapes = max(2, max_scrapes)

    def scrape(self) -> Scrape:
        """One scrape, stamped halfway between sending and the last byte; failures kept."""
        sent = self._clock()
        try:
            text = self._fetch(self.url, self.timeout_s)
        except (requests.RequestException, OSError, ValueError) as exc:
            return Scrape(self._clock(), None, f"GET {self.url}: {type(exc).__name__}: {exc}")
        return Scrape((sent + self._clock()) // 2, text)

    @contextlib.contextmanager
    def around_load(self) -> Iterator[LoadScrapes]:
        """Scrape now, every `interval_s` in a thread while the block runs, and again after."""
        scrapes = LoadScrapes(self.scrape())
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

    def close(self) -> None:
        """Close the HTTP session's connections."""
        if self._session is not None:
            self._session.close()
