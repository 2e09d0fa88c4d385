"""Write the bundled sample mailbox: realistic submissions to 巴渝工匠 2017, one of each kind.

    .venv/bin/python -m samples.generate          # rewrites samples/mailbox/*.eml

The files are committed so that `./dev demo` needs nothing but the project; this script is
how they were made and how to make them again after the builders change.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from testing.builders import archives, forms, seals
from testing.builders.forms import FormValues
from testing.builders.submission import SHANGHAI, nomination_mail, photo_jpeg
from testing.idcards import id_number

MAILBOX = Path(__file__).parent / "mailbox"


def _at(day: int, hour: int, minute: int = 0, month: int = 4) -> datetime:
    return datetime(2017, month, day, hour, minute, tzinfo=SHANGHAI)


def _photos(name: str, count: int, seed: int) -> list[tuple[str, bytes]]:
    return [(f"{name}工作照{i}.jpg", photo_jpeg(seed + i)) for i in range(1, count + 1)]


ZHANG = FormValues(id_number=id_number())
LI = FormValues(name="李四", gender="女", id_number=id_number(birth="19760315", sequence="462"),
                phone="023-65311292", employer="重庆建设工业集团", position="装配钳工", channel="组织推荐")
WANG = FormValues(name="王五", id_number="50010319800230123X", phone="1381234", position="", channel="个人自荐",
                  recommending_unit="")
ZHAO = FormValues(name="赵六", id_number=id_number(birth="19850808", sequence="218"), channel="社会举荐")
CHEN = FormValues(name="陈九", id_number=id_number(birth="19810611", sequence="333"), channel="组织推荐",
                  employer="重庆钢铁股份有限公司", recommending_unit="重庆钢铁股份有限公司工会")
LIU = FormValues(name="刘十", gender="女", id_number=id_number(birth="19830922", sequence="524"), channel="组织推荐",
                 phone="13983365127", employer="重庆建工第三建设有限责任公司", position="焊工",
                 recommending_unit="重庆市建设工会")


def samples() -> dict[str, bytes]:
    writeup = forms.writeup_docx
    return {
        "01-组织推荐-完整.eml": nomination_mail(
            [("附件1.docx", forms.bayu_form_docx(ZHANG)), ("张三事迹材料.docx", writeup(1320)),
             *_photos("张三", 4, 1)],
            sent=_at(10, 9, 58), message_id="<sample-01@cqcc.example.cn>",
            sender="重庆长安工会 <gonghui@cqcc.example.cn>"),
        "02-逾期.eml": nomination_mail(
            [("巴渝工匠推荐表.docx", forms.bayu_form_docx(ZHAO)), ("事迹材料.docx", writeup(1100)),
             *_photos("赵六", 5, 20)],
            sent=_at(30, 23, 50), received=_at(1, 0, 12, month=5), message_id="<sample-02@qq.example.com>",
            sender="赵六 <zhaoliu@qq.example.com>", subject="社会举荐赵六同志"),
        "03-填写有误.eml": nomination_mail(
            [("王五推荐表.docx", forms.bayu_form_docx(WANG)), ("王五事迹.docx", writeup(1580)),
             *_photos("王五", 4, 30)],
            sent=_at(18, 15, 20), message_id="<sample-03@163.example.com>",
            sender="王五 <wangwu@163.example.com>", subject="个人自荐材料"),
        "04-区县打包-两人.eml": nomination_mail(
            [("沙坪坝区推荐材料.zip", archives.zip_bytes([
                ("沙坪坝区推荐材料/张三/推荐表.docx", forms.bayu_form_docx(ZHANG)),
                ("沙坪坝区推荐材料/张三/事迹材料.docx", writeup(1200)),
                *[(f"沙坪坝区推荐材料/张三/{i}.jpg", photo_jpeg(40 + i)) for i in range(4)],
                ("沙坪坝区推荐材料/李四/推荐表.docx", forms.bayu_form_docx(LI)),
                ("沙坪坝区推荐材料/李四/事迹材料.docx", writeup(900)),
                *[(f"沙坪坝区推荐材料/李四/{i}.jpg", photo_jpeg(50 + i)) for i in range(5)],
            ], name_encoding="gbk"))],
            sent=_at(20, 17, 5), message_id="<sample-04@spb.example.cn>",
            sender="沙坪坝区总工会 <704234263@qq.example.com>", subject="沙坪坝区巴渝工匠推荐材料（2人）"),
        "05-咨询.eml": nomination_mail(
            [], sent=_at(12, 10, 30), message_id="<sample-05@example.cn>", subject="请问个人自荐需要盖章吗",
            body="您好，请问个人自荐的推荐表需要单位盖章吗？谢谢。", sender="市民 <asker@example.cn>"),
        "06-自动回复.eml": nomination_mail(
            [], sent=_at(12, 10, 31), message_id="<sample-06@example.cn>", subject="自动回复: 巴渝工匠推荐",
            body="您的邮件已收到，我休假中。", headers={"Auto-Submitted": "auto-replied"},
            sender="休假中 <away@example.cn>"),
        "07-缺推荐表.eml": nomination_mail(
            [("事迹材料.docx", writeup(1000)), *_photos("孙七", 4, 60)],
            sent=_at(25, 11, 0), message_id="<sample-07@example.cn>", subject="孙七推荐材料",
            sender="某公司工会 <gh@company.example.cn>"),
        "08-PDF推荐表.eml": nomination_mail(
            [("巴渝工匠推荐表.pdf", forms.form_pdf(LI)), ("李四先进事迹.pdf", forms.writeup_pdf(1000)),
             *_photos("李四", 4, 70)],
            sent=_at(26, 16, 45), message_id="<sample-08@example.cn>", sender="建设集团工会 <gh@js.example.cn>"),
        "09-加密推荐表.eml": nomination_mail(
            [("巴渝工匠推荐表.docx", forms.encrypted_docx()), ("事迹材料.docx", writeup(800)),
             *_photos("周八", 4, 80)],
            sent=_at(27, 9, 15), message_id="<sample-09@example.cn>", sender="周八 <zhouba@example.cn>"),
        "10-单位推荐未盖章.eml": nomination_mail(
            [("陈九推荐表.docx", forms.bayu_form_docx(CHEN, stamped=False)), ("陈九事迹材料.docx", writeup(1100)),
             *_photos("陈九", 4, 90)],
            sent=_at(27, 14, 2), message_id="<sample-10@cisc.example.cn>", sender="重钢工会 <gh@cisc.example.cn>"),
        "11-盖章扫描件.eml": nomination_mail(
            [("刘十推荐表（扫描件）.pdf", seals.ocr_scan(7, "scan_pdf", values=LIU)[0]),
             ("刘十事迹材料.docx", writeup(1250)), *_photos("刘十", 4, 100)],
            sent=_at(28, 10, 40), message_id="<sample-11@cscec.example.cn>",
            sender="建设工会 <jsgh@cscec.example.cn>"),
    }


def main() -> None:
    MAILBOX.mkdir(parents=True, exist_ok=True)
    for old in MAILBOX.glob("*.eml"):
        old.unlink()
    for name, raw in samples().items():
        (MAILBOX / name).write_bytes(raw)
        print(f"{len(raw):>9,} bytes  {name}")


if __name__ == "__main__":
    main()
