"""The daemon's service and local API over a real Unix socket, with the in-process fake scale."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from firmware.core.catalog import parse_catalog
from firmware.core.events import ScaleSampled
from firmware.daemon.api import ApiServer
from firmware.daemon.service import CartService, IntentError
from firmware.journal import Journal

CATALOG = """code,name,price_cents,sold_by,weight_g
5012345678900,Canned tomatoes,129,each,452
4011,Bananas,199,weight,
4000000000037,Mystery jam,250,each,
"""


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def feed_grams(service: CartService, clock: Clock, grams: float, seconds: float) -> None:
    """Device samples, as the scale thread would post them (monotonic time)."""
    for _ in range(round(seconds * 10)):
        service.device_event(ScaleSampled(clock.t, 80.0, tuple([grams] * 8)))
        clock.t += 0.1


def make_service(tmp_path: Path) -> tuple[CartService, Clock]:
    clock = Clock()
    service = CartService(parse_catalog(CATALOG), Journal(tmp_path / "j.db"), cart_id="cart-1", clock=clock)
    return service, clock


def test_a_session_through_intents_and_the_scale(tmp_path: Path) -> None:
    service, clock = make_service(tmp_path)
    assert service.snapshot()["state"] == "idle"
    service.intent("start", {})
    feed_grams(service, clock, 0.0, 2)
    service.intent("code", {"text": "5012345678900"})
    assert service.snapshot()["pending"][0]["name"] == "Canned tomatoes"
    feed_grams(service, clock, 452.0, 2)
    snap = service.snapshot()
    assert snap["lines"][0]["qty"] == 1 and snap["total_cents"] == 129 and snap["pending"] == []
    service.intent("plu", {"plu": "4011"})
    feed_grams(service, clock, 1064.0, 2)
    assert service.snapshot()["total_cents"] == 129 + 122
    with pytest.raises(IntentError, match="check out"):
        service.intent("end", {})
    service.intent("checkout", {})
    report = service.intent("end", {})["report"]
    assert report["total_cents"] == 251 and not report["review"]["required"]
    snap = service.snapshot()
    assert snap["state"] == "ended" and snap["receipt"]["total_cents"] == 251


def test_bad_intents_are_refused_clearly(tmp_path: Path) -> None:
    service, _ = make_service(tmp_path)
    with pytest.raises(IntentError, match="no session"):
        service.intent("checkout", {})
    service.intent("start", {})
    with pytest.raises(IntentError, match="still open"):
        service.intent("start", {})
    with pytest.raises(IntentError, match="unknown PLU"):
        service.intent("plu", {"plu": "9999"})
    with pytest.raises(IntentError, match="non-empty string"):
        service.intent("code", {})
    with pytest.raises(IntentError, match="unknown op"):
        service.intent("teleport", {})


def test_unscanned_weight_shows_an_alert_with_its_hint(tmp_path: Path) -> None:
    service, clock = make_service(tmp_path)
    service.intent("start", {})
    feed_grams(service, clock, 0.0, 2)
    feed_grams(service, clock, 300.0, 11)  # reported 8 s after it settled: no scan came
    service.tick()
    alerts = service.snapshot()["alerts"]
    assert [a["kind"] for a in alerts] == ["unscanned_item"]
    assert "Scan the item" in alerts[0]["hint"]


def test_daemon_restart_rebuilds_the_open_session(tmp_path: Path) -> None:
    service, clock = make_service(tmp_path)
    service.intent("start", {})
    feed_grams(service, clock, 0.0, 2)
    service.intent("code", {"text": "5012345678900"})
    feed_grams(service, clock, 452.0, 2)
    session_id = service.snapshot()["session_id"]
    service.journal.close()
    again, _ = make_service(tmp_path)  # a new process on the same journal
    snap = again.snapshot()
    assert snap["session_id"] == session_id and snap["state"] == "shopping"
    assert snap["total_cents"] == 129


async def _request(path: Path, *messages: dict) -> list[dict]:
    reader, writer = await asyncio.open_unix_connection(str(path))
    answers = []
    for message in messages:
        writer.write(json.dumps(message).encode() + b"\n")
        await writer.drain()
        answers.append(json.loads(await asyncio.wait_for(reader.readline(), 5)))
    writer.close()
    return answers


def test_api_over_a_unix_socket(tmp_path: Path) -> None:
    async def scenario() -> None:
        service, _clock = make_service(tmp_path)
        api = ApiServer(service, "test", snapshot_hz=50)
        sock = tmp_path / "cartd.sock"
        await api.start(sock)
        hello, start, bad, garbage = await _request(
            sock,
            {"id": 1, "op": "hello", "client": "test", "api": 1},
            {"id": 2, "op": "start"},
            {"id": 3, "op": "plu", "plu": "1"},
            {"id": 4, "nope": True},
        )
        assert hello["ok"] and hello["result"]["cart_id"] == "cart-1"
        assert start["ok"] and start["result"]["session_id"].startswith("cart-1-")
        assert not bad["ok"] and bad["code"] == "bad_request"
        assert not garbage["ok"]
        reader, writer = await asyncio.open_unix_connection(str(sock))
        writer.write(b'{"id": 9, "op": "subscribe"}\n')
        await writer.drain()
        seen = [json.loads(await asyncio.wait_for(reader.readline(), 5)) for _ in range(2)]
        assert seen[0]["id"] == 9 and seen[1]["event"] == "snapshot"
        service.intent("code", {"text": "5012345678900"})
        pushed = [json.loads(await asyncio.wait_for(reader.readline(), 5)) for _ in range(2)]
        assert {"effect", "snapshot"} == {m["event"] for m in pushed}
        writer.close()
        await api.close()

    asyncio.run(scenario())


def test_api_refuses_other_versions_and_long_lines(tmp_path: Path) -> None:
    async def scenario() -> None:
        service, _ = make_service(tmp_path)
        api = ApiServer(service, "test")
        sock = tmp_path / "cartd.sock"
        await api.start(sock)
        (answer,) = await _request(sock, {"id": 1, "op": "hello", "api": 2})
        assert not answer["ok"] and "API 1" in answer["error"]
        reader, writer = await asyncio.open_unix_connection(str(sock))
        writer.write(b"x" * (70 * 1024) + b"\n")
        await writer.drain()
        reply = json.loads(await asyncio.wait_for(reader.readline(), 5))
        assert reply["error"] == "line too long"
        writer.close()
        await api.close()

    asyncio.run(scenario())


def test_search_lists_produce_first_and_matches_every_word(tmp_path: Path) -> None:
    service, _ = make_service(tmp_path)
    assert [r["name"] for r in service.search("")] == ["Bananas", "Canned tomatoes", "Mystery jam"]
    assert [r["code"] for r in service.search("can TOM")] == ["5012345678900"]
    assert service.search("bananas split") == []


def test_an_open_session_priced_with_another_catalog_is_set_aside(tmp_path: Path) -> None:
    service, clock = make_service(tmp_path)
    service.intent("start", {})
    session_id = service.snapshot()["session_id"]
    service.journal.close()
    journal = Journal(tmp_path / "j.db")
    again = CartService(parse_catalog(CATALOG.replace(",129,", ",139,")), journal, cart_id="cart-1", clock=clock)
    assert again.snapshot()["state"] == "idle"
    assert journal.session(session_id).state == "abandoned"


def test_a_journal_that_cannot_be_written_is_a_storage_fault_not_a_silent_one(tmp_path: Path) -> None:
    service, clock = make_service(tmp_path)
    service.intent("start", {})
    feed_grams(service, clock, 0.0, 2)
    for table in ("entries", "samples"):  # the SD card remounted read-only, as ext4 does after an error
        service.journal.db.execute(
            f"CREATE TRIGGER ro_{table} BEFORE INSERT ON {table}"
            " BEGIN SELECT RAISE(ABORT, 'attempt to write a readonly database'); END"
        )
    with pytest.raises(IntentError) as refused:
        service.intent("code", {"text": "5012345678900"})
    assert refused.value.code == "storage_fault" and "call a member of staff" in str(refused.value)
    feed_grams(service, clock, 452.0, 3)  # the scale keeps posting: no exception escapes to the loop
    service.tick()
    storage = service.snapshot()["devices"]["storage"]
    assert not storage["ok"] and "readonly" in storage["detail"]
    assert service.snapshot()["pending"] == []  # nothing acted on that the journal does not hold
    for table in ("entries", "samples"):
        service.journal.db.execute(f"DROP TRIGGER ro_{table}")
    service.intent("code", {"text": "5012345678900"})
    assert service.snapshot()["devices"]["storage"]["ok"]
    service.journal.close()


def test_a_second_jar_of_unknown_weight_not_placed_suggests_lifting_one_out_and_that_resolves_it(
    tmp_path: Path,
) -> None:
    service, clock = make_service(tmp_path)
    service.intent("start", {})
    feed_grams(service, clock, 0.0, 2)
    service.intent("code", {"text": "4000000000037"})
    service.intent("code", {"text": "4000000000037"})
    feed_grams(service, clock, 682.0, 60)  # both went in together; the cart counted one
    service.tick()
    (alert,) = service.snapshot()["alerts"]
    assert alert["kind"] == "scan_not_placed" and "lift one out and put it back in by itself" in alert["hint"]
    feed_grams(service, clock, 341.5, 4)
    feed_grams(service, clock, 682.5, 4)
    snap = service.snapshot()
    assert snap["alerts"] == [] and [(line["qty"], line["amount_cents"]) for line in snap["lines"]] == [(2, 500)]
    service.journal.close()


def test_produce_sold_by_weight_keyed_twice_is_not_told_to_lift_one_out(tmp_path: Path) -> None:
    # a bag of bananas has no unit weight: lifting "one" out and back would recount nothing
    service, clock = make_service(tmp_path)
    service.intent("start", {})
    feed_grams(service, clock, 0.0, 2)
    service.intent("plu", {"plu": "4011"})
    service.intent("plu", {"plu": "4011"})
    feed_grams(service, clock, 1000.0, 60)
    service.tick()
    (alert,) = service.snapshot()["alerts"]
    assert alert["kind"] == "scan_not_placed" and "lift one out" not in alert["hint"]
    service.journal.close()


def test_a_removal_the_cart_cannot_identify_lists_its_candidates_and_the_answer_settles_the_bill(
    tmp_path: Path,
) -> None:
    twins = "code,name,price_cents,sold_by,weight_g\n4000000000006,Yoghurt strawberry,89,each,125\n"
    twins += "4000000000013,Yoghurt vanilla,95,each,126\n"
    clock = Clock()
    service = CartService(parse_catalog(twins), Journal(tmp_path / "j.db"), cart_id="cart-1", clock=clock)
    service.intent("start", {})
    feed_grams(service, clock, 0.0, 2)
    service.intent("code", {"text": "4000000000006"})
    feed_grams(service, clock, 125.0, 2)
    service.intent("code", {"text": "4000000000013"})
    feed_grams(service, clock, 251.0, 2)
    feed_grams(service, clock, 125.5, 8)  # one of them out, unnamed; the answer's grace runs out
    service.tick()
    snap = service.snapshot()
    (alert,) = snap["alerts"]
    assert alert["kind"] == "removal_unidentified"
    assert [c["code"] for c in alert["candidates"]] == ["4000000000006", "4000000000013"]
    assert [line["code"] for line in snap["lines"]] == ["4000000000006"]  # the dearer is off the bill meanwhile
    service.intent("remove", {"code": "4000000000006"})  # it was the strawberry one
    snap = service.snapshot()
    assert snap["alerts"] == [] and [line["code"] for line in snap["lines"]] == ["4000000000013"]
    service.journal.close()
