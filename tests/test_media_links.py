"""Large-attachment download links found in plain and HTML bodies, with the file names shown beside them."""

import pytest

from parsers.links import find_links, provider_of

QQ_TEXT = """您好，推荐材料见附件。

从QQ邮箱发来的超大附件

张三事迹视频.mp4 (356.21M, 2017年05月10日 10:20 到期)
进入下载页面：https://mail.qq.com/cgi-bin/ftnExs_download?t=exs_ftn_download&k=0a1b&code=3d4e
"""
NETEASE_TEXT = """从网易163邮箱发来的超大附件
李四视频.MOV (1.2G, 2017年5月20日 09:00 到期)
下载: http://mail.163.com/large-attachment-download/index.html?p=X1&file=Y2
"""
QQ_HTML = (
    '<div>从QQ邮箱发来的超大附件</div><div style="padding:4px"><a href="https://wx.mail.qq.com/ftn/download?func=3&amp;k=abc"'
    ' target="_blank">王五事迹视频.mp4</a> (356M, 2017年05月10日 到期)</div>'
    '<p>照片打包：王五照片.zip</p><p><a href="https://share.weiyun.com/5xYz">点击下载</a></p>'
    '<p>公司主页 <a href="https://www.example.cn/">www.example.cn</a></p>'
)


def test_qq_large_attachment_in_plain_text():
    [link] = find_links(QQ_TEXT)
    assert (link.provider, link.filename) == ("qq", "张三事迹视频.mp4")
    assert link.url == "https://mail.qq.com/cgi-bin/ftnExs_download?t=exs_ftn_download&k=0a1b&code=3d4e"


def test_netease_large_attachment():
    [link] = find_links(NETEASE_TEXT)
    assert (link.provider, link.filename) == ("netease", "李四视频.MOV")


def test_html_anchors_give_their_own_text_or_the_name_before_them():
    links = find_links("", QQ_HTML)
    assert [(link.provider, link.filename) for link in links] == [("qq", "王五事迹视频.mp4"), ("weiyun", "王五照片.zip")]
    assert links[0].url == "https://wx.mail.qq.com/ftn/download?func=3&k=abc"  # entities decoded


def test_baidu_share_with_its_extraction_code_on_the_same_or_next_line():
    text = "链接: https://pan.baidu.com/s/1AbCdEf 提取码: x7k9 复制这段内容后打开百度网盘\n" \
           "通过网盘分享的文件：赵六视频.mp4\n链接: https://pan.baidu.com/s/2xyz\n提取码: ab12\n"
    first, second = find_links(text)
    assert (first.code, first.filename) == ("x7k9", None)  # no name of its own: not the next block's
    assert (second.code, second.filename) == ("ab12", "赵六视频.mp4")


def test_a_link_in_both_the_text_and_the_html_is_one_link():
    assert len(find_links(QQ_TEXT, QQ_TEXT.replace("https://", '<a href="https://').replace("3d4e\n", '3d4e">下载</a>\n'))) == 1


@pytest.mark.parametrize(
    "url, provider",
    [
        ("https://mail.qq.com/cgi-bin/ftnExs_download?k=1", "qq"),
        ("https://exmail.qq.com/cgi-bin/ftnExs_download?k=1", "qq"),
        ("https://wx.mail.qq.com/ftn/download?func=3", "qq"),
        ("https://mail.163.com/large-attachment-download/index.html?p=1", "netease"),
        ("https://mail.126.com/large-attachment-download/index.html?p=1", "netease"),
        ("http://u.163.com/abc", "netease"),
        ("https://pan.baidu.com/s/1abc", "baidu"),
        ("https://pan.baidu.com/share/init?surl=abc", "baidu"),
        ("https://www.aliyundrive.com/s/abc", "aliyun"),
        ("https://www.alipan.com/s/abc", "aliyun"),
        ("https://share.weiyun.com/abc", "weiyun"),
        ("https://cloud.189.cn/t/abc", "tianyi"),
        ("https://pan.quark.cn/s/abc", "quark"),
        ("https://www.cqgh.org/notice.html", None),
        ("https://mail.qq.com/cgi-bin/frame_html", None),
        ("https://www.baidu.com/s?wd=巴渝工匠", None),
    ],
)
def test_providers(url, provider):
    assert provider_of(url) == provider


def test_a_body_without_links_has_none():
    assert find_links("请问推荐表在哪里下载？见 https://www.cqgh.org/", "<p>谢谢</p>") == ()
