"""Segments from recogniser words: parsing, cleaning, redaction across a leg, grouping, merging."""

from __future__ import annotations

import pytest

from hotline.speech.segments import (
    AGENT,
    CALLER,
    Segment,
    Transcript,
    Word,
    clean_words,
    format_segment,
    join_words,
    merge_call,
    merge_legs,
    redact_words,
    segments_from_words,
    words_from_results,
)

pytestmark = pytest.mark.unit


def vosk_result(*words: tuple[str, float, float]) -> dict[str, object]:
    """A result as Vosk's Result() gives it with SetWords(True)."""
    entries = [{"conf": 0.9, "start": s, "end": e, "word": w} for w, s, e in words]
    return {"result": entries, "text": " ".join(w for w, _, _ in words)}


def w(text: str, start: float, end: float, conf: float = 1.0) -> Word:
    return Word(text, start, end, conf)


def test_words_from_results_reads_vosk_json_and_skips_empty_results() -> None:
    results: list[dict[str, object]] = [
        vosk_result(("임금", 0.5, 0.9)),
        {"text": ""},
        vosk_result(("네", 2.0, 2.2)),
    ]
    assert words_from_results(results) == [w("임금", 0.5, 0.9, 0.9), w("네", 2.0, 2.2, 0.9)]


def test_clean_words_drops_unknown_and_unbrackets_numbers() -> None:
    words = [w("[unk]", 0, 1), w("[22]", 1, 2), w("[쩜]", 2, 3), w("일", 3, 4)]
    assert [x.text for x in clean_words(words)] == ["22", "[쩜]", "일"]


def test_a_phone_number_spoken_with_pauses_is_masked_across_segments() -> None:
    # The caller pauses inside the number: its digits end up in two segments.
    words = clean_words(
        [
            w("电话", 0.0, 0.4),
            w("幺", 0.5, 0.6),
            w("三", 0.6, 0.7),
            w("八", 0.7, 0.8),
            w("一", 2.0, 2.1),
            w("二", 2.1, 2.2),
            w("三", 2.2, 2.3),
            w("四", 2.3, 2.4),
            w("五", 2.4, 2.5),
            w("六", 2.5, 2.6),
            w("七", 2.6, 2.7),
            w("八", 2.7, 2.8),
        ]
    )
    segments = segments_from_words(redact_words(words), CALLER)
    assert [s.text for s in segments] == ["电话幺三八", "****五六七八"]


def test_a_bracketed_number_from_the_korean_model_is_masked() -> None:
    words = clean_words(
        [w("전화번호는", 0, 1), w("[010]", 1, 2), w("[1234]", 2, 3), w("[5678]", 3, 4)]
    )
    text = segments_from_words(redact_words(words), CALLER)[0].text
    assert text == "전화번호는 010 **** 5678"


def test_a_typed_national_id_is_masked_but_short_numbers_stay() -> None:
    words = [w("身份证", 0, 1), w("110105199003071234", 1, 2), w("3个月", 2, 3)]
    assert [x.text for x in redact_words(words)] == ["身份证", "**************1234", "3个月"]


def test_redaction_must_keep_length() -> None:
    with pytest.raises(ValueError):
        redact_words([w("a", 0, 1)], redact=lambda text: text + "!")


def test_segments_split_at_pauses_and_when_too_long() -> None:
    words = [w("a", 0.0, 0.5), w("b", 0.6, 1.0), w("c", 2.0, 2.5), w("d", 2.6, 3.0)]
    segments = segments_from_words(words, AGENT, pause_s=0.8, max_s=15)
    assert [(s.start_s, s.end_s, s.text) for s in segments] == [
        (0.0, 1.0, "a b"),
        (2.0, 3.0, "c d"),
    ]
    assert segments_from_words(words, AGENT, pause_s=5, max_s=1.2)[0].text == "a b"


def test_segment_confidence_is_the_mean_of_its_words() -> None:
    segment = segments_from_words([w("a", 0, 1, 0.5), w("b", 1, 2, 1.0)], CALLER)[0]
    assert segment.confidence == pytest.approx(0.75)
    assert segment.speaker == CALLER


def test_legs_merge_by_start_time_with_speakers() -> None:
    caller = [Segment(0.0, 2.0, "여보세요", 1, CALLER), Segment(5.0, 6.0, "네", 1, CALLER)]
    agent = [Segment(2.5, 4.0, "말씀하세요", 1, AGENT), Segment(5.0, 5.5, "예", 1, AGENT)]
    merged = merge_legs(caller, agent)
    assert [(s.start_s, s.speaker) for s in merged] == [
        (0.0, CALLER),
        (2.5, AGENT),
        (5.0, CALLER),
        (5.0, AGENT),
    ]


def test_merge_call_keeps_the_longer_leg_duration() -> None:
    caller = Transcript((Segment(0, 1, "a", 1, CALLER),), 10.0, "ko")
    agent = Transcript((Segment(0.5, 1, "b", 1, AGENT),), 12.5, "ko")
    call = merge_call(caller, agent)
    assert call.audio_s == 12.5
    assert call.text_of(AGENT) == "b"
    assert call.text == "a b"


def test_join_words_drops_spaces_only_between_chinese_characters() -> None:
    assert join_words(["老板", "拖欠", "工资"]) == "老板拖欠工资"
    assert join_words(["월급을", "못", "받았어요"]) == "월급을 못 받았어요"
    assert join_words(["给", "我", "打", "电话", "call", "me"]) == "给我打电话 call me"
    assert join_words(["幺", "三", "八", "*", "*"]) == "幺三八**"


def test_format_and_json_shape() -> None:
    segment = Segment(61.25, 63.5, "네", 0.81234, AGENT)
    assert format_segment(segment) == "[01:01.2-01:03.5] agent: 네"
    body = Transcript((segment,), 70.0, "ko").to_dict()
    assert body == {
        "language": "ko",
        "audio_s": 70.0,
        "segments": [
            {"start_s": 61.25, "end_s": 63.5, "text": "네", "confidence": 0.812, "speaker": AGENT}
        ],
    }
