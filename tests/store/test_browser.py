"""The review console in a real headless Chromium (Debian's chromium + chromium-driver, via selenium)
against a real cart-store process: sign in, see the evidence, correct one bill, approve another."""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from firmware.journal import Journal
from firmware.sync.client import StoreClient
from firmware.sync.credentials import make_credential, save_credential
from firmware.sync.outbox import session_message
from firmware.sync.weighings import fetch_confirmed_weighings
from tools.store_harness import CATALOG_CSV, EACH, StoreProcess, shop, store_admin

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
PASSWORD = "review-console-pw"


@pytest.fixture
def browser(store_deps: None) -> Iterator[object]:
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed (pip install selenium)")
    if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
        pytest.skip("Chromium not installed: apt-get install chromium chromium-driver")
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager download anything
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=DRIVER))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def wait_for(browser, by: str, what: str):
    """The element once the page that has it has loaded (a click returns before navigation ends)."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, 15).until(expected_conditions.presence_of_element_located((by, what)))


def wait_for_url(browser, fragment: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 15).until(lambda b: fragment in b.current_url)


def review_session(journal: Journal, session_id: str, seed: int) -> dict:
    for attempt in range(300):
        report = shop(journal, "cart-r", f"{session_id}-{attempt}", random.Random(seed * 1000 + attempt))
        if report["review"]["required"]:
            return report
    raise AssertionError("no review session")


def test_staff_review_in_a_real_browser(browser, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    db_url = f"sqlite:///{tmp_path / 'store.db'}"
    (tmp_path / "catalog.csv").write_text(CATALOG_CSV)
    store_admin(db_url, "import-catalog", str(tmp_path / "catalog.csv"))
    store_admin(db_url, "add-staff", "pat", "--password-stdin", stdin=PASSWORD + "\n")
    server = StoreProcess(db_url, log_path=tmp_path / "store.log")
    credential = make_credential("cart-r", server.url)
    save_credential(tmp_path / "cred.json", credential)
    store_admin(db_url, "add-cart", "--credential", str(tmp_path / "cred.json"))
    server.start()
    try:
        journal = Journal(None)
        frame = cv2.imencode(".png", np.full((24, 32, 3), 200, np.uint8))[1].tobytes()
        sent = []
        with StoreClient(credential) as cart:
            for n in range(2):
                report = review_session(journal, f"r{n}", seed=n + 1)
                message = session_message(
                    journal, "cart-r", report["session_id"], report, frames=lambda a, b: [(a + 1, "image/png", frame)]
                )["payload"]
                assert cart.put_session_message(message).status == 201
                sent.append(message)

            base = server.url
            browser.get(f"{base}/review")
            assert browser.current_url.endswith("/review/login")
            browser.find_element(By.ID, "username").send_keys("pat")
            browser.find_element(By.ID, "password").send_keys("not the password")
            browser.find_element(By.ID, "sign-in").click()
            assert "Wrong user name or password" in wait_for(browser, By.ID, "error").text
            browser.find_element(By.ID, "username").send_keys("pat")
            browser.find_element(By.ID, "password").send_keys(PASSWORD)
            browser.find_element(By.ID, "sign-in").click()
            assert "signed in as pat" in wait_for(browser, By.ID, "staff").text
            rows = browser.find_elements(By.CSS_SELECTOR, "#queue tr.waiting")
            assert [r.get_attribute("data-session") for r in rows] == [m["session_id"] for m in sent]

            # the first: staff identify the unscanned item from the evidence
            rows[0].find_element(By.LINK_TEXT, "Open").click()
            alert = wait_for(browser, By.CSS_SELECTOR, ".alert[data-kind='unscanned_item']")
            points = alert.find_element(By.TAG_NAME, "polyline").get_attribute("points").split()
            assert len(points) > 20
            assert alert.find_element(By.CSS_SELECTOR, "line.alert-moment").get_attribute("x1")
            image = browser.find_element(By.CSS_SELECTOR, ".frames img")
            assert browser.execute_script("return arguments[0].naturalWidth", image) == 32
            first = sent[0]
            index = next(i for i, w in enumerate(first["weighings"]) if w["code"] is None)
            grams = first["weighings"][index]["weight_g"]
            code = next(c for c, g in EACH if g == grams)
            browser.find_element(By.ID, f"ident_{index}").send_keys(code)
            browser.find_element(By.ID, "note").send_keys("found it under the bag")
            browser.find_element(By.ID, "correct").click()
            wait_for_url(browser, "decided=")
            assert len(browser.find_elements(By.CSS_SELECTOR, "#queue tr.waiting")) == 1

            # the second: approved as billed
            browser.find_element(By.CSS_SELECTOR, "#queue tr.waiting a").click()
            wait_for(browser, By.ID, "approve").click()
            assert wait_for(browser, By.ID, "empty").text == "Nothing waiting."
            decided = {r.get_attribute("data-session") for r in browser.find_elements(By.CSS_SELECTOR, "tr.decided")}
            assert decided == {m["session_id"] for m in sent}

            receipts = [cart.receipt(m["session_id"]).body for m in sent]
            assert all(r["status"] == "charged" and r["decided_by_staff"] for r in receipts)
            assert receipts[1]["charged_cents"] == sent[1]["report"]["total_cents"]
            assert receipts[0]["charged_cents"] > sent[0]["report"]["total_cents"]
            confirmed, _ = fetch_confirmed_weighings(cart, 0)
            assert (first["session_id"], code, grams, "identified") in [
                (c.session_id, c.code, c.weight_g, c.source) for c in confirmed
            ]
    finally:
        server.stop()
