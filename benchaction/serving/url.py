"""The URL runtime: a server someone else started; bench-action only waits until it is ready."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from ..config import ServerSpec
from ..errors import ServingError
from .interface import RuntimeBase, RuntimeName, ServerHandle
from .readiness import wait_until_ready

__all__ = ["UrlRuntime"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


class UrlRuntime(RuntimeBase):
    """Waits for readiness at `server.url`; it starts, stops and removes nothing."""

    name: RuntimeName = "url"

    def __init__(self, spec: ServerSpec, url: str, *, log: Callable[[str], None]) -> None:
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ServingError(f"server.url {url!r} must be an http:// or https:// URL with a host")
        try:
            port = parts.port or _DEFAULT_PORTS[parts.scheme]
        except ValueError as exc:
            raise ServingError(f"server.url {url!r} has an invalid port: {exc}") from exc
        self.spec = spec
        self._log = log
        self._host = parts.hostname
        self._port = port
        self._base_url = url.rstrip("/")

    def prepare(self) -> None:
        """Nothing to prepare: the server at the URL is not ours to build."""
        return None

    def ensure_running(self) -> None:
        """A URL target is not ours to watch: its failures show as errors in the trial."""

    def start(self) -> ServerHandle:
        """Wait until the URL answers the readiness probe; no cold start is measured."""
        wait_until_ready(
            self._base_url + self.spec.ready.path,
            self.spec.ready,
            log=self._log,
            check_alive=lambda: None,
            recent_logs=list,
            what=None,
        )
        self._log(f"server at {self._base_url} is ready")
        return ServerHandle(
            runtime="url",
            host=self._host,
            port=self._port,
            base_url=self._base_url,
            cold_start_s=None,
            container_id=None,
            pid=None,
        )

    def stop(self) -> None:
        """Nothing to stop: the server outlives the benchmark."""

    def close(self) -> None:
        """Nothing to remove."""
