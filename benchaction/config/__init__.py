"""bench.yml in, a checked frozen `Config` out: every problem reported at once, with file and line.

`load` reads the YAML and applies a profile; `model` holds the frozen dataclasses; `fields`
parses one value; `checker` collects problems; `naming` finds a config's name even when it does not load; `server`, `scenario` and `protocols` build
their sections.
"""

from benchaction.config import model
from benchaction.config.load import (
    PROFILES_BUILTIN,
    config_from_mapping,
    load_config,
    parse_duration,
    parse_size,
)
from benchaction.config.model import *  # noqa: F403 - the model is the package's vocabulary
from benchaction.config.naming import config_name

__all__ = [
    "PROFILES_BUILTIN",
    "config_from_mapping",
    "config_name",
    "load_config",
    "parse_duration",
    "parse_size",
]
__all__ += model.__all__
