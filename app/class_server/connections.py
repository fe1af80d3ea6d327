"""The class server's connections: each holds one slot of the connection cap.

aiohttp's request handler per connection, kept in a set while connected so ``stop()``
can close them all at once, and giving its slot back exactly once — when the
connection ends, or when it never opened.
"""

from __future__ import annotations

import asyncio
import socket

from aiohttp import web

from app.class_server import protocol
from app.class_server.protocol import MAX_BODY, RequestError


class PerAddress:
    """Open connections per client address, at most ``cap`` each: one device holding
    connections open (a stuck page, or an attack) cannot take the whole room's slots."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.open: dict[str, int] = {}

    def take(self, address: str) -> bool:
        n = self.open.get(address, 0)
        if n >= self.cap:
            return False
        self.open[address] = n + 1
        return True

    def give_back(self, address: str) -> None:
        n = self.open.get(address, 0) - 1
        if n > 0:
            self.open[address] = n
        else:
            self.open.pop(address, None)


class Handler(web.RequestHandler):
    """aiohttp's handler for one connection, in ``live`` while connected; it holds one
    slot of the connection cap (and one of its address's), given back once when the
    connection ends or fails."""

    def __init__(self, live: set, slots: asyncio.Semaphore, *args,
                 address: str = "", per_address: PerAddress | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.live, self.slots, self.holds_slot = live, slots, True
        self.address, self.per_address = address, per_address

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
            if self.per_address is not None:
                self.per_address.give_back(self.address)


def set_up(handler: Handler, conn: socket.socket, task: asyncio.Task) -> None:
    if task.cancelled() or task.exception() is not None:  # the connection never opened
        conn.close()
        handler.give_back()


async def read_body(request: web.Request, timeout: float) -> bytes:
    """A request's body, whole: 413 over ``MAX_BODY`` (announced or sent), 408 when it
    has not all come within ``timeout`` seconds (a client that stalls mid-body)."""
    too_big = RequestError(413, protocol.TOO_BIG)
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise too_big
    body = bytearray()
    try:
        async with asyncio.timeout(timeout):
            while chunk := await request.content.readany():
                body += chunk
                if len(body) > MAX_BODY:
                    raise too_big
    except TimeoutError:
        raise RequestError(408, protocol.too_slow(timeout)) from None
    return bytes(body)
