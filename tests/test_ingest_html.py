"""HTML bodies read as text: what a person sees, with link targets kept for the link rule."""

from ingest.html import content_ids, declared_charset, to_text


def test_blocks_become_lines_and_hidden_content_goes():
    html = ("<html><head><title>t</title><style>.x{}</style></head><body><div>第一行</div><p>第二行<br>第三行</p>"
            "<script>var a=1;</script></body></html>")
    assert to_text(html) == "第一行\n\n第二行\n第三行"


def test_a_link_shows_its_target_unless_the_text_is_the_target():
    html = '<a href="https://pan.baidu.com/s/1abc">点击下载</a> 或 <a href="https://pan.baidu.com/s/1abc">https://pan.baidu.com/s/1abc</a>'
    assert to_text(html) == "点击下载 (https://pan.baidu.com/s/1abc) 或 https://pan.baidu.com/s/1abc"


def test_entities_and_padding_spaces():
    assert to_text("<p>张三&nbsp;&nbsp;&amp;&#26446;&#x56DB;\u3000\u3000男</p>") == "张三 &李四 男"


def test_broken_markup_keeps_what_was_read():
    assert to_text("<div>申报表<table><tr><td>姓名<td>张三</div><a href=") == "申报表\n\n姓名\n张三"


def test_content_ids_and_meta_charset():
    assert content_ids('<img src="cid:Image001.PNG@01D2B1">< img src=\'cid:%3Cpart1%3E\'>') == {"image001.png@01d2b1", "part1"}
    assert declared_charset(b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">') == "gb2312"
    assert declared_charset(b"<html><body>no meta</body></html>") is None
