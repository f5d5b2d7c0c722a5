"""Server-sent event streams that start with their first piece and end together with their last one."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi.responses import StreamingResponse
from starlette.types import Send


class LastEvents(str):
    """The final text of an event stream: `EventStream` writes it and ends the body in one socket write."""


class EventStream(StreamingResponse):
    """A `text/event-stream` response of `str` pieces; a `LastEvents` piece closes it.

    Starlette ends a stream with an empty body message after the last piece: a write of its own per response.
    """

    def __init__(self, events: AsyncIterator[str]) -> None:
        super().__init__(events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    async def stream_response(self, send: Send) -> None:
        """Send the headers, each piece as it comes, and the `LastEvents` piece with the end of the body."""
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        ended = False
        async for piece in self.body_iterator:
            if ended:
                raise RuntimeError("an event stream yielded after its LastEvents piece")
            ended = isinstance(piece, LastEvents)
            body = piece.encode(self.charset) if isinstance(piece, str) else bytes(piece)
            await send({"type": "http.response.body", "body": body, "more_body": not ended})
        if not ended:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


async def started(events: AsyncIterator[str]) -> EventStream:
    """`events` as a response whose status line waits for its first piece.

    Nothing is sent before that piece exists, so an error raised before it (an upstream failure while the guard
    samples its candidates, say) comes out of this call for the route to answer with its own status; only an error
    after it can still go into the stream. A guarded reply is known whole before its first piece: all of its errors
    are statuses.
    """
    first = await anext(events, None)

    async def resumed() -> AsyncIterator[str]:
        if first is not None:
            yield first
        async for piece in events:
            yield piece

    return EventStream(resumed())
