"""The gram index's cutting rules (backoffice.textgrams): pure, and agreeing with substrings."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice import textgrams

pytestmark = pytest.mark.unit


def test_each_run_gives_its_pairs_and_its_last_character() -> None:
    assert textgrams.grams("拖欠工资!") == "拖欠 欠工 工资 资"
    assert textgrams.grams("Boss欠薪3个月，工伤") == "bo os ss s欠 欠薪 薪3 3个 个月 月 工伤 伤"
    assert textgrams.grams("工资工资") == "工资 资工 资"  # each gram once
    assert textgrams.grams("") == textgrams.grams(None) == textgrams.grams(" -，") == ""


@pytest.mark.parametrize(
    ("term", "eligible"),
    [("工伤", True), ("伤", True), ("3个", True), ("OS", True), ("A-", False), ("", False),
     ("工伤费", False), ("%", False), ("a_", False)],
)  # fmt: skip
def test_only_one_or_two_letters_or_digits_are_looked_up(term: str, eligible: bool) -> None:
    assert textgrams.eligible(term) is eligible


def test_a_pair_is_one_token_and_a_character_a_prefix() -> None:
    assert textgrams.fts_query("OS") == '"os"'
    assert textgrams.fts_query("伤") == '"伤" *'


ALPHABET = st.sampled_from(list("工伤欠薪资老板aB3 ，-"))


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(st.text(ALPHABET, max_size=12), min_size=1, max_size=6), data=st.data())
def test_the_sqlite_gram_table_finds_exactly_the_texts_holding_the_term(
    texts: list[str], data: st.DataObject
) -> None:
    # The real FTS5 table with revision 0011's tokenizer, fed by the registered function.
    term = data.draw(st.text(st.sampled_from(list("工伤欠薪资老板aB3")), min_size=1, max_size=2))
    con = sqlite3.connect(":memory:")
    textgrams.register_sqlite(con)
    con.execute(
        "CREATE VIRTUAL TABLE g USING fts5(body, tokenize = 'unicode61 remove_diacritics 0',"
        " detail = 'column')"
    )
    con.executemany("INSERT INTO g (rowid, body) VALUES (?, hotline_grams(?))", enumerate(texts))
    rows = con.execute(
        "SELECT rowid FROM g WHERE g MATCH ?", ("body : " + textgrams.fts_query(term),)
    )
    expected = {i for i, text in enumerate(texts) if term.lower() in text.lower()}
    assert {row[0] for row in rows} == expected
    con.close()
