"""bench.yml loading: every error is specific, profiles merge as documented, the example loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchaction.config import PROFILES_BUILTIN, load_config, parse_duration, parse_size
from benchaction.config.model import AUTO_PORT, GpuSpec
from benchaction.errors import ConfigError
from tests.support.config_files import Write, only_problem, problems
from tests.support.paths import EXAMPLES

EXAMPLE = EXAMPLES / "numpy-mlp" / "bench.yml"

# Line numbers matter in these documents: tests assert on them.
BASE = """\
version: 1
server:
  image: example/model:1
scenarios:
  - name: predict
    path: /predict
    method: POST
    payloads: [{"x": 1}]
    requests: 10
"""


# --- the example and the happy path -----------------------------------------------------------


@pytest.mark.parametrize("profile", [None, "pr", "full"])
def test_example_loads(profile: str | None) -> None:
    config = load_config(EXAMPLE, profile=profile)
    assert config.name == "numpy-mlp"
    assert config.profile == profile
    assert config.server.source == "build"
    assert config.server.build is not None
    assert config.server.build.context == EXAMPLE.parent
    assert config.server.process is not None
    assert config.server.process.cwd == EXAMPLE.parent
    assert config.server.resources.memory_bytes == 1024**3
    assert config.server.ready.interval_s == pytest.approx(0.1)
    assert config.server.port == AUTO_PORT, "the example must run beside anything on 8000"
    assert config.server.build.keep_images == 3
    predict, health = config.scenarios
    assert predict.method == "POST"
    assert len(predict.payloads) > 0
    assert health.method == "GET"
    if profile == "full":
        assert config.trials == 10
        assert (health.duration_s, health.requests) == (30.0, None)
        assert health.warmup.duration_s == 5.0
    else:
        assert config.trials == 3
        assert (health.duration_s, health.requests) == (None, 2000)
        assert health.warmup.requests == 100


def test_port_auto_and_build_keep_images(write: Write, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    path = write(
        BASE.replace(
            "  image: example/model:1\n", "  build: {context: ., keep_images: 1}\n  port: auto\n"
        )
    )
    config = load_config(path)
    assert config.server.port == AUTO_PORT
    assert config.server.build is not None and config.server.build.keep_images == 1
    assert load_config(write(BASE)).server.port == 8000
    bad = write(BASE.replace("  image: example/model:1\n", "  build: {keep_images: 0}\n"))
    assert any(
        "server.build.keep_images: expected an integer >= 1, got 0" in p for p in problems(bad)
    )


def test_builtin_profile_names() -> None:
    assert PROFILES_BUILTIN == ("pr", "full")


def test_hash_is_stable_and_follows_concurrency(write: Write) -> None:
    path = write(BASE)
    first, second = load_config(path), load_config(path)
    assert first.hash() == second.hash()
    changed = load_config(path, overrides={"scenarios": {"predict": {"concurrency": 8}}})
    assert changed.scenarios[0].concurrency == 8
    assert changed.hash() != first.hash()


def test_defaults_and_conversions(write: Write, tmp_path: Path) -> None:
    path = write(
        "version: 1\n"
        "server:\n"
        "  image: m:1\n"
        "  env: {DEBUG: true, THREADS: 4, RATIO: 0.5, NAME: x}\n"
        "  command: python -m server --port '8000'\n"
        "  gpus: [0, '1']\n"
        "  resources: {cpus: 1.5, memory: 512m, shm_size: 1GiB}\n"
        "scenarios:\n"
        "  - name: a\n"
        "    method: post\n"
        "    payloads: [{'b': [1, 2]}, '{\"raw\": true}']\n"
        "    duration: 250ms\n"
        "    warmup: {duration: 1s, requests: 5}\n"
    )
    config = load_config(path)
    assert config.name == tmp_path.name
    assert (config.trials, config.reuse, config.profile) == (3, False, None)
    server = config.server
    assert server.port == 8000
    assert server.runtime == "auto"
    assert dict(server.env) == {"DEBUG": "true", "THREADS": "4", "RATIO": "0.5", "NAME": "x"}
    assert server.command == ("python", "-m", "server", "--port", "8000")
    assert server.gpus == GpuSpec(device_ids=("0", "1"))
    assert server.resources.cpus == 1.5
    assert server.resources.memory_bytes == 512 * 1024**2
    assert server.resources.shm_size_bytes == 1024**3
    assert (server.ready.path, server.ready.status) == ("/", 200)
    assert (server.ready.timeout_s, server.ready.interval_s) == (120.0, 0.25)
    (scenario,) = config.scenarios
    assert scenario.method == "POST"
    assert scenario.path == "/"
    assert scenario.payloads == (b'{"b":[1,2]}', b'{"raw": true}')
    assert scenario.headers == (("Content-Type", "application/json"),)
    assert scenario.duration_s == 0.25
    assert scenario.requests is None
    assert (scenario.warmup.duration_s, scenario.warmup.requests) == (1.0, 5)
    assert (scenario.concurrency, scenario.timeout_s) == (1, 30.0)


def test_content_type_not_added_for_text_or_when_set(write: Write) -> None:
    path = write(
        "version: 1\n"
        "server: {url: 'http://127.0.0.1:9000/'}\n"
        "scenarios:\n"
        "  - {name: text, method: PUT, payloads: [hello], requests: 1}\n"
        "  - name: set\n"
        "    method: POST\n"
        "    headers: {content-type: text/plain, X-Flag: true}\n"
        "    payloads: [[1]]\n"
        "    requests: 1\n"
    )
    config = load_config(path)
    assert config.server.url == "http://127.0.0.1:9000"
    assert config.server.source == "url"
    text, explicit = config.scenarios
    assert text.headers == ()
    assert explicit.headers == (("content-type", "text/plain"), ("X-Flag", "true"))


def test_gpus_all_and_count(write: Write) -> None:
    for value, spec in (("all", GpuSpec(all=True)), ("2", GpuSpec(count=2))):
        path = write(BASE.replace("  image: example/model:1\n", f"  image: m\n  gpus: {value}\n"))
        assert load_config(path).server.gpus == spec


def test_jsonl_payloads(write: Write) -> None:
    write('{"a": 1}\n\n  \n[1,2]\r\n"s"', name="bodies.jsonl")
    path = write(BASE.replace('payloads: [{"x": 1}]', "payloads: {file: bodies.jsonl}"))
    (scenario,) = load_config(path).scenarios
    assert scenario.payloads == (b'{"a": 1}', b"[1,2]", b'"s"')
    assert scenario.headers == (("Content-Type", "application/json"),)


def test_process_cwd_defaults(write: Write, tmp_path: Path) -> None:
    (tmp_path / "srv").mkdir()
    write("FROM scratch\n", name="srv/Dockerfile")
    path = write(
        BASE.replace(
            "  image: example/model:1\n",
            "  build: {context: srv}\n  process: {command: [python3, app.py]}\n  runtime: process\n",
        )
    )
    server = load_config(path).server
    assert server.process is not None
    assert server.process.cwd == tmp_path / "srv"
    assert server.process.command == ("python3", "app.py")
    assert server.runtime == "process"


# --- reading errors ----------------------------------------------------------------------------


def test_missing_file(write: Write) -> None:
    assert only_problem("nope.yml") == "nope.yml: file not found"


def test_yaml_syntax_error_has_line_and_column(write: Write) -> None:
    path = write("version: 1\nserver:\n  image: [a, b\nscenarios: []\n")
    message = only_problem(path)
    assert message.startswith("bench.yml:4:")
    assert "YAML syntax error" in message


def test_top_level_must_be_a_mapping(write: Write) -> None:
    assert only_problem(write("- a\n- b\n")) == (
        "bench.yml:1: expected a mapping with version, server and scenarios, got a list"
    )


def test_empty_file(write: Write) -> None:
    assert "got null" in only_problem(write("# nothing\n"))


def test_wrong_version(write: Write) -> None:
    path = write(BASE.replace("version: 1", "version: 2"))
    assert only_problem(path) == "bench.yml:1: version: this bench-action reads version 1, got 2"


def test_missing_version(write: Write) -> None:
    path = write(BASE.replace("version: 1\n", ""))
    assert only_problem(path) == (
        "bench.yml: version: required key is missing; this bench-action reads version 1"
    )


def test_duplicate_key(write: Write) -> None:
    path = write(BASE + "trials: 2\ntrials: 4\n")
    assert only_problem(path) == "bench.yml:11: trials: duplicate key (first at line 10)"


# --- unknown keys ------------------------------------------------------------------------------


def test_unknown_top_level_key(write: Write) -> None:
    path = write(BASE + "trails: 5\n")
    assert only_problem(path) == (
        "bench.yml:10: trails: unknown key; did you mean 'trials'? "
        "(allowed: budget, isolation, name, profiles, reuse, scenarios, server, trials, version)"
    )


def test_unknown_server_key(write: Write) -> None:
    path = write(BASE.replace("  image: example/model:1\n", "  image: m\n  imgae: m\n"))
    assert only_problem(path) == (
        "bench.yml:4: server.imgae: unknown key; did you mean 'image'? (allowed: build, command,"
        " env, gpus, image, metrics, port, process, ready, resources, runtime, url)"
    )


def test_unknown_scenario_key(write: Write) -> None:
    path = write(BASE + "    concurency: 4\n")
    message = only_problem(path)
    assert message.startswith(
        "bench.yml:10: scenarios[0].concurency: unknown key; did you mean 'concurrency'? (allowed: "
    )


def test_unknown_key_without_close_match(write: Write) -> None:
    path = write(BASE.replace("  image: example/model:1\n", "  image: m\n  zzz: 1\n"))
    assert only_problem(path).startswith("bench.yml:4: server.zzz: unknown key (allowed: build,")


# --- server ------------------------------------------------------------------------------------


def test_server_needs_one_source(write: Write) -> None:
    path = write(BASE.replace("  image: example/model:1\n", "  port: 9000\n"))
    assert only_problem(path) == (
        "bench.yml:2: server: expected exactly one of image, build or url, got none"
    )


def test_server_rejects_two_sources(write: Write) -> None:
    path = write(BASE.replace("  image: example/model:1\n", "  image: m\n  url: http://h:1\n"))
    assert only_problem(path) == (
        "bench.yml:2: server: expected exactly one of image, build or url, got image and url"
    )


def test_https_is_rejected(write: Write) -> None:
    path = write(BASE.replace("  image: example/model:1\n", "  url: https://h:1\n"))
    message = only_problem(path)
    assert message.startswith("bench.yml:3: server.url: TLS is not supported yet")


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        (
            "  runtime: podman\n",
            "server.runtime: expected one of: auto, docker, process; got 'podman'",
        ),
        ("  port: 70000\n", "server.port: expected an integer from 1 to 65535, or auto, got 70000"),
        ("  port: any\n", "server.port: expected an integer from 1 to 65535, or auto, got 'any'"),
        ("  gpus: some\n", "server.gpus: expected 'all', a GPU count"),
        ("  env: {A: null}\n", "server.env.A: expected a string, number or boolean, got null"),
        ('  command: "a \'b"\n', "server.command: cannot split the command"),
        ("  ready: {path: health}\n", "server.ready.path: expected a path starting with '/'"),
        ("  ready: {status: 99}\n", "server.ready.status: expected an integer from 100 to 599"),
        ("  resources: {cpus: 0}\n", "server.resources.cpus: expected a number > 0, got 0"),
        ("  runtime: process\n", "server.runtime: runtime 'process' needs a server.process"),
        ("  process: {cwd: .}\n", "server.process.command: required key is missing"),
    ],
)
def test_server_field_errors(write: Write, snippet: str, expected: str) -> None:
    path = write(BASE.replace("  image: example/model:1\n", "  image: m\n" + snippet))
    message = only_problem(path)
    assert message.startswith("bench.yml:4: " + expected), message


def test_build_needs_a_dockerfile(write: Write, tmp_path: Path) -> None:
    path = write(BASE.replace("  image: example/model:1\n", "  build: {dockerfile: Nope}\n"))
    assert only_problem(path) == (
        f"bench.yml:3: server.build.dockerfile: file not found: {tmp_path / 'Nope'}"
    )


# --- scenarios ---------------------------------------------------------------------------------


def test_bad_concurrency_message(write: Write) -> None:
    path = write(BASE + "    concurrency: ten\n")
    assert only_problem(path) == (
        "bench.yml:10: scenarios[0].concurrency: expected an integer >= 1, got 'ten'"
    )


def test_duration_and_requests_both(write: Write) -> None:
    path = write(BASE + "    duration: 5s\n")
    assert only_problem(path) == (
        "bench.yml:5: scenarios[0]: expected exactly one of duration or requests, got both"
    )


def test_duration_and_requests_neither(write: Write) -> None:
    path = write(BASE.replace("    requests: 10\n", ""))
    assert only_problem(path) == (
        "bench.yml:5: scenarios[0]: expected exactly one of duration or requests, got neither"
    )


SCENARIO = "  - name: predict\n    requests: 10\n"


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("    path: predict\n", "scenarios[0].path: expected a path starting with '/'"),
        ("    method: FETCH\n", "scenarios[0].method: expected one of: GET, POST, PUT, PATCH,"),
        ("    timeout: 0\n", "scenarios[0].timeout: expected a duration > 0, got 0"),
        ("    timeout: soon\n", "scenarios[0].timeout: expected a duration: a number of seconds"),
        ("    warmup: later\n", "scenarios[0].warmup: expected a duration: a number of seconds"),
        ("    warmup: {}\n", "scenarios[0].warmup: expected duration and/or requests"),
        ("    warmup: {requests: -1}\n", "scenarios[0].warmup.requests: expected an integer >= 0"),
        ("    headers: {Host: x}\n", "scenarios[0].headers.Host: Host is set by the load engine"),
        (
            "    headers: {Transfer-Encoding: chunked}\n",
            "scenarios[0].headers.Transfer-Encoding: Transfer-Encoding is set by the load engine",
        ),
        (
            "    headers: {Content-Length: 3}\n",
            "scenarios[0].headers.Content-Length: Content-Length is set by the load engine",
        ),
        (
            '    headers: {X-A: "a\\r\\nb"}\n',
            "scenarios[0].headers.X-A: header values must not contain CR or LF",
        ),
        (
            '    headers: {"X\\nB": v}\n',
            "scenarios[0].headers.X\nB: header names must not contain CR or LF",
        ),
        ("    payloads: 5\n", "scenarios[0].payloads: expected a list of payloads or a mapping"),
        ("    payloads: [1]\n", "scenarios[0].payloads[0]: expected a mapping or list"),
    ],
)
def test_scenario_field_errors(write: Write, snippet: str, expected: str) -> None:
    head = "version: 1\nserver: {image: m}\nscenarios:\n"
    message = only_problem(write(head + SCENARIO + snippet))
    assert message.startswith("bench.yml:6: " + expected), message


def test_bad_scenario_name(write: Write) -> None:
    path = write(BASE.replace("name: predict", "name: 'bad name'"))
    assert only_problem(path) == (
        "bench.yml:5: scenarios[0].name: expected a name of 1 to 64 letters, digits, '.', '_' or"
        " '-' starting with a letter or digit, got 'bad name'"
    )


def test_get_with_payloads(write: Write) -> None:
    path = write(BASE.replace("    method: POST\n", ""))
    assert only_problem(path) == (
        "bench.yml:7: scenarios[0].payloads: GET requests carry no body; remove payloads or use POST"
    )


def test_empty_payload_list(write: Write) -> None:
    path = write(BASE.replace('payloads: [{"x": 1}]', "payloads: []"))
    assert only_problem(path) == (
        "bench.yml:8: scenarios[0].payloads: expected at least one payload, got an empty list"
    )


def test_jsonl_bad_line_reports_the_line(write: Write) -> None:
    write('{"a": 1}\n\n{"a": 2,}\n', name="bodies.jsonl")
    path = write(BASE.replace('payloads: [{"x": 1}]', "payloads: {file: bodies.jsonl}"))
    message = only_problem(path)
    assert message.startswith(
        "bench.yml:8: scenarios[0].payloads.file: bodies.jsonl:3: not valid JSON:"
    ), message


def test_jsonl_missing_file(write: Write, tmp_path: Path) -> None:
    path = write(BASE.replace('payloads: [{"x": 1}]', "payloads: {file: gone.jsonl}"))
    assert only_problem(path) == (
        "bench.yml:8: scenarios[0].payloads.file: cannot read payload file gone.jsonl: "
        f"file not found ({tmp_path / 'gone.jsonl'})"
    )


def test_jsonl_empty_file(write: Write) -> None:
    write("\n\n", name="bodies.jsonl")
    path = write(BASE.replace('payloads: [{"x": 1}]', "payloads: {file: bodies.jsonl}"))
    assert "bodies.jsonl holds no payloads" in only_problem(path)


def test_duplicate_scenario_names(write: Write) -> None:
    path = write(BASE + "  - {name: predict, requests: 1}\n")
    assert only_problem(path) == (
        "bench.yml:10: scenarios[1].name: duplicate scenario name (also scenarios[0])"
    )


def test_scenarios_must_be_a_non_empty_list(write: Write) -> None:
    path = write("version: 1\nserver: {image: m}\nscenarios: []\n")
    assert only_problem(path) == (
        "bench.yml:3: scenarios: expected a non-empty list of scenarios, got a list"
    )


def test_many_problems_are_reported_together(write: Write) -> None:
    path = write(
        "version: 1\n"
        "trials: 0\n"
        "server:\n"
        "  imgae: m\n"
        "scenarios:\n"
        "  - name: a\n"
        "    concurrency: ten\n"
        "    duration: forever\n"
    )
    assert problems(path) == [
        "bench.yml:4: server.imgae: unknown key; did you mean 'image'? (allowed: build, command,"
        " env, gpus, image, metrics, port, process, ready, resources, runtime, url)",
        "bench.yml:3: server: expected exactly one of image, build or url, got none",
        "bench.yml:7: scenarios[0].concurrency: expected an integer >= 1, got 'ten'",
        "bench.yml:8: scenarios[0].duration: expected a duration: a number of seconds or a string"
        " like 250ms, 1.5s, 2m (units: ns, us, ms, s, m, h), got 'forever'",
        "bench.yml:2: trials: expected an integer >= 1, got 0",
    ]
    with pytest.raises(ConfigError, match="invalid configuration"):
        load_config(path)


# --- durations and sizes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(2, 2.0), (0.5, 0.5), ("250ms", 0.25), ("1.5s", 1.5), ("2m", 120.0), ("1h", 3600.0),
     ("10us", 1e-5), ("10µs", 1e-5), ("100ns", 1e-7)],
)  # fmt: skip
def test_parse_duration(value: object, seconds: float) -> None:
    assert parse_duration(value, where="x") == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["5", "1h30m", "-1s", "5 sec", "s", True, None, [1], 0, -2])
def test_parse_duration_rejects(value: object) -> None:
    with pytest.raises(ConfigError) as info:
        parse_duration(value, where="bench.yml:3: scenarios[0].timeout")
    (message,) = info.value.problems
    assert message.startswith("bench.yml:3: scenarios[0].timeout: expected a duration")


def test_parse_duration_message_lists_forms() -> None:
    with pytest.raises(ConfigError) as info:
        parse_duration("soon", where="w")
    assert info.value.problems == [
        "w: expected a duration: a number of seconds or a string like 250ms, 1.5s, 2m"
        " (units: ns, us, ms, s, m, h), got 'soon'"
    ]


@pytest.mark.parametrize(
    ("value", "size"),
    [(1048576, 1048576), ("512m", 512 * 2**20), ("2g", 2 * 2**30), ("1GiB", 2**30),
     ("1kb", 1024), ("10B", 10), ("1.5k", 1536), ("64MB", 64 * 2**20), ("2048", 2048)],
)  # fmt: skip
def test_parse_size(value: object, size: int) -> None:
    assert parse_size(value, where="x") == size


@pytest.mark.parametrize("value", ["lots", "1t", "1 gigs", 0, -1, 1.5, True, None, "0m"])
def test_parse_size_rejects(value: object) -> None:
    with pytest.raises(ConfigError) as info:
        parse_size(value, where="bench.yml:9: server.resources.memory")
    (message,) = info.value.problems
    assert message.startswith("bench.yml:9: server.resources.memory: expected a size")


def test_bad_size_in_file(write: Write) -> None:
    path = write(
        BASE.replace("  image: example/model:1\n", "  image: m\n  resources:\n    memory: 1tb\n")
    )
    assert only_problem(path).startswith(
        "bench.yml:5: server.resources.memory: expected a size: a number of bytes or a string"
    )


# --- profiles and overrides --------------------------------------------------------------------

PROFILED = """\
version: 1
server:
  image: example/model:1
scenarios:
  - name: predict
    method: POST
    payloads: [{"x": 1}]
    requests: 10
  - name: health
    path: /health
    duration: 2s
trials: 3
profiles:
  quick:
    trials: 1
    scenarios:
      health:
        concurrency: 8
      "*":
        concurrency: 2
        timeout: 5s
  long:
    scenarios:
      predict:
        duration: 1m
  other:
    scenarios:
      - name: only
        requests: 1
  bad:
    scenarios:
      "*":
        concurrency: 0
  moved:
    server:
      url: http://127.0.0.1:8000
"""


def test_profile_sets_trials_and_merges_star_then_named(write: Write) -> None:
    config = load_config(write(PROFILED), profile="quick")
    assert config.profile == "quick"
    assert config.trials == 1
    predict, health = config.scenarios
    assert (predict.concurrency, predict.timeout_s) == (2, 5.0)
    assert (health.concurrency, health.timeout_s) == (8, 5.0)
    assert health.path == "/health"


def test_profile_list_replaces_scenarios(write: Write) -> None:
    config = load_config(write(PROFILED), profile="other")
    assert [s.name for s in config.scenarios] == ["only"]


def test_profile_duration_replaces_requests(write: Write) -> None:
    config = load_config(write(PROFILED), profile="long")
    assert (config.scenarios[0].duration_s, config.scenarios[0].requests) == (60.0, None)


def test_profile_url_replaces_image(write: Write) -> None:
    server = load_config(write(PROFILED), profile="moved").server
    assert (server.source, server.image, server.url) == ("url", None, "http://127.0.0.1:8000")


def test_profile_error_points_into_the_profile(write: Write) -> None:
    assert problems(write(PROFILED), profile="bad") == [
        "bench.yml:33: scenarios[0].concurrency: expected an integer >= 1, got 0",
        "bench.yml:33: scenarios[1].concurrency: expected an integer >= 1, got 0",
    ]


def test_unselected_profiles_do_not_change_anything(write: Write) -> None:
    config = load_config(write(PROFILED))
    assert config.trials == 3
    assert [s.concurrency for s in config.scenarios] == [1, 1]


@pytest.mark.parametrize("name", ["pr", "full"])
def test_builtin_profiles_need_no_definition(write: Write, name: str) -> None:
    config = load_config(write(PROFILED), profile=name)
    assert config.profile == name
    assert config.trials == 3


def test_unknown_profile_name(write: Write) -> None:
    assert only_problem(write(PROFILED), profile="quik") == (
        "bench.yml:13: profiles: no profile named 'quik'; did you mean 'quick'?"
        " (defined: bad, long, moved, other, quick; pr and full are always accepted)"
    )


def test_unknown_scenario_in_profile(write: Write) -> None:
    path = write(BASE + "profiles:\n  pr:\n    scenarios:\n      predcit: {requests: 1}\n")
    assert only_problem(path) == (
        "bench.yml:13: profiles.pr.scenarios.predcit: unknown scenario; did you mean 'predict'?"
        " (scenarios: predict; '*' means all of them)"
    )


def test_profile_cannot_set_version_or_unknown_keys(write: Write) -> None:
    path = write(BASE + "profiles:\n  pr:\n    version: 2\n    trails: 1\n")
    assert problems(path) == [
        "bench.yml:12: profiles.pr.version: cannot be set in a profile",
        "bench.yml:13: profiles.pr.trails: unknown key; did you mean 'trials'?"
        " (allowed: budget, isolation, name, reuse, scenarios, server, trials)",
    ]


def test_overrides_apply_after_the_profile(write: Write) -> None:
    config = load_config(
        write(PROFILED),
        profile="quick",
        overrides={"trials": 5, "scenarios": {"health": {"requests": 3}}},
    )
    assert config.trials == 5
    health = config.scenarios[1]
    assert (health.requests, health.duration_s, health.concurrency) == (3, None, 8)


def test_overrides_runtime(write: Write) -> None:
    path = write(
        BASE.replace("  image: example/model:1\n", "  image: m\n  process: {command: x}\n")
    )
    config = load_config(path, overrides={"trials": 1, "server": {"runtime": "process"}})
    assert (config.trials, config.server.runtime, config.server.image) == (1, "process", "m")


def test_bad_override_has_no_line(write: Write) -> None:
    assert problems(write(BASE), overrides={"trials": 0, "scenarios": {"nope": {}}}) == [
        "bench.yml: overrides.scenarios.nope: unknown scenario (scenarios: predict;"
        " '*' means all of them)",
        "bench.yml: trials: expected an integer >= 1, got 0",
    ]
