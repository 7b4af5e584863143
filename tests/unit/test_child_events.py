"""The child-process event protocol's line format, and how a reader splits what
arrives on a channel into events and garbled lines."""

from __future__ import annotations

import os

import pytest

from appliance import child_events as ce

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "event",
    [
        {"kind": "progress", "done": 3, "total": 10, "phase": "predicting"},
        {"kind": "result", "data": {"names": {"0": "ünïcode ✓"}, "nested": [1, 2.5, None]}},
        {"kind": "log", "line": "a line\nwith a newline and a \r inside"},
        {"v": 1, "type": "started", "t": 1.5},  # the training vocabulary rides the same way
    ],
)
def test_an_event_survives_its_line(event: dict) -> None:
    line = ce.encode(event)
    assert line.startswith(b"@ahoy ") and line.endswith(b"\n") and line.count(b"\n") == 1
    assert ce.decode(line) == event
    assert ce.decode(line.decode()) == event


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"kind": "progress"}', "no '@ahoy' mark"),
        (b'  @ahoy {"kind": "progress"}', "no '@ahoy' mark"),
        (b"@ahoy not json", "invalid JSON"),
        (b'@ahoy {"kind": "progress"', "invalid JSON"),
        (b"@ahoy [1, 2]", "not a JSON object"),
        (b'@ahoy "progress"', "not a JSON object"),
        (b'@ahoy {"kind": "\xff"}', "not UTF-8"),
    ],
)
def test_what_is_not_an_event_says_why(line: bytes, reason: str) -> None:
    with pytest.raises(ce.NotAnEvent) as refused:
        ce.decode(line)
    assert refused.value.reason.startswith(reason)


def test_on_a_mixed_stream_a_line_is_an_event_or_log() -> None:
    assert ce.event_in('@ahoy {"kind": "epoch", "epoch": 1}') == {"kind": "epoch", "epoch": 1}
    assert ce.event_in('@ahoy {"kind": "epoch", "epoch": 1}\n') == {"kind": "epoch", "epoch": 1}
    assert ce.event_in("Epoch 1/3: 100%|██████| @ahoy {}") is None
    assert ce.event_in("@ahoy [1]") is None


def test_a_json_text_is_framed_as_is_and_must_be_one_line() -> None:
    assert ce.frame('{"v":1,"type":"log"}') == b'@ahoy {"v":1,"type":"log"}\n'
    with pytest.raises(ValueError):
        ce.frame('{"a":\n1}')


def test_the_decoder_hears_whole_lines_whatever_the_chunks() -> None:
    stream = b"".join(
        [
            ce.encode({"kind": "progress", "done": 1}),
            b"a stray print\n",
            ce.encode({"kind": "result", "data": {"x": "y" * 5000}}),
            b"@ahoy {broken\n",
        ]
    )
    for size in (1, 7, 4096, len(stream)):
        decoder = ce.Decoder()
        heard = []
        for start in range(0, len(stream), size):
            heard += decoder.feed(stream[start : start + size])
        heard += decoder.end()
        assert [type(h) for h in heard] == [ce.EventLine, ce.Garbled, ce.EventLine, ce.Garbled]
        assert heard[0].body == {"kind": "progress", "done": 1}  # type: ignore[union-attr]
        assert heard[0].json == '{"kind":"progress","done":1}'  # type: ignore[union-attr]
        assert heard[1] == ce.Garbled("a stray print", "no '@ahoy' mark")
        assert heard[2].body["data"]["x"] == "y" * 5000  # type: ignore[union-attr]
        assert heard[3].reason.startswith("invalid JSON")  # type: ignore[union-attr]


def test_a_line_cut_short_is_garbled_never_half_an_event() -> None:
    decoder = ce.Decoder()
    assert decoder.feed(ce.encode({"kind": "progress", "done": 1})[:-1]) == []
    (cut,) = decoder.end()
    assert isinstance(cut, ce.Garbled) and cut.reason.startswith("cut short")
    assert cut.line == '@ahoy {"kind":"progress","done":1}'
    assert decoder.end() == []


def test_an_overlong_line_is_dropped_once_and_reading_goes_on() -> None:
    decoder = ce.Decoder(max_line=100)
    heard = decoder.feed(b"@ahoy " + b"x" * 150)
    heard += decoder.feed(b"y" * 500 + b"\n" + ce.encode({"kind": "after"}))
    heard += decoder.end()
    assert [type(h) for h in heard] == [ce.Garbled, ce.EventLine]
    assert heard[0].reason == "a line longer than 100 bytes"  # type: ignore[union-attr]
    assert heard[1].body == {"kind": "after"}  # type: ignore[union-attr]


def test_a_garbled_line_reads_as_a_log_line() -> None:
    line = ce.Garbled("x" * 1000, "invalid JSON: oops").as_log()
    assert line.startswith("(a garbled event line: invalid JSON: oops) xxx")
    assert len(line) < 400


def test_the_writer_sends_whole_lines_that_the_reader_hears(tmp_path) -> None:
    read_fd, write_fd = os.pipe()
    writer = ce.EventWriter(write_fd)
    writer.write({"kind": "progress", "done": 2, "total": 4})
    writer.write_json('{"v":1,"type":"log","line":"hi"}')
    os.close(write_fd)
    with open(read_fd, "rb", buffering=0) as pipe:
        heard = list(ce.read(pipe))
    assert [h.body for h in heard] == [  # type: ignore[union-attr]
        {"kind": "progress", "done": 2, "total": 4},
        {"v": 1, "type": "log", "line": "hi"},
    ]


def test_a_channel_names_its_write_end_for_the_child() -> None:
    channel = ce.Channel()
    try:
        env = channel.child_env({"PATH": "/bin"})
        assert env == {"PATH": "/bin", ce.FD_ENV: str(channel.pass_fds[0])}
    finally:
        channel.close()
