"""The client frame check in front of aiohttp's WebSocket reader, fed the way TCP delivers bytes."""

import os
import struct

from local.apigateway.frame_headers import MAX_FRAME_BYTES, ClientFrameCheck


class RecordingParser:
    def __init__(self):
        self.data = b""

    def feed_data(self, data):
        self.data += data
        return False, b""


class RecordingQueue:
    def __init__(self):
        self.errors = []

    def set_exception(self, error):
        self.errors.append(error)


def frame(payload: bytes, *, masked: bool = True) -> bytes:
    length = len(payload)
    if length < 126:
        head = bytes([0x81, (0x80 if masked else 0) | length])
    elif length < 65536:
        head = bytes([0x81, (0x80 if masked else 0) | 126]) + struct.pack("!H", length)
    else:
        head = bytes([0x81, (0x80 if masked else 0) | 127]) + struct.pack("!Q", length)
    return head + (os.urandom(4) if masked else b"") + payload


def feed(stream: bytes, chunk: int) -> tuple[RecordingParser, RecordingQueue]:
    parser, queue = RecordingParser(), RecordingQueue()
    check = ClientFrameCheck(parser, queue)
    for start in range(0, len(stream), chunk):
        check.feed_data(stream[start : start + chunk])
    return parser, queue


def test_masked_frames_pass_through_whole_whatever_the_chunking():
    stream = frame(b"a" * 10) + frame(b"b" * 300) + frame(b"c" * MAX_FRAME_BYTES)
    for chunk in (1, 3, 7, 4096, len(stream)):
        parser, queue = feed(stream, chunk)
        assert (parser.data, queue.errors) == (stream, [])


def test_an_unmasked_frame_stops_the_stream_with_1002_after_the_frames_before_it():
    good = frame(b"fine")
    for chunk in (1, 5, 1000):
        parser, queue = feed(good + frame(b"bad", masked=False) + frame(b"later"), chunk)
        assert parser.data == good
        assert [error.code for error in queue.errors] == [1002]


def test_a_frame_over_32_kb_stops_the_stream_with_1009():
    parser, queue = feed(frame(b"x" * (MAX_FRAME_BYTES + 1)), 2048)
    assert parser.data == b""
    assert [error.code for error in queue.errors] == [1009]
