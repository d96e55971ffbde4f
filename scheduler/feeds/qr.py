"""QR codes of subscribe links, for a patient to scan with their phone's camera."""

from __future__ import annotations

import base64
import io

import segno


def qr_svg(link: str) -> bytes:
    """An SVG QR code of ``link`` (the webcal:// link opens the phone's calendar app)."""
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="svg", scale=6, border=2, xmldecl=False)
    return out.getvalue()


def qr_png(link: str) -> bytes:
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="png", scale=6, border=2)
    return out.getvalue()


def qr_data_uri(link: str) -> str:
    """The SVG as a data: URI, for an ``<img src>`` on a page that shows a new link once."""
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(link)).decode("ascii")
