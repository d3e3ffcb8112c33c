/* The live stage: families of exact runs, redrawn every frame while a knob moves.

Mounted by st.components.v2 without an iframe (ui/stage/__init__.py). Python sends one
binary payload (ui/stage/payload.py: float32 arrays behind a JSON header); this module only
indexes it. Every number and sentence about a run comes from Python; here we draw.

Why canvas for everything, not Plotly: measured on this project's 2-core machine, restyling
four Plotly charts costs ~57 ms a frame (p95 ~85 ms), while a 2-D canvas draws the same path
and lines in under 1 ms. The moving parts must fit one 16.7 ms frame, so they are canvas. The
static parts (the loss field, its contour lines, the scatter of the data) are canvas too,
drawn once per payload into offscreen layers and blitted each frame: it keeps the page free
of a 4.8 MB script and of any fetch (no CDN, no web font), and one drawing model for all.

The contour lines are traced here by marching squares on the grid Python sends, at the levels
Python chose (surface.levels). A run whose path leaves the window (a blow-up, a wide swing)
carries a zoom: the window widens about its centre to follow its first steps, drawn from the
coarser widened grids (surface.zoom_*). The fit line evaluates the model's prediction formula (three
one-line formulas, the same as gd.models' predict), since shipping every fitted curve would
cost megabytes.

Playback runs here at display rate. When the learner stops (pause, the end of the run, or a
pause after stepping or scrubbing) the position goes to the page once, as the trigger
`scrub` = {update}: an update index, or null for the whole run. The page keeps it in the link
and sends it back as the payload header's `update`, where the next mount starts.

The view (payload.py `View`, `with_view`): the header's `view`, just before `update`, says
which knobs a class may not move (`locked`: shown at their value, striped and marked "locked",
aria-disabled; a pointer or a key does nothing and nothing is committed) or see (`hidden`: not
displayed, not focusable; the other knobs share the row), a `play` token and the presenter view
(`present`: the path and the loss alone, side by side, every text at least 20 px, the canvases'
labels drawn at 20 px too, the knobs twice as tall) and `conceal` (below). It is applied on
every payload, so a view changes between reruns with no new mount; like `update` it is not part
of the runs (canvas.js `sameRuns` ignores both). A token that differs from the last one this
stage applied and is above 0 (a fresh mount's included) plays the run from update 0, after
`update` is applied.

Concealed (`conceal`, "predict before you observe"): until a student answers, nothing on the
stage may tell how the run ends. Every knob is locked whatever `locked` says, playback is
disabled (Play, the steps, the speed, the scrubber, Record) and the cursor stays at the header's
`update` (the page sends 0; null counts as 0 here, since the whole run is the answer). The
loss, the rate, the path and the fit are drawn only up to the cursor; the contour window is
the surface's own (a widened one would tell a blow-up); the loss axis keeps its range (it is
shared by every run of the four families and capped at ten times the start, so it tells
nothing of this run). The texts say what a frame there says and nothing of the end: the run's
planned updates, not the ones it ran; a neutral status, no "whole run" clause, no glossary
help; the charts' accessible names are their titles, not Python's summaries of the end. A
line in place of the hint says why. A play token that arrives while concealed is applied when
a later payload no longer conceals (a new one then plays from 0 as usual).

Video: "Record video" plays the run on screen from update 0 to its end (3 to 20 s, `videoSpeed`)
while each frame composites the visible panels, their titles and a caption of the knobs' values
into an offscreen canvas, recorded by the browser's own MediaRecorder (WebM, VP9 or VP8) from
its captureStream(30); the clip downloads as e.g. `sgd-lr0.1-batch32.webm` from a blob URL,
revoked afterwards. "Stop" ends it early and still saves it. Without MediaRecorder the button
is disabled and its title says why.

Test hook: the root element has `data-stage`; after each frame it sets `data-drawn` to
`learning_rate=…;batch_size=…;momentum=…;decay=…` of the run on screen (Python's `:g`
spelling of the values), `data-update` to the playback cursor and `data-zoom` to how far the
contour window is widened to follow the run's path (1: not at all; payload.py `follow`).
After each payload, `data-held` counts the parts it took from the payload before (0: a whole
payload; after a release, the released knob's family and the scene: 2). After each payload,
`data-locked` and `data-hidden` list the view's knobs (comma-separated, sorted), `data-present`
is "1" or "0" and `data-font-size` the canvases' text size in px; `data-playing` and
`data-recording` are "1" while the run plays or a video records, else "0". `data-conceal` is
"1" while the view conceals, else "0" (and `data-locked` then lists every shown knob), and
after each frame `data-drawn-to` is the last update the loss panel draws a curve to.
*/

import {
  OKABE, fontOf, toBuffer, unpack, headerText, startOf, sameRuns, g4, gapText, sizeCanvas, frameOf,
  drawAxes, clip, legend, legendWidth, el, drawMinimum, fieldRange, drawField, dataRange, dot,
  drawCurve, drawFit,
} from "./canvas.js";

const SPEEDS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 50000];
const STAGES = new WeakMap(); // parentElement -> stage state, kept across reruns
const FONT_SIZE = 12, PRESENT_FONT_SIZE = 20;  // the canvases' text (px): normal, presenter
let instances = 0;

// ---------------------------------------------------------------- payload

// A payload's held parts (payload.py `encode`, `held`) ship as their ids: they come from
// `previous`, the payload this stage has. Null when it lacks one (it then asks for them all).
function decode(buffer, previous) {
  const { header, arrays } = unpack(buffer, "SGD1");
  const families = {};
  for (const entry of header.knobs) {
    if (!entry.held) { families[entry.knob] = family(entry, arrays); continue; }
    const old = previous && previous.families[entry.knob];
    if (!old || old.id !== entry.id) return null;
    families[entry.knob] = { ...old, current: entry.current };
  }
  if (header.scene.held) {
    if (!previous || previous.header.scene.id !== header.scene.id) return null;
    for (const [name, array] of Object.entries(previous.arrays)) {
      if (name.startsWith("surface.") || name.startsWith("data.")) arrays[name] = array;
    }
  }
  const yRange = lossRange(Object.values(families));
  for (const fam of Object.values(families)) fam.yRange = yRange;
  return { header, arrays, families };
}

// What this stage holds, sent with a release: the server leaves those out of the next payload.
function holds(st) {
  const ids = st.knobs.map((k) => st.payload.families[k].id);
  return [...ids, st.payload.header.scene.id].filter(Boolean);
}

function family(entry, arrays) {
  const a = (field) => arrays[`${entry.knob}.${field}`];
  const params = a("params");
  const P = params.shape[1];
  const fam = {
    ...entry, P, params, loss: a("loss"), batchLow: a("batch_low"),
    batchHigh: a("batch_high") || a("batch_low"), epochLoss: a("epoch_loss"),
    valLoss: a("val_loss") || null, ratePerRun: a("learning_rate_per_run") || null,
    rate: a("learning_rate") || null, stepsCache: new Map(),
    fit: a("fit") || null, fitAt: a("fit_at") || null,  // the network's curve (payload FIT_*)
  };
  const base = a("steps_base"), last = a("steps_last"), full = a("steps");
  fam.steps = (r) => {  // Float32Array of run r's kept update indices
    let s = fam.stepsCache.get(r);
    if (s) return s;
    const run = fam.runs[r];
    if (full) s = full.subarray(run.at[0], run.at[0] + run.length);
    else {
      s = new Float32Array(run.length);
      s.set(base.subarray(0, run.length - 1));
      s[run.length - 1] = last[r];
    }
    fam.stepsCache.set(r, s);
    return s;
  };
  fam.rateAt = (r, j) => fam.ratePerRun ? fam.ratePerRun[r] : fam.rate[fam.runs[r].at[0] + j];
  return fam;
}

function lossRange(fams) {
  // One log range for all four families, so the loss axis holds still while any knob moves,
  // and a run is drawn alike whichever knob reached it (a released drag paints what a fresh
  // load of its link paints).
  let lo = Infinity, hi = 0, start = 0;
  const take = (v, high) => {
    if (Number.isFinite(v) && v > 0) { lo = Math.min(lo, v); if (high) hi = Math.max(hi, v); }
  };
  for (const fam of fams) {
    for (const run of fam.runs) {
      // The full loss sets the range; a batch's loss may be far lower or higher (one row can
      // fit almost exactly, or badly) and is clipped at the axis rather than squash the curves.
      const stable = run.diverged_at < 0;
      start = Math.max(start, fam.loss[run.at[0]]);
      for (let j = 0; j < run.length; j++) take(fam.loss[run.at[0] + j], stable);
    }
  }
  hi = Math.min(hi, 10 * start);  // above ten times the start is a blow-up's business
  if (!Number.isFinite(lo)) lo = 1e-3;
  if (!(hi > lo)) hi = Math.max(lo * 10, start * 10);
  return [Math.log10(lo) - 0.15, Math.log10(hi) + 0.15];
}

// ---------------------------------------------------------------- the stage

// `order`: the live knobs in the payload's order (its header's `knobs`, gd.family.KNOB_TABLE's).
function build(parent, st, order) {
  st.knobs = order;
  const id = `sgd-stage-${++instances}`;
  const panel = (cls, title) => {
    // Each chart is an image whose accessible name is one sentence with its numbers, built in
    // Python (payload.py `summaries`) and set per run in updateText.
    const canvas = el("canvas", { role: "img", "aria-label": title });
    const node = el("div", { class: `panel ${cls}` }, el("h3", { text: title }), canvas);
    return { node, canvas, title: node.firstChild };
  };
  st.panels = {
    contour: panel("contour", "Path on the loss contours"),
    losses: panel("losses", "Loss"),
    data: panel("data", "Data and the fit"),
    rate: panel("rate", "Learning-rate schedule"),
  };
  const metric = (cls, name) => {
    const value = el("div", { class: "value" });
    const note = el("div", { class: "note" });
    const label = el("div", { class: "name", text: name, title: name });
    const node = el("div", { class: `metric ${cls}` }, label, value, note);
    return { node, name: label, value, note };
  };
  st.metrics = {
    perEpoch: metric("per-epoch", "Updates per epoch"),
    updates: metric("updates", "Total updates"),
    final: metric("final", "Training loss"),
    distance: metric("distance", "Above the minimum"),
    status: metric("status", "Status"),
  };
  const play = el("button", { class: "play", type: "button", text: "▶ Play" });
  const back = el("button", { type: "button", "aria-label": "Step back one update", text: "◀ 1" });
  const fwd = el("button", { type: "button", "aria-label": "Step forward one update", text: "1 ▶" });
  const speed = el("select", { "aria-label": "Speed (updates per second)" });
  for (const s of SPEEDS) speed.append(el("option", { value: String(s), text: `${s} / s` }));
  const scrub = el("input", { type: "range", min: "0", max: "1", step: "1", value: "0", id: `${id}-scrub` });
  const where = el("span", { class: "where", "aria-live": "off" });
  const record = el("button", { class: "record", type: "button" });
  st.play = { play, back, fwd, speed, scrub, where, record };
  const playback = el(
    "div", { class: "playback" }, play, back, fwd,
    el("label", {}, "Speed", speed),
    el("div", { class: "scrub" }, el("label", { for: `${id}-scrub`, text: "Update" }), scrub, where),
    record,  // last: where the row is narrow, it wraps alone and the row above is as it was
  );
  st.knobNodes = {};
  const knobs = el("div", { class: "knobs", role: "group", "aria-label": "Live knobs" });
  st.knobsNode = knobs;
  for (const knob of st.knobs) {
    const labelId = `${id}-${knob}`;
    const value = el("span", { class: "knob-value" });
    const fill = el("div", { class: "fill" });
    const mark = el("div", { class: "mark", title: "the committed value" });
    const thumb = el("div", { class: "thumb" });
    const track = el(
      "div",
      { class: "knob-track", role: "slider", tabindex: "0", "aria-labelledby": labelId, "aria-orientation": "horizontal" },
      el("div", { class: "rail" }), fill, mark, thumb,
    );
    const low = el("span"), high = el("span");
    // Shown only when the view locks the knob (stage.css): words, not a glyph a font may lack.
    const lock = el("span", { class: "knob-lock", text: "locked" });
    const label = el("span", { class: "knob-label", id: labelId });
    const block = el("div", { class: "knob" },
      el("div", { class: "knob-head" }, label, value), track, el("div", { class: "knob-ends" }, low, lock, high));
    knobs.append(block);
    st.knobNodes[knob] = { block, label, value, track, fill, mark, thumb, low, high };
    bindKnob(st, knob, track);
  }
  const p = st.panels;
  // One grid (stage.css places the parts): the knobs right under the charts, so a drag and
  // what it moves stay in one view, on a projector and on a phone.
  const root = el("div", { class: "stage", "data-stage": "" },
    el("div", { class: "layout" },
      p.contour.node, p.losses.node, p.data.node, p.rate.node, knobs, playback,
      el("div", { class: "metrics" }, ...Object.values(st.metrics).map((m) => m.node))),
    el("div", { class: "hint", text: "Drag a knob: every position is a real run, already computed. Releasing it keeps the value. Update 0 is the start; the last update is the end of the run." }),
    el("div", { class: "concealed-note", role: "note", hidden: "", text: "Answer the question above: the run plays once you have." }));
  parent.append(root);
  st.root = root;
  st.hint = root.querySelector(".hint");
  st.concealedNote = root.querySelector(".concealed-note");
  bindPlayback(st);
  bindRecord(st);
  new ResizeObserver(() => {
    st.layers = null;
    if (st.payload) holdValueWidths(st);  // a new width may mean a new font size
    request(st);
  }).observe(root);
}

function bindKnob(st, knob, track) {
  const indexAt = (clientX) => {
    const fam = st.payload.families[knob], box = track.getBoundingClientRect();
    const t = (clientX - box.left) / Math.max(1, box.width);
    return Math.max(0, Math.min(fam.values.length - 1, Math.round(t * (fam.values.length - 1))));
  };
  track.addEventListener("pointerdown", (e) => {
    if (!st.payload || e.button !== 0 || !movable(st, knob)) return;
    e.preventDefault();
    track.setPointerCapture(e.pointerId);
    track.focus({ preventScroll: true });
    st.dragging = knob;
    track.classList.add("active");
    move(st, knob, indexAt(e.clientX));
  });
  track.addEventListener("pointermove", (e) => {
    if (st.dragging === knob && track.hasPointerCapture(e.pointerId)) move(st, knob, indexAt(e.clientX));
  });
  const release = (e) => {
    if (st.dragging !== knob) return;
    st.dragging = null;
    track.classList.remove("active");
    if (track.hasPointerCapture(e.pointerId)) track.releasePointerCapture(e.pointerId);
    commit(st, knob);
  };
  track.addEventListener("pointerup", release);
  track.addEventListener("pointercancel", release);
  track.addEventListener("keydown", (e) => {
    if (!st.payload || !movable(st, knob)) return;
    const last = st.payload.families[knob].values.length - 1, i = st.index[knob];
    const page = Math.max(2, Math.round(last / 8));
    const next = {
      ArrowLeft: i - 1, ArrowDown: i - 1, ArrowRight: i + 1, ArrowUp: i + 1,
      PageDown: i - page, PageUp: i + page, Home: 0, End: last,
    }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    move(st, knob, Math.max(0, Math.min(last, next)));
    // A key commits once the learner pauses, so holding an arrow does not flood the server.
    clearTimeout(st.keyTimer);
    st.keyTimer = setTimeout(() => commit(st, knob), 450);
  });
  track.addEventListener("blur", () => {
    if (st.keyTimer) { clearTimeout(st.keyTimer); st.keyTimer = 0; commit(st, knob); }
  });
}

// A knob the view locks or hides never moves and never commits; concealed, none does.
function movable(st, knob) {
  return !st.view.conceal && !st.view.locked.has(knob) && !st.view.hidden.has(knob);
}

function move(st, knob, index) {
  if (st.active !== knob) {
    // Another knob's family: the others return to their committed positions.
    for (const k of st.knobs) st.index[k] = st.payload.families[k].current;
    st.active = knob;
  }
  st.index[knob] = index;
  request(st);
}

function commit(st, knob) {
  st.keyTimer = 0;
  const fam = st.payload.families[knob], i = st.index[knob];
  if (i === st.committed[knob] || !movable(st, knob)) return;
  st.committed[knob] = i;
  st.setTriggerValue("commit", { knob, value: fam.values[i], index: i, holds: holds(st) });
}

function bindPlayback(st) {
  const { play, back, fwd, speed, scrub } = st.play;
  play.addEventListener("click", () => {
    if (st.view.conceal) return;
    const run = shownRun(st);
    if (!st.playing && st.cursor >= run.updates) st.cursor = 0;
    st.playing = !st.playing;
    st.last = performance.now();
    if (st.playing) clearTimeout(st.reportTimer);
    else report(st, 0);  // paused: the position goes to the page (and the link)
    request(st);
  });
  const step = (d) => {
    if (st.view.conceal) return;
    st.playing = false;
    const run = shownRun(st);
    st.cursor = Math.max(0, Math.min(run.updates, Math.round(st.cursor) + d));
    report(st, 450);  // once the learner stops stepping
    request(st);
  };
  back.addEventListener("click", () => step(-1));
  fwd.addEventListener("click", () => step(1));
  speed.addEventListener("change", () => { st.speed = Number(speed.value); st.speedChosen = true; });
  scrub.addEventListener("input", () => {
    if (st.view.conceal) return;
    st.playing = false;
    st.cursor = Number(scrub.value);
    request(st);
  });
  // `change` fires on release (and on each arrow key): report after a pause, as for steps.
  scrub.addEventListener("change", () => report(st, 450));
}

// The playback position, sent once the learner stops: an update index, or null at the end of
// the run (the whole run, the default). Frames never wait for the server.
function report(st, delay) {
  clearTimeout(st.reportTimer);
  st.reportTimer = setTimeout(() => {
    st.reportTimer = 0;
    if (st.playing || !st.payload || st.view.conceal) return;  // concealed, the page's start holds
    const run = shownRun(st);
    const update = st.cursor >= run.updates ? null : Math.max(0, Math.round(st.cursor));
    if (update === st.reported) return;
    st.reported = update;
    st.startUpdate = update;  // the page will send it back: not a new start
    st.setTriggerValue("scrub", { update });
  }, delay);
}

function shownRun(st) {
  const fam = st.payload.families[st.active];
  return fam.runs[st.index[st.active]];
}

function request(st) {
  if (!st.raf && st.payload) st.raf = requestAnimationFrame((t) => frame(st, t));
}

// ---------------------------------------------------------------- one frame

// A panel's key in the title band, right-aligned, but never over the panel's title.
function bandLegend(st, ctx, f, title, items) {
  const right = f.left + f.pw - legendWidth(ctx, items, st.fontSize) - 8;
  legend(ctx, { left: Math.max(right, title.offsetWidth), top: f.top }, items, st.fontSize);
}

// A frame's margin of `v` px at 12-px text, grown with the presenter view's larger text (the
// normal view's margins are exactly v).
function px(st, v) {
  return Math.round((v * st.fontSize) / FONT_SIZE);
}

// Test hook: a canvas's `data-ticks` lists the tick labels drawn on its axes, as JSON {x, y}.
function markTicks(canvas, ticks) {
  const text = JSON.stringify(ticks);
  if (canvas.getAttribute("data-ticks") !== text) canvas.setAttribute("data-ticks", text);
}

function frame(st, now) {
  st.raf = 0;
  if (!st.root.isConnected) { st.playing = false; return; }
  const fam = st.payload.families[st.active], r = st.index[st.active], run = fam.runs[r];
  if (st.playing) {
    const speed = st.recording ? st.recording.speed : st.speed;
    st.cursor += (speed * Math.min(100, now - st.last)) / 1000;
    if (st.cursor >= run.updates) {  // stay at the end: the whole run
      st.cursor = Infinity;
      st.playing = false;
      report(st, 0);
      // A clip holds its last frame a moment, so a slide ends on the whole run.
      if (st.recording && !st.recording.ending) st.recording.ending = setTimeout(() => stopRecording(st), 700);
    }
  }
  st.last = now;
  const cursor = Math.min(st.cursor, run.updates);
  const steps = fam.steps(r);
  let j = 0;  // the last kept point at or before the cursor
  for (let lo = 0, hi = run.length - 1; lo <= hi;) {
    const mid = (lo + hi) >> 1;
    if (steps[mid] <= cursor) { j = mid; lo = mid + 1; } else hi = mid - 1;
  }
  if (!st.layers) st.layers = staticLayers(st);
  drawContour(st, fam, r, j);
  st.root.setAttribute("data-drawn-to", String(drawLosses(st, fam, r, j, cursor)));
  if (!st.view.present) {  // the presenter view shows the path and the loss alone
    drawData(st, fam, r, j);
    drawRate(st, fam, r, j, cursor);
  }
  updateText(st, fam, r, j, cursor);
  const shown = st.knobs.map((k) => {
    const f = st.payload.families[k];
    const i = k === st.active ? st.index[k] : f.current;
    return `${k}=${f.labels[i]}`;
  });
  st.root.setAttribute("data-drawn", shown.join(";"));
  st.root.setAttribute("data-update", String(Math.round(cursor)));
  st.root.setAttribute("data-playing", st.playing ? "1" : "0");
  if (st.recording) composite(st, Math.round(cursor), run.updates);
  if (st.playing) request(st);
}

function contourLayer(st, zoom) {
  // The log-scaled loss field and its contour lines in a window `zoom` times the surface's
  // about its centre (payload.follow): drawn once per payload, size and zoom, then blitted.
  let layer = st.layers.contours.get(zoom);
  if (layer) return layer;
  const { header, arrays } = st.payload;
  const c = st.panels.contour.canvas;
  const { w, h, dpr } = sizeCanvas(c);
  const near = arrays["surface.axis0"], nearB = arrays["surface.axis1"];
  const mid0 = (near[0] + near[near.length - 1]) / 2, half0 = (near[near.length - 1] - near[0]) / 2;
  const mid1 = (nearB[0] + nearB[nearB.length - 1]) / 2, half1 = (nearB[nearB.length - 1] - nearB[0]) / 2;
  // The key shares the title's band when both fit on one line; else (the presenter view's
  // large text on a narrow panel) it takes a line of its own under the title.
  const probe = c.getContext("2d");
  probe.font = fontOf(st.fontSize);
  const room = w - 10 - st.panels.contour.title.offsetWidth - 12;
  const beside = probe.measureText(contourKey(st)).width <= room;
  const top = px(st, 24) + (beside ? 0 : Math.round(1.3 * st.fontSize));
  const f = frameOf(w, h, [mid0 - zoom * half0, mid0 + zoom * half0], [mid1 - zoom * half1, mid1 + zoom * half1], { left: px(st, 46), bottom: px(st, 34), top });
  let ax0 = near, ax1 = nearB, loss = arrays["surface.loss"], levels = arrays["surface.levels"];
  const k = zoom > 1 ? header.zooms.findIndex((z) => z >= zoom) : -1;
  if (k >= 0) {  // the smallest widened window that holds this one
    const g = arrays["surface.zoom_axis0"].length / header.zooms.length;
    const L = arrays["surface.zoom_levels"].length / header.zooms.length;
    ax0 = arrays["surface.zoom_axis0"].subarray(k * g, (k + 1) * g);
    ax1 = arrays["surface.zoom_axis1"].subarray(k * g, (k + 1) * g);
    loss = arrays["surface.zoom_loss"].subarray(k * g * g, (k + 1) * g * g);
    levels = arrays["surface.zoom_levels"].subarray(k * L, (k + 1) * L);
  }
  const off = document.createElement("canvas");
  off.width = c.width; off.height = c.height;
  const o = off.getContext("2d");
  o.setTransform(dpr, 0, 0, dpr, 0, 0);
  const fine = arrays["surface.loss"], overlay = k >= 0 && zoom < 3;
  const range = fieldRange(overlay ? fine : loss);
  drawField(o, f, ax0, ax1, loss, levels, range);
  if (overlay) {
    // The fine grid still covers most of a window widened less than 3×: draw it over the
    // coarse one, on the same colour scale, so a path that grazes the edge keeps fine contours.
    o.restore();
    drawField(o, f, near, nearB, fine, arrays["surface.levels"], range);
  }
  drawMinimum(o, f, arrays["surface.minimum"]);
  o.restore();  // drawField's clip
  const ticks = drawAxes(o, f, ...header.axis_titles, st.fontSize);  // a slice's say which plane
  layer = { canvas: off, f, ticks, keyY: beside ? f.top / 2 : f.top - 0.75 * st.fontSize };
  st.layers.contours.set(zoom, layer);
  return layer;
}

function staticLayers(st) {
  const { header, arrays } = st.payload;
  const layers = { contours: new Map() };  // contour layers by zoom, built on first use
  // Data: the scatter, once; only the fit line moves.
  {
    const c = st.panels.data.canvas;
    const { w, h, dpr } = sizeCanvas(c);
    const x = arrays["data.x"], y = arrays["data.y"], n = header.shown_train;
    const f = frameOf(w, h, ...dataRange(x, y), { left: px(st, 44), bottom: px(st, 28), top: px(st, 24) });
    const off = document.createElement("canvas");
    off.width = c.width; off.height = c.height;
    const o = off.getContext("2d");
    o.setTransform(dpr, 0, 0, dpr, 0, 0);
    const ticks = drawAxes(o, f, "x", "y", st.fontSize);
    o.save();
    clip(o, f);
    o.globalAlpha = 0.7;
    for (let k = 0; k < n; k++) dot(o, f, x[k], y[k], OKABE.sky, x.length > 500 ? 1.8 : 3);
    for (let k = n; k < x.length; k++) dot(o, f, x[k], y[k], OKABE.orange, x.length > 500 ? 2 : 3.2);
    o.restore();
    layers.data = { canvas: off, f, ticks };
  }
  return layers;
}

function drawContour(st, fam, r, j) {
  const { ctx, w, h } = sizeCanvas(st.panels.contour.canvas);
  const run = fam.runs[r], P = fam.P, p = fam.params, at = run.at[0];
  // Concealed, the surface's own window: one widened to follow the path would tell a blow-up.
  const zoom = st.payload.header.zooms.length && !st.view.conceal ? run.zoom : 1;
  const { canvas, f, ticks, keyY } = contourLayer(st, zoom);
  markTicks(st.panels.contour.canvas, ticks);
  ctx.clearRect(0, 0, w, h);  // the layer's margins are transparent: no earlier axes show
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.drawImage(canvas, 0, 0);
  ctx.setTransform(window.devicePixelRatio || 1, 0, 0, window.devicePixelRatio || 1, 0, 0);
  st.root.setAttribute("data-zoom", String(zoom));
  const steps = fam.steps(r);
  const px = (k) => f.x(p[(at + k) * P]), py = (k) => f.y(p[(at + k) * P + 1]);
  ctx.save();
  clip(ctx, f);
  ctx.lineJoin = "round";
  const path = () => {
    ctx.beginPath();
    ctx.moveTo(px(0), py(0));
    for (let k = 1; k <= j; k++) ctx.lineTo(px(k), py(k));
  };
  path(); ctx.strokeStyle = "rgba(255,255,255,0.85)"; ctx.lineWidth = 5; ctx.stroke();
  path(); ctx.strokeStyle = OKABE.vermilion; ctx.lineWidth = 2.2; ctx.stroke();
  // Epoch boundaries on the path: small white dots.
  ctx.fillStyle = "#fff";
  ctx.strokeStyle = OKABE.vermilion;
  ctx.lineWidth = 1.5;
  const perEpoch = run.updates_per_epoch;
  if (run.length < 600) {
    for (let k = 1; k <= j; k++) {
      if (steps[k] % perEpoch === 0) {
        ctx.beginPath(); ctx.arc(px(k), py(k), 3, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
      }
    }
  }
  ctx.strokeStyle = "#000";  // the start: a hollow circle
  ctx.lineWidth = 2;
  ctx.beginPath(); ctx.arc(px(0), py(0), 6, 0, 2 * Math.PI); ctx.stroke();
  if (Number.isFinite(px(j)) && Number.isFinite(py(j))) {
    ctx.fillStyle = OKABE.vermilion;
    ctx.beginPath(); ctx.arc(px(j), py(j), 6.5, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
  }
  ctx.restore();
  ctx.save();
  ctx.font = fontOf(st.fontSize);
  ctx.fillStyle = "#1f2328";
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  // The key sits in the title's band, above the plot, where no path can hide it.
  ctx.fillText(contourKey(st), f.left + f.pw, keyY);
  if (zoom > 1) {  // say why the window moved, on a white label at the plot's foot
    const factor = zoom < 10 ? zoom.toFixed(1) : Math.round(zoom);
    const note = `zoomed out ×${factor} to follow the path`;
    ctx.textAlign = "left";
    ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
    ctx.fillRect(f.left + 2, f.top + f.ph - px(st, 20), ctx.measureText(note).width + 8, px(st, 18));
    ctx.fillStyle = "#1f2328";
    ctx.fillText(note, f.left + 6, f.top + f.ph - px(st, 11));
  }
  ctx.restore();
}

function contourKey(st) {
  return `✕ ${st.payload.header.mark}   ○ start   ● now`;
}

// Returns the last update a curve is drawn to (the test hook `data-drawn-to`): the run's end,
// or, concealed, no further than the cursor.
function drawLosses(st, fam, r, j, cursor) {
  const { ctx, w, h } = sizeCanvas(st.panels.losses.canvas);
  ctx.clearRect(0, 0, w, h);
  const run = fam.runs[r], planned = run.updates_per_epoch * st.payload.header.epochs;
  // The y range stays as it is when concealed: it is shared by every run of the four families
  // and capped at ten times the start (lossRange), so it tells nothing of this run's end.
  const f = frameOf(w, h, [0, Math.max(1, planned)], fam.yRange, { logY: true, left: px(st, 58), top: px(st, 24), bottom: px(st, 30) });
  markTicks(st.panels.losses.canvas, drawAxes(ctx, f, "updates", "loss (log)", st.fontSize));
  ctx.save();
  clip(ctx, f);
  const b0 = run.at[1], bw = run.width, hide = st.view.conceal;
  // Concealed, only what lies at or before the cursor: the bins it has passed whole, the kept
  // points up to j, the epochs it has finished.
  const bins = hide ? Math.max(0, Math.min(run.bins, Math.floor((cursor + 1) / bw))) : run.bins;
  const points = hide ? j + 1 : run.length;
  const epochs = hide ? Math.min(run.completed, Math.floor(cursor / run.updates_per_epoch)) : run.completed;
  // The batch loss: a band from the lowest to the highest batch of each bin (exact at width 1).
  ctx.fillStyle = "rgba(86, 180, 233, 0.45)";
  ctx.strokeStyle = "rgba(86, 180, 233, 0.9)";
  ctx.lineWidth = 1;
  ctx.beginPath();
  const mid = (k) => f.x(k * bw + (bw > 1 ? bw / 2 : 0));
  for (let k = 0; k < bins; k++) ctx.lineTo(mid(k), f.y(fam.batchHigh[b0 + k]));
  if (bw > 1) {
    for (let k = bins - 1; k >= 0; k--) ctx.lineTo(mid(k), f.y(fam.batchLow[b0 + k]));
    ctx.closePath();
    ctx.fill();
  } else ctx.stroke();
  const steps = fam.steps(r), at = run.at[0];
  ctx.strokeStyle = OKABE.blue;  // the full training loss
  ctx.lineWidth = 2.2;
  ctx.beginPath();
  for (let k = 0; k < points; k++) ctx.lineTo(f.x(steps[k]), f.y(fam.loss[at + k]));
  ctx.stroke();
  const epochLine = (arr, color, dashed) => {
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = 2;
    ctx.setLineDash(dashed ? [5, 3] : []);
    ctx.beginPath();
    for (let e = 0; e < epochs; e++) ctx.lineTo(f.x((e + 1) * run.updates_per_epoch), f.y(arr[run.at[2] + e]));
    ctx.stroke();
    ctx.setLineDash([]);
    if (run.completed <= 60) {
      for (let e = 0; e < epochs; e++) {
        ctx.beginPath();
        ctx.arc(f.x((e + 1) * run.updates_per_epoch), f.y(arr[run.at[2] + e]), 2.6, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
  };
  epochLine(fam.epochLoss, OKABE.orange, false);
  if (fam.valLoss) epochLine(fam.valLoss, OKABE.green, true);
  ctx.strokeStyle = "#1f2328";  // the playback cursor
  ctx.lineWidth = 1.5;
  ctx.beginPath(); ctx.moveTo(f.x(cursor), f.top); ctx.lineTo(f.x(cursor), f.top + f.ph); ctx.stroke();
  ctx.fillStyle = OKABE.vermilion;
  ctx.beginPath(); ctx.arc(f.x(steps[j]), f.y(fam.loss[at + j]), 4.5, 0, 2 * Math.PI); ctx.fill();
  ctx.restore();
  if (run.diverged_at >= 0 && !hide) {
    ctx.save();
    ctx.font = `bold ${fontOf(st.fontSize)}`;
    ctx.fillStyle = OKABE.vermilion;
    ctx.textAlign = "center";
    const long = `diverged at update ${run.diverged_at}: the loss left the chart ↑`;
    const fits = ctx.measureText(long).width <= f.pw - 8;  // a narrow panel gets the short form
    ctx.fillText(fits ? long : `diverged at update ${run.diverged_at} ↑`, f.left + f.pw / 2, f.top + f.ph / 2);
    ctx.restore();
  }
  const items = [["batch", OKABE.sky], ["full", OKABE.blue], ["Keras epoch", OKABE.orange]];
  if (fam.valLoss) items.push(["validation", OKABE.green, true]);
  bandLegend(st, ctx, f, st.panels.losses.title, items);
  const binEnd = bins ? (bins - 1) * bw + (bw > 1 ? bw - 1 : 0) : 0;
  return Math.max(steps[points - 1], binEnd, epochs * run.updates_per_epoch);
}

function drawData(st, fam, r, j) {
  const { ctx, w, h } = sizeCanvas(st.panels.data.canvas);
  const { canvas, f, ticks } = st.layers.data;
  markTicks(st.panels.data.canvas, ticks);
  ctx.clearRect(0, 0, w, h);
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.drawImage(canvas, 0, 0);
  ctx.setTransform(window.devicePixelRatio || 1, 0, 0, window.devicePixelRatio || 1, 0, 0);
  const run = fam.runs[r], at = run.at[0] + j, p = [];
  ctx.save();
  clip(ctx, f);
  if (fam.fit) drawCurve(ctx, f, st.payload.arrays["data.fit_x"], curveAt(fam, r, j), OKABE.blue);
  else {
    for (let k = 0; k < fam.P; k++) p.push(fam.params[at * fam.P + k]);
    drawFit(ctx, f, st.payload.header.model, p, OKABE.blue);
  }
  ctx.restore();
  const items = [["training", OKABE.sky]];  // short: the key shares its band with the title
  if (st.payload.header.n_val > 0) items.push(["validation", OKABE.orange]);
  items.push([`${st.payload.header.fit_label} now`, OKABE.blue]);
  bandLegend(st, ctx, f, st.panels.data.title, items);
}

// The network's curve shipped for run r at the last of its fit frames at or before kept point j.
function curveAt(fam, r, j) {
  const run = fam.runs[r], s0 = run.at[3], G = fam.fit.length / fam.fitAt.length;
  let s = 0;
  for (let k = 1; k < run.fits && fam.fitAt[s0 + k] <= j; k++) s = k;
  return fam.fit.subarray((s0 + s) * G, (s0 + s + 1) * G);
}

function drawRate(st, fam, r, j, cursor) {
  const { ctx, w, h } = sizeCanvas(st.panels.rate.canvas);
  ctx.clearRect(0, 0, w, h);
  const run = fam.runs[r], planned = run.updates_per_epoch * st.payload.header.epochs;
  const steps = fam.steps(r);
  let top = 0;
  for (let k = 0; k < run.length; k++) top = Math.max(top, fam.rateAt(r, k));
  const f = frameOf(w, h, [0, Math.max(1, planned)], [0, top * 1.15 || 1], { left: px(st, 58), bottom: px(st, 26), top: px(st, 22) });
  markTicks(st.panels.rate.canvas, drawAxes(ctx, f, "", "η", st.fontSize));
  ctx.save();
  clip(ctx, f);
  ctx.strokeStyle = OKABE.green;
  ctx.lineWidth = 2.2;
  ctx.beginPath();
  // Concealed, the schedule up to the cursor only (its axis, from the run's highest rate, is
  // its first rate: a schedule only falls).
  const points = st.view.conceal ? j + 1 : run.length;
  for (let k = 0; k < points; k++) ctx.lineTo(f.x(steps[k]), f.y(fam.rateAt(r, k)));
  ctx.stroke();
  if (st.view.conceal) {  // one point is no line: mark the rate at the cursor
    ctx.fillStyle = OKABE.green;
    ctx.beginPath(); ctx.arc(f.x(steps[j]), f.y(fam.rateAt(r, j)), 3.5, 0, 2 * Math.PI); ctx.fill();
  }
  ctx.strokeStyle = "#1f2328";
  ctx.lineWidth = 1.5;
  ctx.beginPath(); ctx.moveTo(f.x(cursor), f.top); ctx.lineTo(f.x(cursor), f.top + f.ph); ctx.stroke();
  ctx.restore();
}

function updateText(st, fam, r, j, cursor) {
  const run = fam.runs[r];
  const key = `${fam.knob}:${r}:${st.payloadId}`;
  if (st.textKey !== key) {
    st.textKey = key;
    st.frameKey = null;
    const m = st.metrics, hide = st.view.conceal;
    m.perEpoch.value.textContent = String(run.updates_per_epoch);
    m.perEpoch.note.textContent = run.arithmetic;
    // Concealed, the updates planned: the ones a run that blew up actually ran would tell it.
    m.updates.value.textContent = String(hide ? planned(st, run) : run.updates);
    m.updates.note.textContent = hide  // "1 of 1 epoch": words come from Python
      ? `planned: ${st.payload.header.epochs} epoch${st.payload.header.epochs === 1 ? "" : "s"}`
      : run.epochs_done;
    // The committed run's charts are named by a sentence with their numbers (Python's); a run
    // on its way (a drag, keys before their commit) by the chart's title until it commits.
    const header = st.payload.header;
    m.distance.name.textContent = `Above the ${header.mark}`;
    st.panels.contour.title.textContent = header.contour_title;
    const committed = r === fam.current, summary = header.summary || {};
    for (const [name, p] of Object.entries(st.panels)) {
      // Concealed, the title alone: Python's sentences tell how the committed run ends.
      const label = committed && summary[name] && !hide ? summary[name] : p.title.textContent;
      p.canvas.setAttribute("aria-label", label);
    }
    st.play.scrub.max = String(hide ? planned(st, run) : run.updates);
    if (!st.speedChosen) {
      // About eight seconds for a whole run, until the learner picks a speed.
      // Concealed, of the planned updates: a short run's slow pick would tell a blow-up.
      const want = (hide ? planned(st, run) : run.updates) / 8;
      st.speed = SPEEDS.reduce((a, b) => (Math.abs(Math.log(b / want)) < Math.abs(Math.log(a / want)) ? b : a));
      st.play.speed.value = String(st.speed);
    }
    for (const k of st.knobs) {
      const f = st.payload.families[k], n = st.knobNodes[k];
      const i = k === st.active ? st.index[k] : f.current;
      const t = f.values.length > 1 ? (100 * i) / (f.values.length - 1) : 0;
      n.value.textContent = f.labels[i];
      n.thumb.style.left = `${t}%`;
      n.fill.style.width = `${t}%`;
      n.mark.style.left = `${f.values.length > 1 ? (100 * f.current) / (f.values.length - 1) : 0}%`;
      n.track.setAttribute("aria-valuemin", "0");
      n.track.setAttribute("aria-valuemax", String(f.values.length - 1));
      n.track.setAttribute("aria-valuenow", String(i));
      n.track.setAttribute("aria-valuetext", f.labels[i]);
      n.label.textContent = f.label;
      n.low.textContent = f.labels[0];
      n.high.textContent = f.labels[f.values.length - 1];
    }
  }
  const u = Math.round(cursor);
  updateFrame(st, fam, r, j, u);
  st.play.scrub.value = String(u);
  const total = st.view.conceal ? planned(st, run) : run.updates;
  const where = `update ${u.toLocaleString("en-US")} of ${total.toLocaleString("en-US")}`;
  st.play.scrub.setAttribute("aria-valuetext", where);
  st.play.where.textContent = where;
  st.play.play.textContent = st.playing ? "❚❚ Pause" : "▶ Play";
  st.play.play.setAttribute("aria-label", st.playing ? "Pause" : "Play");
}

// The loss, gap and status cards describe the frame on screen: at the end of the run, Python's
// numbers and verdict; before it, the loss at the kept update drawn (steps[j]) and what the
// run's status says of a frame there (payload `early` until update `settle`, then the label).
// Concealed, never the end, and nothing of it: the planned updates, a status that says only
// where the frame is, the loss there, and no glossary help (its terms would name the end).
function updateFrame(st, fam, r, j, u) {
  const run = fam.runs[r], m = st.metrics, header = st.payload.header, hide = st.view.conceal;
  const end = u >= run.updates && !hide;
  const at = end ? run.updates : fam.steps(r)[j];
  const frameKey = `${st.textKey}:${end ? "end" : at}`;
  if (st.frameKey === frameKey) return;
  st.frameKey = frameKey;
  const diverged = run.diverged_at >= 0;
  const total = hide ? planned(st, run) : run.updates;
  const where = `at update ${at.toLocaleString("en-US")} of ${total.toLocaleString("en-US")}`;
  m.final.note.textContent = end ? `${where}, the end` : where;
  m.distance.note.textContent = `${header.target} (✕) is ${header.min_loss}`;
  let label, note;
  if (end) {
    m.final.value.textContent = run.final_loss;
    m.distance.value.textContent = run.final_gap;
    label = run.text[0] || (diverged ? `diverged at update ${run.diverged_at}` : "");
    note = run.text.slice(1).join(" ");
  } else {
    const loss = fam.loss[run.at[0] + j];
    const shown = g4(loss), gap = gapText(loss, header.min_loss_value);
    m.final.value.textContent = shown;
    m.distance.value.textContent = gap;
    label = at < run.settle && run.early ? run.early : run.text[0] || "";
    note = `The loss here is ${shown}, ${gap} above ${header.target}. The whole run: ${run.text[0] || "see the end"}.`;
    if (hide) {
      label = at === 0 ? "not started" : "paused";
      note = `The loss here is ${shown}, ${gap} above ${header.target}.`;
    }
  }
  m.status.name.textContent = end ? "Status" : `Status ${where}`;
  m.status.name.title = m.status.name.textContent;
  m.status.value.textContent = label;
  m.status.value.classList.toggle("diverged", end && diverged);
  m.status.note.textContent = note;
  m.status.node.title = hide ? "" : run.help || ""; // the status's terms explained (ui.glossary)
}

// The updates a run of this payload is planned to have: what a concealed stage says it has.
function planned(st, run) {
  return run.updates_per_epoch * st.payload.header.epochs;
}

// ---------------------------------------------------------------- entry point

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let st = STAGES.get(parentElement);
  if (!st) {
    st = {
      index: {}, committed: {}, active: null, cursor: Infinity, playing: false,
      speed: 10, speedChosen: false, last: 0, raf: 0, payloadId: 0, bytes: null,
      startUpdate: undefined, reported: undefined, reportTimer: 0,
      view: NO_VIEW, fontSize: FONT_SIZE, playApplied: 0, recording: null,
    };
    STAGES.set(parentElement, st);
  }
  st.setTriggerValue = setTriggerValue;
  const buffer = toBuffer(data);
  if (!buffer) return undefined;
  if (!st.root) build(parentElement, st, JSON.parse(headerText(buffer)).knobs.map((e) => e.knob));
  const start = startOf(buffer), view = viewOf(buffer);
  if (st.bytes && sameRuns(st.bytes, buffer)) {  // a new start or view, the same runs
    st.bytes = buffer;
    startAt(st, start);
    applyView(st, view);
    request(st);
    return undefined;
  }
  const payload = decode(buffer, st.payload);
  if (!payload) {  // a held part this stage does not have (it was mounted anew): ask for all
    st.setTriggerValue("missing", true);
    return undefined;
  }
  const sceneKept = payload.header.scene.held;
  st.bytes = buffer;
  st.payload = payload;
  st.payloadId += 1;
  const held = payload.header.knobs.filter((entry) => entry.held).length + (sceneKept ? 1 : 0);
  st.root.setAttribute("data-held", String(held));
  startAt(st, start);
  for (const k of st.knobs) {
    const fam = st.payload.families[k];
    // Keep a knob the learner is holding where it is; the rest follow the settings.
    if (!(st.dragging === k && st.index[k] < fam.values.length)) st.index[k] = fam.current;
    st.committed[k] = fam.current;
  }
  if (!st.dragging) st.active = st.active || st.knobs[0];
  if (!sceneKept) st.layers = null;  // the contour and data layers draw the scene alone
  st.textKey = null;
  applyView(st, view);
  holdValueWidths(st);
  request(st);
  return undefined;
}

// ---------------------------------------------------------------- the view

const NO_VIEW = { locked: new Set(), hidden: new Set(), play: 0, present: false, conceal: false };
// The header's `"view":{…}` (payload.with_view), just before its last key, `update`.
const VIEW_KEY = /,"view":(\{[^{}]*\}),"update":(?:null|\d+)\}\s*$/;

function viewOf(buffer) {
  const m = headerText(buffer).match(VIEW_KEY);
  if (!m) return NO_VIEW;
  const v = JSON.parse(m[1]);
  return {
    locked: new Set(v.locked || []), hidden: new Set(v.hidden || []),
    play: Number(v.play) || 0, present: v.present === true, conceal: v.conceal === true,
  };
}

// Apply the page's view to this stage, on every payload: a view changes between reruns with
// no new mount. Called after `startAt`, so a play token starts from 0 whatever the start.
function applyView(st, view) {
  const was = st.view;
  st.view = view;
  if (view.present !== was.present || !st.root.hasAttribute("data-present")) {
    st.root.classList.toggle("present", view.present);
    st.fontSize = view.present ? PRESENT_FONT_SIZE : FONT_SIZE;
    st.layers = null;  // the frames' margins and the axes' text grow with the font
    if (st.payload) holdValueWidths(st);
  }
  let shown = 0;
  const lockedKnobs = new Set();
  for (const k of st.knobs) {
    const n = st.knobNodes[k], hidden = view.hidden.has(k);
    const locked = !hidden && (view.locked.has(k) || view.conceal);  // concealed: every knob
    if (locked) lockedKnobs.add(k);
    n.block.hidden = hidden;  // display: none, so neither seen nor focusable
    n.block.classList.toggle("locked", locked);
    n.track.tabIndex = hidden ? -1 : 0;
    if (locked) n.track.setAttribute("aria-disabled", "true");
    else n.track.removeAttribute("aria-disabled");
    if (!hidden) shown += 1;
    if ((locked || hidden) && st.payload) {  // a drag or keys in progress are dropped, uncommitted
      if (st.dragging === k) { st.dragging = null; n.track.classList.remove("active"); }
      st.index[k] = st.payload.families[k].current;
    }
  }
  st.knobsNode.hidden = shown === 0;
  st.knobsNode.style.setProperty("--knobs", String(Math.max(1, shown)));
  st.knobsNode.style.setProperty("--knobs-narrow", String(Math.max(1, Math.min(2, shown))));
  const names = (set) => [...set].filter((k) => st.knobs.includes(k)).sort().join(",");
  st.root.setAttribute("data-locked", names(lockedKnobs));
  st.root.setAttribute("data-hidden", names(view.hidden));
  st.root.setAttribute("data-present", view.present ? "1" : "0");
  st.root.setAttribute("data-font-size", String(st.fontSize));  // the canvases' text, px
  st.textKey = null;
  conceal(st, view.conceal);
  if (view.play > 0 && view.play !== st.playApplied && !view.conceal) {  // a new token: play from 0
    st.playApplied = view.play;
    st.cursor = 0;
    st.playing = true;
    st.last = performance.now();
    clearTimeout(st.reportTimer);
  }
  st.root.setAttribute("data-playing", st.playing ? "1" : "0");
}

// Concealed: playback off and the cursor held at the page's start (0 for null: the whole run
// is the answer); a recording in progress stops (its clip, made before, is still saved). The
// knobs are locked by applyView and `movable`; the frame draws nothing beyond the cursor.
function conceal(st, on) {
  const { play, back, fwd, speed, scrub, record } = st.play;
  for (const control of [play, back, fwd, speed, scrub]) control.disabled = on;
  record.disabled = on || !videoType();
  st.hint.hidden = on;
  st.concealedNote.hidden = !on;
  st.root.setAttribute("data-conceal", on ? "1" : "0");
  if (!on) return;
  if (st.recording) stopRecording(st);
  st.playing = false;
  st.cursor = st.startUpdate ?? 0;
  clearTimeout(st.reportTimer);
  clearTimeout(st.keyTimer);
  st.keyTimer = 0;
}

// ---------------------------------------------------------------- video

// The formats tried, best first; the browser's own encoder, nothing fetched.
const VIDEO_TYPES = ["video/webm;codecs=vp9", "video/webm;codecs=vp8"];

function videoType() {
  if (typeof MediaRecorder === "undefined" || !HTMLCanvasElement.prototype.captureStream) return null;
  return VIDEO_TYPES.find((t) => MediaRecorder.isTypeSupported(t)) || null;
}

function bindRecord(st) {
  const button = st.play.record;
  if (!videoType()) {
    button.disabled = true;
    button.title = typeof MediaRecorder === "undefined"
      ? "This browser cannot record video: it has no MediaRecorder."
      : "This browser cannot record a WebM video (neither VP9 nor VP8).";
  }
  button.addEventListener("click", () => {
    if (st.recording) stopRecording(st, true);
    else startRecording(st);
  });
  showRecording(st);
}

function showRecording(st) {
  const on = Boolean(st.recording), button = st.play.record;
  // The record dot and the stop square are drawn by stage.css: no glyph a font may lack.
  button.textContent = on ? "Stop" : "Record video";
  // Not "…playback…": the Play button's name must stay unique ("play" would match both).
  button.setAttribute("aria-label", on ? "Stop recording and save the video" : "Record the run as a WebM video");
  button.classList.toggle("recording", on);
  st.root.setAttribute("data-recording", on ? "1" : "0");
}

// A clip for slides lasts 3 to 20 s whatever the run's length: a short run plays at 10 updates
// a second (each update can be followed) but for at least 3 s; a long one is squeezed into 20 s.
function videoSpeed(updates) {
  return Math.max(1, updates) / Math.min(20, Math.max(3, updates / 10));
}

// The run on screen's knob values, for the file's name: sgd-lr0.1-batch32[-momentum0.9][-decay0.01].webm
function videoName(st) {
  const value = (k) => {
    const f = st.payload.families[k];
    return f.labels[k === st.active ? st.index[k] : f.current];
  };
  let name = `sgd-lr${value("learning_rate")}-batch${value("batch_size")}`;
  if (value("momentum") !== "0") name += `-momentum${value("momentum")}`;
  if (value("decay") !== "0") name += `-decay${value("decay")}`;
  return `${name.replace(/[^\w.+-]/g, "")}.webm`;
}

function startRecording(st) {
  const type = videoType();
  if (!type || !st.payload || st.recording) return;
  const canvas = document.createElement("canvas");
  const run = shownRun(st);
  const rec = { canvas, speed: videoSpeed(run.updates), name: videoName(st), ending: 0, stopping: false };
  st.recording = rec;
  sizeComposite(st, rec);
  composite(st, 0, run.updates);
  const stream = canvas.captureStream(30);
  const chunks = [];
  rec.recorder = new MediaRecorder(stream, { mimeType: type });
  rec.recorder.ondataavailable = (e) => { if (e.data.size) chunks.push(e.data); };
  rec.recorder.onstop = () => {
    for (const track of stream.getTracks()) track.stop();
    save(st, new Blob(chunks, { type: "video/webm" }), rec.name);
    st.recording = null;
    showRecording(st);
  };
  rec.recorder.start();
  st.cursor = 0;  // the current run from update 0 to its end
  st.playing = true;
  st.last = performance.now();
  clearTimeout(st.reportTimer);
  showRecording(st);
  request(st);
}

// Stop (at the run's end, or early from the button: the clip so far is still saved).
function stopRecording(st, early = false) {
  const rec = st.recording;
  if (!rec || rec.stopping) return;
  rec.stopping = true;
  clearTimeout(rec.ending);
  if (early && st.playing) { st.playing = false; report(st, 0); request(st); }
  if (rec.recorder.state !== "inactive") rec.recorder.stop();
}

function save(st, blob, name) {
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: name, hidden: "" });
  st.root.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);  // once the download has read it
}

// The clip's frame: the visible panels where they sit on screen, a caption band under them.
function sizeComposite(st, rec) {
  const boxes = Object.values(st.panels).map((p) => p.node).filter((n) => n.getClientRects().length)
    .map((n) => n.getBoundingClientRect());
  const origin = st.root.querySelector(".layout").getBoundingClientRect();
  // The panels' corner, relative to the layout: the page may scroll while the clip records.
  const left = Math.min(...boxes.map((b) => b.left)) - origin.left;
  const top = Math.min(...boxes.map((b) => b.top)) - origin.top;
  const width = Math.max(...boxes.map((b) => b.right)) - origin.left - left;
  const band = Math.round(2 * Math.max(16, st.fontSize));
  const height = Math.max(...boxes.map((b) => b.bottom)) - origin.top - top + band;
  // At the screen's resolution, at most 1920 px wide; even sizes, as the VP8/VP9 encoders like.
  const scale = Math.min(window.devicePixelRatio || 1, 1920 / width);
  rec.canvas.width = 2 * Math.round((width * scale) / 2);
  rec.canvas.height = 2 * Math.round((height * scale) / 2);
  Object.assign(rec, { left, top, width, height, band, scale });
}

function composite(st, update, updates) {
  const rec = st.recording, ctx = rec.canvas.getContext("2d");
  ctx.setTransform(rec.scale, 0, 0, rec.scale, 0, 0);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, rec.width, rec.height);
  const origin = st.root.querySelector(".layout").getBoundingClientRect();
  const dx = origin.left + rec.left, dy = origin.top + rec.top;  // the clip's corner on screen
  for (const p of Object.values(st.panels)) {
    if (!p.node.getClientRects().length) continue;
    const c = p.canvas.getBoundingClientRect(), t = p.title.getBoundingClientRect();
    ctx.drawImage(p.canvas, c.left - dx, c.top - dy, c.width, c.height);
    const css = getComputedStyle(p.title);
    ctx.font = `${css.fontWeight} ${css.fontSize} ${css.fontFamily}`;
    ctx.fillStyle = css.color;
    ctx.textBaseline = "middle";
    ctx.textAlign = "left";
    ctx.fillText(p.title.textContent, t.left - dx, t.top - dy + t.height / 2);
  }
  const said = st.knobs.map((k) => {
    const f = st.payload.families[k];
    return `${f.label} ${f.labels[k === st.active ? st.index[k] : f.current]}`;
  });
  said.push(`update ${update.toLocaleString("en-US")} of ${updates.toLocaleString("en-US")}`);
  ctx.font = fontOf(Math.max(16, st.fontSize));
  ctx.fillStyle = "#1f2328";
  ctx.fillText(said.join("  ·  "), 8, rec.height - rec.band / 2);
}

// Each knob's value box is as wide as the widest spelling of that knob's positions, so the
// label beside it and the track under it never move while a drag changes the value.
function holdValueWidths(st) {
  const ctx = document.createElement("canvas").getContext("2d");
  for (const k of st.knobs) {
    const node = st.knobNodes[k].value;
    ctx.font = getComputedStyle(node).font;
    const widest = Math.max(...st.payload.families[k].labels.map((t) => ctx.measureText(t).width));
    node.style.minWidth = `${Math.ceil(widest) + 2}px`;
  }
}

// Move the cursor to the page's start only when it changed (a link, another page); the start
// the learner just reported comes back unchanged and must not stop a new playback.
function startAt(st, update) {
  if (update === st.startUpdate) return;
  st.startUpdate = update;
  st.reported = update;
  st.playing = false;
  st.cursor = update === null ? Infinity : update;
}
