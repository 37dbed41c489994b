"""Helpers for the cashier page's browser tests: a fake camera that shows a QR code, card tokens."""
from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

from PIL import Image

from tests.conftest import all_text

WIDTH, HEIGHT = 640, 480
QR_SIDE = 400  # pixels of the QR (with its quiet zone) inside the frame


def write_y4m(path: Path, png: bytes | None = None, *, frames: int = 3) -> Path:
    """A Y4M clip for Chromium's --use-file-for-fake-video-capture: the QR centred on white.

    4:2:0 planes (C420jpeg): a full-size Y plane, then Cb and Cr at half size; Chromium loops it."""
    canvas = Image.new("RGB", (WIDTH, HEIGHT), "white")
    if png is not None:
        qr = Image.open(BytesIO(png)).convert("RGB").resize((QR_SIDE, QR_SIDE), Image.NEAREST)
        canvas.paste(qr, ((WIDTH - QR_SIDE) // 2, (HEIGHT - QR_SIDE) // 2))
    y, cb, cr = canvas.convert("YCbCr").split()
    half = (WIDTH // 2, HEIGHT // 2)
    frame = b"FRAME\n" + y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    path.write_bytes(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * frames)
    return path


def card_token(line, user: str) -> str:  # type: ignore[no-untyped-def]
    """The member asks for the card in chat; the token is what its QR image URL carries."""
    line.say(user, "會員卡")
    match = re.search(r"/qr/([^\"/]+)\.png", all_text(line.last(user)))
    assert match, "the member card has no QR image"
    return match.group(1)


def qr_png(client, token: str) -> bytes:  # type: ignore[no-untyped-def]
    """The QR image exactly as the bot serves it to LINE."""
    resp = client.get(f"/qr/{token}.png")
    assert resp.status_code == 200 and resp.mimetype == "image/png", resp.data[:200]
    return resp.data


def member_state(client, counter, member_no: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """Balances and the ledger, read through the API as another cashier would."""
    summary = client.post("/api/v1/scan", json={"member_no": member_no}, headers=counter.cashier).get_json()
    entries = client.get(f"/api/v1/members/{member_no}/ledger", headers=counter.cashier).get_json()["entries"]
    return {"balances": summary["balances"], "entries": entries, "rewards": summary["rewards"]}
