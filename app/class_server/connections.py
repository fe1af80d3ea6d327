"""The class server's connections: each holds one slot of the connection cap.

aiohttp's request handler per connection, kept in a set while connected so ``stop()``
can close them all at once, and giving its slot back exactly once — when the
connection ends, or when it never opened.
"""

from __future__ import annotations

import asyncio
import socket

from aiohttp import web


class Handler(web.RequestHandler):
    """aiohttp's handler for one connection, in ``live`` while connected; it holds one
    slot of the connection cap, given back once when the connection ends or fails."""

    def __init__(self, live: set, slots: asyncio.Semaphore, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.live, self.slots, self.holds_slot = live, slots, True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.live.add(self)
        super().connection_made(transport)

    def connection_lost(self, exc: BaseException | None) -> None:
        self.live.discard(self)
        self.give_back()
        super().connection_lost(exc)

    def give_back(self) -> None:
        if self.holds_slot:
            self.holds_slot = False
            self.slots.release()


def set_up(handler: Handler, conn: socket.socket, task: asyncio.Task) -> None:
    if task.cancelled() or task.exception() is not None:  # the connection never opened
        conn.close()
        handler.give_back()
