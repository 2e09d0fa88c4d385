"""Drawn seals and the values on the forms they stamp: round and oval, the unit's name along the
arc, the star, inks and wear. A4 pages here are 150 dpi (1240 × 1754 pixels)."""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from testing.builders.forms import BAYU_CHANNELS, CJK_FONT, FormValues
from testing.idcards import id_number

DPI = 150
PAGE_SIZE = (1240, 1754)  # A4 at 150 dpi
MM = DPI / 25.4  # pixels per millimetre

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
