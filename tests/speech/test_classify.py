"""Topic classification by the shipped rules and by rules admins write (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from backoffice.domain.deadlines import Category
from hotline.speech.classify import (
    LanguageRules,
    classify,
    jieba_tokenizer,
    load_rules,
    load_rules_file,
)
from hotline.speech.errors import RulesInvalid

pytestmark = pytest.mark.unit

ZH = "version: 1\nlanguages:\n  zh:\n    categories:\n"


@pytest.fixture(scope="module")
def zh() -> LanguageRules:
    return load_rules_file().for_language("zh")


@pytest.mark.parametrize(
    ("text", "category", "skills"),
    [
        ("老板拖欠工资三个月了", Category.WAGE_ARREARS, ("wage_arrears",)),
        ("我们老板跑路了，工钱一分没给", Category.WAGE_ARREARS, ("wage_arrears",)),
        ("我 的 工资 没发", Category.WAGE_ARREARS, ("wage_arrears",)),  # as a recogniser writes
        ("我在工地上受伤了，想做工伤认定", Category.WORK_INJURY, ("work_injury",)),
        ("公司不跟我签劳动合同", Category.LABOR_CONTRACT, ("legal",)),
        ("我被公司辞退了", Category.LABOR_CONTRACT, ("legal",)),
        ("单位一直没给我交社保", Category.SOCIAL_INSURANCE, ("operator",)),
        ("五险一金断缴了怎么办", Category.SOCIAL_INSURANCE, ("operator",)),
        ("我想找律师做个法律咨询", Category.LEGAL_CONSULTATION, ("legal",)),
        ("家里生活困难，想申请帮扶", Category.HARDSHIP_ASSISTANCE, ("operator",)),
        ("我想给工会提个建议", Category.SUGGESTION, ("operator",)),
        ("ＷＯ　老板拖欠工资", Category.WAGE_ARREARS, ("wage_arrears",)),  # full-width forms
    ],
)
def test_mandarin_callers(
    zh: LanguageRules, text: str, category: Category, skills: tuple[str]
) -> None:
    result = classify(text, zh)
    assert result.category is category
    assert result.skills == skills
    assert 0 < result.confidence <= 1
    assert result.matched


def test_a_keyword_inside_another_word_does_not_count(zh: LanguageRules) -> None:
    # 加工资料 is 加工 / 资料: no 工资 in it.
    result = classify("我想问一下加工资料的事情", zh)
    assert result.category is None
    assert "工资" not in result.matched


def test_a_keyword_inside_a_longer_keyword_counts_once(zh: LanguageRules) -> None:
    result = classify("老板拖欠工资", zh)
    assert result.matched == ["拖欠工资"]


@pytest.mark.parametrize("text", ["", "   ", "[unk]", "喂你好", "工资"])
def test_empty_or_weak_text_has_no_category(zh: LanguageRules, text: str) -> None:
    result = classify(text, zh)
    assert result.category is None
    assert result.skills == ()
    assert result.confidence == 0.0


def test_a_tie_has_no_category(zh: LanguageRules) -> None:
    # 辞退 (labor contract) and 打官司 (legal consultation) weigh the same.
    result = classify("被公司辞退了要打官司", zh)
    assert result.category is None
    assert sorted(result.matched) == sorted(["辞退", "打官司"])


def test_more_evidence_means_more_confidence(zh: LanguageRules) -> None:
    one = classify("拖欠工资", zh).confidence
    two = classify("拖欠工资，老板跑路了", zh).confidence
    assert two > one


def test_english_and_korean_rules() -> None:
    rules = load_rules_file()
    en = rules.for_language("en")
    assert classify("My boss has not paid my wages", en).category is Category.WAGE_ARREARS
    assert classify("I was injured at work", en).category is Category.WORK_INJURY
    assert classify("hello", en).category is None
    ko = rules.for_language("ko")
    # Endings glue on in Korean: 월급 matches 월급을.
    assert classify("월급을 못 받았어요", ko).category is Category.WAGE_ARREARS
    assert classify("회사에서 다쳤어요", ko).category is Category.WORK_INJURY
    assert classify("변호사와 상담하고 싶습니다", ko).category is Category.LEGAL_CONSULTATION


def test_whole_word_matching_does_not_match_word_beginnings() -> None:
    rules = load_rules(
        """
version: 1
languages:
  en:
    match: whole
    categories:
      suggestion: {skills: [operator], keywords: {idea: 3}}
"""
    ).for_language("en")
    assert classify("an idea", rules).category is Category.SUGGESTION
    assert classify("ideas", rules).category is None


def test_jieba_dictionary_is_loaded_once() -> None:
    assert jieba_tokenizer() is jieba_tokenizer()


def test_rules_for_an_unknown_language_are_an_error() -> None:
    with pytest.raises(RulesInvalid, match="no classification rules for language 'fr'"):
        load_rules_file().for_language("fr")


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        (
            ZH + "      wage_arrear: {keywords: {欠薪: 3}}\n",
            "rules.yaml: languages.zh.categories.wage_arrear",
        ),
        (
            ZH + "      wage_arrears: {keywords: {欠薪: -1}}\n",
            "rules.yaml: languages.zh.categories.wage_arrears.keywords.欠薪: "
            "Input should be greater than 0",
        ),
        (
            ZH + "      other: {skills: [Bad Skill]}\n",
            "rules.yaml: languages.zh.categories.other.skills.0",
        ),
        (
            "version: 1\nlanguages:\n  zh:\n    tokeniser: jieba\n    categories: {}\n",
            "rules.yaml: languages.zh.tokeniser: Extra inputs are not permitted",
        ),
        ("version: 2\nlanguages: {}\n", "rules.yaml: version"),
        ("version: 1\nlanguages: [\n", "rules.yaml: not valid YAML at line 3"),
        ("", "rules.yaml: the file"),
    ],
)
def test_bad_rules_name_the_rule(yaml_text: str, message: str) -> None:
    with pytest.raises(RulesInvalid) as caught:
        load_rules(yaml_text, source="rules.yaml")
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_an_unreadable_rules_file_is_one_line() -> None:
    with pytest.raises(RulesInvalid, match="can't read classification rules"):
        load_rules_file(Path("/nonexistent/rules.yaml"))


def test_the_shipped_rules_cover_every_category() -> None:
    for language in ("zh", "en", "ko"):
        rules = load_rules_file().for_language(language)
        assert set(rules.categories) == set(Category)
