"""The learner's language (lmhelpers.language and its catalogs): one setting, the same numbers.

A Korean reading makes the same claims with the same figures as the English one; every label, column
title and parameter message the package writes has its Korean words (tests/test_catalogs.py checks the
catalog itself: every marked text translated, nothing stale, the .mo compiled).
"""

from __future__ import annotations

import re

import pytest
from test_reading import _pair, _record

from lmhelpers import sentences
from lmhelpers.config import SETTINGS, ConfigError, make_config
from lmhelpers.language import MESSAGES, current_language, message, set_language, tr
from lmhelpers.reading import Claim, comparison_claims, sweep_claims
from lmhelpers.verdicts import carried_context

NUMBER = re.compile(r"[-+]?\d+(?:,\d{3})*(?:\.\d+)?%?")
WORDS_WITH_DIGITS = re.compile("[34]분의 1")  # "quarter", "third": words, not figures


def _numbers(text: str) -> set[str]:
    return set(NUMBER.findall(WORDS_WITH_DIGITS.sub("", text)))


def _claims():
    a = _record("lstm-char-cpu", "lstm", 2.0, 1.4, 30000.0, [0, 5, 10], 500_000)
    b = _record("gpt", "transformer", 1.8, 1.26, 10000.0, [0, 15, 30], 800_000)
    a["history"][-1]["train_loss"] = 1.2  # a generalisation gap
    curves = {"lstm-char-cpu": [2.0, 1.6, 1.5, 1.5], "gpt": [2.0, 1.58, 1.3, 1.2]}
    claims = comparison_claims([a, b], curves) + comparison_claims(_pair([4, 3, 2.5, 2], [4, 3.2, 2.4, 1.9]))
    rows = [
        {
            "name": f"r{n}",
            "arch": arch,
            "tokenizer": "char",
            "block_size": n,
            "bits_per_char": bpc,
            "tokens_per_second": 100.0 * n,
            "params": 1000 * n,
        }
        for arch, n, bpc in [
            ("lstm", 32, 2.4),
            ("transformer", 32, 2.35),
            ("lstm", 128, 2.3),
            ("transformer", 128, 2.0),
        ]
    ]
    carried = _pair([4, 3, 2.5, 2], [4, 3.2, 2.4, 1.9])[0]
    carried["evaluation"]["whole_text"]["method"] = "carried"
    reset = {
        **carried["evaluation"]["whole_text"],
        "method": "reset",
        "reset_every": 64,
        "bits_per_char": 2.04,
    }
    carried["evaluation"]["reset"] = {**reset, "chunk_losses": [c + 0.03 for c in reset["chunk_losses"]]}
    claims.append(Claim("carried_context", carried_context(carried)))
    return claims + sweep_claims(sorted(rows, key=lambda r: r["bits_per_char"]))


@pytest.mark.parametrize("claim", _claims(), ids=lambda c: c.key)
def test_korean_and_english_readings_state_the_same_figures(claim):
    english, hangul = sentences.render(claim, "en"), sentences.render(claim, "ko")
    assert re.search("[가-힣]", hangul) and not re.search("[가-힣]", english)
    assert _numbers(english) == _numbers(hangul), (english, hangul)


def test_the_claims_cover_every_sentence():
    """The parametrised test above sees every kind of sentence except the rare ones listed here."""
    seen = {c.key for c in _claims()}
    assert set(sentences.SENTENCES) - seen <= {
        "different_steps",
        "level",
        "different_tokenizers",
        "overfitting",
        "curves_together",
        "no_scores",
    }


def test_one_setting_switches_the_language(monkeypatch):
    monkeypatch.setattr("lmhelpers.language._default", [])
    monkeypatch.delenv("LMHELPERS_LANGUAGE", raising=False)
    assert current_language() == "en" and tr("bits/char") == "bits/char"
    set_language("ko")
    assert current_language() == "ko" and tr("bits/char") == "글자당 비트"
    monkeypatch.setattr("lmhelpers.language._default", [])
    monkeypatch.setenv("LMHELPERS_LANGUAGE", "ko")
    assert current_language() == "ko"
    with pytest.raises(ValueError, match="language='fr' is invalid"):
        set_language("fr")


def test_every_label_and_column_title_has_korean_words():
    from lmhelpers.plots import TIME_AXES
    from lmhelpers.report import RESULT_COLUMNS, TABLE_COLUMNS
    from lmhelpers.tokenizer_comparison import TOKENIZER_COLUMNS

    titles = {t for cols in (TABLE_COLUMNS, RESULT_COLUMNS, TOKENIZER_COLUMNS) for t, _ in cols}
    # literal tr() texts are checked by test_catalogs; these are written once and translated where shown
    wanted = (titles | set(TIME_AXES.values())) - {"decode(encode(x)) == x"}
    missing = sorted(w for w in wanted if tr(w, "ko") == w)
    assert not missing, f"no Korean words for {missing} in lmhelpers/locale/ko/LC_MESSAGES/lmhelpers.po"


def _fields(template: str) -> dict[str, object]:
    """A value for each placeholder of ``template`` that any format spec accepts."""
    import string

    return {f: 1 for _, f, _, _ in string.Formatter().parse(template) if f}


def test_every_message_and_allowed_range_is_in_korean():
    untranslated = [
        k for k, t in MESSAGES.items() if not re.search("[가-힣]", message(k, "ko", **_fields(t)))
    ]
    assert untranslated == ["layers_width"]  # "{layers} x {width}" has no words to translate
    allowed = set()
    for name in SETTINGS:
        for bad in ("x", -1, 10**9, 2.5, None):
            try:
                make_config("smoke", **{name: bad})
            except ConfigError as exc:
                if exc.allowed and exc.field == name:
                    allowed.add(exc.allowed)
    assert len(allowed) > 10
    untranslated = sorted(a for a in allowed if not re.search("[가-힣]", a.said("ko")))  # config.Allowed
    assert not untranslated, f"no Korean for these allowed ranges: {untranslated}"
    text = message("invalid", "ko", name="max_iters", value="ten", allowed="a positive integer")
    assert text == "매개변수 max_iters='ten' 값을 쓸 수 없습니다. 허용되는 값: 양의 정수"


def test_a_notebook_parameter_error_speaks_the_learners_language(monkeypatch):
    from lmhelpers import notebook as nbh

    monkeypatch.setattr("lmhelpers.language._default", [])
    nbh.use_language("ko")
    with pytest.raises(nbh.ParameterError, match="매개변수 max_iters='ten' 값을 쓸 수 없습니다"):
        nbh.notebook_config("smoke", max_iters="ten")
    with pytest.raises(nbh.ParameterError, match="language='fr'"):
        nbh.use_language("fr")


def test_a_part_of_a_program_can_speak_korean_and_leave_the_rest_english():
    from lmhelpers.language import speaking

    with speaking("ko"):
        assert current_language() == "ko" and tr("bits/char") == "글자당 비트"
    assert current_language() == "en"
    with speaking(None):
        assert current_language() == "en"
