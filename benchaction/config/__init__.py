"""bench.yml in, a checked frozen `Config` out: every problem reported at once, with file and line.

`load` reads the YAML and applies a profile; `model` holds the frozen dataclasses; `fields`
parses one value; `checker` collects problems; `server`, `scenario` and `protocols` build
their sections.
"""

from benchaction.config.load import PROFILES_BUILTIN, load_config, parse_duration, parse_size
from benchaction.config.model import (
    PROTOCOLS,
    RUNTIMES,
    Arrivals,
    BuildSpec,
    Config,
    GpuSpec,
    KServeSpec,
    KServeTensor,
    Limits,
    OpenAISpec,
    ProcessSpec,
    ReadySpec,
    Resources,
    ResponseCheck,
    Scenario,
    ServerSpec,
    Slo,
    Sweep,
    Warmup,
)

__all__ = [
    "PROFILES_BUILTIN",
    "PROTOCOLS",
    "RUNTIMES",
    "Arrivals",
    "BuildSpec",
    "Config",
    "GpuSpec",
    "KServeSpec",
    "KServeTensor",
    "Limits",
    "OpenAISpec",
    "ProcessSpec",
    "ReadySpec",
    "Resources",
    "ResponseCheck",
    "Scenario",
    "ServerSpec",
    "Slo",
    "Sweep",
    "Warmup",
    "load_config",
    "parse_duration",
    "parse_size",
]
