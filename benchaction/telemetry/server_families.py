"""The Prometheus families each known model server exposes, and the ones kept by default.

Names are as `prometheus_client`'s parser gives them: counters without `_total`.
"""

from __future__ import annotations

__all__ = ["KNOWN_SERVERS"]

# (server, how its families are told apart, the families kept by default). A server is detected
# by a family of its own; the first match wins, so TorchServe's broad `ts_` prefix comes last.
KNOWN_SERVERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "vllm",
        "vllm:",  # vLLM's metrics docs and vllm/engine/metrics.py, v1 loggers
        (
            "vllm:num_requests_running",
            "vllm:num_requests_waiting",
            "vllm:gpu_cache_usage_perc",  # V0 engine
            "vllm:kv_cache_usage_perc",  # V1 engine
            "vllm:num_preemptions",
            "vllm:prompt_tokens",
            "vllm:generation_tokens",
            "vllm:request_success",
            "vllm:time_to_first_token_seconds",
            "vllm:time_per_output_token_seconds",
            "vllm:inter_token_latency_seconds",
            "vllm:e2e_request_latency_seconds",
            "vllm:request_queue_time_seconds",
        ),
    ),
    (
        "tgi",
        "tgi_",  # text-generation-inference router metrics
        (
            "tgi_request_count",
            "tgi_request_success",
            "tgi_request_failure",
            "tgi_queue_size",
            "tgi_batch_current_size",
            "tgi_request_duration",
            "tgi_request_queue_duration",
            "tgi_request_inference_duration",
            "tgi_request_generated_tokens",
            "tgi_request_input_length",
        ),
    ),
    (
        "triton",
        "nv_inference_",  # Triton's metrics docs
        (
            "nv_inference_request_success",
            "nv_inference_request_failure",
            "nv_inference_count",
            "nv_inference_exec_count",
            "nv_inference_request_duration_us",
            "nv_inference_queue_duration_us",
            "nv_inference_compute_infer_duration_us",
            "nv_inference_pending_request_count",
            "nv_gpu_utilization",
            "nv_gpu_memory_used_bytes",
        ),
    ),
    (
        "mlserver",
        "model_infer_request_",  # mlserver/handlers/dataplane.py
        (
            "model_infer_request_success",
            "model_infer_request_failure",
            "model_infer_request_duration",
            "rest_server_requests",  # starlette-exporter, prefix `metrics_rest_server_prefix`
            "rest_server_requests_in_progress",
            "rest_server_request_duration_seconds",
            "batch_request_queue",
            "parallel_request_queue",
        ),
    ),
    (
        "torchserve",
        "ts_",  # TorchServe's metrics API (Prometheus mode)
        (
            "ts_inference_requests",
            "ts_inference_latency_microseconds",
            "ts_queue_latency_microseconds",
        ),
    ),
)
