"""Masking of phone numbers and national IDs, on their own and inside transcripts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backoffice.domain.masking import mask_national_id, mask_phone, redact_text

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812341234", "138****1234"),
        ("138-1234-1234", "138-****-1234"),
        ("+86 138 1234 1234", "+86 138 **** 1234"),
        ("8613812341234", "86138****1234"),
        ("0738-8221234", "0738-***1234"),
        ("07388221234", "0738***1234"),
        ("010-88881234", "010-****1234"),
        ("02188881234", "021****1234"),
        ("(0738)8221234", "(0738)***1234"),
        ("12351", "*****"),  # short: nothing shown
        ("1", "*"),
        ("138123412", "*****3412"),  # odd length: at most the last 4
        ("1381234", "****234"),  # never more than half
        ("", ""),
        ("anonymous", "anonymous"),  # Asterisk's caller ID when withheld: no number to hide
    ],
)
def test_mask_phone(raw: str, masked: str) -> None:
    assert mask_phone(raw) == masked


@given(st.text(alphabet="0123456789 -+()", min_size=1, max_size=20))
def test_mask_phone_never_shows_the_raw_number(raw: str) -> None:
    masked = mask_phone(raw)
    digits = sum(ch.isdigit() for ch in raw)
    # The least a rule hides is 3 digits: a 4-digit area code and a 7-digit local number.
    assert masked.count("*") >= min(digits, 3)
    assert len(masked) == len(raw)
    assert all(m == r for m, r in zip(masked, raw, strict=True) if m != "*")


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("43010219900307123X", "**************123X"),
        ("430102199003071234", "**************1234"),
        ("43010219900307123x", "**************123x"),
        ("430102 19900307 1234", "****** ******** 1234"),
        ("430102900307123", "***********7123"),  # first-generation 15-digit ID
        ("1234", "****"),
        ("not an id", "not an id"),
    ],
)
def test_mask_national_id_keeps_only_the_last_four(raw: str, masked: str) -> None:
    assert mask_national_id(raw) == masked


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("我的电话是13812341234，请回电", "我的电话是138****1234，请回电"),
        ("手机 138 1234 1234 谢谢", "手机 138 **** 1234 谢谢"),
        ("电话 138 - 1234 - 1234", "电话 138 - **** - 1234"),
        ("座机0738-8221234转人工", "座机0738-***1234转人工"),
        ("身份证430102199003071234号", "身份证**************1234号"),
        ("身份证号 430102 19900307 123x。", "身份证号 ****** ******** 123x。"),
        ("幺三八幺二三四幺二三四", "幺三八****幺二三四"),  # speech recognition output
        ("幺 三 八 幺 二 三 四 幺 二 三 四", "幺 三 八 * * * * 幺 二 三 四"),
        ("１３８１２３４１２３４", "１３８****１２３４"),
        ("13812341234 13900001111", "138****1234 139****1111"),
        ("13812341234 43010219900307123X", "138****1234 **************123X"),
        ("本地号码8221234", "本地号码****234"),
        ("13812341234X", "138****1234X"),
    ],
)
def test_redact_text_masks_numbers_inside_chinese_text(text: str, redacted: str) -> None:
    assert redact_text(text) == redacted


@pytest.mark.parametrize(
    "text",
    [
        "工单号GH20261123000042请记录",
        "工单号 20261123000042",
        "2023-05-01入职，欠薪12000元",
        "请拨打12351或12333",
        "第3车间有25人",
        "",
    ],
)
def test_redact_text_leaves_order_numbers_dates_and_amounts_alone(text: str) -> None:
    assert redact_text(text) == text


def test_a_phone_number_glued_to_stray_digits_is_still_masked() -> None:
    assert redact_text("1381234123413900001111") == "******************1111"
    assert redact_text("20 13012151234 5") == "20 130****1234 5"
    assert redact_text("138 1234 123") == "*** ***4 123"


chinese = st.text(alphabet="请问我的电话是工资欠薪，。您好", max_size=12)
mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
separators = st.sampled_from(["", " ", "-", " - "])


@given(before=chinese, after=chinese, mobile=mobiles, sep=separators)
def test_any_mobile_in_chinese_text_is_masked(
    before: str, after: str, mobile: str, sep: str
) -> None:
    written = sep.join([mobile[:3], mobile[3:7], mobile[7:]])
    redacted = redact_text(before + written + after)
    masked = sep.join([mobile[:3], "****", mobile[7:]])
    assert redacted == before + masked + after


@given(
    noise=st.text(alphabet="0123456789 -一二三幺两号电话", max_size=20),
    mobile=mobiles,
)
def test_a_mobile_next_to_arbitrary_digits_never_leaks_whole(noise: str, mobile: str) -> None:
    for text in (noise + mobile, mobile + noise):
        assert mobile not in redact_text(text)


@given(
    body=st.from_regex(r"[1-8][0-9]{16}", fullmatch=True),
    check=st.sampled_from("0123456789Xx"),
    before=chinese,
)
def test_any_national_id_in_text_keeps_only_its_last_four(
    body: str, check: str, before: str
) -> None:
    national_id = body + check
    redacted = redact_text(before + national_id + "。")
    assert redacted == before + "*" * 14 + national_id[-4:] + "。"
