"""Receipts with a rectangular fee seal (收费专用章) printed in black, and the same receipts without one.

A hospital's printed e-receipt (财政电子票据) carries its fee seal as a black frame with two lines
of characters, the unit's name spaced out to the frame and 收费专用章, often pressed on or printed
over one of the table's rules; offices send it as a phone photo. The unstamped receipt holds what
a frame search must not take for a stamp: a boxed one-line label, an empty 盖章 box, a small
table of two cells. `receipt_picture(seed)`: the stamped one on even seeds, the stamp-free one on
odd seeds; RECEIPT_TUNING was used to set the frame thresholds, the bench measures RECEIPT_HELD_OUT.
"""

from __future__ import annotations

import random

from PIL import Image, ImageDraw

from testing.builders.seal_drawing import font
from testing.builders.seal_pictures import RealPicture, _phone, phone_jpeg

RECEIPT_TUNING = range(80_000, 80_040)
RECEIPT_HELD_OUT = range(81_000, 81_040)
CITIES = ("江阴市", "重庆市沙坪坝区", "无锡市", "常州市武进区", "南通市", "宜兴市")
HOSPITALS = ("人民医院", "中医院", "第一人民医院", "妇幼保健院", "第二人民医院")
ROWS = (
    ("业务流水号：", "T2103110041"),
    ("医疗机构类型：", "综合医院"),
    ("医保统筹基金支付：", "0.00"),
    ("个人自付：", "0.00"),
    ("个人现金支付：", "231.00"),
    ("支付方式：", "现金"),
)


def receipt_picture(seed: int) -> RealPicture:
    """The receipt of one seed, photographed: with its black fee seal (expect grey) or without (a trap)."""
    rng = random.Random(seed * 7919 + 11)
    stamped = seed % 2 == 0
    page, rule_y = _receipt(rng)
    draw = ImageDraw.Draw(page)
    if stamped:
        fee_seal(draw, rng, (rng.uniform(260, 520), rule_y - rng.uniform(-20, 60)), rng.choice(CITIES) + rng.choice(HOSPITALS))
    else:
        _lookalikes(draw, rng, rule_y)
    picture = _phone(page, rng, 0.03)
    case, expect = ("seal:receipt_fee_seal", "grey") if stamped else ("trap:receipt_no_seal", "none")
    kinds = ("page", "grey", "phone") if stamped else ("page", "phone", "trap")
    return RealPicture(seed, case, expect, kinds, f"receipt-{seed}.jpg", phone_jpeg(picture, rng))


def _receipt(rng: random.Random) -> tuple[Image.Image, float]:
    """The lower part of a printed receipt, as d32-like photos show it: a table of label: value lines
    in a ruled frame and the 收款单位（章） line under it. Returns the page and its bottom rule's height."""
    width, height = 1600, rng.randint(560, 760)
    page = Image.new("RGB", (width, height), (250, 250, 247))
    draw = ImageDraw.Draw(page)
    top, bottom = 40, height - rng.randint(200, 260)
    draw.rectangle((60, top, width - 60, bottom), outline=(25, 25, 25), width=3)
    draw.line((60, top + 60, width - 60, top + 60), fill=(25, 25, 25), width=2)
    draw.text((90, top + 18), "金额合计（大写）贰佰叁拾壹元整", font=font(26), fill=(30, 30, 30))
    size = rng.randint(22, 28)
    for k, (label, value) in enumerate(rng.sample(ROWS, 4)):
        column, row = k % 2, k // 2
        draw.text((140 + column * 620, top + 90 + row * (size + 22)), label + value, font=font(size), fill=(30, 30, 30))
    draw.text((90, bottom + 30), "收款单位（章）：", font=font(26), fill=(30, 30, 30))
    draw.text((1000, bottom + 30), f"复核人：{rng.randint(1000, 9999)}", font=font(26), fill=(30, 30, 30))
    draw.text((90, bottom + 90), "真伪查验、报销入账反馈，请登录财政电子票据公共服务平台。", font=font(30), fill=(20, 20, 20))
    return page, float(bottom)


def fee_seal(draw: ImageDraw.ImageDraw, rng: random.Random, centre: tuple[float, float], unit: str,
             size: tuple[float, float] | None = None) -> None:
    """A rectangular fee seal centred at `centre`: a frame, the unit's name spaced out to it, 收费专用章 under it.
    `size`: its width and height, else drawn at random."""
    w = rng.uniform(300, 400)
    h = w / rng.uniform(2.4, 3.8)  # drawn even where `size` is given: a seed's ink and lettering stay its own
    w, h = size or (w, h)
    cx, cy = centre
    x0, y0, x1, y1 = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
    ink = rng.choice(((15, 15, 15), (40, 40, 42), (70, 70, 72)))
    draw.rectangle((x0, y0, x1, y1), outline=ink, width=rng.randint(3, 6))
    if rng.random() < 0.3:  # some fee seals have a thin second frame inside
        draw.rectangle((x0 + 9, y0 + 9, x1 - 9, y1 - 9), outline=ink, width=2)
    size = int(min(h * rng.uniform(0.26, 0.32), 0.84 * w / len(unit) * 0.9))  # a long name is cut smaller
    _spaced(draw, unit, (x0 + 0.08 * w, x1 - 0.08 * w), y0 + 0.3 * h, size, ink)
    _spaced(draw, "收费专用章", (x0 + 0.08 * w, x1 - 0.08 * w), y0 + 0.72 * h, size, ink)


def _spaced(draw: ImageDraw.ImageDraw, text: str, span: tuple[float, float], y: float, size: int, ink) -> None:
    """Characters spread evenly from one end of `span` to the other, as a stamp's lines are cut."""
    left, right = span
    step = (right - left - size) / max(1, len(text) - 1)
    for k, char in enumerate(text):
        draw.text((left + k * step + size / 2, y), char, font=font(size), fill=ink, anchor="mm")


def _lookalikes(draw: ImageDraw.ImageDraw, rng: random.Random, rule_y: float) -> None:
    """What a receipt holds that is framed and is no stamp: a boxed one-line label, an empty 盖章 box,
    a small two-cell table."""
    x = rng.uniform(300, 500)
    draw.rectangle((x, rule_y - 70, x + 300, rule_y - 20), outline=(25, 25, 25), width=3)
    draw.text((x + 150, rule_y - 45), "电子票据 已核验", font=font(28), fill=(25, 25, 25), anchor="mm")
    draw.rectangle((1150, rule_y + 70, 1450, rule_y + 170), outline=(25, 25, 25), width=2)
    y = rule_y - rng.uniform(100, 140)
    if y < 250:  # no room under the receipt's lines
        return
    draw.rectangle((900, y, 1400, y + 90), outline=(25, 25, 25), width=2)
    draw.line((1150, y, 1150, y + 90), fill=(25, 25, 25), width=2)
    draw.text((925, y + 30), "门诊号：1407", font=font(24), fill=(25, 25, 25))
    draw.text((1175, y + 30), "医保类型：普通", font=font(24), fill=(25, 25, 25))
