"""Per-product weight learning: across sessions, from staff, and pooled across a store's carts."""

from __future__ import annotations

import pytest

from firmware.core.events import CheckoutRequested, CodeRead, SessionEnded, WeightSettled
from firmware.core.fusion import Fusion
from firmware.core.review import decide
from firmware.core.weightbook import WeightBook
from tests.core.test_fusion import CATALOG, JAM, TOMATOES, parse_catalog


def shop(book: WeightBook | None, steps: list[tuple[str, float, object]]) -> Fusion:
    """Scans and settled weight changes on a cart with `book`; returns the finished session."""
    fusion = Fusion(parse_catalog(CATALOG), book=book)
    level = 0.0
    for kind, t, what in steps:
        if kind == "scan":
            fusion.handle(CodeRead(t, str(what)))
        else:
            level += float(what)  # type: ignore[arg-type]
            fusion.handle(WeightSettled(t, float(what), level, 1.0))  # type: ignore[arg-type]
    end = steps[-1][1] + 30
    fusion.handle(CheckoutRequested(end))
    fusion.handle(SessionEnded(end + 2))
    if book is not None:
        book.learn_session(fusion.basket, settled=not decide(fusion).required)
    return fusion


def key(code: str) -> str:
    return parse_catalog(CATALOG).lookup(code).product.key


def bill(fusion: Fusion) -> list[tuple[str, int]]:
    return [(line.code, line.qty) for line in fusion.basket.bill_lines()]


def unresolved(fusion: Fusion) -> list[str]:
    return [str(a.kind) for a in fusion.basket.alerts if not a.resolved]


def jars_put_in_together(book: WeightBook | None) -> Fusion:
    return shop(book, [("scan", 1, JAM), ("scan", 2, JAM), ("weight", 6, 2 * 381.0)])


def test_a_catalog_weight_far_off_stops_alarming_once_staff_confirmed_the_real_one() -> None:
    book = WeightBook()
    # the catalog says 452 g; these tins weigh 520 g (15 % more): a mismatch, until learned
    first = shop(book, [("scan", 1, TOMATOES), ("weight", 4, 520.0)])
    assert "weight_mismatch" in unresolved(first)
    for grams in (519.0, 521.0, 520.5):  # staff confirm what the cart weighed (at review)
        book.observe(key(TOMATOES), grams, confirmed=True)
    later = shop(book, [("scan", 1, TOMATOES), ("weight", 4, 520.2)])
    assert unresolved(later) == [] and bill(later) == [(TOMATOES, 1)]


def test_staff_confirmed_weighings_count_more() -> None:
    book = WeightBook()
    book.observe("x", 100.0)
    assert book.estimate("x") is None  # one ordinary weighing is not enough
    book.observe("x", 101.0, confirmed=True)
    n = book.estimate("x")
    assert n is not None and n[2] == 4.0 and n[0] == pytest.approx(100.75)


def test_two_units_of_a_product_without_a_weight_put_in_together_cannot_be_counted_cold() -> None:
    cold = jars_put_in_together(WeightBook())
    assert bill(cold) == [(JAM, 1)] and unresolved(cold) == ["scan_not_placed"]  # never charged for two


def test_the_fleets_agreeing_weighings_count_units_of_a_product_without_a_weight() -> None:
    book = WeightBook()
    book.observe(key(JAM), 380.0)  # what two other carts weighed, one jar each, in sessions they settled
    book.observe(key(JAM), 383.0)
    counted = jars_put_in_together(book)
    assert bill(counted) == [(JAM, 2)] and unresolved(counted) == []
    swapped = shop(book, [("scan", 1, JAM), ("weight", 5, 160.0)])  # and a swap now shows
    assert "weight_mismatch" in unresolved(swapped)


@pytest.mark.parametrize("weighings", [[381.0], [381.0, 190.0]], ids=["one", "disagreeing"])
def test_one_weighing_or_two_that_disagree_do_not_count_units(weighings: list[float]) -> None:
    # a single weighing may be a swap nobody noticed: charging two jars on its word could overcharge
    book = WeightBook()
    for grams in weighings:
        book.observe(key(JAM), grams)
    assert bill(jars_put_in_together(book)) == [(JAM, 1)]


def test_books_of_several_carts_pool_like_one() -> None:
    grams = [100.0, 102.0, 98.5, 101.0, 99.0, 103.0]
    one, a, b = WeightBook(), WeightBook(), WeightBook()
    for i, g in enumerate(grams):
        one.observe("x", g, confirmed=i == 0)
        (a if i % 2 else b).observe("x", g, confirmed=i == 0)
    a.merge(b)
    pooled, single = a.estimate("x"), one.estimate("x")
    assert pooled is not None and single is not None
    assert pooled == pytest.approx(single) and a.entries["x"].confirmed == 1


def test_only_units_weighed_alone_in_a_settled_session_are_learned() -> None:
    book = WeightBook()
    shop(book, [("scan", 1, TOMATOES), ("scan", 2, TOMATOES), ("weight", 5, 905.0)])  # two together
    assert key(TOMATOES) not in book.entries
    shop(book, [("scan", 1, TOMATOES), ("weight", 5, 300.0)])  # a mismatch: the session is reviewed
    assert key(TOMATOES) not in book.entries
    shop(book, [("scan", 1, TOMATOES), ("weight", 5, 452.5)])
    assert book.entries[key(TOMATOES)].n == 1


def test_a_wrong_weighing_now_and_then_is_outvoted_not_averaged_in() -> None:
    # a product with no catalog weight: an unnoticed swap (a 1.2 kg pack learned as a jar) and two jars
    # counted as one, among the jars the fleet weighed alone
    book = WeightBook()
    for grams in (380.0, 1204.0, 383.0, 379.5, 762.0, 381.0, 382.5, 380.5):
        book.observe(key(JAM), grams)
    known = book.estimate(key(JAM))
    assert known is not None and known[0] == pytest.approx(381.1, abs=0.1) and known[2] == 6.0
    assert bill(jars_put_in_together(book)) == [(JAM, 2)]


def test_a_product_whose_weighings_disagree_too_often_is_not_known() -> None:
    # one jar weighed alone, and twice two jars counted as one: they agree, but are a third of the book
    book = WeightBook()
    for grams in (381.0, 762.5, 764.0):
        book.observe(key(JAM), grams)
    assert book.estimate(key(JAM), 2.0) is None
    assert bill(jars_put_in_together(book)) == [(JAM, 1)]  # never charged for two on such a word


def test_only_the_latest_weighings_are_kept_so_a_new_pack_is_learned() -> None:
    book = WeightBook()
    for _ in range(20):
        book.observe("x", 500.0)
    for _ in range(8):  # the maker changed the pack: while the weighings are split, both packs fit
        book.observe("x", 450.0)
    split = book.estimate("x")
    assert split is not None and abs(split[0] - 450.0) <= split[1] and abs(split[0] - 500.0) <= split[1]
    for _ in range(5):  # ... until most of the latest say so
        book.observe("x", 450.0)
    known = book.estimate("x")
    assert known is not None and known[0] == pytest.approx(450.0) and book.entries["x"].n == 16


def test_a_book_saved_before_weighings_were_kept_loads_with_its_mean_spread_and_count() -> None:
    old = {"x": [4.0, 100.0, 4.0 * 2.0**2, 1]}  # n, mean, sum of squared deviations, confirmed
    book = WeightBook.from_dict(old)
    known = book.estimate("x")
    assert known is not None and known[0] == pytest.approx(100.0) and known[2] == 4.0
    assert book.entries["x"].summary()[1] == pytest.approx(2.0) and book.entries["x"].confirmed == 1
    assert WeightBook.from_dict(book.to_dict()).estimate("x") == known


def test_a_few_weighings_that_happen_to_lie_close_keep_the_products_own_scatter() -> None:
    book = WeightBook()
    for grams in (100.0, 100.3, 106.0):  # bags of crisps scatter a few percent
        book.observe("x", grams)
    known = book.estimate("x")
    assert known is not None and known[2] == 3.0 and known[1] > 0.02 * known[0]
