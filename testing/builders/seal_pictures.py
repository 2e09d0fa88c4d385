"""Pictures as offices send them (issue 15): phone photos askew in uneven light, close-ups, strips,
faint impressions, seals under signatures, and the hard negatives (clocks, plates, signs, emblems,
blue and gold stamps, red letterheads)."""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from testing.builders.forms import FormValues
from testing.builders.seal_drawing import (
    INKS,
    SealStyle,
    _noise,
    font,
    multiply_ink,
    random_values,
    seal_alpha,
    seal_style,
)
from testing.builders.seal_pages import (
    PageTraps,
    _photo_background,
    _star_points,
    form_page,
    png_bytes,
    scan,
    stamp_page,
    to_grey_copy,
)

# ---------------------------------------------------------------- pictures as offices send them (issue 15)
#
# What real mail shows and the set above lacks: phone JPEGs with 4:2:0 colour at qualities
# 60–85, the page photographed askew (perspective) in uneven light, close-ups where the ring
# fills the frame or is cut by its edge, strips of a page cut through the seal, seals under a
# signature, faint and half-pressed impressions, photocopies that also carry small colour marks
# (a red tick, a blue pen), and hard negatives: clocks, plates, road signs, emblems, blue and
# gold stamps, red letterheads and red round logos. `real_picture(seed)`; tuning and training
# use REAL_TUNING, the bench measures REAL_HELD_OUT only.

REAL_SEAL_CASES = ("page_phone", "page_pale", "page_oval", "closeup", "closeup_cut", "strip", "under_signature",
                   "partial_faint", "photocopy_marks", "photocopy_phone")
REAL_TRAP_CASES = ("clock", "plate", "no_entry_sign", "prohibition_sign", "emblem", "blue_stamp", "blue_closeup",
                   "gold_foil", "red_letterhead", "red_round_logo", "red_badge_logo", "plain_phone")
REAL_CASES = tuple((c, True) for c in REAL_SEAL_CASES) + tuple((c, False) for c in REAL_TRAP_CASES)
REAL_TUNING = range(50_000, 50_660)
REAL_HELD_OUT = range(60_000, 60_264)
BLUE_INKS = ((40, 80, 190), (30, 60, 160), (60, 100, 200), (35, 75, 150))
GOLD_INKS = ((200, 160, 60), (185, 150, 70), (215, 175, 80))

NO_TRAPS = PageTraps()


@dataclass(frozen=True)
class RealPicture:
    """One picture of the real-like set: what it is (`expect`: red | grey seal; blue | colour stamp;
    none) and its kinds."""

    seed: int
    case: str
    expect: str
    kinds: tuple[str, ...]  # among page, closeup, grey, phone, trap
    filename: str
    data: bytes

    @property
    def has_seal(self) -> bool:
        return self.expect in ("red", "grey")


def phone_jpeg(image: Image.Image, rng: random.Random) -> bytes:
    """As phones and mail apps save: 4:2:0 colour, quality 60–85."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=rng.randint(60, 85), subsampling=2)
    return buffer.getvalue()


def perspective(image: Image.Image, rng: random.Random, amount: float, fill=(128, 120, 110)) -> Image.Image:
    """The picture seen askew: each corner moved by up to `amount` of the size."""
    import numpy as np

    w, h = image.size
    target = [(0, 0), (w, 0), (w, h), (0, h)]
    source = [(x + rng.uniform(-amount, amount) * w, y + rng.uniform(-amount, amount) * h) for x, y in target]
    rows, rhs = [], []
    for (x, y), (u, v) in zip(target, source):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    coefficients = np.linalg.solve(np.array(rows, float), np.array(rhs, float))
    return image.transform((w, h), Image.Transform.PERSPECTIVE, tuple(coefficients), Image.Resampling.BICUBIC,
                           fillcolor=fill)


def uneven_light(image: Image.Image, rng: random.Random, depth: float = 0.45) -> Image.Image:
    """A lamp at one side, a shadow at the other, a warm or cold cast."""
    light = _noise(rng, image.size, max(8, image.width // 2)).point(lambda v: int(255 * (1 - depth + depth * v / 255)))
    cast = rng.choice(((1.0, 0.97, 0.9), (0.95, 0.97, 1.0), (1.0, 1.0, 1.0), (1.0, 0.95, 0.85)))
    channels = [light.point(lambda v, c=c: int(v * c)) for c in cast]
    lit = ImageChops.multiply(image.convert("RGB"), Image.merge("RGB", channels))
    gain = rng.uniform(1.0, 1.15)
    return lit.point(lambda v: min(255, int(v * gain)))


def _fit_long(image: Image.Image, long_side: int) -> Image.Image:
    factor = long_side / max(image.size)
    return image.resize((max(1, int(image.width * factor)), max(1, int(image.height * factor))),
                        Image.Resampling.BILINEAR)


def _phone(image: Image.Image, rng: random.Random, askew: float = 0.05) -> Image.Image:
    """Photographed: askew, uneven light, a little soft, at a phone's size."""
    image = perspective(image, rng, askew, fill=rng.choice(((120, 95, 70), (150, 150, 145), (70, 60, 50))))
    image = uneven_light(image, rng, rng.uniform(0.2, 0.5))
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.3)))
    return _fit_long(image, rng.choice((1200, 1600, 2000, 2400)))


def _handwriting(page: Image.Image, rng: random.Random, box: tuple[int, int, int, int],
                 ink: tuple[int, int, int]) -> None:
    """A signature in pen across `box`: loops and a stroke under them."""
    x0, y0, x1, y1 = box
    layer = Image.new("L", page.size, 0)
    draw = ImageDraw.Draw(layer)
    x = x0
    while x < x1 - 30:
        cx, cy, r = x + rng.uniform(10, 40), rng.uniform(y0 + 10, y1 - 10), rng.uniform(10, 30)
        turns = rng.uniform(0.8, 2.0)
        points = [(cx + r * math.cos(t) * (1 + k / 30) + k * 2, cy + r * 0.6 * math.sin(t))
                  for k in range(30) for t in [k / 29 * turns * 2 * math.pi]]
        draw.line(points, fill=255, width=rng.randint(2, 4), joint="curve")
        x += rng.uniform(40, 90)
    multiply_ink(page, ink, layer, (0, 0))


def _stamped_form(rng: random.Random, style: SealStyle, traps: PageTraps = NO_TRAPS,
                  over_text: bool = False) -> tuple[Image.Image, tuple[int, int, int, int], FormValues]:
    values = random_values(rng, channel="组织推荐")
    page, layout = form_page(values, rng, traps)
    box = stamp_page(page, layout, values.recommending_unit, style, rng, over_text=over_text)
    return page, box, values


def _crop_around(page: Image.Image, box: tuple[int, int, int, int], rng: random.Random, fill: float,
                 cut: float = 0.0) -> Image.Image:
    """A close-up: the seal fills `fill` of the frame's short side, shifted so that `cut` of it lies outside."""
    x0, y0, x1, y1 = box
    side = (x1 - x0) / fill
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if cut:
        angle = rng.uniform(0, 2 * math.pi)
        shift = side / 2 - (x1 - x0) * (0.5 - cut)
        cx, cy = cx + shift * math.cos(angle), cy + shift * math.sin(angle)
    w, h = side * rng.uniform(1.0, 1.5), side
    if rng.random() < 0.5:
        w, h = h, w
    return page.crop((int(cx - w / 2), int(cy - h / 2), int(cx + w / 2), int(cy + h / 2)))


def _real_seal(case: str, rng: random.Random) -> tuple[Image.Image, str, tuple[str, ...]]:
    """(picture, expect, kinds) of a seal case."""
    variant = {"page_pale": "faint", "page_oval": "oval", "partial_faint": "faint"}.get(case, rng.choice(
        ("round", "round", "oval", "pink", "faded", "rotated")))
    style = seal_style(rng, variant)
    if case == "page_pale":
        style = SealStyle(**{**style.__dict__, "strength": rng.uniform(0.3, 0.45), "ink": rng.choice(INKS["pink"])})
    page, box, _ = _stamped_form(rng, style, over_text=rng.random() < 0.5)
    if case == "under_signature":
        x0, y0, x1, y1 = box
        _handwriting(page, rng, (x0 - 40, y0 + (y1 - y0) // 3, x1 + 40, y1 - (y1 - y0) // 4),
                     rng.choice(((20, 20, 25), (30, 40, 120))))
    if case == "partial_faint":  # pressed on one side only: the other side of the ring barely shows
        x0, y0, x1, y1 = box
        fade = Image.linear_gradient("L").rotate(rng.uniform(0, 360)).resize((x1 - x0, y1 - y0))
        region = page.crop(box)
        page.paste(Image.composite(region, Image.new("RGB", region.size, (255, 255, 255)),
                                   fade.point(lambda v: int(80 + v * 0.7))), box)
    if case.startswith("photocopy"):
        page = to_grey_copy(page, rng)
        _colour_marks(page, rng)
        if case == "photocopy_phone":
            return _phone(page, rng), "grey", ("page", "grey", "phone")
        return scan(page, rng), "grey", ("page", "grey")
    if case in ("closeup", "closeup_cut"):
        crop = _crop_around(page, box, rng, rng.uniform(0.55, 0.95), rng.uniform(0.1, 0.3) if case == "closeup_cut" else 0)
        return _phone(crop, rng, 0.04), "red", ("closeup", "phone")
    if case == "strip":
        x0, y0, x1, y1 = box
        top = int(rng.uniform(y0 - 0.2 * (y1 - y0), y0 + 0.25 * (y1 - y0)))
        band = page.crop((0, top, page.width, top + int((y1 - y0) * rng.uniform(0.9, 1.6))))
        return uneven_light(band, rng, 0.2), "red", ("page",)
    if case == "page_pale" and rng.random() < 0.5:
        return scan(page, rng), "red", ("page",)
    return _phone(page, rng), "red", ("page", "phone")


def _colour_marks(page: Image.Image, rng: random.Random) -> None:
    """What a copied page picks up afterwards: a red tick, a blue pen signature, a small colour logo."""
    draw = ImageDraw.Draw(page)
    x, y = rng.uniform(200, 900), rng.uniform(300, 1400)
    draw.line([(x, y), (x + 12, y + 14), (x + 40, y - 20)], fill=(210, 30, 40), width=4)
    _handwriting(page, rng, (int(rng.uniform(150, 600)), 1500, int(rng.uniform(700, 1000)), 1600), (30, 50, 150))
    if rng.random() < 0.5:
        lx, ly = rng.uniform(60, 200), rng.uniform(40, 120)
        draw.rectangle((lx, ly, lx + 60, ly + 30), fill=rng.choice(((30, 120, 200), (220, 60, 40), (40, 160, 80))))


def _scene(rng: random.Random, size=(1200, 900)) -> Image.Image:
    return _photo_background(rng, size).filter(ImageFilter.GaussianBlur(2))


def _clock(rng: random.Random) -> Image.Image:
    """An alarm clock: a rim, a white face, ticks and numbers round it, two hands."""
    image = _scene(rng)
    draw = ImageDraw.Draw(image)
    cx, cy, r = rng.uniform(450, 750), rng.uniform(380, 520), rng.uniform(200, 330)
    rim = rng.choice(((200, 30, 35), (30, 30, 30), (190, 190, 195), (40, 70, 160)))
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=rim)
    face = r * rng.uniform(0.84, 0.92)
    draw.ellipse((cx - face, cy - face, cx + face, cy + face), fill=rng.choice(((245, 245, 240), (235, 230, 215))))
    for hour in range(12):
        a = math.radians(hour * 30 - 60)
        draw.text((cx + face * 0.78 * math.cos(a), cy + face * 0.78 * math.sin(a)), str(hour + 1),
                  font=font(int(face * 0.16)), fill=(20, 20, 20), anchor="mm")
        draw.line((cx + face * 0.93 * math.cos(a), cy + face * 0.93 * math.sin(a),
                   cx + face * 0.98 * math.cos(a), cy + face * 0.98 * math.sin(a)), fill=(20, 20, 20), width=3)
    for length, width in ((0.5, 8), (0.72, 5)):
        a = rng.uniform(0, 2 * math.pi)
        draw.line((cx, cy, cx + face * length * math.cos(a), cy + face * length * math.sin(a)), fill=(20, 20, 20),
                  width=width)
    return image


def _plate(rng: random.Random) -> Image.Image:
    """A plate on a table seen from above at an angle: an ellipse with a coloured band round the rim."""
    image = _scene(rng)
    draw = ImageDraw.Draw(image)
    cx, cy, r = rng.uniform(500, 700), rng.uniform(400, 500), rng.uniform(250, 380)
    squash = rng.uniform(0.6, 1.0)
    band = rng.choice(((200, 40, 40), (40, 80, 170), (200, 170, 80)))
    draw.ellipse((cx - r, cy - r * squash, cx + r, cy + r * squash), fill=(245, 245, 242))
    draw.ellipse((cx - r * 0.9, cy - r * 0.9 * squash, cx + r * 0.9, cy + r * 0.9 * squash), outline=band,
                 width=int(r * rng.uniform(0.03, 0.08)))
    for k in range(rng.randint(0, 16)):  # a pattern along the band
        a = 2 * math.pi * k / 16
        draw.ellipse((cx + r * 0.95 * math.cos(a) - 6, cy + r * 0.95 * squash * math.sin(a) - 6,
                      cx + r * 0.95 * math.cos(a) + 6, cy + r * 0.95 * squash * math.sin(a) + 6), fill=band)
    return image


def _sign(rng: random.Random, slash: bool) -> Image.Image:
    """A road sign: a red disc with a white bar (no entry), or a red ring with a slash over a pictogram."""
    image = _scene(rng)
    draw = ImageDraw.Draw(image)
    cx, cy, r = rng.uniform(400, 800), rng.uniform(300, 550), rng.uniform(120, 300)
    draw.rectangle((cx - 8, cy + r, cx + 8, 900), fill=(120, 120, 125))
    red = rng.choice(((200, 25, 35), (215, 35, 40), (180, 20, 30)))
    if slash:
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(245, 245, 245))
        draw.text((cx, cy), rng.choice(("P", "烟", "车")), font=font(int(r)), fill=(20, 20, 20), anchor="mm")
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=red, width=int(r * rng.uniform(0.12, 0.18)))
        d = r * 0.7
        draw.line((cx - d, cy - d, cx + d, cy + d), fill=red, width=int(r * 0.14))
    else:
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=red)
        draw.rectangle((cx - r * 0.7, cy - r * 0.15, cx + r * 0.7, cy + r * 0.15), fill=(245, 245, 245))
    return image


def _emblem(draw: ImageDraw.ImageDraw, rng: random.Random, centre: tuple[float, float], r: float) -> None:
    """A printed emblem: a red field, gold stars and a gold wreath round it."""
    cx, cy = centre
    gold = rng.choice(GOLD_INKS)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=rng.choice(((205, 30, 35), (220, 40, 40))))
    draw.polygon(_star_points((cx, cy - r * 0.2), r * 0.35), fill=gold)
    for k in range(4):
        a = math.radians(-150 + k * 40)
        draw.polygon(_star_points((cx + r * 0.6 * math.cos(a), cy + r * 0.6 * math.sin(a)), r * 0.1), fill=gold)
    draw.arc((cx - r * 1.1, cy - r * 1.1, cx + r * 1.1, cy + r * 1.1), 20, 160, fill=gold, width=int(r * 0.15))


def _document(rng: random.Random, header: str | None = None) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    values = random_values(rng)
    page, _ = form_page(values, rng, PageTraps(red_title=header == "red_title"))
    return page, ImageDraw.Draw(page)


def _real_trap(case: str, rng: random.Random) -> tuple[Image.Image, str, tuple[str, ...]]:
    if case == "clock":
        return _clock(rng), "none", ("closeup", "phone", "trap")
    if case == "plate":
        return _plate(rng), "none", ("closeup", "phone", "trap")
    if case in ("no_entry_sign", "prohibition_sign"):
        return _sign(rng, case == "prohibition_sign"), "none", ("page", "phone", "trap")
    if case in ("blue_stamp", "blue_closeup", "gold_foil"):
        ink = rng.choice(GOLD_INKS if case == "gold_foil" else BLUE_INKS)
        style = SealStyle(**{**seal_style(rng, "round").__dict__, "ink": ink})
        page, box, _ = _stamped_form(rng, style, over_text=rng.random() < 0.5)
        expect = "colour" if case == "gold_foil" else "blue"  # a stamp, not red: staff may look, it never passes
        if case == "blue_closeup":
            return _phone(_crop_around(page, box, rng, rng.uniform(0.55, 0.9)), rng, 0.03), expect, ("closeup", "trap")
        return _phone(page, rng), expect, ("page", "phone", "trap")
    page, draw = _document(rng, "red_title" if case == "red_letterhead" else None)
    if case == "emblem":
        _emblem(draw, rng, (rng.uniform(300, 900), rng.uniform(150, 250)), rng.uniform(60, 110))
    elif case == "red_round_logo":  # a ring logo with a monogram and no arc text, printed in the corner
        cx, cy, r = rng.uniform(120, 250), rng.uniform(90, 160), rng.uniform(50, 90)
        red = rng.choice(((210, 30, 40), (190, 20, 30)))
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=red, width=int(r * rng.uniform(0.08, 0.16)))
        draw.text((cx, cy), rng.choice(("CQ", "GH", "工", "HX")), font=font(int(r * 0.9)), fill=red, anchor="mm")
    elif case == "red_badge_logo":  # a filled red badge with white lettering round it and stars
        cx, cy, r = rng.uniform(200, 1000), rng.uniform(100, 300), rng.uniform(60, 110)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=rng.choice(((210, 30, 40), (220, 60, 30))))
        draw.ellipse((cx - r * 0.7, cy - r * 0.7, cx + r * 0.7, cy + r * 0.7), outline=(250, 240, 230), width=3)
        for k, char in enumerate("QUALITYBRAND"):
            a = math.radians(-170 + k * 15)
            draw.text((cx + r * 0.85 * math.cos(a), cy + r * 0.85 * math.sin(a)), char, font=font(int(r * 0.18)),
                      fill=(250, 240, 230), anchor="mm")
        draw.polygon(_star_points((cx, cy), r * 0.3), fill=(250, 220, 80))
    return _phone(page, rng), "none", ("page", "phone", "trap")


def real_picture(seed: int) -> RealPicture:
    """The real-like picture of one seed: its case is REAL_CASES[seed % len(REAL_CASES)]."""
    case, has_seal = REAL_CASES[seed % len(REAL_CASES)]
    rng = random.Random(seed * 6841 + 29)
    picture, expect, kinds = (_real_seal if has_seal else _real_trap)(case, rng)
    data = phone_jpeg(picture, rng) if "phone" in kinds or rng.random() < 0.5 else png_bytes(picture)
    suffix = "jpg" if data[:2] == b"\xff\xd8" else "png"
    return RealPicture(seed, f"{'seal' if has_seal else 'trap'}:{case}", expect, kinds, f"{case}-{seed}.{suffix}", data)


def oval_grey_copy(seed: int, inked: bool = False, over_text: bool = True, turned: bool = False) -> bytes:
    """A scanned black-and-white copy (PNG) of a form whose oval seal (a 财务专用章's shape) was
    pressed over （盖章） and the date: no circle for the Hough search, and its grey ring runs into
    the printed text. `inked`: pressed hard and even, so that the copy prints it as dark as the text;
    `turned`: the copy scanned a quarter turned, the oval standing."""
    rng = random.Random(seed)
    style = seal_style(rng, "oval")
    if inked:
        style = SealStyle(**{**style.__dict__, "strength": 1.0, "patchiness": 0.1})
    page, _box, _values = _stamped_form(rng, style, over_text=over_text)
    copy = scan(to_grey_copy(page, rng), rng)
    return png_bytes(copy.transpose(Image.Transpose.ROTATE_90) if turned else copy)


# ---------------------------------------------------------------- a seal over coloured print (issue 15, d27)

def ticket_over_print(seed: int, band: tuple[int, int, int] = (92, 146, 82), stamped: bool = True) -> bytes:
    """A photographed ticket (PNG) whose top is a band of coloured print, a faded oval invoice seal
    stamped over it, or none. Faded ink printed over coloured print does not darken it to red as
    ink on paper does (multiply_ink): it only tints it, green to a dark olive (red still below
    green), blue to a greyish violet; on paper the same ink is a pale pink."""
    rng = random.Random(seed)
    width, height = 960, 600
    page = Image.new("RGB", (width, height), (236, 236, 232))
    draw = ImageDraw.Draw(page)
    top = int(height * rng.uniform(0.42, 0.5))
    draw.rectangle((0, 0, width, top), fill=band)
    darker = tuple(int(c * 0.55) for c in band)
    draw.text((int(width * 0.52), 30), "辽宁省道路汽车客票", fill=(245, 245, 245), font=font(44))
    draw.text((40, top + 40), "到站  开发区     票价 ¥ 8.00", fill=(40, 40, 40), font=font(40))
    draw.rectangle((0, height - 130, width, height - 80), fill=band)
    for x in range(0, width, 160):  # the band's own print: a table's rules across it
        draw.line((x, top - 60, x, top), fill=darker, width=3)
    if stamped:
        style = SealStyle(shape="oval", diameter_mm=30, ink=(205, 52, 48), strength=0.9, patchiness=0.3,
                          rotation=rng.uniform(-8, 8), star=False, centre_text="发票专用章")
        alpha = seal_alpha("大连市公共交通客运集团有限公司", style, rng, scale=6.2)
        alpha = alpha.point(lambda a: int(a * rng.uniform(0.32, 0.4)))  # faded: the print shows through
        x = int(width * rng.uniform(0.5, 0.56))
        y = max(4, int((top - alpha.height) * rng.uniform(0.3, 0.7)))
        region = page.crop((x, y, x + alpha.width, y + alpha.height))
        page.paste(Image.composite(Image.new("RGB", alpha.size, style.ink), region, alpha), (x, y))
    page = page.filter(ImageFilter.GaussianBlur(0.8))
    page = Image.blend(page, _noise(rng, page.size, 3).convert("RGB"), 0.04)
    return png_bytes(page)
