/* Shared canvas drawing for the browser components (ui/stage, ui/inside_stage): axes, ticks,
legends, the loss field and its contour lines, the three models' prediction formulas.

A module that each component's module imports (ui/web is the components' asset folder, served
once by URL: pyproject.toml's [tool.streamlit.component]).
*/

export const OKABE = {
  blue: "#0072B2", orange: "#E69F00", green: "#009E73", vermilion: "#D55E00",
  purple: "#CC79A7", sky: "#56B4E9", yellow: "#F0E442", grey: "#7F7F7F",
};
// The canvases' text: 12 px, or larger where a view asks (the stage's presenter view, 20 px).
export function fontOf(size) {
  return `${size}px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif`;
}
export const FONT = fontOf(12);
export const PREDICT = {
  linear: (p, x) => p[0] * x + p[1],
  logistic: (p, x) => 1 / (1 + Math.exp(-(p[0] * x + p[1]))),
  tanh: (p, x) => p[1] * Math.tanh(p[0] * x),
};
export function toBuffer(data) {
  // Protobuf hands us a Uint8Array view into a larger message, not 4-byte aligned: copy it.
  if (data instanceof ArrayBuffer) return data;
  if (ArrayBuffer.isView(data)) {
    return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  }
  return null;
}

// Payloads (ui/stage/payload.py's layout): the header ends with `"update":…}`
// (payload.with_update), where playback or the scrubber starts, after the stage's `"view":{…}`
// when it has one (payload.with_view: flat, no braces inside); neither is part of the runs.
export const UPDATE_KEY = /(?:,"view":\{[^{}]*\})?,"update":(null|\d+)\}\s*$/;

// A payload's header and named Float32Array views into its blob, each with its `shape`.
// Layout: 4 magic bytes, the header's length (uint32, little-endian), the JSON header, the blob.
// An entry [offset, shape, low, high] is a drawn-only array in 16-bit steps from low to high
// (payload.py Writer.add_drawn; 65535 is not finite): decoded to a Float32Array once, here.
export const QUANTA = 65534;
export function unpack(buffer, magic) {
  const bytes = new Uint8Array(buffer);
  if (String.fromCharCode(...bytes.subarray(0, 4)) !== magic) throw new Error(`not a ${magic} payload`);
  const header = JSON.parse(headerText(buffer));
  const start = 8 + new DataView(buffer).getUint32(4, true);
  const blob = new Float32Array(buffer, start);
  const arrays = {};
  for (const [name, [offset, shape, low, high]] of Object.entries(header.arrays)) {
    const count = shape.reduce((a, b) => a * b, 1);
    if (low === undefined) arrays[name] = blob.subarray(offset, offset + count);
    else {
      const steps = new Uint16Array(buffer, start + 4 * offset, count), step = (high - low) / QUANTA;
      arrays[name] = Float32Array.from(steps, (q) => (q > QUANTA ? NaN : low + q * step));
    }
    arrays[name].shape = shape;
  }
  return { header, arrays };
}

export function headerText(buffer) {
  const length = new DataView(buffer).getUint32(4, true);
  return new TextDecoder().decode(new Uint8Array(buffer, 8, length));
}

export function startOf(buffer) {
  const m = headerText(buffer).match(UPDATE_KEY);
  return m && m[1] !== "null" ? Number(m[1]) : null;
}

// A new start only (the learner's own report coming back, or a link): keep what is decoded.
export function sameRuns(a, b) {
  const ha = headerText(a), hb = headerText(b);
  if (ha.replace(UPDATE_KEY, "}").trimEnd() !== hb.replace(UPDATE_KEY, "}").trimEnd()) return false;
  const x = new Uint8Array(a, 8 + new DataView(a).getUint32(4, true));
  const y = new Uint8Array(b, 8 + new DataView(b).getUint32(4, true));
  if (x.length !== y.length) return false;
  for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return false;
  return true;
}

export function niceTicks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return out;
}

// At least `least` ticks between lo and hi (a tick label every ~`count`-th of the axis): a
// projector shows three labelled ticks on every axis, however short the range.
export function ticksAtLeast(lo, hi, count, least = 3) {
  let out = niceTicks(lo, hi, count);
  for (let c = count + 1; out.length < least && c <= count + 8; c++) out = niceTicks(lo, hi, c);
  return out;
}

// Ticks of a log10 axis from 10^lo to 10^hi, as values: whole decades when at least `least`
// fit, else 1-3, 1-2-5 or 1…9 in each decade (the first that gives `least`), else evenly spaced.
export function logTicks(lo, hi, count, least = 3) {
  const first = Math.ceil(lo), last = Math.floor(hi), n = last - first + 1;
  if (n >= least) {  // every stride-th decade, evenly
    const stride = Math.max(1, Math.floor((n - 1) / (Math.max(count, least) - 1)));
    const out = [];
    for (let e = first; e <= last; e += stride) out.push(10 ** e);
    return out;
  }
  for (const mantissas of [[1, 3], [1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
    const out = [];
    for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
      for (const m of mantissas) {
        const v = m * 10 ** e, at = Math.log10(v);
        if (at >= lo - 1e-9 && at <= hi + 1e-9) out.push(Number(v.toPrecision(12)));
      }
    }
    if (out.length >= least) {  // thinned to about `count`, never below `least`
      const stride = Math.max(1, Math.floor(out.length / Math.max(least, count)));
      return out.filter((_, k) => k % stride === 0);
    }
  }
  return ticksAtLeast(10 ** lo, 10 ** hi, count, least).filter((v) => v > 0);
}

export function fmt(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0).replace("e+", "e");
  return String(Number(v.toPrecision(3)));
}

// Python's f"{v:.4g}" (ui.words.number): the cards' numbers read the same from either side.
export function g4(v) {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? "nan" : "∞";
  if (v === 0) return "0";
  const [mantissa, exponent] = v.toExponential(3).split("e");
  const e = Number(exponent);
  if (e < -4 || e >= 4) {
    const m = mantissa.replace(/\.?0+$/, "");
    return `${m}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  }
  return String(Number(v.toPrecision(4)));
}

// ui.words.gap_text for a frame's float32 loss: within float32's rounding of the minimum, "0".
export function gapText(loss, minimum) {
  const gap = loss - minimum;
  return Math.abs(gap) <= 1e-6 * Math.max(1, Math.abs(minimum)) ? "0" : g4(gap);
}

export function sizeCanvas(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, canvas.clientWidth), h = Math.max(1, canvas.clientHeight);
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return { ctx, w, h, dpr };
}

// A plot area inside a canvas, with linear or log10 axes: x(v), y(v) map data to pixels.
export function frameOf(w, h, xr, yr, { left = 52, right = 10, top = 8, bottom = 30, logY = false } = {}) {
  const pw = w - left - right, ph = h - top - bottom;
  const fy = logY ? (v) => Math.log10(Math.max(v, 1e-300)) : (v) => v;
  return {
    left, top, pw, ph, xr, yr, logY,
    x: (v) => left + ((v - xr[0]) / (xr[1] - xr[0] || 1)) * pw,
    y: (v) => top + ph - ((fy(v) - yr[0]) / (yr[1] - yr[0] || 1)) * ph,
  };
}

// `size`: the labels' font size in px; the gaps around them and the ticks' spacing follow it
// (at 12, the default, exactly as they always were).
export function drawAxes(ctx, f, xLabel, yLabel, size = 12) {
  const k = size / 12;
  ctx.save();
  ctx.strokeStyle = "#8c959f";
  ctx.lineWidth = 1;
  ctx.strokeRect(f.left + 0.5, f.top + 0.5, f.pw, f.ph);
  ctx.fillStyle = "#3b4148";
  ctx.font = fontOf(size);
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  const drawn = { x: [], y: [] };  // the labels drawn, returned for the test hook
  for (const v of ticksAtLeast(f.xr[0], f.xr[1], Math.max(2, Math.floor(f.pw / (80 * k))))) {
    const px = f.x(v);
    ctx.fillRect(px, f.top + f.ph, 1, 4);
    ctx.fillText(fmt(v), px, f.top + f.ph + 5);
    drawn.x.push(fmt(v));
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  const yt = f.logY
    ? logTicks(f.yr[0], f.yr[1], Math.max(2, Math.floor(f.ph / (32 * k))))
    : ticksAtLeast(f.yr[0], f.yr[1], Math.max(2, Math.floor(f.ph / (30 * k))));
  for (const v of yt) {
    const py = f.y(v);
    if (py < f.top - 1 || py > f.top + f.ph + 1) continue;
    ctx.fillRect(f.left - 4, py, 4, 1);
    ctx.fillText(fmt(v), f.left - 6, py);
    drawn.y.push(fmt(v));
  }
  if (xLabel) {
    ctx.textAlign = "right";
    ctx.textBaseline = "bottom";
    ctx.fillText(xLabel, f.left + f.pw, f.top + f.ph + 5 + 2 * size);
  }
  if (yLabel) {
    ctx.translate(5 + size / 2, f.top + f.ph / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(yLabel, 0, 0);
  }
  ctx.restore();
  return drawn;
}

export function clip(ctx, f) {
  ctx.beginPath();
  ctx.rect(f.left, f.top, f.pw, f.ph);
  ctx.clip();
}

export function legend(ctx, f, items, size = 12) {
  ctx.save();
  ctx.font = fontOf(size);
  ctx.textBaseline = "middle";
  let x = f.left + 8;
  const y = f.top - (10 * size) / 12;
  for (const [label, color, dashed] of items) {
    ctx.strokeStyle = color;
    ctx.lineWidth = 3;
    ctx.setLineDash(dashed ? [4, 3] : []);
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + 16, y);
    ctx.stroke();
    ctx.fillStyle = "#1f2328";
    ctx.fillText(label, x + 20, y);
    x += 28 + ctx.measureText(label).width;
  }
  ctx.restore();
}

// Light ramp (low loss pale yellow → high loss pale blue-grey), log-scaled: the path and the
// contour lines stay the strongest marks on it.
export const RAMP = [[255, 249, 222], [246, 238, 200], [226, 232, 214], [204, 219, 230], [184, 203, 224]];
export function ramp(t) {
  const s = Math.min(0.9999, Math.max(0, t)) * (RAMP.length - 1), i = Math.floor(s), u = s - i;
  return RAMP[i].map((c, k) => Math.round(c + (RAMP[i + 1][k] - c) * u));
}

// Marching squares: segments of the level set {loss = level} on the grid, in data units.
export function contourSegments(loss, g0, g1, ax0, ax1, level) {
  const segs = [];
  const at = (i, j) => loss[j * g0 + i];
  const lerp = (a, b, va, vb) => a + ((level - va) / (vb - va)) * (b - a);
  for (let j = 0; j < g1 - 1; j++) {
    for (let i = 0; i < g0 - 1; i++) {
      const v = [at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j + 1)];
      if (!v.every(Number.isFinite)) continue;
      const x0 = ax0[i], x1 = ax0[i + 1], y0 = ax1[j], y1 = ax1[j + 1];
      const pts = [];
      const edge = (va, vb, p) => { if ((va < level) !== (vb < level)) pts.push(p()); };
      edge(v[0], v[1], () => [lerp(x0, x1, v[0], v[1]), y0]);
      edge(v[1], v[2], () => [x1, lerp(y0, y1, v[1], v[2])]);
      edge(v[3], v[2], () => [lerp(x0, x1, v[3], v[2]), y1]);
      edge(v[0], v[3], () => [x0, lerp(y0, y1, v[0], v[3])]);
      if (pts.length === 2) segs.push(pts[0], pts[1]);
      else if (pts.length === 4) segs.push(pts[0], pts[1], pts[2], pts[3]);
    }
  }
  return segs;
}

export function legendWidth(ctx, items, size = 12) {
  ctx.save();
  ctx.font = fontOf(size);
  const w = items.reduce((s, [label]) => s + 28 + ctx.measureText(label).width, 0);
  ctx.restore();
  return w;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

// The loss field on a grid, in frame f: a log-scaled colour ramp and the contour lines at
// the given levels. Leaves ctx clipped to the frame (the caller restores).
export function drawMinimum(ctx, f, m) {
  // The minimum of the training loss: a black cross at (m[0], m[1]).
  ctx.save();
  ctx.strokeStyle = "#000";
  ctx.lineWidth = 2.5;
  ctx.beginPath();
  ctx.moveTo(f.x(m[0]) - 7, f.y(m[1]) - 7); ctx.lineTo(f.x(m[0]) + 7, f.y(m[1]) + 7);
  ctx.moveTo(f.x(m[0]) - 7, f.y(m[1]) + 7); ctx.lineTo(f.x(m[0]) + 7, f.y(m[1]) - 7);
  ctx.stroke();
  ctx.restore();
}

// The lowest and highest finite loss on a grid: the colour scale of drawField.
export function fieldRange(loss) {
  let low = Infinity, high = -Infinity;
  for (const v of loss) if (Number.isFinite(v)) { low = Math.min(low, v); high = Math.max(high, v); }
  return [low, high];
}

// `range` ([low, high], default the grid's own) lets two grids share one colour scale.
export function drawField(o, f, ax0, ax1, loss, levels, range = fieldRange(loss)) {
  const g0 = ax0.length, g1 = ax1.length;
  const field = document.createElement("canvas");
  field.width = g0; field.height = g1;
  const img = field.getContext("2d").createImageData(g0, g1);
  // Colour by log(gap above the grid's lowest value + eps): bowls get even bands of colour.
  const [low, high] = range;
  const eps = Math.max((high - low) * 1e-3, 1e-12);
  const lo = Math.log(eps), hi = Math.log(high - low + eps);
  const logs = new Float32Array(loss.length);
  for (let k = 0; k < loss.length; k++) logs[k] = Math.log(Math.max(loss[k] - low, 0) + eps);
  for (let jj = 0; jj < g1; jj++) {
    for (let i = 0; i < g0; i++) {
      const k = jj * g0 + i, row = g1 - 1 - jj;  // image rows run top-down, axis1 bottom-up
      const [rr, gg, bb] = Number.isFinite(logs[k]) ? ramp((logs[k] - lo) / (hi - lo || 1)) : [200, 200, 200];
      img.data.set([rr, gg, bb, 255], (row * g0 + i) * 4);
    }
  }
  field.getContext("2d").putImageData(img, 0, 0);
  o.imageSmoothingEnabled = true;
  // Each grid value sits at a cell centre: stretch the image half a cell beyond the grid's
  // ends (the frame may show only part of the grid: a window widened to follow a path).
  const x0 = f.x(ax0[0]), x1 = f.x(ax0[g0 - 1]), top = f.y(ax1[g1 - 1]), bottom = f.y(ax1[0]);
  const cw = (x1 - x0) / (g0 - 1), chh = (bottom - top) / (g1 - 1);
  o.save();
  clip(o, f);
  o.drawImage(field, x0 - cw / 2, top - chh / 2, x1 - x0 + cw, bottom - top + chh);
  o.strokeStyle = "rgba(40, 50, 60, 0.35)";
  o.lineWidth = 1;
  o.beginPath();
  for (const level of levels) {
    const segs = contourSegments(loss, g0, g1, ax0, ax1, level);
    for (let k = 0; k < segs.length; k += 2) {
      o.moveTo(f.x(segs[k][0]), f.y(segs[k][1]));
      o.lineTo(f.x(segs[k + 1][0]), f.y(segs[k + 1][1]));
    }
  }
  o.stroke();
}

// The data panel's axes: the points' extent, padded 4 % in x and 8 % in y.
export function dataRange(x, y) {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let k = 0; k < x.length; k++) {
    x0 = Math.min(x0, x[k]); x1 = Math.max(x1, x[k]); y0 = Math.min(y0, y[k]); y1 = Math.max(y1, y[k]);
  }
  const px = (x1 - x0) * 0.04 || 1, py = (y1 - y0) * 0.08 || 1;
  return [[x0 - px, x1 + px], [y0 - py, y1 + py]];
}

export function dot(ctx, f, x, y, color, r) {
  ctx.fillStyle = color;
  ctx.beginPath();
  ctx.arc(f.x(x), f.y(y), r, 0, 2 * Math.PI);
  ctx.fill();
}

// A curve computed in Python (the network's fit): ys at xs, clipped far outside the frame.
export function drawCurve(ctx, f, xs, ys, color) {
  if (!ys.every(Number.isFinite)) return;
  ctx.strokeStyle = color;
  ctx.lineWidth = 3;
  ctx.beginPath();
  for (let k = 0; k < xs.length; k++) ctx.lineTo(f.x(xs[k]), Math.max(-1e4, Math.min(1e4, f.y(ys[k]))));
  ctx.stroke();
}

// The model's curve with parameters p across the frame's x range (clip to the frame first).
export function drawFit(ctx, f, model, p, color) {
  const predict = PREDICT[model];
  if (!predict || !p.every(Number.isFinite)) return;
  ctx.strokeStyle = color;
  ctx.lineWidth = 3;
  ctx.beginPath();
  const n = 120, [x0, x1] = f.xr;
  for (let k = 0; k <= n; k++) {
    const x = x0 + ((x1 - x0) * k) / n;
    ctx.lineTo(f.x(x), Math.max(-1e4, Math.min(1e4, f.y(predict(p, x)))));
  }
  ctx.stroke();
}
