"""The scraper against real HTTP servers on 127.0.0.1: scrapes around a load, failures as data."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest

from benchaction.telemetry import MetricsScraper
from benchaction.telemetry import scrape as scrape_module
from tests.support.httpserver import stdlib_http_server

PAGE = "# TYPE served_total counter\nserved_total {n}\n"


class Counting(BaseHTTPRequestHandler):
    """/metrics answers how often it was asked; /broken answers 500; /slow waits 2 s before
    answering; /trickle sends its answer a line every 0.1 s for 3 s."""

    hits = 0
    lock = threading.Lock()

    def do_GET(self) -> None:
        if self.path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Length", str(30 * 14))
            self.end_headers()
            for i in range(30):
                try:
                    self.wfile.write(f"# comment {i:03d}\n".encode())
                    self.wfile.flush()
                except BrokenPipeError:
                    return  # the scraper gave up, as it should
                time.sleep(0.1)
            return
        if self.path == "/slow":
            time.sleep(2)
        with Counting.lock:
            Counting.hits += 1
            n = Counting.hits
        status = 500 if self.path == "/broken" else 200
        body = PAGE.format(n=n).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_around_load_scrapes_before_every_interval_and_after() -> None:
    with stdlib_http_server(Counting) as base:
        scraper = MetricsScraper(
            base + "metrics", interval_s=0.05, timeout_s=1.0, families=["served"]
        )
        with scraper.around_load() as scrapes:
            time.sleep(0.4)
    assert scrapes.before.text is not None and scrapes.after is not None
    assert len(scrapes.during) >= 3
    times = [scrapes.before.t_ns, *(s.t_ns for s in scrapes.during), scrapes.after.t_ns]
    assert times == sorted(times)
    served = [int(s.text.split()[-1]) for s in (scrapes.before, *scrapes.during, scrapes.after)]
    assert served == list(range(served[0], served[0] + len(served)))  # each one asked once
    out = scrapes.summary((times[0], times[-1]), times[0])
    assert out["status"] == "ok" and out["families"]["served"]["increase"] == len(served) - 1


def test_an_error_status_a_closed_port_and_a_timeout_are_kept_as_failures(
    free_port: int,
) -> None:
    with stdlib_http_server(Counting) as base:
        broken = MetricsScraper(base + "broken", interval_s=1, timeout_s=1).scrape()
        started = time.monotonic()
        slow = MetricsScraper(base + "slow", interval_s=1, timeout_s=0.2).scrape()
        waited = time.monotonic() - started
    assert broken.text is None and "500" in str(broken.error) and "/broken" in str(broken.error)
    assert slow.text is None and "Timeout" in str(slow.error) and waited < 1.5
    with stdlib_http_server(Counting) as base:
        started = time.monotonic()
        trickled = MetricsScraper(base + "trickle", interval_s=1, timeout_s=0.5).scrape()
        waited = time.monotonic() - started  # before the server waits for its handler
    assert trickled.text is None and "longer than 0.5 s" in str(trickled.error)
    assert waited < 1.5
    closed = MetricsScraper(f"http://127.0.0.1:{free_port}/metrics", interval_s=1, timeout_s=1)
    refused = closed.scrape()
    assert refused.text is None and "ConnectionRefusedError" in str(refused.error)


def test_a_page_over_the_size_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scrape_module, "MAX_PAGE_BYTES", 10)
    with stdlib_http_server(Counting) as base:
        result = MetricsScraper(base + "metrics", interval_s=1, timeout_s=1).scrape()
    assert result.text is None and "larger than" in str(result.error)


def test_a_long_load_keeps_its_span_at_half_density_once_the_cap_is_reached() -> None:
    with stdlib_http_server(Counting) as base:
        scraper = MetricsScraper(base + "metrics", interval_s=0.02, timeout_s=1, max_scrapes=4)
        with scraper.around_load() as scrapes:
            time.sleep(0.5)
    assert 2 <= len(scrapes.during) <= 4
    assert scrapes.after is not None
    span = scrapes.during[-1].t_ns - scrapes.during[0].t_ns
    assert span > 0.15e9  # thinning dropped every other scrape, not the later ones
