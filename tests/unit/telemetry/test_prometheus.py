"""Prometheus exposition parsed and summarised over a window, on vLLM, Triton and MLServer text.

The files under data/ say where their family names come from; the MLServer one is a capture.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchaction.telemetry.prometheus import (
    MAX_SERIES,
    Scrape,
    default_families,
    detect_server,
    parse_exposition,
    summarize_window,
)

DATA = Path(__file__).parent / "data"
S = 1_000_000_000
LOAD = 100 * S  # the load starts here (perf_counter_ns)
MODEL = {"model_name": "meta-llama/Llama-3.1-8B-Instruct"}


def text(name: str) -> str:
    return (DATA / name).read_text()


def vllm_window(w0: int, w1: int, *, families: list[str] | None = None) -> dict:
    """Before the load, one scrape 5 s in, and one after it ended 0.2 s past W's end."""
    return summarize_window(
        Scrape(LOAD - S // 100, text("vllm-before.prom")),
        [Scrape(LOAD + 5 * S, text("vllm-during.prom"))],
        Scrape(w1 + S // 5, text("vllm-after.prom")),
        families,
        (w0, w1),
        LOAD,
    )


def test_vllm_counters_lose_total_and_histograms_keep_count_and_sum() -> None:
    parsed = parse_exposition(text("vllm-after.prom"))
    labels = (("model_name", MODEL["model_name"]),)
    assert parsed["vllm:num_preemptions"].kind == "counter"
    assert parsed["vllm:num_preemptions"].values == {labels: (9.0,)}
    assert parsed["vllm:gpu_cache_usage_perc"].kind == "gauge"
    assert parsed["vllm:time_to_first_token_seconds"].kind == "histogram"
    assert parsed["vllm:time_to_first_token_seconds"].values == {labels: (500.0, 24.2)}
    success = parsed["vllm:request_success"].values
    assert success[(("finished_reason", "length"), *labels)] == (30.0,)
    assert "vllm:num_preemptions_total" not in parsed


def test_parse_keeps_only_the_families_asked_for() -> None:
    parsed = parse_exposition(text("vllm-after.prom"), keep={"vllm:num_preemptions"})
    assert list(parsed) == ["vllm:num_preemptions"]


def test_text_that_is_not_exposition_is_refused_with_the_parser_reason() -> None:
    with pytest.raises(ValueError, match="not Prometheus text exposition"):
        parse_exposition('vllm:num_requests_running{model_name="m" 1\n')


def test_each_known_server_is_detected_by_a_family_of_its_own() -> None:
    assert detect_server(parse_exposition(text("vllm-after.prom"))) == "vllm"
    assert detect_server(parse_exposition(text("triton-after.prom"))) == "triton"
    mlserver = parse_exposition(text("mlserver-1.7.1-after-one-request.prom"))
    assert detect_server(mlserver) == "mlserver"
    assert detect_server(["tgi_request_count", "tgi_queue_size"]) == "tgi"
    assert detect_server(["ts_inference_requests", "ts_queue_latency_microseconds"]) == "torchserve"
    assert detect_server(["process_cpu_seconds", "python_gc_objects_collected"]) is None
    assert "vllm:kv_cache_usage_perc" in default_families("vllm")
    assert default_families(None) == ()


def test_mlserver_capture_parses_its_summary_and_labelled_counters() -> None:
    parsed = parse_exposition(text("mlserver-1.7.1-after-one-request.prom"))
    duration = parsed["model_infer_request_duration"]
    assert duration.kind == "summary"
    ((count, total),) = duration.values.values()
    assert count == 1.0 and 0 < total < 1
    requests = parsed["rest_server_requests"]
    assert requests.kind == "counter"
    ((labels, value),) = requests.values.items()
    assert dict(labels)["path"] == "/v2/models/{model_name}/infer" and value == (1.0,)
    assert parsed["model_infer_request_success_created"].kind == "gauge"


def test_window_opening_with_the_load_counts_from_the_scrape_before_it() -> None:
    out = vllm_window(LOAD, LOAD + 10 * S)
    assert out["status"] == "ok" and out["server"] == "vllm"
    assert out["scrapes"] == 3 and out["failed_scrapes"] == 0
    assert out["start_gap_s"] == 0.0  # the scrape before the load stands at W's start
    fams = out["families"]
    assert fams["vllm:num_preemptions"]["increase"] == 7.0
    assert fams["vllm:prompt_tokens"]["increase"] == 6160.0
    success = fams["vllm:request_success"]
    assert success["increase"] == 400.0 and success["label_sets"] == 2
    by_reason = {s["labels"]["finished_reason"]: s["increase"] for s in success["series"]}
    assert by_reason == {"length": 26.0, "stop": 374.0}
    ttft = fams["vllm:time_to_first_token_seconds"]
    assert (ttft["type"], ttft["count"], ttft["sum"], ttft["mean"]) == ("histogram", 400, 20, 0.05)
    assert fams["vllm:e2e_request_latency_seconds"]["mean"] == 1.5
    # Gauges are read from the scrapes taken inside W while the load ran, not the idle edges.
    running = fams["vllm:num_requests_running"]
    assert running | {"series": None} == {
        "type": "gauge",
        "start": 32.0,
        "end": 32.0,
        "min": 32.0,
        "max": 32.0,
        "mean": 32.0,
        "samples": 1,
        "label_sets": 1,
        "series": None,
    }
    assert running["series"][0]["labels"] == MODEL
    assert fams["vllm:gpu_cache_usage_perc"]["mean"] == 0.62
    assert "vllm:kv_cache_usage_perc" in out["missing"]  # a V1 name; this is a V0 server
    assert out["window_s"] == 10.0


def test_after_a_warmup_the_start_is_interpolated_between_the_scrapes_around_it() -> None:
    out = vllm_window(LOAD + int(2.5 * S), LOAD + 12 * S)
    # Preemptions read 2 at the load's start and 5 at 5 s: 3.5 at 2.5 s; 9 after the load.
    assert out["families"]["vllm:num_preemptions"]["increase"] == 5.5
    assert out["start_gap_s"] == 5.0


def test_listed_families_replace_the_defaults_and_accept_the_total_spelling() -> None:
    out = vllm_window(LOAD, LOAD + 10 * S, families=["vllm:num_preemptions_total", "vllm:nope"])
    assert list(out["families"]) == ["vllm:num_preemptions"]
    assert out["missing"] == ["vllm:nope"]


def test_triton_counters_without_total_and_gauges_from_the_edges_when_none_inside() -> None:
    out = summarize_window(
        Scrape(LOAD - S, text("triton-before.prom")),
        [],
        Scrape(LOAD + 4 * S, text("triton-after.prom")),
        None,
        (LOAD, LOAD + 4 * S - S // 10),
        LOAD,
    )
    fams = out["families"]
    assert out["server"] == "triton"
    assert fams["nv_inference_request_success"]["increase"] == 400.0
    assert fams["nv_inference_request_duration_us"]["increase"] == 2_200_000.0
    failure = fams["nv_inference_request_failure"]
    assert failure["increase"] == 2.0 and failure["label_sets"] == 2
    pending = fams["nv_inference_pending_request_count"]
    assert (pending["start"], pending["end"], pending["mean"], pending["samples"]) == (0, 3, 1.5, 2)


def test_a_failed_scrape_is_a_note_and_a_failed_edge_fails_only_this_summary() -> None:
    before = Scrape(LOAD - S, text("triton-before.prom"))
    after = Scrape(LOAD + 4 * S, text("triton-after.prom"))
    lost = Scrape(LOAD + 2 * S, None, "GET http://127.0.0.1:1/metrics: ReadTimeout: timed out")
    out = summarize_window(before, [lost], after, None, (LOAD, LOAD + 3 * S), LOAD)
    assert out["status"] == "ok" and out["failed_scrapes"] == 1
    assert out["notes"] == [f"a scrape failed: {lost.error}"]
    out = summarize_window(lost, [], after, None, (LOAD, LOAD + 3 * S), LOAD)
    assert out["status"] == "failed"
    assert out["reason"] == "the scrape before or after the load failed"
    assert out["families"] == {} and out["failed_scrapes"] == 1
    garbage = Scrape(LOAD + 4 * S, "<html>not metrics</html>")
    out = summarize_window(before, [], garbage, None, (LOAD, LOAD + 3 * S), LOAD)
    assert out["status"] == "failed" and "not Prometheus text exposition" in out["notes"][0]


def test_an_unknown_server_keeps_nothing_and_says_which_families_it_exposes() -> None:
    page = "# TYPE app_requests_total counter\napp_requests_total 3\n"
    out = summarize_window(
        Scrape(LOAD, page), [], Scrape(LOAD + S, page), None, (LOAD, LOAD + S), LOAD
    )
    assert out["status"] == "ok" and out["server"] is None and out["families"] == {}
    assert "server.metrics.families" in out["notes"][0] and "app_requests" in out["notes"][0]
    listed = summarize_window(
        Scrape(LOAD, page), [], Scrape(LOAD + S, page), ["app_requests"], (LOAD, LOAD + S), LOAD
    )
    assert listed["families"]["app_requests"]["increase"] == 0.0 and listed["notes"] == []


def test_a_counter_that_went_down_has_no_increase_and_a_note() -> None:
    high = "# TYPE jobs_total counter\njobs_total 50\n"
    low = "# TYPE jobs_total counter\njobs_total 4\n"
    out = summarize_window(
        Scrape(LOAD, high), [], Scrape(LOAD + S, low), ["jobs"], (LOAD, LOAD + S), LOAD
    )
    assert out["families"]["jobs"]["increase"] == 0.0
    assert out["families"]["jobs"]["series"][0]["increase"] is None
    assert "went down" in out["notes"][0]


def test_label_sets_past_the_cap_are_summed_but_not_listed() -> None:
    def page(step: int) -> str:
        rows = [f'hits_total{{path="/p{i}"}} {i * step}' for i in range(MAX_SERIES + 5)]
        return "# TYPE hits_total counter\n" + "\n".join(rows) + "\n"

    out = summarize_window(
        Scrape(LOAD, page(1)), [], Scrape(LOAD + S, page(2)), ["hits"], (LOAD, LOAD + S), LOAD
    )
    hits = out["families"]["hits"]
    assert hits["label_sets"] == MAX_SERIES + 5 and len(hits["series"]) == MAX_SERIES
    assert hits["increase"] == sum(range(MAX_SERIES + 5))


def test_nan_and_infinite_samples_are_no_value_and_the_summary_is_strict_json() -> None:
    def page(ratio: str, count: str) -> str:
        return (
            "# TYPE hit_ratio gauge\n"
            f'hit_ratio{{engine="0"}} {ratio}\nhit_ratio{{engine="1"}} 0.5\n'
            "# TYPE wait_seconds summary\n"
            f"wait_seconds_count {count}\nwait_seconds_sum 2.0\n"
        )

    out = summarize_window(
        Scrape(LOAD, page("NaN", "1")),
        [Scrape(LOAD + S // 2, page("NaN", "+Inf"))],
        Scrape(LOAD + S, page("+Inf", "5")),
        ["hit_ratio", "wait_seconds"],
        (LOAD + S // 4, LOAD + S),  # its start lies between a count of 1 and one of no value
        LOAD,
    )
    assert out["families"]["hit_ratio"]["mean"] == 0.5
    assert out["families"]["hit_ratio"]["label_sets"] == 1
    assert out["families"]["wait_seconds"]["count"] == 4.0
    json.dumps(out, allow_nan=False)
