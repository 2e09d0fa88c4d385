"""Whole nomination e-mails as units send them: a form, a write-up, photos, in one message."""

from __future__ import annotations

import io
import random
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from PIL import Image

SHANGHAI = ZoneInfo("Asia/Shanghai")
DOCX = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
_TYPES = {
    "docx": DOCX,
    "pdf": ("application", "pdf"),
    "jpg": ("image", "jpeg"),
    "png": ("image", "png"),
    "zip": ("application", "zip"),
    "txt": ("text", "plain"),
    "xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def photo_jpeg(seed: int = 0, size: tuple[int, int] = (320, 240)) -> bytes:
    """A small camera-like JPEG: noisy, so it does not compress to nothing."""
    rng = random.Random(seed)
    image = Image.effect_noise(size, 40 + seed % 20).convert("RGB")
    tint = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    buffer = io.BytesIO()
    Image.blend(image, tint, 0.4).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def nomination_mail(
    files: list[tuple[str, bytes]],
    *,
    subject: str = "2017年度巴渝工匠推荐材料",
    sender: str = "沙坪坝区某厂工会 <gonghui@example.cn>",
    to: str = "bygj@cqgh.org",
    sent: datetime = datetime(2017, 4, 10, 9, 58, tzinfo=SHANGHAI),
    received: datetime | None = None,
    body: str = "您好，附件是我单位的推荐材料，请查收。",
    message_id: str = "<nomination-1@example.cn>",
    headers: dict[str, str] | None = None,
) -> bytes:
    """A multipart mail carrying the files, with a Received: header for the time of receipt."""
    message = EmailMessage()
    arrival = received or sent.replace(minute=min(sent.minute + 1, 59))
    message["Received"] = f"from mail.example.cn by mx.cqgh.org; {format_datetime(arrival)}"
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(sent)
    message["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for filename, data in files:
        maintype, subtype = _TYPES.get(filename.rsplit(".", 1)[-1].lower(), ("application", "octet-stream"))
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()
