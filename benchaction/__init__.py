"""bench-action: benchmark an ML model's inference server in CI and say whether a change made it faster, slower, or neither."""

from benchaction.errors import BenchActionError, ConfigError, ResultsError, ServingError

__version__ = "0.1.0"  # keep in step with pyproject.toml

__all__ = ["BenchActionError", "ConfigError", "ResultsError", "ServingError", "__version__"]
