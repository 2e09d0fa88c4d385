"""Values as the records keep them: what a form's cell says, cleaned once at the source."""

from nominees.normalise import clean_name, clean_text, clean_unit


def test_a_padded_chinese_name_loses_its_inner_spaces():
    assert clean_name("张  三") == "张三"
    assert clean_name("Zhang San") == "Zhang San"


def test_control_and_bidi_characters_never_reach_a_record():
    # a name or unit that would move a terminal's cursor or turn text around in a sheet
    assert clean_name("张\x1b[2J三\u202e") == "张[2J三"
    assert clean_unit("重庆\x07市总工会\u2066") == "重庆市总工会"
    assert clean_text("技师\x00\x9b") == "技师"


def test_full_width_digits_become_ascii():
    assert clean_text("１９８０年") == "1980年"
