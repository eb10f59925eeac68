"""Server-Sent Events of OpenAI-compatible streams, parsed as the decoded body arrives.

Called once per socket read on the engine's hot path: one `bytes.find` for the last event
boundary, one `split` into events, and one `json.loads` per `data:` event. The parse cannot be
skipped safely: whether an event carries text, usage or an error, and whether it is valid JSON
at all (the `malformed` count), are only known once it is parsed.
"""

from __future__ import annotations

from json import loads

__all__ = ["MAX_PENDING", "SseStream", "completion_usage"]

MAX_PENDING = 1 << 20
"""Bytes of one unfinished event kept between reads; a longer event is counted malformed and dropped."""

_DONE = b"[DONE]"
_IGNORED_FIELDS = frozenset((b"event", b"id", b"retry"))


class SseStream:
    """State of one streamed response."""

    __slots__ = (
        "_after_cr",
        "_rest",
        "_skipping",
        "chunks",
        "completion_tokens",
        "done",
        "error",
        "malformed",
        "prompt_tokens",
    )

    def __init__(self) -> None:
        self.done = False
        self.chunks = 0
        self.prompt_tokens = -1
        self.completion_tokens = -1
        self.malformed = 0
        self.error: str | None = None
        self._rest = b""  # the unfinished event (line ends already normalised to LF)
        self._skipping = False  # dropping an oversized event up to its end
        self._after_cr = False  # the last read ended with CR

    def feed(self, data: bytes) -> int:
        """Parse what arrived; return how many token-bearing events completed in `data`."""
        if self._after_cr:  # the LF of a CRLF split across reads: the line already ended
            self._after_cr = False
            if data[:1] == b"\n":
                data = data[1:]
        if b"\r" in data:
            self._after_cr = data[-1] == 13
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if self._rest:
            data = self._rest + data
        elif not data:
            return 0
        if self._skipping:
            end = data.find(b"\n\n")
            if end < 0:
                self._rest = b"\n" if data[-1:] == b"\n" else b""
                return 0
            self._skipping = False
            data = data[end + 2 :]
        end = data.rfind(b"\n\n")
        if end < 0:
            self._keep(data)
            return 0
        self._keep(data[end + 2 :])
        tokens = 0
        for event in data[:end].split(b"\n\n"):
            if event[:6] == b"data: " and b"\n" not in event:  # the usual one-line event
                payload = event[6:]
            else:
                joined = self._data_of(event)
                if joined is None:
                    continue
                payload = joined
            if len(payload) < 16 and payload.strip() == _DONE:
                self.done = True
                continue
            try:
                obj = loads(payload)
            except (ValueError, RecursionError):
                self.malformed += 1
                continue
            if type(obj) is not dict:
                self.malformed += 1
                continue
            if _carries_tokens(obj.get("choices")):
                tokens += 1
            usage = obj.get("usage")
            if usage is not None:
                self._take_usage(usage)
            error = obj.get("error")
            if error is not None:
                self.error = _error_message(error)
        self.chunks += tokens
        return tokens

    def _keep(self, rest: bytes) -> None:
        """Hold back the unfinished event, within MAX_PENDING so a hostile server cannot grow it."""
        if len(rest) > MAX_PENDING:
            self.malformed += 1
            self._skipping = True
            rest = b"\n" if rest[-1:] == b"\n" else b""  # the event may end with the next byte
        self._rest = rest

    def _data_of(self, event: bytes) -> bytes | None:
        """The joined `data:` lines of a multi-line event (None without any), counting bad lines."""
        data: list[bytes] = []
        for line in event.split(b"\n"):
            if not line or line[0] == 58:  # blank, or a ":" comment / keep-alive
                continue
            colon = line.find(b":")
            if colon < 0:
                name, value = line, b""
            else:
                name, value = line[:colon], line[colon + 1 :]
                if value[:1] == b" ":
                    value = value[1:]
            if name == b"data":
                data.append(value)
            elif name not in _IGNORED_FIELDS:
                self.malformed += 1
        return b"\n".join(data) if data else None

    def _take_usage(self, usage: object) -> None:
        if type(usage) is not dict:
            return
        prompt = _count(usage.get("prompt_tokens"))
        if prompt is not None:
            self.prompt_tokens = prompt
        completion = _count(usage.get("completion_tokens"))
        if completion is not None:
            self.completion_tokens = completion


def _carries_tokens(choices: object) -> bool:
    """True when any choice carries generated text: content, reasoning, tool calls, or completion text."""
    if type(choices) is not list:
        return False
    for choice in choices:
        if type(choice) is not dict:
            continue
        delta = choice.get("delta")
        if type(delta) is dict:
            if (
                delta.get("content")
                or delta.get("reasoning_content")
                or delta.get("reasoning")
                or delta.get("tool_calls")
            ):
                return True
        elif choice.get("text"):
            return True
    return False


def _count(value: object) -> int | None:
    """A token count, or None for anything that is not a non-negative integer (bools included)."""
    return value if type(value) is int and value >= 0 else None


def _error_message(error: object) -> str:
    """The message of an in-stream error, whatever shape the server gave it."""
    message = error.get("message") if type(error) is dict else None
    return str(error if message is None else message)[:500]


def completion_usage(body: bytes) -> tuple[int, int] | None:
    """(prompt, completion) tokens of a non-streamed answer; -1 for a missing one, None without usage."""
    try:
        obj = loads(body)
    except (ValueError, RecursionError):
        return None
    usage = obj.get("usage") if type(obj) is dict else None
    if type(usage) is not dict:
        return None
    prompt = _count(usage.get("prompt_tokens"))
    completion = _count(usage.get("completion_tokens"))
    if prompt is None and completion is None:
        return None
    return (-1 if prompt is None else prompt, -1 if completion is None else completion)
