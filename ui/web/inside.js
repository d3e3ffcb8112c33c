/* The update scrubber of "Inside one mini-batch": step through updates with no round trip.

Mounted by st.components.v2 without an iframe (ui/inside_stage/__init__.py); the shared
drawing is canvas.js's. Python ships one picture per update of a window of updates
(ui/inside_stage/payload.py: float32 arrays behind a JSON header, every number and sentence
already formatted); the ◀ / ▶ buttons, the arrow keys and the scrubber switch between them,
drawn on canvas in well under a frame. When the learner stops (a pause after stepping, or
the scrubber's release), the update goes to the page once, as the trigger `update`; the page
keeps it in the link and its lower sections follow. An update outside the loaded window is
asked for at once. While stops are on their way, the learner keeps stepping: a page that
comes back with one of the browser's own stops does not move the scrubber back to it.

Counting: the scrubber, the trigger and the page say "update u of U" (update 0 is the start,
U the run's total); the payload's frames, `first`, `last_loaded` and `last` are indexed as gd
does, by t = u − 1 (ui/inside_stage/payload.py). `loadedFrame(s, u)` turns u into a frame.

Keys: the scrubber moves with the arrow keys, Home, End, PageUp and PageDown (the browser's
own range input); on the ◀ / ▶ buttons, ← and → step too.

The network (49 weights) is drawn on the page's slice: its points, steps and trail come as
coordinates and projections (α, β), the loss on the plane through each update parallel to the
slice, and its fit as a curve computed in Python (`fit`, at `data.fit_x`), since the shared
formulas (canvas.js PREDICT) know only the two-parameter models.

Accessibility: each canvas is an image (role="img") named by its frame's sentence with its
numbers (Python's `summary`, `data_summary`).

Test hook: the root element has `data-inside`; after each picture it sets `data-update` to
the update drawn, u, and `data-loaded` to the loaded window in updates u, `first-last`.
*/

import {
  toBuffer, unpack, startOf, sameRuns, sizeCanvas, frameOf, drawAxes, clip, legend, el,
  drawMinimum, drawField, dataRange, dot, drawCurve, drawFit,
} from "./canvas.js";

const SCRUBBERS = new WeakMap(); // parentElement -> state, kept across reruns

// The loaded frame of update u (gd's index t = u − 1 among the frames), or -1.
function loadedFrame(s, u) {
  const h = s.payload.header, t = u - 1;
  return t >= h.first && t <= h.last_loaded ? t - h.first : -1;
}

function buildInside(parent, s) {
  const prev = el("button", {
    type: "button", class: "step", text: "◀ previous", "aria-label": "Previous update",
  });
  const next = el("button", {
    type: "button", class: "step", text: "next ▶", "aria-label": "Next update",
  });
  const scrub = el("input", {
    type: "range", min: "1", max: "1", step: "1", value: "1",
    "aria-label": "Update (optimizer step) to look inside",
  });
  const where = el("span", { class: "where" });
  const caption = el("div", { class: "caption" });
  const cards = el("div", { class: "cards" });
  s.cards = [];
  for (let k = 0; k < 4; k++) {
    const name = el("div", { class: "name" }), value = el("div", { class: "value" });
    const help = el("div", { class: "help" });
    cards.append(el("div", { class: "card" }, name, value, help));
    s.cards.push({ name, value, help });
  }
  const panel = (cls, withLegend) => {
    const title = el("h3"), canvas = el("canvas", { role: "img" });
    const legendBox = el("ul", { class: "legend" });
    const node = el("div", { class: `panel ${cls}` }, title, canvas);
    if (withLegend) node.append(legendBox);
    return { node, title, canvas, legendBox };
  };
  s.update = panel("update", false);
  s.data = panel("data", true);
  s.loading = el("div", { class: "loading", role: "status" });
  s.controls = { prev, next, scrub, where };
  s.caption = caption;
  // The update picture's legend and its four numbers sit beside it on a projector (the
  // buttons, the picture and its numbers in one screen), under it on a phone (inside.css).
  const side = el("div", { class: "side" }, s.update.legendBox, cards);
  s.root = el("div", { class: "inside", "data-inside": "" },
    el("div", { class: "controls" }, prev, scrub, next, where),
    caption, s.loading,
    el("div", { class: "pictures" }, s.update.node, side, s.data.node));
  parent.append(s.root);
  prev.addEventListener("click", () => step(s, -1));
  next.addEventListener("click", () => step(s, 1));
  for (const button of [prev, next]) {
    button.addEventListener("keydown", (e) => {
      const d = { ArrowLeft: -1, ArrowRight: 1 }[e.key];
      if (d === undefined || e.altKey || e.ctrlKey || e.metaKey) return;
      e.preventDefault();
      step(s, d);
    });
  }
  scrub.addEventListener("input", () => show(s, Number(scrub.value)));
  scrub.addEventListener("change", () => report(s, 300));  // release (or an arrow key)
  new ResizeObserver(() => paint(s)).observe(s.root);
}

function step(s, d) {
  show(s, s.at + d);
  report(s, 450);  // once the learner stops stepping
}

function show(s, u) {
  const h = s.payload.header;
  s.at = Math.max(1, Math.min(h.last + 1, Math.round(u)));
  s.controls.scrub.value = String(s.at);  // at once: the next key press counts from here
  if (loadedFrame(s, s.at) < 0) report(s, 0);  // not here: ask for it now
  if (!s.raf) s.raf = requestAnimationFrame(() => { s.raf = 0; paint(s); });
}

function report(s, delay) {
  clearTimeout(s.timer);
  s.timer = setTimeout(() => {
    if (s.at === s.reported) return;
    s.reported = s.at;
    s.sent.push(s.at);  // the page will send it back: an echo, not a new start
    s.setTriggerValue("update", s.at);
  }, delay);
}

function setLegend(box, items) {
  box.replaceChildren(...items.map(([label, color, dash]) => el("li", {},
    el("span", { class: `swatch ${dash || ""}`, style: `border-color: ${color}` }), label)));
}

function arrow(ctx, f, o, d, color, dash, width) {
  const x0 = f.x(o[0]), y0 = f.y(o[1]), x1 = f.x(o[0] + d[0]), y1 = f.y(o[1] + d[1]);
  if (![x0, y0, x1, y1].every(Number.isFinite)) return;
  ctx.strokeStyle = color; ctx.fillStyle = color; ctx.lineWidth = width;
  ctx.setLineDash(dash);
  ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke();
  ctx.setLineDash([]);
  const a = Math.atan2(y1 - y0, x1 - x0), L = 12;
  if (Math.hypot(x1 - x0, y1 - y0) < 2) return;
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - L * Math.cos(a - 0.4), y1 - L * Math.sin(a - 0.4));
  ctx.lineTo(x1 - L * Math.cos(a + 0.4), y1 - L * Math.sin(a + 0.4));
  ctx.closePath(); ctx.fill();
}

function paint(s) {
  if (!s.payload || !s.root.isConnected) return;
  const { header: h, arrays: a } = s.payload;
  const c = s.controls;
  c.scrub.max = String(h.last + 1);
  c.scrub.value = String(s.at);
  const said = `update ${s.at} of ${h.updates}`;
  c.scrub.setAttribute("aria-valuetext", said);
  c.prev.disabled = s.at <= 1;
  c.next.disabled = s.at >= h.last + 1;
  c.where.textContent = said;
  s.root.setAttribute("data-loaded", `${h.first + 1}-${h.last_loaded + 1}`);
  const k = loadedFrame(s, s.at);
  if (k < 0) {
    s.loading.textContent = `Update ${s.at} is not loaded yet: fetching the updates around it…`;
    s.root.classList.add("waiting");
    return;
  }
  s.root.classList.remove("waiting");
  s.loading.textContent = "";
  const fr = h.frames[k];
  s.caption.textContent = `${fr.where} ${h.caption}`;
  h.cards.forEach(([name, help], i) => {
    s.cards[i].name.textContent = name;
    s.cards[i].value.textContent = fr.cards[i];
    s.cards[i].help.textContent = help;
  });
  const P = a.trail.shape[1], row = h.first + k - h.trail_from;  // the parameters before it
  const params = Array.from(a.trail.subarray(row * P, (row + 1) * P));
  drawUpdate(s, h, a, k, fr, params);
  drawBatchData(s, h, a, k, fr, params);
  s.update.canvas.setAttribute("aria-label", fr.summary);
  s.data.canvas.setAttribute("aria-label", fr.data_summary);
  s.root.setAttribute("data-update", String(s.at));
}

// Where the segment from o (inside the box) to o + d leaves the box [x0, x1] × [y0, y1], in
// data units; null when o + d is inside.
function exitPoint(o, d, x0, x1, y0, y1) {
  const tip = [o[0] + d[0], o[1] + d[1]];
  if (tip[0] >= x0 && tip[0] <= x1 && tip[1] >= y0 && tip[1] <= y1) return null;
  let t = 1;
  if (d[0] > 0) t = Math.min(t, (x1 - o[0]) / d[0]);
  if (d[0] < 0) t = Math.min(t, (x0 - o[0]) / d[0]);
  if (d[1] > 0) t = Math.min(t, (y1 - o[1]) / d[1]);
  if (d[1] < 0) t = Math.min(t, (y0 - o[1]) / d[1]);
  return [o[0] + t * d[0], o[1] + t * d[1]];
}

function drawUpdate(s, h, a, k, fr, params) {
  const p = s.update;
  p.title.textContent = fr.title;
  const { ctx, w, h: height } = sizeCanvas(p.canvas);
  ctx.clearRect(0, 0, w, height);
  const g = a.axis0.shape[1];
  const ax0 = a.axis0.subarray(k * g, (k + 1) * g), ax1 = a.axis1.subarray(k * g, (k + 1) * g);
  const loss = a.zoom.subarray(k * g * g, (k + 1) * g * g);
  const L = a.levels.shape[1], levels = a.levels.subarray(k * L, (k + 1) * L);
  // A square plot: one unit is as long on both axes, so the arrows' angles are true.
  // Room at the left for the tick labels of a small window (-0.0125) beside the axis' title.
  const left = 70;
  const side = Math.min(w - left - 14, height - 40);
  const f = frameOf(w, height, [ax0[0], ax0[g - 1]], [ax1[0], ax1[g - 1]],
    { left, right: w - left - side, top: 6, bottom: height - 6 - side });
  ctx.save();
  drawField(ctx, f, ax0, ax1, loss, levels);
  // Colours and legend entries come from the payload (ui/inside_stage/payload.py LEGEND),
  // the same list the page's caption is written from; only the entries that apply are shown.
  const C = Object.fromEntries(h.legend.map(([key, , , color]) => [key, color]));
  const shown = new Set(fr.legend);
  // This epoch so far: the parameters from its start up to those before this update (t).
  const t = h.first + k;
  const from = Math.max(h.trail_from, t - (t % h.updates_per_epoch));
  const P = a.trail.shape[1];
  ctx.strokeStyle = C.trail; ctx.fillStyle = C.trail; ctx.lineWidth = 1.5; ctx.globalAlpha = 0.7;
  ctx.beginPath();
  for (let i = from; i <= t; i++) ctx.lineTo(f.x(a.trail[(i - h.trail_from) * P]), f.y(a.trail[(i - h.trail_from) * P + 1]));
  ctx.stroke();
  ctx.globalAlpha = 1;
  const o = params;
  // Each row's own step (grey), their tips, then the three steps that matter.
  const at = fr.at[0];
  ctx.globalAlpha = 0.6;
  ctx.strokeStyle = C.rows; ctx.lineWidth = 1.5;
  ctx.beginPath();
  for (let r = 0; r < fr.arrows; r++) {
    const dx = a.sample_steps[(at + r) * 2], dy = a.sample_steps[(at + r) * 2 + 1];
    ctx.moveTo(f.x(o[0]), f.y(o[1])); ctx.lineTo(f.x(o[0] + dx), f.y(o[1] + dy));
  }
  ctx.stroke();
  ctx.fillStyle = C.rows;
  for (let r = 0; r < fr.arrows; r++) {
    const dx = a.sample_steps[(at + r) * 2], dy = a.sample_steps[(at + r) * 2 + 1];
    ctx.beginPath(); ctx.arc(f.x(o[0] + dx), f.y(o[1] + dy), 2, 0, 2 * Math.PI); ctx.fill();
  }
  ctx.globalAlpha = 1;
  const vec = (name) => [a[name][k * 2], a[name][k * 2 + 1]];
  arrow(ctx, f, o, vec("full_step"), C.full, [2, 4], 3.5);
  arrow(ctx, f, o, vec("batch_step"), C.batch, [], 3.5);
  if (shown.has("taken")) arrow(ctx, f, o, vec("taken_step"), C.taken, [8, 5], 3.5);
  ctx.fillStyle = C.point;
  ctx.beginPath(); ctx.arc(f.x(o[0]), f.y(o[1]), 5, 0, 2 * Math.PI); ctx.fill();
  // The network's ✕ lies on its slice, not on this plane through the update: not shipped.
  if (a["surface.minimum"]) drawMinimum(ctx, f, a["surface.minimum"]);
  ctx.restore();
  // A row step that reaches past the window stops at its edge, ringed there (the legend
  // counts them: payload.past_the_edge), so no arrow just runs off the picture.
  ctx.save();
  ctx.strokeStyle = "#3b4148"; ctx.lineWidth = 1.5;
  for (let r = 0; r < fr.arrows; r++) {
    const d = [a.sample_steps[(at + r) * 2], a.sample_steps[(at + r) * 2 + 1]];
    const p = exitPoint(o, d, ax0[0], ax0[g - 1], ax1[0], ax1[g - 1]);
    if (!p || !p.every(Number.isFinite)) continue;
    ctx.beginPath(); ctx.arc(f.x(p[0]), f.y(p[1]), 4, 0, 2 * Math.PI); ctx.stroke();
  }
  ctx.restore();
  drawAxes(ctx, f, ...h.axis_titles);  // the slice's say which directions α and β are
  const labels = { rows: fr.arrows_label, point: fr.before };
  setLegend(p.legendBox, h.legend.filter(([key]) => shown.has(key))
    .map(([key, label, , color, dash]) => [labels[key] || label, color, dash]));
}

function drawBatchData(s, h, a, k, fr, params) {
  const p = s.data;
  p.title.textContent = fr.data_title;
  const { ctx, w, h: height } = sizeCanvas(p.canvas);
  ctx.clearRect(0, 0, w, height);
  const x = a["data.x"], y = a["data.y"];
  if (!s.range) s.range = dataRange(x, y);
  const f = frameOf(w, height, s.range[0], s.range[1], { left: 44, bottom: 30, top: 8 });
  drawAxes(ctx, f, "x", "y");
  ctx.save();
  clip(ctx, f);
  ctx.globalAlpha = 0.6;
  const D = h.colours;
  for (let i = 0; i < h.shown_train; i++) dot(ctx, f, x[i], y[i], D.train, 3);
  for (let i = h.shown_train; i < x.length; i++) dot(ctx, f, x[i], y[i], D.val, 3.2);
  ctx.globalAlpha = 1;
  for (let r = 0; r < fr.rows; r++) {
    const i = a.rows[fr.at[1] + r];
    dot(ctx, f, x[i], y[i], D.batch, 4.5);
  }
  if (a.fit) {  // the network's curve, computed in Python (payload.py): frame k's
    const G = a.fit.shape[1];
    drawCurve(ctx, f, a["data.fit_x"], a.fit.subarray(k * G, (k + 1) * G), D.fit);
  } else drawFit(ctx, f, h.model, params, D.fit);
  ctx.restore();
  const items = [["training rows", D.train]];
  if (h.shown_train < x.length) items.push(["validation rows", D.val]);
  items.push([`this batch's rows`, D.batch], [`${h.fit_label} before update ${fr.update}`, D.fit]);
  setLegend(p.legendBox, items);
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let s = SCRUBBERS.get(parentElement);
  if (!s) {
    s = { at: 1, raf: 0, timer: 0, reported: undefined, startUpdate: undefined, bytes: null, sent: [] };
    SCRUBBERS.set(parentElement, s);
  }
  s.setTriggerValue = setTriggerValue;
  const buffer = toBuffer(data);
  if (!buffer) return undefined;
  if (!s.root) buildInside(parentElement, s);
  const start = startOf(buffer);
  // The page's start is one of the browser's own stops coming back (the learner may have
  // stepped on since, with more stops on their way): keep the learner's update. Anything
  // else (a first load, a link, a new run that clamps the update) moves the scrubber.
  const echo = s.sent.indexOf(start);
  if (echo >= 0) s.sent.splice(0, echo + 1);  // this stop and the ones before it are back
  if (!(s.bytes && sameRuns(s.bytes, buffer))) {
    s.payload = unpack(buffer, "SGI1");
    s.range = null;
    // Keep the learner's update if it is loaded here and the page did not move it.
    if (!(echo >= 0 && loadedFrame(s, s.at) >= 0)) s.startUpdate = undefined;
  }
  s.bytes = buffer;
  if (echo < 0 && start !== s.startUpdate) {
    s.startUpdate = start;
    s.reported = start;
    s.sent = [];
    s.at = start === null ? s.payload.header.first + 1 : start;
  } else if (echo >= 0) {
    s.startUpdate = start;
  }
  paint(s);
  return undefined;
}
