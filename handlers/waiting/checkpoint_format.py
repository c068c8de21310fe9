"""How the functions write what they checkpoint: plain, compact JSON, and how they read it back (old format too)."""

from __future__ import annotations

import json
from typing import Any

from aws_durable_execution_sdk_python.serdes import EXTENDED_TYPES_SERDES, JsonSerDes, SerDesContext

# The root of the SDK's default format: {"t": <type tag>, "v": <value>}. No record of ours has exactly these keys.
_ENVELOPE_KEYS = frozenset({"t", "v"})


class CompactJson(JsonSerDes[Any]):
    """Every step result and wait state here is plain JSON data (TypedDicts of strings, numbers, booleans and None,
    or a bare boolean), so it is written as compact JSON.

    The SDK's default (ExtendedTypeSerDes) wraps every value in a type envelope to round-trip datetimes, bytes and
    decimals, which we never checkpoint: it costs bytes written (billed) on every checkpoint, and a decoder walks
    the envelopes on every replay (a poll's state is decoded twice per invocation). A value JSON cannot hold (a
    datetime, NaN) fails the serialization, which the SDK raises as SerDesError, instead of being written in a form a
    reader would have to guess.

    Executions replay on the function version that started them (docs/reliability.md), so each reads its own
    format; an envelope written by a version before this one is still read, through the SDK's own decoder, rather
    than handed on as ``{"t": ..., "v": ...}`` to fail later with a KeyError far from the cause.
    """

    def serialize(self, value: Any, _context: SerDesContext) -> str:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)

    def deserialize(self, data: str, context: SerDesContext) -> Any:
        value = json.loads(data)
        if isinstance(value, dict) and value.keys() == _ENVELOPE_KEYS:
            return EXTENDED_TYPES_SERDES.deserialize(data, context)
        return value


CHECKPOINT_JSON = CompactJson()
