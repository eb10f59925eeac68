"""The SSE parser: token-bearing events, usage, errors, bad input, and any split of the byte stream."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchaction.engine.sse import MAX_PENDING, SseStream, completion_usage


def data(obj: object) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def chat(delta: dict[str, object], **extra: object) -> bytes:
    return data(
        {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}]} | extra
    )


def text(t: str) -> bytes:
    return data({"object": "text_completion", "choices": [{"index": 0, "text": t}]})


def usage(prompt: int, completion: int) -> bytes:
    body = {"prompt_tokens": prompt, "completion_tokens": completion}
    return data({"choices": [], "usage": body})


def state(s: SseStream) -> tuple[bool, int, int, int, int, str | None]:
    return s.done, s.chunks, s.prompt_tokens, s.completion_tokens, s.malformed, s.error


def test_a_chat_stream_counts_content_not_the_role_only_delta() -> None:
    stream = (
        chat({"role": "assistant", "content": ""})
        + chat({"content": "Hel"})
        + chat({"content": "lo"})
        + chat({}, finish_reason="stop")
        + usage(5, 2)
        + b"data: [DONE]\n\n"
    )
    s = SseStream()
    assert s.feed(stream) == 2
    assert state(s) == (True, 2, 5, 2, 0, None)


def test_initial_state() -> None:
    assert state(SseStream()) == (False, 0, -1, -1, 0, None)


@pytest.mark.parametrize(
    ("event", "tokens"),
    [
        (chat({"content": "x"}), 1),
        (chat({"reasoning_content": "think"}), 1),
        (chat({"reasoning": "think"}), 1),
        (chat({"tool_calls": [{"index": 0, "function": {"arguments": "{"}}]}), 1),
        (chat({"role": "assistant"}), 0),
        (chat({"content": ""}), 0),
        (chat({"content": None, "tool_calls": []}), 0),
        (text("x"), 1),
        (text(""), 0),
        (data({"choices": [{"index": 0, "text": ""}, {"index": 1, "text": "b"}]}), 1),
        (data({"choices": [{"index": 0, "delta": {"content": "a"}}, {"index": 1}]}), 1),
        (data({"choices": []}), 0),
        (data({"choices": "nope"}), 0),
        (data({"choices": [1, None]}), 0),
        (usage(3, 4), 0),
    ],
)
def test_which_events_bear_tokens(event: bytes, tokens: int) -> None:
    s = SseStream()
    assert s.feed(event) == tokens
    assert (s.chunks, s.malformed) == (tokens, 0)


def test_usage_from_any_event_and_null_usage_ignored() -> None:
    s = SseStream()
    s.feed(
        data({"choices": [{"text": "a"}], "usage": {"prompt_tokens": 7, "completion_tokens": 1}})
    )
    assert (s.prompt_tokens, s.completion_tokens) == (7, 1)
    s.feed(data({"choices": [{"text": "b"}], "usage": None}))
    assert (s.prompt_tokens, s.completion_tokens) == (7, 1)
    s.feed(data({"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 2}}))
    assert (s.chunks, s.prompt_tokens, s.completion_tokens) == (2, 7, 2)


@pytest.mark.parametrize(
    "bad", [{"prompt_tokens": -1}, {"prompt_tokens": True}, {"prompt_tokens": "7"}, [1, 2], 3]
)
def test_unusable_usage_values_are_ignored(bad: object) -> None:
    s = SseStream()
    s.feed(data({"choices": [], "usage": bad}))
    assert (s.prompt_tokens, s.completion_tokens, s.malformed) == (-1, -1, 0)


def test_comments_and_ignored_fields_are_not_malformed() -> None:
    s = SseStream()
    stream = (
        b": keep-alive\n\n"
        b":\n\n"
        b"event: message\nid: 7\nretry: 1000\ndata: "
        + json.dumps({"choices": [{"text": "a"}]}).encode()
        + b"\n\n"
        b"id\n\n"
    )
    assert s.feed(stream) == 1
    assert state(s) == (False, 1, -1, -1, 0, None)


def test_data_without_a_space_and_multi_line_data() -> None:
    s = SseStream()
    assert s.feed(b'data:{"choices":[{"text":"a"}]}\n\n') == 1
    # Two data lines of one event are joined with a newline, which JSON takes as whitespace.
    assert s.feed(b'data: {"choices":\ndata: [{"text":"b"}]}\n\n') == 1
    assert s.feed(b"data:[DONE]\n\n") == 0
    assert (s.chunks, s.done, s.malformed) == (2, True, 0)


def test_malformed_lines_and_bad_json_are_counted_never_raised() -> None:
    s = SseStream()
    stream = (
        b"garbage-line\n\n"
        b"data: {not json}\n\n"
        b'data: "a string"\n\n'
        b"data: [1, 2]\n\n"
        b"data: \xff\xfe\n\n"
        b"data: " + b"[" * 100_000 + b"\n\n"
        b"bogus: field\n" + text("a")
    )
    assert s.feed(stream) == 1
    assert s.malformed == 7
    assert not s.done


def test_crlf_and_lone_cr_line_ends() -> None:
    crlf = SseStream()
    body = b': ping\r\n\r\ndata: {"choices":[{"text":"a"}]}\r\n\r\ndata: [DONE]\r\n\r\n'
    assert crlf.feed(body) == 1
    assert state(crlf) == (True, 1, -1, -1, 0, None)
    cr = SseStream()
    assert cr.feed(body.replace(b"\r\n", b"\r")) == 1
    assert state(cr) == (True, 1, -1, -1, 0, None)


def test_in_stream_error_object() -> None:
    s = SseStream()
    s.feed(data({"error": {"message": "out of memory", "code": 500}}))
    assert s.error == "out of memory"
    assert (s.chunks, s.malformed) == (0, 0)
    other = SseStream()
    other.feed(data({"error": "plain"}))
    assert other.error == "plain"
    none = SseStream()
    none.feed(data({"choices": [{"text": "a"}], "error": None}))
    assert none.error is None


def test_feed_returns_only_what_completed_in_this_read() -> None:
    s = SseStream()
    event = text("a")
    assert s.feed(event + event[:10]) == 1
    assert s.feed(event[10:-1]) == 0
    assert s.feed(event[-1:] + event) == 2
    assert s.chunks == 3
    assert s.feed(b"") == 0


def test_an_oversized_event_is_counted_once_and_dropped() -> None:
    s = SseStream()
    s.feed(b"data: " + b"x" * (MAX_PENDING // 2))
    assert s.malformed == 0
    s.feed(b"x" * (MAX_PENDING // 2 + 10))
    assert s.malformed == 1
    # The rest of the oversized event is skipped, and the stream recovers after its end.
    assert s.feed(b"x" * 1000 + b"\n") == 0
    assert s.feed(b"\n" + text("a") + b"data: [DONE]\n\n") == 1
    assert state(s) == (True, 1, -1, -1, 1, None)


def test_the_pending_buffer_stays_bounded() -> None:
    s = SseStream()
    for _ in range(40):
        s.feed(b"y" * 100_000)
    assert len(s._rest) <= MAX_PENDING
    assert s.malformed == 1


# -- any split of the byte stream gives the same result as one read ----------------------------


@dataclass(frozen=True)
class Event:
    raw: bytes
    tokens: int = 0
    malformed: int = 0
    usage: tuple[int, int] | None = None
    done: bool = False


EVENTS = [
    Event(chat({"role": "assistant", "content": ""})),
    Event(chat({"content": "héllo wörld"}), tokens=1),
    Event(chat({"reasoning_content": "hm"}), tokens=1),
    Event(text("abc"), tokens=1),
    Event(usage(11, 22), usage=(11, 22)),
    Event(b": keep-alive\n\n"),
    Event(b"garbage-line\n\n", malformed=1),
    Event(b"data: {oops\n\n", malformed=1),
    Event(b'event: x\nid: 3\ndata: {"choices":\ndata: [{"text":"z"}]}\n\n', tokens=1),
    Event(b"data: [DONE]\n\n", done=True),
]


def expected(events: list[Event]) -> tuple[bool, int, int, int, int, str | None]:
    usages = [e.usage for e in events if e.usage is not None]
    prompt, completion = usages[-1] if usages else (-1, -1)
    return (
        any(e.done for e in events),
        sum(e.tokens for e in events),
        prompt,
        completion,
        sum(e.malformed for e in events),
        None,
    )


def feed_pieces(stream: bytes, cuts: list[int]) -> tuple[SseStream, int]:
    s = SseStream()
    returned = 0
    start = 0
    for cut in [*sorted(cuts), len(stream)]:
        returned += s.feed(stream[start:cut])
        start = cut
    return s, returned


@settings(max_examples=200, deadline=None)
@given(
    events=st.lists(st.sampled_from(EVENTS), max_size=12),
    line_end=st.sampled_from([b"\n", b"\r\n", b"\r"]),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=30),
)
def test_any_split_gives_the_counts_of_one_read(
    events: list[Event], line_end: bytes, cuts: list[int]
) -> None:
    stream = b"".join(e.raw for e in events).replace(b"\n", line_end)
    want = expected(events)
    whole = SseStream()
    assert whole.feed(stream) == want[1]
    assert state(whole) == want
    pieces, returned = feed_pieces(stream, [c for c in cuts if c <= len(stream)])
    assert state(pieces) == want
    assert returned == want[1]


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n", b"\r"])
def test_a_split_at_every_byte_boundary(line_end: bytes) -> None:
    stream = b"".join(e.raw for e in EVENTS).replace(b"\n", line_end)
    want = expected(EVENTS)
    for cut in range(len(stream) + 1):
        assert state(feed_pieces(stream, [cut])[0]) == want, cut
    one_byte = SseStream()
    for i in range(len(stream)):
        one_byte.feed(stream[i : i + 1])
    assert state(one_byte) == want


# -- non-streamed answers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "want"),
    [
        (b'{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":9}}', (3, 9)),
        (b'{"usage":{"completion_tokens":9}}', (-1, 9)),
        (b'{"usage":{"prompt_tokens":3}}', (3, -1)),
        (b'{"usage":{}}', None),
        (b'{"usage":null}', None),
        (b'{"choices":[]}', None),
        (b"[1]", None),
        (b"not json", None),
        (b"", None),
        (b'{"usage":{"prompt_tokens":true,"completion_tokens":-2}}', None),
    ],
)
def test_completion_usage(body: bytes, want: tuple[int, int] | None) -> None:
    assert completion_usage(body) == want
