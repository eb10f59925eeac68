"""A tiny GitHub repository in memory behind the validating stand-in: contents, git data, issues.

It answers through `StandIn.route_prefix`, so every request is still checked against GitHub's
REST description, and exact routes a test programs (a 403, say) take precedence. Shas change on
every write, a PUT naming a stale sha gets 409, creating a ref twice gets 422, and knobs let a
test have another writer land a commit just before ours (`interfere`, `race_branch_creation`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

from benchaction.github.publish import BOT_LOGIN
from tests.support.standin import Recorded, Reply, StandIn

INLINE_LIMIT = 1024 * 1024  # the contents API inlines files up to 1 MB, larger ones come empty
RAW = "application/vnd.github.raw"
Writer = Callable[[str | None], str]


@dataclass(frozen=True)
class Commit:
    sha: str
    tree: str
    parents: tuple[str, ...]
    message: str


@dataclass
class _Interference:
    writers: list[Writer]
    status: int


@dataclass
class FakeRepo:
    """State of `repository` ("owner/name"); `login` is the author of issues and comments we make."""

    github: StandIn
    repository: str = "Codertocat/Hello-World"
    login: str = BOT_LOGIN
    default_branch: str = "main"
    inline_limit: int = INLINE_LIMIT
    blobs: dict[str, bytes] = field(default_factory=dict)
    trees: dict[str, dict[str, str]] = field(default_factory=dict)  # flat: path -> blob sha
    commits: dict[str, Commit] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # "refs/heads/x" -> commit sha
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    _interference: dict[tuple[str, str], _Interference] = field(default_factory=dict)
    _ref_races: dict[str, tuple[str, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _counter: int = 0

    def __post_init__(self) -> None:
        self.base = f"/repos/{self.repository}"
        for method in ("GET", "PUT", "POST", "PATCH"):
            self.github.route_prefix(method, self.base + "/", self._answer)

    # -- knobs and views for tests ------------------------------------------------------------

    def interfere(
        self, path: str, writers: Sequence[Writer], *, status: int = 409, branch: str | None = None
    ) -> None:
        """The next len(writers) PUTs to `path` each find that another writer's commit (its change
        applied to the current text) landed first, and get `status` (409, or 422 on a stale sha)."""
        key = (branch or self.default_branch, path)
        self._interference[key] = _Interference(list(writers), status)

    def race_branch_creation(self, branch: str, path: str, text: str) -> None:
        """The next POST /git/refs for `branch` finds another writer created it, with `path`."""
        self._ref_races[branch] = (path, text)

    def seed(self, branch: str, path: str, text: str, message: str = "seed") -> str:
        """Commit `path` on `branch` as another writer (an orphan branch if absent); the commit sha."""
        with self._lock:
            return self._commit_file(branch, path, text.encode(), message)

    def file(self, branch: str, path: str) -> str | None:
        """The text of `path` at the tip of `branch`, or None."""
        with self._lock:
            blob = self._blob_at(branch, path)
            return None if blob is None else self.blobs[blob].decode()

    def history(self, branch: str) -> list[Commit]:
        """The commits of `branch`, tip first, following first parents."""
        chain: list[Commit] = []
        sha = self.refs.get(f"refs/heads/{branch}")
        while sha is not None:
            commit = self.commits[sha]
            chain.append(commit)
            sha = commit.parents[0] if commit.parents else None
        return chain

    def add_issue(
        self, title: str, body: str, login: str, labels: Sequence[str] = (), *, pr: bool = False
    ) -> int:
        """An open issue (or pull request) written by `login`; its number."""
        with self._lock:
            issue = self._new_issue(title, body, login, labels)
            if pr:
                issue["pull_request"] = {"url": f"https://api.github.com{self.base}/pulls/1"}
            return int(issue["number"])

    # -- git objects ------------------------------------------------------------------------

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def _store_blob(self, data: bytes) -> str:
        sha = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # git's own blob sha
        self.blobs[sha] = data
        return sha

    def _store_tree(self, entries: dict[str, str]) -> str:
        sha = hashlib.sha1(json.dumps(sorted(entries.items())).encode()).hexdigest()
        self.trees[sha] = dict(entries)
        return sha

    def _store_commit(self, tree: str, parents: Sequence[str], message: str) -> str:
        seed = json.dumps([tree, list(parents), message, self._next()]).encode()
        sha = hashlib.sha1(seed).hexdigest()
        self.commits[sha] = Commit(sha, tree, tuple(parents), message)
        return sha

    def _blob_at(self, branch: str, path: str) -> str | None:
        tip = self.refs.get(f"refs/heads/{branch}")
        return None if tip is None else self.trees[self.commits[tip].tree].get(path)

    def _commit_file(self, branch: str, path: str, data: bytes, message: str) -> str:
        tip = self.refs.get(f"refs/heads/{branch}")
        entries = {} if tip is None else dict(self.trees[self.commits[tip].tree])
        entries[path] = self._store_blob(data)
        parents = [] if tip is None else [tip]
        sha = self._store_commit(self._store_tree(entries), parents, message)
        self.refs[f"refs/heads/{branch}"] = sha
        return sha

    def _file_json(self, path: str, blob: str, *, inline: bool = True) -> dict[str, Any]:
        data = self.blobs[blob]
        small = inline and len(data) <= self.inline_limit
        encoded = base64.encodebytes(data).decode() if small else ""  # wrapped like GitHub's
        return {
            "type": "file",
            "encoding": "base64" if small else "none",
            "size": len(data),
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "content": encoded,
            "sha": blob,
            "url": f"https://api.github.com{self.base}/contents/{path}",
            "git_url": f"https://api.github.com{self.base}/git/blobs/{blob}",
        }

    # -- dispatch ---------------------------------------------------------------------------

    def _answer(self, request: Recorded) -> Reply:
        rest = request.path[len(self.base) :]
        body = json.loads(request.body) if request.body else {}
        routes: list[tuple[str, str, Callable[[Recorded, re.Match[str], Any], Reply]]] = [
            ("GET", r"/contents/(.+)", self._get_contents),
            ("PUT", r"/contents/(.+)", self._put_contents),
            ("GET", r"/git/blobs/([0-9a-f]{40})", self._get_blob),
            ("POST", r"/git/blobs", self._post_blob),
            ("POST", r"/git/trees", self._post_tree),
            ("POST", r"/git/commits", self._post_commit),
            ("GET", r"/git/ref/heads/(.+)", self._get_ref),
            ("POST", r"/git/refs", self._post_ref),
            ("GET", r"/issues", self._list_issues),
            ("POST", r"/issues", self._post_issue),
            ("PATCH", r"/issues/(\d+)", self._patch_issue),
            ("POST", r"/issues/(\d+)/comments", self._post_comment),
        ]
        for method, pattern, handler in routes:
            found = re.fullmatch(pattern, rest)
            if method == request.method and found:
                with self._lock:
                    return handler(request, found, body)
        self.github.problems.append(f"{request.method} {request.path}: the fake repo has no answer")
        return Reply(404, {"message": "Not Found"})

    def _get_contents(self, request: Recorded, found: re.Match[str], _: Any) -> Reply:
        path = unquote(found.group(1))
        branch = request.query.get("ref", [self.default_branch])[0]
        tip = self.refs.get(f"refs/heads/{branch}")
        if tip is None:
            return Reply(404, {"message": f"No commit found for the ref {branch}"})
        entries = self.trees[self.commits[tip].tree]
        if path not in entries:
            inside = sorted(p for p in entries if p.startswith(path + "/"))
            if inside:  # a directory: GitHub lists its entries
                return Reply(json=[{"type": "file", "path": p, "name": p} for p in inside])
            return Reply(404, {"message": "Not Found"})
        if request.headers.get("accept", "").startswith(RAW):
            return Reply(body=self.blobs[entries[path]], headers={"Content-Type": RAW})
        return Reply(json=self._file_json(path, entries[path]))

    def _get_blob(self, request: Recorded, found: re.Match[str], _: Any) -> Reply:
        sha = found.group(1)
        if sha not in self.blobs:
            return Reply(404, {"message": "Not Found"})
        if request.headers.get("accept", "").startswith(RAW):
            return Reply(body=self.blobs[sha], headers={"Content-Type": RAW})
        data = self.blobs[sha]
        encoded = base64.encodebytes(data).decode()
        return Reply(json={"sha": sha, "size": len(data), "content": encoded, "encoding": "base64"})

    def _put_contents(self, _: Recorded, found: re.Match[str], body: Any) -> Reply:
        path = unquote(found.group(1))
        branch = body.get("branch", self.default_branch)
        if f"refs/heads/{branch}" not in self.refs:
            return Reply(404, {"message": f"Branch {branch} not found"})
        sent = body.get("sha")
        meddling = self._interference.get((branch, path))
        if meddling is not None and meddling.writers:
            current = self._blob_at(branch, path)
            text = None if current is None else self.blobs[current].decode()
            writer = meddling.writers.pop(0)
            self._commit_file(branch, path, writer(text).encode(), "another writer")
            now = self._blob_at(branch, path)
            if meddling.status == 422:
                return Reply(422, {"message": f"{path} is at {now} but expected {sent}"})
            return Reply(409, {"message": f"{path} does not match {sent}"})
        current = self._blob_at(branch, path)
        if current is not None and sent is None:
            return Reply(422, {"message": 'Invalid request.\n\n"sha" wasn\'t supplied.'})
        if sent is not None and sent != current:
            return Reply(409, {"message": f"{path} does not match {sent}"})
        commit = self._commit_file(branch, path, base64.b64decode(body["content"]), body["message"])
        blob = self._blob_at(branch, path)
        assert blob is not None
        answer = {
            "content": self._file_json(path, blob, inline=False),
            "commit": {"sha": commit, "message": body["message"]},
        }
        return Reply(201 if current is None else 200, answer)

    def _post_blob(self, _: Recorded, __: re.Match[str], body: Any) -> Reply:
        raw = body["content"]
        data = base64.b64decode(raw) if body.get("encoding") == "base64" else raw.encode()
        sha = self._store_blob(data)
        return Reply(201, {"sha": sha, "url": f"https://api.github.com{self.base}/git/blobs/{sha}"})

    def _post_tree(self, _: Recorded, __: re.Match[str], body: Any) -> Reply:
        base = body.get("base_tree")
        if base is not None and base not in self.trees:
            return Reply(422, {"message": "Invalid tree info"})
        entries = dict(self.trees[base]) if base else {}
        for entry in body["tree"]:
            if "content" in entry:
                entries[entry["path"]] = self._store_blob(entry["content"].encode())
            elif entry.get("sha") in self.blobs:
                entries[entry["path"]] = entry["sha"]
            else:
                return Reply(422, {"message": f"tree.sha {entry.get('sha')} is not a valid blob"})
        sha = self._store_tree(entries)
        listed = [
            {"path": p, "mode": "100644", "type": "blob", "sha": b} for p, b in entries.items()
        ]
        return Reply(201, {"sha": sha, "tree": listed, "truncated": False})

    def _post_commit(self, _: Recorded, __: re.Match[str], body: Any) -> Reply:
        if body["tree"] not in self.trees:
            return Reply(422, {"message": "Tree SHA does not exist"})
        parents = body.get("parents", [])
        if any(p not in self.commits for p in parents):
            return Reply(422, {"message": "Parent SHA does not exist or is not a commit object"})
        sha = self._store_commit(body["tree"], parents, body["message"])
        answer = {
            "sha": sha,
            "message": body["message"],
            "tree": {"sha": body["tree"]},
            "parents": [{"sha": p} for p in parents],
        }
        return Reply(201, answer)

    def _get_ref(self, _: Recorded, found: re.Match[str], __: Any) -> Reply:
        ref = f"refs/heads/{unquote(found.group(1))}"
        if ref not in self.refs:
            return Reply(404, {"message": "Not Found"})
        return Reply(json={"ref": ref, "object": {"sha": self.refs[ref], "type": "commit"}})

    def _post_ref(self, _: Recorded, __: re.Match[str], body: Any) -> Reply:
        ref, sha = body["ref"], body["sha"]
        if not ref.startswith("refs/") or ref.count("/") < 2:
            message = "Reference name must start with 'refs/' and have at least two slashes."
            return Reply(422, {"message": message})
        branch = ref[len("refs/heads/") :]
        if branch in self._ref_races:
            path, text = self._ref_races.pop(branch)
            self._commit_file(branch, path, text.encode(), "another writer's first commit")
        if ref in self.refs:
            return Reply(422, {"message": "Reference already exists"})
        if sha not in self.commits:
            return Reply(422, {"message": "Object does not exist"})
        self.refs[ref] = sha
        return Reply(201, {"ref": ref, "object": {"sha": sha, "type": "commit"}})

    # -- issues -----------------------------------------------------------------------------

    def _new_issue(
        self, title: str, body: str, login: str, labels: Sequence[str]
    ) -> dict[str, Any]:
        number = len(self.issues) + 1
        issue: dict[str, Any] = {
            "id": 1000 + number,
            "number": number,
            "title": title,
            "body": body,
            "state": "open",
            "state_reason": None,
            "labels": [{"name": name} for name in labels],
            "user": {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"},
            "html_url": f"https://github.com/{self.repository}/issues/{number}",
        }
        self.issues[number] = issue
        self.comments[number] = []
        return issue

    def _list_issues(self, request: Recorded, _: re.Match[str], __: Any) -> Reply:
        query = {k: v[0] for k, v in request.query.items()}
        state = query.get("state", "open")
        wanted = {w for w in query.get("labels", "").split(",") if w}
        found = [
            issue
            for issue in self.issues.values()
            if state in ("all", issue["state"])
            and wanted <= {label["name"] for label in issue["labels"]}
            and query.get("creator", issue["user"]["login"]) == issue["user"]["login"]
        ]
        found.sort(key=lambda i: int(i["number"]), reverse=query.get("direction") != "asc")
        per_page, page = int(query.get("per_page", 30)), int(query.get("page", 1))
        shown = found[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(found):
            following = urlencode({**query, "page": page + 1})
            headers["Link"] = f'<{self.github.url}{request.path}?{following}>; rel="next"'
        return Reply(json=shown, headers=headers)

    def _post_issue(self, _: Recorded, __: re.Match[str], body: Any) -> Reply:
        issue = self._new_issue(
            body["title"], body.get("body", ""), self.login, body.get("labels", [])
        )
        return Reply(201, issue)

    def _patch_issue(self, _: Recorded, found: re.Match[str], body: Any) -> Reply:
        issue = self.issues.get(int(found.group(1)))
        if issue is None:
            return Reply(404, {"message": "Not Found"})
        for key in ("title", "body", "state", "state_reason"):
            if key in body:
                issue[key] = body[key]
        if "labels" in body:
            issue["labels"] = [{"name": name} for name in body["labels"]]
        return Reply(json=issue)

    def _post_comment(self, _: Recorded, found: re.Match[str], body: Any) -> Reply:
        number = int(found.group(1))
        if number not in self.issues:
            return Reply(404, {"message": "Not Found"})
        comment = {"id": 5000 + self._next(), "body": body["body"], "user": {"login": self.login}}
        self.comments[number].append(comment)
        return Reply(201, comment)
