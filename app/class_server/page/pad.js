// ConvPad's class page: draw with a finger, a pen or the mouse (Pointer Events), send
// the strokes to the ConvPad that served this page, show its answer. Talks to no other
// address. The strokes are kept as points in the canvas's CSS pixels; the server
// paints them into its own raster with the app's pen, so what is drawn here is only a
// preview of the same strokes.
"use strict";

(() => {
  const pad = document.getElementById("pad");
  const ctx = pad.getContext("2d");
  const nameField = document.getElementById("name");
  const sendButton = document.getElementById("send");
  const clearButton = document.getElementById("clear");
  const answer = document.getElementById("answer");
  const status = document.getElementById("status");
  const prompt = document.getElementById("prompt");
  const token = new URLSearchParams(location.search).get("k") || "";
  const penWidth = parseFloat(pad.dataset.pen) || 22 / 324;  // a fraction of the side
  const MAX_STROKES = 200, MAX_POINTS = 20000;               // the server's limits

  let side = 0;          // the canvas's side in CSS pixels
  let strokes = [];      // each a list of [x, y] in CSS pixels
  let points = 0;
  let current = null;    // the stroke under the pointer
  let pointerId = null;  // one pointer draws; a second finger or a palm is ignored
  let box = null;        // the canvas's position while a stroke is drawn

  function say(text) { status.textContent = text; }

  function pen() {
    ctx.strokeStyle = ctx.fillStyle = "#fff";
    ctx.lineWidth = penWidth * side;
    ctx.lineCap = ctx.lineJoin = "round";
  }

  function dot(p) {
    ctx.beginPath();
    ctx.arc(p[0], p[1], (penWidth * side) / 2, 0, 2 * Math.PI);
    ctx.fill();
  }

  function line(a, b) {
    ctx.beginPath();
    ctx.moveTo(a[0], a[1]);
    ctx.lineTo(b[0], b[1]);
    ctx.stroke();
  }

  function redraw() {
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, side, side);
    pen();
    for (const s of strokes) {
      dot(s[0]);
      for (let i = 1; i < s.length; i++) line(s[i - 1], s[i]);
    }
  }

  // The canvas's size comes from the CSS; its pixels follow, and so do the strokes.
  function fit() {
    const now = pad.getBoundingClientRect().width - 4;  // less the 2 px border
    if (now <= 0 || Math.abs(now - side) < 0.5) return;
    const k = side ? now / side : 1;
    strokes = strokes.map((s) => s.map(([x, y]) => [x * k, y * k]));
    side = now;
    const dpr = window.devicePixelRatio || 1;
    pad.width = pad.height = Math.round(side * dpr);
    redraw();
  }

  // A point in canvas pixels, to a tenth (plenty, and the request stays small). A pen
  // dragged far off the canvas is held half a side beyond it: the server refuses
  // points more than a side away.
  function at(event) {
    const clamp = (v) => Math.round(Math.min(1.5 * side, Math.max(-0.5 * side, v)) * 10) / 10;
    return [clamp(event.clientX - box.left - 2), clamp(event.clientY - box.top - 2)];
  }

  function add(p) {
    const last = current[current.length - 1];
    if (Math.hypot(p[0] - last[0], p[1] - last[1]) < 1) return;
    if (points >= MAX_POINTS) return;
    current.push(p);
    points += 1;
    line(last, p);
  }

  pad.addEventListener("pointerdown", (e) => {
    if (pointerId !== null || (e.pointerType === "mouse" && e.button !== 0)) return;
    e.preventDefault();
    if (strokes.length >= MAX_STROKES || points >= MAX_POINTS) {
      say("That is a lot of ink: send it, or clear and start again.");
      return;
    }
    pointerId = e.pointerId;
    pad.setPointerCapture(e.pointerId);
    box = pad.getBoundingClientRect();
    current = [at(e)];
    strokes.push(current);
    points += 1;
    answer.value = "";  // the answer was about the drawing before this stroke
    pen();
    dot(current[0]);
  });

  pad.addEventListener("pointermove", (e) => {
    if (e.pointerId !== pointerId) return;
    e.preventDefault();
    // The moves the browser merged since the last event: a fast stroke stays smooth.
    const merged = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    for (const m of merged.length ? merged : [e]) add(at(m));
  });

  function end(e) {
    if (e.pointerId !== pointerId) return;
    pointerId = null;
    current = null;
  }
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);
  pad.addEventListener("contextmenu", (e) => e.preventDefault());

  clearButton.addEventListener("click", () => {
    strokes = [];
    points = 0;
    answer.value = "";
    say("");
    redraw();
  });

  function percent(p) {
    return p >= 0.995 ? "99%+" : Math.round(p * 100) + "%";
  }

  sendButton.addEventListener("click", async () => {
    if (!strokes.length) {
      say("Draw something first.");
      return;
    }
    const name = nameField.value.trim();
    try { localStorage.setItem("convpad-name", name); } catch (_) { /* private mode */ }
    const w = Math.round(side * 100) / 100;
    const body = JSON.stringify({ name, width: w, height: w, strokes });
    sendButton.disabled = true;
    say("Sending…");
    try {
      const r = await fetch("api/drawings?k=" + encodeURIComponent(token), {
        method: "POST", headers: { "Content-Type": "application/json" }, body,
      });
      const data = await r.json().catch(() => ({}));
      if (!r.ok) {
        say(data.error || "ConvPad refused the drawing (" + r.status + ").");
        return;
      }
      answer.value = data.class + " · " + percent(data.probabilities[data.class]);
      say("");
    } catch (_) {
      say("Cannot reach ConvPad: is this device on the classroom's Wi-Fi?");
    } finally {
      sendButton.disabled = false;
    }
  });

  // The teacher's prompt changes during the lesson.
  async function poll() {
    if (document.hidden) return;
    try {
      const r = await fetch("api/prompt?k=" + encodeURIComponent(token));
      if (!r.ok) return;
      const data = await r.json();
      prompt.textContent = data.prompt || "";
      prompt.hidden = !data.prompt;
    } catch (_) { /* offline for a moment: keep the last prompt */ }
  }
  setInterval(poll, 3000);

  try { nameField.value = localStorage.getItem("convpad-name") || ""; } catch (_) { /* */ }
  new ResizeObserver(fit).observe(pad);
  fit();
})();
