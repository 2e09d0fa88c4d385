"""The seal evaluation set, built by code from a seed: stamped and unstamped forms, and the traps.

Every page is drawn with the CJK font at 150 dpi (A4 = 1240 × 1754 pixels) and handed on as
units send it: an image-only PDF from a scanner, a JPEG photo of the page taken with a phone
(quality 60, blur, uneven light, a little turned), a .docx with pictures pasted in (a stamp
picture, the one-inch portrait, a work photo), or a text PDF with a stamp picture on it.

Seals: round (star, the unit's name along the arc) and oval, in vermilion, faint, pinkish or
faded ink, partly over the text, turned, and a grey photocopy of a stamped page. Traps, none
of which is a seal: a red title (红头, with its red rule and star), red table lines, a red
signature, the red-background one-inch ID photo (红底证件照) in the form's 照片 cell, a
photo with a red helmet, red lanterns and a red badge.

`evaluation_set(range(0, 300))` is the tuning part; `HELD_OUT` seeds are measured only.
The case of a seed is `CASES[seed % len(CASES)]`, so any run of seeds covers every case
evenly; everything else about the page (values, sizes, angles, ink) comes from the seed.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from testing.builders.forms import BAYU_CHANNELS, CJK_FONT, FormValues
from testing.idcards import id_number

DPI = 150
PAGE_SIZE = (1240, 1754)  # A4 at 150 dpi
MM = DPI / 25.4  # pixels per millimetre
TUNING = range(0, 300)
HELD_OUT = range(10_000, 10_240)

# ---------------------------------------------------------------- what a form says

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉红建国志海波宁斌浩凯健俊帆鑫晨阳博文"
_EMPLOYERS = (
    "重庆长安汽车股份有限公司", "重庆钢铁集团有限责任公司", "重庆建工第三建设有限责任公司",
    "国网重庆市电力公司检修分公司", "重庆轨道交通（集团）有限公司", "中国船舶重工集团重庆长平机械有限责任公司",
    "重庆机床（集团）有限责任公司", "武汉钢铁有限公司", "中铁大桥局集团第五工程有限公司", "东风汽车有限公司",
)
_POSITIONS = ("数控车工", "焊工", "钳工", "电工", "铣工", "起重机司机", "变电检修工", "汽车装调工", "模具工", "铆工")
_LEVELS = ("高级技师", "技师", "高级工", "高级工程师", "工程师")
_UNITS = (
    "重庆市沙坪坝区总工会", "重庆市九龙坡区总工会", "重庆市渝中区总工会", "重庆市江北区总工会",
    "重庆长安汽车股份有限公司工会委员会", "重庆市建设工会", "武汉市江岸区总工会", "武汉市青山区总工会",
)
_EDUCATION = ("大专", "本科", "高中", "中专", "研究生")
_POLITICS = ("中共党员", "群众", "共青团员")
_ETHNICITY = ("汉族", "土家族", "苗族", "回族")


def random_values(rng: random.Random, channel: str | None = None) -> FormValues:
    """A plausible nominee, different for every seed."""
    year, month, day = rng.randint(1965, 1995), rng.randint(1, 12), rng.randint(1, 28)
    name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))
    return FormValues(
        name=name,
        gender=rng.choice("男女"),
        birth=f"{year}.{month:02d}",
        ethnicity=rng.choice(_ETHNICITY),
        politics=rng.choice(_POLITICS),
        education=rng.choice(_EDUCATION),
        id_number=id_number("500" + f"{rng.randint(101, 156):03d}", f"{year}{month:02d}{day:02d}",
                            f"{rng.randint(0, 999):03d}"),
        phone="1" + rng.choice("3578") + "".join(str(rng.randint(0, 9)) for _ in range(9)),
        employer=rng.choice(_EMPLOYERS),
        position=rng.choice(_POSITIONS),
        skill_level=rng.choice(_LEVELS),
        years=f"{rng.randint(5, 35)}年",
        channel=channel or rng.choice(BAYU_CHANNELS),
        recommending_unit=rng.choice(_UNITS),
    )


# ---------------------------------------------------------------- drawing helpers


@lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(CJK_FONT, size)


def _text_width(text: str, size: int) -> float:
    return font(size).getlength(text)


def _fit_size(text: str, width: float, size: int) -> int:
    """The largest size up to `size` at which `text` fits in `width` pixels."""
    while size > 12 and _text_width(text, size) > width:
        size -= 1
    return size


def _noise(rng: random.Random, size: tuple[int, int], cell: int) -> Image.Image:
    """Smooth random field in 0..255 (a small random grid blown up), for uneven ink and light."""
    w, h = max(2, size[0] // cell + 2), max(2, size[1] // cell + 2)
    small = Image.new("L", (w, h))
    small.putdata([rng.randrange(256) for _ in range(w * h)])
    return small.resize(size, Image.Resampling.BICUBIC)


def gauss_noise(rng: random.Random, size: tuple[int, int], sigma: float) -> Image.Image:
    """Grey noise around 128, seeded from `rng` (Pillow's effect_noise follows C's rand(), not the seed)."""
    import numpy as np

    generator = np.random.default_rng(rng.getrandbits(32))
    values = np.clip(generator.normal(128, sigma, (size[1], size[0])), 0, 255).astype(np.uint8)
    return Image.fromarray(values, "L")


def multiply_ink(page: Image.Image, ink: tuple[int, int, int], alpha: Image.Image, offset: tuple[int, int]) -> None:
    """Lay ink over the page as ink does: it darkens what is under it, black text stays black."""
    x, y = offset
    box = (x, y, x + alpha.width, y + alpha.height)
    region = page.crop(box)
    layer = Image.new("RGB", alpha.size, ink)
    inked = ImageChops.multiply(region, layer)
    page.paste(Image.composite(inked, region, alpha), box)


# ---------------------------------------------------------------- seals


@dataclass(frozen=True)
class SealStyle:
    shape: str = "round"  # round | oval
    diameter_mm: float = 42.0  # round: the diameter; oval: the height (width is 1.45 ×)
    ink: tuple[int, int, int] = (222, 38, 42)
    strength: float = 0.9  # how much ink the stamp left, 0..1
    patchiness: float = 0.25  # uneven pressure: share of the alpha that noise takes away
    rotation: float = 0.0  # degrees
    star: bool = True
    centre_text: str = ""  # 工会专用章, 财务专用章 …


def seal_alpha(unit: str, style: SealStyle, rng: random.Random, scale: float = MM) -> Image.Image:
    """The stamp's ink as an alpha mask (L), drawn large and reduced for smooth edges."""
    over = 3
    height = style.diameter_mm * scale * over
    width = height * (1.45 if style.shape == "oval" else 1.0)
    size = (int(width) + 8, int(height) + 8)
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    cx, cy = size[0] / 2, size[1] / 2
    rx, ry = width / 2, height / 2
    ring = max(3, int(height * rng.uniform(0.03, 0.045)))
    draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), outline=255, width=ring)
    if rng.random() < 0.15:  # some seals have a thin inner ring
        inner = ring * 2.2
        draw.ellipse((cx - rx + inner, cy - ry + inner, cx + rx - inner, cy + ry - inner), outline=255,
                     width=max(2, ring // 3))
    _arc_text(mask, unit, (cx, cy), (rx - ring * 2.6, ry - ring * 2.6), height * 0.13, style.shape)
    if style.star:
        _star(draw, (cx, cy if style.shape == "round" else cy - ry * 0.08), height * rng.uniform(0.12, 0.16))
    if style.centre_text:
        size_text = int(height * (0.1 if style.shape == "round" else 0.13))
        y = cy + height * 0.2 if style.shape == "round" else cy + height * 0.12
        draw.text((cx, y), style.centre_text, font=font(size_text), fill=255, anchor="mm")
    if style.shape == "oval" and rng.random() < 0.7:  # a number line at the bottom
        digits = "".join(str(rng.randint(0, 9)) for _ in range(13))
        draw.text((cx, cy + ry * 0.55), digits, font=font(int(height * 0.08)), fill=255, anchor="mm")
    mask = mask.resize((size[0] // over, size[1] // over), Image.Resampling.LANCZOS)
    mask = _wear(mask, style, rng)
    if style.rotation:
        mask = mask.rotate(style.rotation, resample=Image.Resampling.BICUBIC, expand=True)
    return mask


def _arc_text(mask: Image.Image, text: str, centre: tuple[float, float], radii: tuple[float, float],
              size: float, shape: str) -> None:
    """The unit's name along the top of the ring, each character turned to face outwards."""
    cx, cy = centre
    rx, ry = radii
    sweep = 240 if shape == "round" else 200  # degrees of arc the name takes
    n = len(text)
    size = int(min(size, 2 * math.pi * min(rx, ry) * sweep / 360 / max(n, 1) * 0.95))
    for k, char in enumerate(text):
        angle = -90 - sweep / 2 + sweep * (k + 0.5) / n  # degrees, 0 = east, clockwise on screen
        radians = math.radians(angle)
        x = cx + (rx - size / 2) * math.cos(radians)
        y = cy + (ry - size / 2) * math.sin(radians)
        glyph = Image.new("L", (size * 2, size * 2), 0)
        ImageDraw.Draw(glyph).text((size, size), char, font=font(size), fill=255, anchor="mm")
        glyph = glyph.rotate(-(angle + 90), resample=Image.Resampling.BICUBIC)
        mask.paste(255, (int(x - size), int(y - size)), glyph)


def _star(draw: ImageDraw.ImageDraw, centre: tuple[float, float], radius: float) -> None:
    cx, cy = centre
    points = []
    for k in range(10):
        r = radius if k % 2 == 0 else radius * 0.38
        a = math.radians(-90 + 36 * k)
        points.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    draw.polygon(points, fill=255)


def _wear(mask: Image.Image, style: SealStyle, rng: random.Random) -> Image.Image:
    """Uneven pressure and ink: smooth noise thins the ink, speckles drop it out."""
    pressure = _noise(rng, mask.size, max(8, mask.width // 6)).point(
        lambda v: int(255 * (1 - style.patchiness * v / 255)))
    speckle = gauss_noise(rng, mask.size, 60).point(lambda v: 0 if v < 70 * style.patchiness else 255)
    worn = ImageChops.multiply(ImageChops.multiply(mask, pressure), speckle)
    return worn.point(lambda v: int(v * style.strength)).filter(ImageFilter.GaussianBlur(0.6))


INKS = {
    "vermilion": ((222, 38, 42), (230, 50, 45), (205, 28, 40), (235, 62, 52)),
    "pink": ((238, 105, 140), (232, 120, 150), (242, 96, 125)),
    "faded": ((196, 92, 86), (205, 110, 100), (185, 80, 85)),
}
CENTRE_TEXTS = ("", "", "工会专用章", "专用章", "印")


def seal_style(rng: random.Random, variant: str) -> SealStyle:
    shape = "oval" if variant == "oval" else "round"
    ink_kind = {"pink": "pink", "faded": "faded"}.get(variant, "vermilion")
    strength = rng.uniform(0.75, 0.95)
    patchiness = rng.uniform(0.1, 0.35)
    if variant == "faint":
        strength, patchiness = rng.uniform(0.35, 0.5), rng.uniform(0.35, 0.5)
    if variant == "faded":
        strength = rng.uniform(0.55, 0.8)
    return SealStyle(
        shape=shape,
        diameter_mm=rng.uniform(38, 45) if shape == "round" else rng.uniform(28, 34),
        ink=rng.choice(INKS[ink_kind]),
        strength=strength,
        patchiness=patchiness,
        rotation=rng.uniform(-40, 40) if variant == "rotated" else rng.uniform(-8, 8),
        star=shape == "round" or rng.random() < 0.3,
        centre_text=rng.choice(CENTRE_TEXTS) if shape == "round" else rng.choice(("财务专用章", "合同专用章", "工会")),
    )


def stamp_picture(unit: str, style: SealStyle, rng: random.Random, transparent: bool = True) -> bytes:
    """The stamp as a picture, as units paste an 电子章 into Word: PNG with transparency, or a white JPEG."""
    alpha = seal_alpha(unit, style, rng, scale=rng.uniform(4.5, 8))
    if transparent:
        image = Image.new("RGBA", alpha.size, style.ink + (0,))
        image.putalpha(alpha)
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        return buffer.getvalue()
    image = Image.new("RGB", alpha.size, (255, 255, 255))
    multiply_ink(image, style.ink, alpha, (0, 0))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


@lru_cache(maxsize=16)
def stamp_png(unit: str) -> bytes:
    """A clean round seal of the unit as a transparent PNG, the same every time (for forms in tests)."""
    rng = random.Random(unit)
    style = SealStyle(ink=(222, 38, 42), strength=0.92, patchiness=0.15, centre_text="")
    return stamp_picture(unit, style, rng, transparent=True)


# ---------------------------------------------------------------- photos (the traps' pictures)


def _photo_background(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    base = Image.new("RGB", size, tuple(rng.randrange(60, 200) for _ in range(3)))
    noise = Image.merge("RGB", [_noise(rng, size, max(8, size[0] // 10)) for _ in range(3)])
    return Image.blend(base, noise, 0.35)


def _person(draw: ImageDraw.ImageDraw, rng: random.Random, cx: float, top: float, scale: float,
            suit: tuple[int, int, int]) -> tuple[float, float, float]:
    """A head and shoulders; returns the head's (cx, top, radius)."""
    skin = rng.choice(((228, 180, 150), (214, 165, 130), (238, 196, 170), (200, 150, 118)))
    head = 0.55 * scale
    draw.ellipse((cx - scale * 1.6, top + head * 2.3, cx + scale * 1.6, top + head * 6), fill=suit)  # shoulders
    draw.rectangle((cx - head * 0.35, top + head * 1.7, cx + head * 0.35, top + head * 2.5), fill=skin)  # neck
    draw.ellipse((cx - head * 0.8, top, cx + head * 0.8, top + head * 2.1), fill=skin)  # face
    draw.ellipse((cx - head * 0.85, top - head * 0.1, cx + head * 0.85, top + head * 0.8),
                 fill=rng.choice(((25, 20, 18), (40, 30, 25))))  # hair
    draw.ellipse((cx - head * 0.78, top + head * 0.45, cx + head * 0.78, top + head * 2.1), fill=skin)
    return cx, top, head


def id_photo(rng: random.Random, background: str = "red", size_mm: tuple[float, float] = (25, 35),
             scale: float = MM) -> Image.Image:
    """The one-inch portrait (一寸证件照): a plain background, head and shoulders."""
    colours = {"red": ((212, 22, 30), (224, 30, 38), (196, 18, 28)), "blue": ((60, 130, 215),), "white": ((245, 245, 245),)}
    size = (int(size_mm[0] * scale), int(size_mm[1] * scale))
    image = Image.new("RGB", size, rng.choice(colours[background]))
    draw = ImageDraw.Draw(image)
    _person(draw, rng, size[0] / 2, size[1] * 0.18, size[0] * 0.33, rng.choice(((20, 25, 40), (30, 30, 30), (235, 235, 235))))
    return image.filter(ImageFilter.GaussianBlur(0.7))


def helmet_photo(rng: random.Random, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A worker in a red safety helmet (安全帽) at work: a red dome with a brim over the head."""
    image = _photo_background(rng, size)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(1, 3)):
        cx = rng.uniform(0.2, 0.8) * size[0]
        scale = rng.uniform(0.08, 0.16) * size[0]
        top = rng.uniform(0.2, 0.45) * size[1]
        cx, top, head = _person(draw, rng, cx, top, scale, rng.choice(((30, 70, 160), (230, 110, 20), (40, 90, 60))))
        red = rng.choice(((215, 25, 30), (200, 20, 28), (228, 40, 35)))
        draw.chord((cx - head * 1.0, top - head * 0.75, cx + head * 1.0, top + head * 1.05), 180, 360, fill=red)
        draw.ellipse((cx - head * 1.25, top + head * 0.05, cx + head * 1.25, top + head * 0.35), fill=red)  # brim
        draw.line((cx - head * 0.1, top - head * 0.7, cx - head * 0.1, top + head * 0.15), fill=(245, 90, 80), width=3)
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.2)))


def lantern_photo(rng: random.Random, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """Red lanterns (灯笼) and a red badge with a gold star: round, red, and no seal."""
    image = _photo_background(rng, size)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(2, 4)):
        cx, cy = rng.uniform(0.15, 0.85) * size[0], rng.uniform(0.25, 0.7) * size[1]
        r = rng.uniform(0.06, 0.12) * size[0]
        draw.ellipse((cx - r * 1.2, cy - r, cx + r * 1.2, cy + r), fill=rng.choice(((220, 30, 30), (200, 20, 25))))
        for k in (-0.6, 0, 0.6):  # the lantern's ribs
            draw.arc((cx - r * 1.2 * abs(k) - 2, cy - r, cx + r * 1.2 * abs(k) + 2, cy + r), 0, 360,
                     fill=(150, 15, 20), width=2)
        draw.rectangle((cx - r * 0.5, cy - r * 1.15, cx + r * 0.5, cy - r * 0.9), fill=(220, 180, 40))
        draw.rectangle((cx - r * 0.5, cy + r * 0.9, cx + r * 0.5, cy + r * 1.15), fill=(220, 180, 40))
        draw.line((cx, cy + r * 1.15, cx, cy + r * 1.8), fill=(230, 190, 50), width=3)
    badge = rng.uniform(0.05, 0.09) * size[0]
    bx, by = rng.uniform(0.2, 0.8) * size[0], rng.uniform(0.75, 0.88) * size[1]
    draw.ellipse((bx - badge, by - badge, bx + badge, by + badge), fill=(210, 25, 30))
    draw.polygon(_star_points((bx, by), badge * 0.7), fill=(235, 200, 60))
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.0)))


def _star_points(centre: tuple[float, float], radius: float) -> list[tuple[float, float]]:
    cx, cy = centre
    return [(cx + (radius if k % 2 == 0 else radius * 0.38) * math.cos(math.radians(-90 + 36 * k)),
             cy + (radius if k % 2 == 0 else radius * 0.38) * math.sin(math.radians(-90 + 36 * k))) for k in range(10)]


def jpeg_bytes(image: Image.Image, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


# ---------------------------------------------------------------- the form page


@dataclass(frozen=True)
class PageLayout:
    """Where things landed on a drawn page, in page pixels."""

    opinion_box: tuple[int, int, int, int]  # the 推荐单位意见 value cell: where the seal goes
    photo_box: tuple[int, int, int, int]  # the 照片 cell
    table_box: tuple[int, int, int, int]


@dataclass(frozen=True)
class PageTraps:
    red_title: bool = False
    red_lines: bool = False
    red_signature: bool = False
    id_photo: str | None = None  # background colour of the portrait in the 照片 cell
    work_photo: str | None = None  # "helmet" | "lantern": a photo printed on the page


def form_page(values: FormValues, rng: random.Random, traps: PageTraps = PageTraps(),
              title: str = "2017年度“巴渝工匠”推荐表") -> tuple[Image.Image, PageLayout]:
    """The 巴渝工匠推荐表 as printed: the title, a ruled grid, 推荐单位意见 with （盖章） and a date."""
    page = Image.new("RGB", PAGE_SIZE, (255, 255, 255))
    draw = ImageDraw.Draw(page)
    left, right = int(22 * MM), PAGE_SIZE[0] - int(20 * MM)
    y = int(18 * MM)
    if traps.red_title:
        y = _red_header(page, draw, rng, values, y)
    title_size = 40
    draw.text((PAGE_SIZE[0] / 2, y + 24), title, font=font(title_size), fill=(0, 0, 0), anchor="mm")
    y += 70
    line = (205, 30, 40) if traps.red_lines else (0, 0, 0)
    table_top = y
    width = right - left
    cols = [left + int(width * f) for f in (0, 0.13, 0.27, 0.37, 0.5, 0.63, 0.79, 1.0)]
    row_h = 62
    rows_spec = 6  # the short rows, then 主要事迹, 获奖情况, 推荐单位意见
    text_size = 25
    options = "   ".join(f"{'■' if o == values.channel else '□'}{o}" for o in BAYU_CHANNELS)
    grid = (
        (("姓  名", 0, 1), (values.name, 1, 2), ("性  别", 2, 3), (values.gender, 3, 4), ("出生年月", 4, 5), (values.birth, 5, 6)),
        (("民  族", 0, 1), (values.ethnicity, 1, 2), ("政治面貌", 2, 3), (values.politics, 3, 4), ("文化程度", 4, 5), (values.education, 5, 6)),
        (("身份证号码", 0, 1), (values.id_number, 1, 4), ("联系电话", 4, 5), (values.phone, 5, 6)),
        (("工作单位", 0, 1), (values.employer, 1, 6)),
        (("岗位/工种", 0, 1), (values.position, 1, 2), ("技术等级", 2, 3), (values.skill_level, 3, 4), ("从业年限", 4, 5), (values.years, 5, 7)),
        (("推荐方式", 0, 1), (options, 1, 7)),
    )
    for r, row in enumerate(grid):
        top = table_top + r * row_h
        for text, c0, c1 in row:
            x0, x1 = cols[c0], cols[c1]
            draw.rectangle((x0, top, x1, top + row_h), outline=line, width=2)
            size = _fit_size(text, x1 - x0 - 12, text_size)
            draw.text(((x0 + x1) / 2, top + row_h / 2), text, font=font(size), fill=(0, 0, 0), anchor="mm")
    photo_box = (cols[6], table_top, cols[7], table_top + 4 * row_h)
    draw.rectangle(photo_box, fill=(255, 255, 255), outline=line, width=2)
    if traps.id_photo:
        portrait = id_photo(rng, traps.id_photo, scale=MM * 0.95)
        px = (photo_box[0] + photo_box[2] - portrait.width) // 2
        py = (photo_box[1] + photo_box[3] - portrait.height) // 2
        page.paste(portrait, (px, py))
    else:
        draw.text(((photo_box[0] + photo_box[2]) / 2, (photo_box[1] + photo_box[3]) / 2), "照片", font=font(text_size),
                  fill=(0, 0, 0), anchor="mm")
    y = table_top + rows_spec * row_h
    # 主要事迹: label cell and the deeds wrapped in the wide cell
    deeds_h = 420 if traps.work_photo is None else 640
    draw.rectangle((cols[0], y, cols[1], y + deeds_h), outline=line, width=2)
    draw.rectangle((cols[1], y, cols[7], y + deeds_h), outline=line, width=2)
    _vertical_label(draw, "主要事迹", (cols[0] + cols[1]) / 2, y + deeds_h / 2, text_size)
    _wrapped(draw, "".join(values.deeds), (cols[1] + 12, y + 14, cols[7] - 12), 24)
    if traps.work_photo:
        picture = helmet_photo(rng, (330, 230)) if traps.work_photo == "helmet" else lantern_photo(rng, (330, 230))
        page.paste(picture, (cols[1] + 30, y + deeds_h - picture.height - 20))
    y += deeds_h
    honors_h = 110
    draw.rectangle((cols[0], y, cols[1], y + honors_h), outline=line, width=2)
    draw.rectangle((cols[1], y, cols[7], y + honors_h), outline=line, width=2)
    _vertical_label(draw, "获奖情况", (cols[0] + cols[1]) / 2, y + honors_h / 2, text_size)
    _wrapped(draw, values.honors, (cols[1] + 12, y + 14, cols[7] - 12), 24)
    y += honors_h
    opinion_h = 330
    draw.rectangle((cols[0], y, cols[1], y + opinion_h), outline=line, width=2)
    opinion_box = (cols[1], y, cols[7], y + opinion_h)
    draw.rectangle(opinion_box, outline=line, width=2)
    _vertical_label(draw, "推荐单位意见", (cols[0] + cols[1]) / 2, y + opinion_h / 2, text_size)
    draw.text((cols[1] + 40, y + 40), values.unit_opinion, font=font(25), fill=(0, 0, 0))
    draw.text((cols[7] - 330, y + opinion_h - 130), "（盖章）", font=font(25), fill=(0, 0, 0))
    draw.text((cols[7] - 330, y + opinion_h - 80), "2017年4月10日", font=font(25), fill=(0, 0, 0))
    if traps.red_signature:
        _signature(page, rng, (cols[1] + 60, y + opinion_h - 150, cols[1] + 420, y + opinion_h - 40))
    y += opinion_h
    draw.text((left, y + 40), f"推荐单位（盖章）：{values.recommending_unit}", font=font(25), fill=(0, 0, 0))
    draw.text((left, y + 90), "填表日期：2017年4月10日", font=font(25), fill=(0, 0, 0))
    return page, PageLayout(opinion_box, photo_box, (left, table_top, right, y))


def _vertical_label(draw: ImageDraw.ImageDraw, text: str, cx: float, cy: float, size: int) -> None:
    """A label in a tall narrow cell, two characters a line as forms print it."""
    lines = [text[k:k + 2] for k in range(0, len(text), 2)]
    for n, part in enumerate(lines):
        draw.text((cx, cy + (n - (len(lines) - 1) / 2) * (size + 8)), part, font=font(size), fill=(0, 0, 0), anchor="mm")


def _wrapped(draw: ImageDraw.ImageDraw, text: str, box: tuple[int, int, int], size: int) -> None:
    x0, y, x1 = box
    per_line = max(1, int((x1 - x0) // (size * 1.02)))
    for start in range(0, len(text), per_line):
        draw.text((x0, y), text[start:start + per_line], font=font(size), fill=(0, 0, 0))
        y += int(size * 1.6)


def _red_header(page: Image.Image, draw: ImageDraw.ImageDraw, rng: random.Random, values: FormValues, y: int) -> int:
    """红头: the issuing union's name in big red characters, a red rule with a star under it."""
    red = rng.choice(((220, 20, 30), (205, 25, 35), (230, 35, 40)))
    name = values.recommending_unit.replace("委员会", "") + rng.choice(("文件", "", "推荐函"))
    size = _fit_size(name, PAGE_SIZE[0] * 0.8, 64)
    draw.text((PAGE_SIZE[0] / 2, y + 40), name, font=font(size), fill=red, anchor="mm", stroke_width=1, stroke_fill=red)
    y += 95
    left, right = int(22 * MM), PAGE_SIZE[0] - int(20 * MM)
    mid = PAGE_SIZE[0] / 2
    star = 22
    draw.line((left, y, mid - star - 8, y), fill=red, width=5)
    draw.line((mid + star + 8, y, right, y), fill=red, width=5)
    draw.polygon(_star_points((mid, y), star), fill=red)
    return y + 30


def _signature(page: Image.Image, rng: random.Random, box: tuple[int, int, int, int]) -> None:
    """A name signed in red ink: quick curved strokes with loops."""
    x0, y0, x1, y1 = box
    layer = Image.new("L", page.size, 0)
    draw = ImageDraw.Draw(layer)
    x = x0
    width = rng.randint(3, 5)
    while x < x1 - 40:
        points = []
        cx, cy = x + rng.uniform(20, 50), rng.uniform(y0 + 20, y1 - 20)
        r = rng.uniform(15, 40)
        turns = rng.uniform(1.0, 2.2)
        for k in range(40):
            t = k / 39 * turns * 2 * math.pi
            points.append((cx + r * math.cos(t) * (1 + k / 40) + k * 2, cy + r * 0.6 * math.sin(t)))
        draw.line(points, fill=255, width=width, joint="curve")
        x += rng.uniform(60, 110)
    draw.line([(x0, y1 - 15), (x1, y1 - 30)], fill=255, width=width)
    multiply_ink(page, rng.choice(((210, 30, 40), (190, 20, 35))), layer, (0, 0))


def stamp_page(page: Image.Image, layout: PageLayout, unit: str, style: SealStyle, rng: random.Random,
               over_text: bool = False) -> tuple[int, int, int, int]:
    """Stamp the seal on 推荐单位意见 (over the date and （盖章） when `over_text`); its box on the page."""
    alpha = seal_alpha(unit, style, rng)
    x0, y0, x1, y1 = layout.opinion_box
    if over_text:  # centred on （盖章） and the date, half over the text
        cx, cy = x1 - 250 + rng.uniform(-30, 30), y1 - 110 + rng.uniform(-25, 25)
    else:
        cx, cy = rng.uniform(x0 + 0.45 * (x1 - x0), x1 - alpha.width / 2 - 10), rng.uniform(y0 + 0.45 * (y1 - y0), y1 - 60)
    left = int(min(max(0, cx - alpha.width / 2), page.width - alpha.width))
    top = int(min(max(0, cy - alpha.height / 2), page.height - alpha.height))
    multiply_ink(page, style.ink, alpha, (left, top))
    return left, top, left + alpha.width, top + alpha.height


# ---------------------------------------------------------------- how the page travels


def to_grey_copy(page: Image.Image, rng: random.Random) -> Image.Image:
    """A black-and-white photocopy: grey, more contrast, toner specks."""
    grey = page.convert("L").point(lambda v: max(0, min(255, int((v - 128) * rng.uniform(1.1, 1.3) + 128 + 10))))
    specks = gauss_noise(rng, grey.size, 30).point(lambda v: 0 if v < 12 else 255)
    return ImageChops.darker(grey, specks).convert("RGB")


def scan(page: Image.Image, rng: random.Random) -> Image.Image:
    """What a flatbed scanner gives: a hair crooked, slightly soft, a little noise."""
    turned = page.rotate(rng.uniform(-0.8, 0.8), resample=Image.Resampling.BICUBIC, fillcolor=(255, 255, 255))
    noise = gauss_noise(rng, page.size, 8).convert("RGB")
    return Image.blend(turned, ImageChops.multiply(turned, noise.point(lambda v: min(255, v + 200))), 0.5).filter(
        ImageFilter.GaussianBlur(rng.uniform(0.3, 0.7)))


def scan_pdf(page: Image.Image, rng: random.Random, quality: int = 75) -> bytes:
    """An image-only PDF: the scanned page as one JPEG, as scanners and 扫描全能王 make them."""
    scanned = scan(page, rng)
    picture = Image.open(io.BytesIO(jpeg_bytes(scanned, quality)))
    buffer = io.BytesIO()
    picture.save(buffer, "PDF", resolution=DPI)
    return buffer.getvalue()


def phone_photo(page: Image.Image, rng: random.Random) -> Image.Image:
    """The page photographed on a desk: turned a few degrees, uneven light, soft, on a desk colour."""
    desk = Image.new("RGB", (int(page.width * 1.12), int(page.height * 1.08)),
                     rng.choice(((120, 95, 70), (150, 150, 145), (90, 70, 55), (180, 170, 150))))
    shrunk = page.resize((int(page.width * 0.97), int(page.height * 0.97)), Image.Resampling.BILINEAR)
    mask = Image.new("L", shrunk.size, 255)
    angle = rng.uniform(-5, 5)
    shrunk = shrunk.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    mask = mask.rotate(angle, expand=True)
    desk.paste(shrunk, ((desk.width - shrunk.width) // 2, (desk.height - shrunk.height) // 2), mask)
    # uneven light: a broad gradient from one corner and a soft shadow
    light = _noise(rng, desk.size, desk.width // 2).point(lambda v: int(150 + v * 0.42))
    lit = ImageChops.multiply(desk, Image.merge("RGB", (light, light, light.point(lambda v: int(v * 0.97)))))
    lit = lit.point(lambda v: min(255, int(v * 1.12)))
    photo = lit.filter(ImageFilter.GaussianBlur(rng.uniform(0.8, 1.6)))
    target = rng.choice(((1500, 2000), (1200, 1600), (1800, 2400)))
    return photo.resize(target, Image.Resampling.BILINEAR)


def photo_jpeg(page: Image.Image, rng: random.Random) -> bytes:
    return jpeg_bytes(phone_photo(page, rng), quality=60)


def form_docx(values: FormValues, pictures: list[tuple[str, bytes, float]]) -> bytes:
    """The form as .docx (the 巴渝 grid) with pictures pasted in: (where, bytes, width in cm).

    `where` is "photo" (the 照片 cell), "opinion" (推荐单位意见, where an 电子章 goes) or "after"
    (below the table, as a pasted scan).
    """
    from docx import Document
    from docx.shared import Cm

    from testing.builders.forms import bayu_form_docx

    document = Document(io.BytesIO(bayu_form_docx(values, stamped=False)))
    table = document.tables[0]
    for where, data, width in pictures:
        if where == "photo":
            run = table.cell(0, 6).paragraphs[0].add_run()
        elif where == "opinion":
            run = table.cell(8, 1).add_paragraph().add_run()
        else:
            run = document.add_paragraph().add_run()
        run.add_picture(io.BytesIO(data), width=Cm(width))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def text_pdf_with_stamp(values: FormValues, stamp: bytes | None, red_title: bool = False) -> bytes:
    """The form printed to PDF by Word/WPS, an 电子章 picture laid on 推荐单位意见 (or none)."""
    from testing.builders.forms import _pdf, form_pdf

    if not red_title and stamp is None:
        return form_pdf(values, stamped=False)
    from fpdf import FPDF  # noqa: F401 - the builder's _pdf uses it

    pdf = _pdf()
    if red_title:
        pdf.set_text_color(220, 20, 30)
        pdf.set_font_size(24)
        pdf.cell(0, 14, values.recommending_unit + "文件", align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_draw_color(220, 20, 30)
        pdf.set_line_width(1.0)
        pdf.line(20, pdf.get_y() + 2, 190, pdf.get_y() + 2)
        pdf.set_text_color(0, 0, 0)
        pdf.set_draw_color(0, 0, 0)
        pdf.set_line_width(0.2)
        pdf.ln(6)
    pdf.set_font_size(16)
    pdf.cell(0, 12, "2017年度“巴渝工匠”推荐表", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font_size(11)
    for line in (
        f"姓名：{values.name}    性别：{values.gender}    出生年月：{values.birth}",
        f"身份证号码：{values.id_number}    联系电话：{values.phone}",
        f"工作单位：{values.employer}",
        f"岗位/工种：{values.position}    技术等级：{values.skill_level}",
        "推荐方式：" + "  ".join(f"{'■' if o == values.channel else '□'}{o}" for o in BAYU_CHANNELS),
        "主要事迹：" + "".join(values.deeds),
        f"推荐单位意见：{values.unit_opinion}",
    ):
        pdf.multi_cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y()
    pdf.cell(0, 10, f"推荐单位（盖章）：{values.recommending_unit}", new_x="LMARGIN", new_y="NEXT")
    if stamp is not None:
        pdf.image(io.BytesIO(stamp), x=110, y=top - 15, w=42)
    return bytes(pdf.output())


# ---------------------------------------------------------------- the evaluation set


@dataclass(frozen=True)
class EvalPage:
    """One page (or one .docx) of the evaluation set, with the truth about it."""

    seed: int
    case: str  # e.g. "round/scan_pdf", "trap:red_title/photo_jpg"
    variant: str  # the seal's kind or the trap's name
    medium: str  # scan_pdf | photo_jpg | scan_png | docx | text_pdf | photo (a picture, not a page)
    filename: str
    data: bytes
    has_seal: bool
    values: FormValues = field(default_factory=FormValues)
    traps: tuple[str, ...] = ()

    @property
    def is_trap(self) -> bool:
        return bool(self.traps) and not self.has_seal


# (variant, medium): seals of every kind, and every trap, each through the ways pages travel
SEAL_CASES = (
    ("round", "scan_pdf"), ("round", "photo_jpg"), ("oval", "scan_pdf"), ("oval", "photo_jpg"),
    ("faint", "scan_pdf"), ("faint", "photo_jpg"), ("pink", "scan_pdf"), ("pink", "photo_jpg"),
    ("faded", "scan_pdf"), ("faded", "photo_jpg"), ("over_text", "scan_pdf"), ("over_text", "photo_jpg"),
    ("rotated", "scan_pdf"), ("rotated", "scan_png"), ("photocopy", "scan_pdf"), ("photocopy", "photo_jpg"),
    ("stamp_picture", "docx"), ("stamp_picture", "text_pdf"), ("scan_in_docx", "docx"),
    ("round_on_red_title", "scan_pdf"), ("round_on_red_lines", "photo_jpg"), ("round_with_id_photo", "scan_pdf"),
)
TRAP_CASES = (
    ("plain", "scan_pdf"), ("plain", "photo_jpg"), ("plain", "docx"), ("plain", "text_pdf"),
    ("red_title", "scan_pdf"), ("red_title", "photo_jpg"), ("red_title", "text_pdf"),
    ("red_lines", "scan_pdf"), ("red_lines", "photo_jpg"),
    ("red_signature", "scan_pdf"), ("red_signature", "photo_jpg"),
    ("red_id_photo", "scan_pdf"), ("red_id_photo", "photo_jpg"), ("red_id_photo", "docx"),
    ("helmet_photo", "scan_pdf"), ("helmet_photo", "docx"), ("helmet_photo", "photo"),
    ("lantern_photo", "photo_jpg"), ("lantern_photo", "photo"),
    ("photocopy_red_title", "scan_pdf"), ("all_traps", "scan_pdf"), ("all_traps", "photo_jpg"),
)
CASES = tuple((v, m, True) for v, m in SEAL_CASES) + tuple((v, m, False) for v, m in TRAP_CASES)

_PAGE_TRAPS = {
    "red_title": PageTraps(red_title=True),
    "red_lines": PageTraps(red_lines=True),
    "red_signature": PageTraps(red_signature=True),
    "red_id_photo": PageTraps(id_photo="red"),
    "helmet_photo": PageTraps(work_photo="helmet"),
    "lantern_photo": PageTraps(work_photo="lantern"),
    "photocopy_red_title": PageTraps(red_title=True),
    "all_traps": PageTraps(red_title=True, red_lines=True, red_signature=True, id_photo="red", work_photo="helmet"),
    "round_on_red_title": PageTraps(red_title=True),
    "round_on_red_lines": PageTraps(red_lines=True, red_signature=True),
    "round_with_id_photo": PageTraps(id_photo="red"),
}
_SEAL_STYLE_OF = {"over_text": "round", "rotated": "rotated", "photocopy": "round", "stamp_picture": "round",
                  "scan_in_docx": "round", "round_on_red_title": "round", "round_on_red_lines": "round",
                  "round_with_id_photo": "round"}


def eval_page(seed: int) -> EvalPage:
    """The page of one seed (see the module docstring)."""
    variant, medium, has_seal = CASES[seed % len(CASES)]
    rng = random.Random(seed * 7919 + 17)
    values = random_values(rng, channel="组织推荐")
    traps = _PAGE_TRAPS.get(variant, PageTraps())
    trap_names = tuple(name for name, on in (
        ("red_title", traps.red_title), ("red_lines", traps.red_lines), ("red_signature", traps.red_signature),
        ("red_id_photo", traps.id_photo == "red"), (traps.work_photo or "", bool(traps.work_photo))) if on)
    case = f"{'seal' if has_seal else 'trap'}:{variant}/{medium}"
    make = lambda data, name: EvalPage(seed, case, variant, medium, name, data, has_seal, values, trap_names)  # noqa: E731
    style = seal_style(rng, _SEAL_STYLE_OF.get(variant, variant)) if has_seal else None

    if medium == "photo":  # a nominee's photo, not a page: the detector must stay quiet on it
        picture = helmet_photo(rng) if variant == "helmet_photo" else lantern_photo(rng)
        return make(jpeg_bytes(picture, 80), f"{values.name}工作照.jpg")
    if medium == "docx":
        pictures: list[tuple[str, bytes, float]] = []
        if variant == "stamp_picture":
            pictures.append(("opinion", stamp_picture(values.recommending_unit, style, rng, rng.random() < 0.6), 4.2))
        elif variant == "scan_in_docx":
            page, layout = form_page(values, rng)
            stamp_page(page, layout, values.recommending_unit, style, rng)
            pictures.append(("after", jpeg_bytes(scan(page, rng), 70), 15.0))
        elif variant == "red_id_photo":
            pictures.append(("photo", jpeg_bytes(id_photo(rng, "red", scale=rng.uniform(6, 12)), 85), 2.5))
        elif variant == "helmet_photo":
            pictures.append(("photo", jpeg_bytes(id_photo(rng, "blue", scale=8), 85), 2.5))
            pictures.append(("after", jpeg_bytes(helmet_photo(rng), 80), 12.0))
        return make(form_docx(values, pictures), f"{values.name}推荐表.docx")
    if medium == "text_pdf":
        stamp = None
        if has_seal:
            stamp = stamp_picture(values.recommending_unit, style, rng, transparent=rng.random() < 0.5)
        return make(text_pdf_with_stamp(values, stamp, red_title=variant == "red_title"), f"{values.name}推荐表.pdf")

    page, layout = form_page(values, rng, traps)
    if has_seal:
        stamp_page(page, layout, values.recommending_unit, style, rng, over_text=variant in ("over_text", "rotated"))
    if variant.startswith("photocopy"):
        page = to_grey_copy(page, rng)
    if medium == "scan_pdf":
        return make(scan_pdf(page, rng), f"{values.name}推荐表扫描件.pdf")
    if medium == "scan_png":
        return make(png_bytes(scan(page, rng)), f"{values.name}推荐表.png")
    return make(photo_jpeg(page, rng), f"{values.name}推荐表.jpg")


def evaluation_set(seeds: range) -> Iterator[EvalPage]:
    for seed in seeds:
        yield eval_page(seed)


def case_seed(case: str, seeds: range = TUNING) -> int:
    """The first seed of `seeds` whose case is `case` (e.g. "trap:red_title/scan_pdf")."""
    for seed in seeds:
        variant, medium, has_seal = CASES[seed % len(CASES)]
        if f"{'seal' if has_seal else 'trap'}:{variant}/{medium}" == case:
            return seed
    raise KeyError(case)


# ---------------------------------------------------------------- scanned forms for OCR


def ocr_scan(seed: int, medium: str = "scan_pdf", stamped: bool = True,
             values: FormValues | None = None) -> tuple[bytes, FormValues, str]:
    """A filled form, stamped, that travels as an image only: for reading its fields with OCR."""
    rng = random.Random(seed * 104729 + 3)
    values = values or random_values(rng)
    page, layout = form_page(values, rng)
    if stamped:
        stamp_page(page, layout, values.recommending_unit, seal_style(rng, "round"), rng)
    if medium == "scan_pdf":
        return scan_pdf(page, rng, quality=60), values, f"{values.name}推荐表.pdf"
    return photo_jpeg(page, rng), values, f"{values.name}推荐表.jpg"


# ---------------------------------------------------------------- electronic seals (PDF signatures)


def self_signed(folder, common_name: str = "重庆市沙坪坝区总工会") -> tuple[str, str]:
    """A key and a self-signed certificate as PEM files in `folder` (the unit's signing key)."""
    import datetime as dt
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.COUNTRY_NAME, "CN")])
    now = dt.datetime(2017, 1, 1, tzinfo=dt.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(2017).not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
                   .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), True)
                   .sign(key, hashes.SHA256()))
    key_path, cert_path = Path(folder) / "unit.key.pem", Path(folder) / "unit.cert.pem"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return str(key_path), str(cert_path)


def signed_pdf(pdf: bytes, folder, stamp: bytes | None = None) -> bytes:
    """The PDF signed with pyHanko (a /Sig field), its appearance the stamp picture when given."""
    from pyhanko.pdf_utils.images import PdfImage
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import StaticStampStyle

    key, cert = self_signed(folder)
    signer = signers.SimpleSigner.load(key, cert)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(field_name="电子签章")
    if stamp is None:
        fields.append_signature_field(writer, fields.SigFieldSpec("电子签章"))
        return signers.sign_pdf(writer, meta, signer=signer).getvalue()
    spec = fields.SigFieldSpec("电子签章", on_page=0, box=(300, 150, 420, 270))
    style = StaticStampStyle(background=PdfImage(Image.open(io.BytesIO(stamp))), background_opacity=1.0)
    pdf_signer = signers.PdfSigner(meta, signer=signer, stamp_style=style, new_field_spec=spec)
    return pdf_signer.sign_pdf(writer).getvalue()


SM2_WITH_SM3 = bytes.fromhex("06082a811ccf5501833d")  # OID 1.2.156.10197.1.501 (SM2 signature with SM3)


def sm2_signed_pdf(pdf: bytes, folder) -> bytes:
    """A GB/T 38540-style seal as pyHanko sees one: a signature whose CMS names SM2 with SM3
    (here a signed PDF whose signature bytes are overwritten with such a structure)."""
    signed = signed_pdf(pdf, folder)
    start = signed.index(b"/Contents <") + len(b"/Contents <")
    der = bytes.fromhex("3082000c") + SM2_WITH_SM3 + b"\x05\x00"
    patched = der.hex().encode()
    return signed[:start] + patched + signed[start + len(patched):]


def tampered(signed: bytes) -> bytes:
    """A signed PDF changed afterwards inside the signed bytes (a name typed over)."""
    at = signed.index(b"/Producer") if b"/Producer" in signed else 200
    return signed[:at + 2] + (b"X" if signed[at + 2:at + 3] != b"X" else b"Y") + signed[at + 3:]


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


def _stamped_form(rng: random.Random, style: SealStyle, traps: PageTraps = PageTraps(),
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
