"""Where students reach the class server: this machine's LAN address, the join URL and
its QR code (made by ``segno``, as SVG or PNG bytes the window can show)."""

from __future__ import annotations

import io
import ipaddress
import socket

import segno

LOOPBACK = "127.0.0.1"


def lan_address() -> str:
    """This machine's IPv4 address on the local network, or 127.0.0.1 when it has none.

    Asks the system which address it would send from towards a documentation-only
    address (TEST-NET-1): a UDP ``connect`` sends no packet, so this works offline on a
    classroom network with no internet and costs nothing.
    """
    for probe in ("192.0.2.1", "10.255.255.255"):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect((probe, 9))
                addr = s.getsockname()[0]
        except OSError:
            continue
        ip = ipaddress.ip_address(addr)
        if not (ip.is_loopback or ip.is_unspecified or ip.is_link_local):
            return addr
    return LOOPBACK


def join_url(host: str, port: int, token: str) -> str:
    """The address students open: ``http://HOST:PORT/?k=TOKEN``."""
    if ":" in host:  # an IPv6 address is written in brackets in a URL
        host = f"[{host}]"
    return f"http://{host}:{port}/?k={token}"


def qr_svg(url: str, scale: int = 8, border: int = 4, dark: str = "#000",
           light: str = "#fff") -> bytes:
    """The QR code of ``url`` as an SVG document (``scale`` pixels a module)."""
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="svg", scale=scale, border=border,
                                    dark=dark, light=light, xmldecl=False)
    return buf.getvalue()


def qr_png(url: str, scale: int = 8, border: int = 4) -> bytes:
    """The QR code of ``url`` as a black-on-white PNG (``scale`` pixels a module)."""
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=scale, border=border)
    return buf.getvalue()
