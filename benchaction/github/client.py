"""The one class that talks to the GitHub REST API: auth headers, retries, pagination, downloads.

Everything else in bench-action asks this client; nothing else builds GitHub URLs or reads the
token, so retry policy and token hygiene live in one place.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

__all__ = [
    "API_VERSION",
    "GitHubClient",
    "GitHubError",
    "Gone",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "graphql_url_for",
    "permission_hint",
    "repo_path",
]

API_VERSION = "2022-11-28"
ACCEPT = "application/vnd.github+json"
PER_PAGE = 100
# GitHub's docs: without retry-after or a reset header, wait at least a minute on a secondary limit.
SECONDARY_LIMIT_WAIT_S = 60.0
MAX_REDIRECTS = 5
FORK_HINT = "pull requests from forks get a read-only GITHUB_TOKEN, so writes fail there"

# (pattern on the request path, permission the job's token most likely lacks, what it is for);
# first match wins.
PERMISSION_TABLE: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"/actions/"), "actions: read", ""),
    (
        re.compile(r"/issues/(\d+/comments|comments/\d+)"),
        "pull-requests: write (or issues: write)",
        "",
    ),
    (re.compile(r"/issues(/\d+)?$"), "issues: write", "the alert issue when main regresses"),
    (
        re.compile(r"/contents/|/git/(blobs|trees|commits|refs|ref/)"),
        "contents: write",
        "main-branch runs push the history to its branch",
    ),
    (re.compile(r"/check-runs"), "checks: write", ""),
    (re.compile(r"/statuses/"), "statuses: write", ""),
)


class GitHubError(Exception):
    """A GitHub API call failed; the message names the call and GitHub's own explanation."""

    def __init__(self, status: int | None, message: str, method: str, path: str) -> None:
        self.status = status
        self.message = message
        self.method = method
        self.path = path
        shown = "no response" if status is None else f"HTTP {status}"
        super().__init__(f"GitHub API {method} {path} failed ({shown}): {message}")


class PermissionDenied(GitHubError):
    """403 that is not a rate limit: the token lacks a permission (or the PR comes from a fork)."""


class NotFound(GitHubError):
    """404: the resource does not exist, or the token may not see it."""


class Gone(GitHubError):
    """410: the resource existed but is gone, e.g. an expired artifact."""


class RateLimited(GitHubError):
    """A rate limit that did not clear within the retries or the longest wait we accept."""


def permission_hint(path: str) -> str:
    """The job permission a 403 on `path` most likely calls for, plus the fork caveat."""
    for pattern, permission, purpose in PERMISSION_TABLE:
        if pattern.search(path):
            need = f"the token likely needs `permissions: {permission}` on the job"
            need += f" ({purpose})" if purpose else ""
            break
    else:
        need = "the token lacks the permission this endpoint needs (see the job's `permissions:`)"
    return f"{need}; {FORK_HINT}"


def repo_path(repository: str) -> str:
    """`/repos/owner/name` for `owner/name`; refuses anything else so URLs stay well formed."""
    owner, sep, name = repository.partition("/")
    if not sep or not owner or not name or "/" in name:
        raise ValueError(f"repository must be 'owner/name', got {repository!r}")
    return f"/repos/{owner}/{name}"


def graphql_url_for(api_url: str) -> str:
    """GraphQL endpoint next to a REST base: `https://api.github.com/graphql`, GHES `/api/graphql`."""
    base = api_url.rstrip("/")
    if base.endswith("/api/v3"):
        return base[: -len("v3")] + "graphql"
    return base + "/graphql"


def _github_message(response: requests.Response) -> str:
    """GitHub's `message` field when the body is JSON, else the start of the body text."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip() or response.reason or "no message"
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return response.text[:200].strip() or "no message"


def _is_rate_limit(response: requests.Response) -> bool:
    """429, or a 403 that GitHub marks as a primary or secondary rate limit."""
    if response.status_code == 429:
        return True
    if response.status_code != 403:
        return False
    if response.headers.get("x-ratelimit-remaining") == "0":
        return True
    return "secondary rate limit" in response.text.lower()


def _retryable(response: requests.Response) -> bool:
    """Server errors and rate limits are worth another try; other 4xx are not."""
    return response.status_code >= 500 or _is_rate_limit(response)


class GitHubClient:
    """Sends REST calls to `api_url` with the token, retrying 5xx and rate limits with backoff.

    `sleep` and `clock` are injected so tests neither wait nor depend on the wall clock.
    """

    def __init__(
        self,
        api_url: str,
        token: str | None,
        *,
        session: requests.Session | None = None,
        max_retries: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        max_wait_s: float = 60.0,
        clock: Callable[[], float] = time.time,
        backoff_s: float = 1.0,
        graphql_url: str | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.graphql_url = graphql_url or graphql_url_for(self.api_url)
        self._token = token or None
        self._session = session or requests.Session()
        self.max_retries = max_retries
        self._sleep = sleep
        self.max_wait_s = max_wait_s
        self._clock = clock
        self.backoff_s = backoff_s

    def __repr__(self) -> str:
        auth = "token set" if self._token else "no token"
        return f"GitHubClient({self.api_url!r}, {auth}, max_retries={self.max_retries})"

    __str__ = __repr__

    # -- public calls ---------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        allow_redirects: bool = True,
    ) -> requests.Response:
        """One API call with retries; returns the response or raises the matching GitHubError."""
        url = self._url(path)
        sent_headers = self._headers(headers)
        shown = urlsplit(url).path

        def send() -> requests.Response:
            return self._session.request(
                method,
                url,
                params=params,
                json=json,
                headers=sent_headers,
                allow_redirects=allow_redirects,
            )

        return self._with_retries(method, shown, send)

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET and decode the JSON body."""
        return self.request("GET", path, params=params).json()

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None) -> Any:
        """POST one GraphQL query; its `data`, or a GitHubError naming GitHub's first error."""
        sent_headers = self._headers({"Accept": "application/json"})
        shown = urlsplit(self.graphql_url).path
        payload = {"query": query, "variables": dict(variables or {})}

        def send() -> requests.Response:
            return self._session.post(self.graphql_url, json=payload, headers=sent_headers)

        response = self._with_retries("POST", shown, send)
        try:
            body = response.json()
        except ValueError:
            raise GitHubError(response.status_code, "answer is not JSON", "POST", shown) from None
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors or not isinstance(body, dict) or "data" not in body:
            first = errors[0].get("message") if errors and isinstance(errors[0], dict) else None
            text = self._scrub(str(first or "answer has no data"))
            raise GitHubError(response.status_code, text, "POST", shown)
        return body["data"]

    def paginate(
        self, path: str, params: Mapping[str, Any] | None, item_key: str | None
    ) -> Iterator[Any]:
        """Yield items page by page (100 a page), following `Link: rel="next"`; stops when asked.

        `item_key` names the list inside an object answer (`"artifacts"`); None for a list answer.
        """
        query: dict[str, Any] | None = {**(params or {}), "per_page": PER_PAGE}
        url: str | None = path
        while url is not None:
            response = self.request("GET", url, params=query)
            body = response.json()
            items = body if item_key is None else body.get(item_key, [])
            yield from items
            nxt = response.links.get("next", {}).get("url")
            url = str(nxt) if nxt else None
            query = None  # the next link carries the whole query string

    def download(self, url: str) -> bytes:
        """GET an API URL that answers with a redirect (artifact zip) and fetch its target.

        The redirect target is a pre-signed storage URL: it gets no Authorization header, whatever
        host it is on.
        """
        response = self.request(
            "GET", url, headers={"Accept": "application/octet-stream"}, allow_redirects=False
        )
        hops = 0
        while response.is_redirect:
            hops += 1
            if hops > MAX_REDIRECTS:
                raise GitHubError(None, "too many redirects", "GET", urlsplit(url).path)
            target = urljoin(response.url, response.headers["location"])
            response = self._fetch_unauthenticated(target)
        return response.content

    # -- internals ------------------------------------------------------------------------

    def _fetch_unauthenticated(self, target: str) -> requests.Response:
        """One hop to a storage URL: a bare prepared request, so no session auth, netrc or token."""
        shown = urlsplit(target).path  # the query string holds the signature: never show it

        def send() -> requests.Response:
            prepared = requests.Request("GET", target).prepare()
            return self._session.send(prepared, allow_redirects=False)

        return self._with_retries("GET", shown, send)

    def _url(self, path: str) -> str:
        """Absolute URL for `path`; an absolute URL must point into the API so the token stays there."""
        if path.startswith(("http://", "https://")):
            if not (path == self.api_url or path.startswith(self.api_url + "/")):
                raise ValueError(f"refusing to send the token outside {self.api_url}: {path}")
            return path
        return self.api_url + "/" + path.lstrip("/")

    def _headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = {"Accept": ACCEPT, "X-GitHub-Api-Version": API_VERSION}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        headers.update(extra or {})
        return headers

    def _scrub(self, text: str) -> str:
        """Remove the token from any text that may reach a log or an exception."""
        return text.replace(self._token, "***") if self._token else text

    def _with_retries(
        self, method: str, shown: str, send: Callable[[], requests.Response]
    ) -> requests.Response:
        """Call `send` until it succeeds, fails for good, or retries run out."""
        attempt = 0
        while True:
            try:
                response = send()
            except requests.RequestException as exc:
                if attempt >= self.max_retries:
                    raise GitHubError(
                        None,
                        self._scrub(f"{type(exc).__name__} after {attempt + 1} attempts"),
                        method,
                        shown,
                    ) from None
                self._sleep(self._backoff(attempt))
                attempt += 1
                continue
            if response.status_code < 400:
                return response
            if not _retryable(response):
                raise self._error(response, method, shown)
            wait = self._wait_for(response, attempt)
            if attempt >= self.max_retries or wait > self.max_wait_s:
                raise self._give_up(response, method, shown, attempt, wait)
            self._sleep(wait)
            attempt += 1

    def _backoff(self, attempt: int) -> float:
        return float(min(self.backoff_s * 2**attempt, self.max_wait_s))

    def _wait_for(self, response: requests.Response, attempt: int) -> float:
        """Seconds to wait before retrying: what GitHub asks for, else exponential backoff."""
        retry_after = response.headers.get("retry-after")
        if retry_after is not None:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                pass
        reset = response.headers.get("x-ratelimit-reset")
        if reset is not None and response.headers.get("x-ratelimit-remaining") == "0":
            try:
                return max(0.0, float(reset) - self._clock())
            except ValueError:
                pass
        if _is_rate_limit(response):
            return min(SECONDARY_LIMIT_WAIT_S, self.max_wait_s)
        return self._backoff(attempt)

    def _give_up(
        self, response: requests.Response, method: str, shown: str, attempt: int, wait: float
    ) -> GitHubError:
        """The error raised when retrying stops: out of attempts, or asked to wait too long."""
        message = _github_message(response)
        if wait > self.max_wait_s:
            why = f"GitHub asks to wait {wait:.0f}s, more than the {self.max_wait_s:.0f}s we accept"
        else:
            why = f"gave up after {attempt + 1} attempts"
        text = self._scrub(f"{message} ({why})")
        if _is_rate_limit(response):
            return RateLimited(response.status_code, text, method, shown)
        return GitHubError(response.status_code, text, method, shown)

    def _error(self, response: requests.Response, method: str, shown: str) -> GitHubError:
        """The GitHubError subclass for a final, non-retryable answer."""
        status = response.status_code
        message = self._scrub(_github_message(response))
        if status == 403:
            return PermissionDenied(status, f"{message}; {permission_hint(shown)}", method, shown)
        if status == 404:
            return NotFound(status, message, method, shown)
        if status == 410:
            return Gone(status, message, method, shown)
        return GitHubError(status, message, method, shown)
