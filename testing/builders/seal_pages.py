"""Form pages drawn at 150 dpi, stamped and with their traps (红头, red lines, a red signature, the
red-background portrait, red helmets and lanterns), and the ways a page travels: a scanner's PDF, a
phone photo, a .docx with pictures pasted in, a text PDF with a stamp picture."""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from testing.builders.forms import BAYU_CHANNELS, FormValues
from testing.builders.seal_drawing import (
    DPI,
    MM,
    PAGE_SIZE,
    SealStyle,
    _fit_size,
    _noise,
    font,
    gauss_noise,
    multiply_ink,
    seal_alpha,
)

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
