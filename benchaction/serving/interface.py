"""The serving layer's public data types and the protocol every runtime implements."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Protocol, Self

__all__ = ["ImageInfo", "RuntimeBase", "RuntimeName", "ServerHandle", "ServerRuntime"]

RuntimeName = Literal["docker", "process", "url"]


@dataclass(frozen=True)
class ImageInfo:
    """The server image a run measured: results record it so two runs can be told apart."""

    ref: str
    id: str
    digest: str | None
    size_bytes: int
    source: Literal["build", "pull", "local"]


@dataclass(frozen=True)
class ServerHandle:
    """One ready server instance: where to send load and how long it took to come up."""

    runtime: RuntimeName
    host: str
    port: int
    base_url: str
    cold_start_s: float | None
    container_id: str | None
    pid: int | None


class ServerRuntime(Protocol):
    """Prepares, starts and stops server instances; `close` leaves nothing it created behind."""

    name: RuntimeName

    def prepare(self) -> ImageInfo | None:
        """Build or pull the image once per run (Docker); other runtimes have nothing to do."""
        ...

    def start(self) -> ServerHandle:
        """Start one server instance and return once it answers the readiness probe."""
        ...

    def stop(self) -> None:
        """Stop and remove the current instance; does nothing when none is running."""
        ...

    def ensure_running(self) -> None:
        """Raise ServingError, with its exit code and log tail, if the current instance died."""
        ...

    def close(self) -> None:
        """Remove every instance this runtime started; idempotent and safe on a signal path."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class RuntimeBase:
    """Gives each runtime the context-manager half of the protocol: leaving the block closes it."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
