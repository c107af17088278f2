from __future__ import annotations

import pytest

from firmware.core.gtin import (
    CodeError,
    CodeKind,
    VariableMeasureLayout,
    catalog_key,
    check_digit,
    expand_upce,
    gtin14,
    is_plu,
    parse_code,
    same_maker,
)


def test_check_digit_known_codes() -> None:
    assert check_digit("501234567890") == 0
    assert check_digit("9638507") == 4
    assert check_digit("03600029145") == 2


def test_upca_and_ean13_with_leading_zero_are_one_key() -> None:
    assert parse_code("036000291452").key == parse_code("0036000291452").key == "00036000291452"


def test_ean8_keeps_its_own_namespace() -> None:
    assert parse_code("96385074").key == "00000096385074"
    assert parse_code("96385074").kind is CodeKind.GTIN


@pytest.mark.parametrize(
    ("upce", "upca"),
    [
        ("01234565", "012345000065"),
        ("04252614", "042100005264"),
        ("425261", "042100005264"),
        ("0123453", "012300000451"),
    ],
)
def test_upce_expansion(upce: str, upca: str) -> None:
    assert expand_upce(upce) == upca


def test_upce_with_wrong_check_digit_is_refused() -> None:
    with pytest.raises(CodeError, match="check digit"):
        expand_upce("01234566")


def test_bad_check_digit_and_bad_length() -> None:
    with pytest.raises(CodeError, match="check digit"):
        gtin14("5012345678901")
    with pytest.raises(CodeError, match="8, 12, 13 or 14"):
        gtin14("12345")
    with pytest.raises(CodeError, match="digits only"):
        parse_code("50123x5678900")


def test_padding_zeros_from_exports_are_stripped() -> None:
    assert gtin14("000005012345678900") == "05012345678900"
    with pytest.raises(CodeError):
        gtin14("100005012345678900")


def test_plu_ranges() -> None:
    assert is_plu("4011") and is_plu("94011") and is_plu("3000") and is_plu("4999")
    assert not is_plu("5011") and not is_plu("84011") and not is_plu("2999")
    assert parse_code("94011").kind is CodeKind.PLU


def test_variable_measure_price_label() -> None:
    body = "212345600199"
    code = body + str(check_digit(body))
    parsed = parse_code(code)
    assert parsed.kind is CodeKind.VARIABLE
    assert parsed.embedded_value == 199
    zeroed = "212345600000"
    assert parsed.key == catalog_key(zeroed + str(check_digit(zeroed)))


def test_variable_measure_layout_is_configurable() -> None:
    layout = VariableMeasureLayout(prefixes=("28",), item_end=6, value_start=6, value_end=12, value_is_price=False)
    body = "280123001250"
    parsed = parse_code(body + str(check_digit(body)), layout=layout)
    assert parsed.kind is CodeKind.VARIABLE and parsed.embedded_value == 1250
    other = "290123001250"
    assert parse_code(other + str(check_digit(other)), layout=layout).kind is CodeKind.GTIN


def test_upce_reported_already_expanded_is_accepted() -> None:
    assert parse_code("012345000065", "upce").key == parse_code("01234565", "upce").key
    assert parse_code("0012345000065", "upce").key == "00012345000065"


def test_same_maker_compares_gs1_company_prefixes() -> None:
    assert same_maker(catalog_key("009800200337"), catalog_key("009800200269"))  # UPC-A, one maker
    assert same_maker(catalog_key("8000924082009"), catalog_key("8000924082160"))
    assert same_maker(catalog_key("8076802085943"), catalog_key("8076809523738"))  # one maker's run of prefixes
    assert not same_maker(catalog_key("009800200337"), catalog_key("009810200334"))  # UPC: 5-digit company number
    assert not same_maker(catalog_key("011213181677"), catalog_key("851818001983"))
    assert not same_maker(catalog_key("96385074"), catalog_key("96385074"))  # EAN-8: no maker prefix
    assert not same_maker(catalog_key("2123456000009"), catalog_key("2123456000009"))  # in-store code
    assert not same_maker("4011", "4011")  # PLUs are not GTINs
