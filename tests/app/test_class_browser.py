"""Class mode from the student's side: the QR code to scan, then the page in a real
browser: headless Chromium draws with the mouse and with a finger (touch emulated
through the DevTools protocol), sends, and shows the answer; the server receives the
strokes' ink. The browser tests are skipped where no Chromium and chromedriver are
installed (Debian: ``apt install chromium chromium-driver``)."""

from __future__ import annotations

import itertools
import shutil
import socket

import numpy as np
import pytest

from app.class_server import Answer, ClassServer, join_url, lan_address, qr_png, qr_svg

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser",
                                                "google-chrome", "chrome"))), None)
DRIVER = shutil.which("chromedriver")
NO_BROWSER = ("needs Chromium and chromedriver on PATH (Debian: apt install chromium "
              "chromium-driver)")
try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # the test extra is not installed
    CHROMIUM, NO_BROWSER = None, "needs selenium (pip install -e .[test])"

FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--no-first-run", "--disable-component-update",
         "--disable-sync", "--window-size=480,900"]


def classify(rasters: list[np.ndarray]) -> list[Answer]:
    return [Answer("7", {"7": 0.9, "1": 0.1}) for _ in rasters]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    received = []
    s = ClassServer(classify, tmp_path_factory.mktemp("class"), host="127.0.0.1",
                    on_drawing=received.append)
    s.start()
    s.received = received
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (CHROMIUM and DRIVER):
        pytest.skip(NO_BROWSER)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    yield driver
    driver.quit()


def test_the_qr_code_holds_the_join_url() -> None:
    assert join_url("192.168.1.20", 8765, "abc") == "http://192.168.1.20:8765/?k=abc"
    assert join_url("fe80::1", 80, "abc") == "http://[fe80::1]:80/?k=abc"
    assert qr_svg("http://x/").lstrip().startswith(b"<svg")
    assert qr_png("http://x/").startswith(b"\x89PNG")
    assert socket.inet_aton(lan_address())  # an IPv4 address (127.0.0.1 with no network)


def open_page(browser, server) -> tuple[float, float, float]:
    """Load the page; the canvas's left, top and side in CSS pixels, and record the kind
    of every pointer that goes down on it."""
    browser.get(server.url)
    WebDriverWait(browser, 10).until(lambda d: d.execute_script(
        "return document.getElementById('pad').getBoundingClientRect().width > 100"))
    return tuple(browser.execute_script(
        "const pad = document.getElementById('pad'); window.kinds = [];"
        "pad.addEventListener('pointerdown', e => window.kinds.push(e.pointerType));"
        "const r = pad.getBoundingClientRect(); return [r.left + 2, r.top + 2, r.width - 4];"))


def send_and_wait(browser, server, before: int):
    browser.find_element(By.ID, "send").click()
    answer = WebDriverWait(browser, 15).until(
        lambda d: d.find_element(By.ID, "answer").text)
    assert answer.startswith("7") and "90%" in answer
    assert browser.find_element(By.ID, "status").text == ""
    assert len(server.received) == before + 1
    return server.received[-1]


def test_drawing_with_the_mouse_is_sent_and_answered(browser, server) -> None:
    side = open_page(browser, server)[2]
    pad = browser.find_element(By.ID, "pad")
    # A diagonal from a fifth to four fifths of the side (offsets from the centre).
    steps = [(-0.3 + 0.6 * t / 12) * side for t in range(13)]
    chain = ActionChains(browser, duration=20)  # ms a move; a person's stroke is as quick
    chain.move_to_element_with_offset(pad, int(steps[0]), int(steps[0])).click_and_hold()
    for a, b in itertools.pairwise(steps):
        chain.move_by_offset(int(b) - int(a), int(b) - int(a))
    chain.release().perform()
    browser.find_element(By.ID, "name").send_keys("Ana")
    d = send_and_wait(browser, server, len(server.received))
    assert browser.execute_script("return window.kinds") == ["mouse"]
    assert d.name == "Ana" and d.answer.label == "7"
    r = d.raster
    for f in (0.25, 0.5, 0.75):  # along the diagonal: ink
        assert r[int(324 * f), int(324 * f)] > 200, f
    assert r[40, 284] == 0 and r[284, 40] == 0 and r[162, 10] == 0  # off it: none


def test_drawing_with_a_finger_is_sent_and_answered(browser, server) -> None:
    browser.execute_cdp_cmd("Emulation.setTouchEmulationEnabled",
                            {"enabled": True, "maxTouchPoints": 5})
    try:
        left, top, side = open_page(browser, server)
        y = top + side / 2
        xs = [left + side * (0.2 + 0.6 * t / 12) for t in range(13)]  # a horizontal bar

        def touch(kind: str, x: float | None = None) -> None:
            points = [] if x is None else [{"x": x, "y": y, "id": 1}]
            browser.execute_cdp_cmd("Input.dispatchTouchEvent",
                                    {"type": kind, "touchPoints": points})

        touch("touchStart", xs[0])
        for x in xs[1:]:
            touch("touchMove", x)
        touch("touchEnd")
        d = send_and_wait(browser, server, len(server.received))
    finally:
        browser.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})
    assert "touch" in browser.execute_script("return window.kinds")
    r = d.raster
    for f in (0.25, 0.5, 0.75):  # along the bar: ink
        assert r[162, int(324 * f)] > 200, f
    assert r[60, 162] == 0 and r[264, 162] == 0  # above and below it: none


def test_a_drawing_sent_from_the_page_reaches_the_window_s_wall(browser, qtbot, tmp_path):
    """The whole way: the page in Chromium, the window's class server and live model,
    the answer on the page and the drawing on the wall."""
    import app

    window = app.create_main_window(model="digits")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.model is not None, timeout=60_000)
    cm = window.classmode
    cm.folder = tmp_path / "class"
    url = cm.open(host="127.0.0.1")
    try:
        browser.get(url)
        WebDriverWait(browser, 10).until(lambda d: d.execute_script(
            "return document.getElementById('pad').getBoundingClientRect().width > 100"))
        side = browser.execute_script(
            "return document.getElementById('pad').getBoundingClientRect().width")
        pad = browser.find_element(By.ID, "pad")
        # A 7: across the top, then down to the lower left (offsets from the centre).
        points = [(-0.25, -0.3), (0.25, -0.3), (-0.05, 0.32)]
        chain = ActionChains(browser, duration=20)
        x0, y0 = (int(p * side) for p in points[0])
        chain.move_to_element_with_offset(pad, x0, y0).click_and_hold()
        for (ax, ay), (bx, by) in itertools.pairwise(points):
            for t in range(1, 9):
                dx = int((ax + (bx - ax) * t / 8) * side) - int((ax + (bx - ax) * (t - 1) / 8)
                                                                 * side)
                dy = int((ay + (by - ay) * t / 8) * side) - int((ay + (by - ay) * (t - 1) / 8)
                                                                 * side)
                chain.move_by_offset(dx, dy)
        chain.release().perform()
        browser.find_element(By.ID, "name").send_keys("Ana")
        browser.find_element(By.ID, "send").click()
        answer = WebDriverWait(browser, 30).until(
            lambda d: d.find_element(By.ID, "answer").text)
        qtbot.waitUntil(lambda: cm.wall.list.count() == 1, timeout=10_000)
        entry = cm.entries[0]
        assert entry.drawing.name == "Ana"
        assert answer.startswith(entry.drawing.answer.label)
        assert cm.wall.list.item(0).text().startswith("Ana\n" + entry.drawing.answer.label)
    finally:
        cm.close()
