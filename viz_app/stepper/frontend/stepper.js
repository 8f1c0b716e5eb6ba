// Client-side stepping for the Compare view.
//
// Streamlit sends the payload (viz_app/payload.py: every model's recorded arrays) once
// per sentence. Heatmaps are drawn once per sentence on canvases, one pixel per (step,
// unit), coloured through the same colour tables plotly uses in the other views. Moving
// the step then touches only what moves: an overlaid marker, the output bars and the
// token strip. The step goes back to Streamlit debounced, only for the URL and state.
//
// User text only ever reaches the DOM through textContent.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const slider = $("step"), play = $("play"), stepText = $("step-text"), note = $("note"), columnsEl = $("columns");
  const WINDOW = 30; // tokens either side of the current one in each strip
  const el = window.rnnscope.el; // shared with the view stepper: ../viz_app.frontend.common/timeline.js
  let buildMs = 0, parseMs = 0; // the last sentence's costs, reported with "rnnscope:drawn"
  let P = null, key = null, t = 0, cols = [], luts = {};
  function bytes(b64) {
    const bin = atob(b64), u = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i);
    return u;
  }
  const clamp = (s) => Math.max(0, Math.min(P.T - 1, s | 0));

  // -- heatmaps ------------------------------------------------------------------------
  // row: {name, title, colorscale, zmin, zmax, H, data: base64 float32 (cols, H)}
  function drawHeatmap(canvas, row, ncols) {
    const H = row.H, W = ncols, z = new Float32Array(bytes(row.data).buffer), lut = luts[row.colorscale];
    canvas.width = W;
    canvas.height = H;
    const ctx = canvas.getContext("2d"), img = ctx.createImageData(W, H), d = img.data;
    const scale = 255 / (row.zmax - row.zmin);
    for (let j = 0; j < W; j++) {
      for (let u = 0; u < H; u++) {
        const v = z[j * H + u], p = (u * W + j) * 4;
        if (Number.isFinite(v)) {
          const q = Math.max(0, Math.min(255, Math.round((v - row.zmin) * scale))) * 3;
          d[p] = lut[q]; d[p + 1] = lut[q + 1]; d[p + 2] = lut[q + 2];
        } else {
          d[p] = d[p + 1] = d[p + 2] = 210; // overflowed to inf/NaN
        }
        d[p + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
    canvas._z = z; // for the hover read-out
    canvas._row = row;
  }

  function hover(c, ev) {
    const cv = ev.target, r = cv.getBoundingClientRect(), row = cv._row;
    const j = Math.min(c.spec.cols - 1, Math.floor((ev.clientX - r.left) / r.width * c.spec.cols));
    const u = Math.min(row.H - 1, Math.floor((ev.clientY - r.top) / r.height * row.H));
    const step = j * c.spec.stride, v = cv._z[j * row.H + u];
    c.readout.textContent = row.name + " at t = " + step + " (" + P.tokens[step] + "), unit " + u + ": " + (Number.isFinite(v) ? v.toFixed(3) : String(v));
  }

  // -- columns -------------------------------------------------------------------------
  function skeleton() {
    const c = { root: el("div", "col"), title: el("h3"), meta: el("div", "meta"), warn: el("div", "warn"),
      outTitle: el("div", "out-title"), bars: el("div", "bars"), detail: el("div", "detail"),
      strip: el("div", "strip"), heat: el("div", "heat"), marker: el("div", "marker"), readout: el("div", "readout") };
    c.heat.append(c.marker);
    c.root.append(c.title, c.meta, c.warn, c.outTitle, c.bars, c.detail, c.strip, c.heat, c.readout);
    return c;
  }

  function build(p) {
    stop();
    luts = {};
    for (const name in p.luts) luts[name] = bytes(p.luts[name]);
    note.textContent = p.note || "";
    slider.max = String(p.T - 1);
    columnsEl.style.setProperty("--ncols", p.columns.length);
    while (cols.length > p.columns.length) cols.pop().root.remove();
    p.columns.forEach((spec, n) => {
      if (!cols[n]) { cols[n] = skeleton(); columnsEl.append(cols[n].root); }
      const c = cols[n];
      c.spec = spec;
      c.unk = new Set(spec.unknown || []);
      c.title.textContent = spec.title;
      c.meta.textContent = spec.meta;
      c.warn.textContent = spec.warning || "";
      c.outTitle.textContent = spec.output ? spec.output.title : "";
      c.detail.textContent = "";
      c.readout.textContent = "hover a heatmap to read a value; unit 0 is the top row";
      c.bars.replaceChildren();
      c.rows = [];
      const k = spec.output ? spec.output.values[0].length : 0;
      for (let j = 0; j < k; j++) {
        const lab = el("span", "bar-label"), track = el("span", "bar-track"), fill = el("span", "bar-fill"), val = el("span", "bar-value");
        lab.dir = "auto";
        track.append(fill);
        c.bars.append(lab, track, val);
        c.rows.push({ lab: lab, fill: fill, val: val });
      }
      c.strip.replaceChildren();
      c.spans = [];
      for (let i = 0; i < Math.min(p.T, 2 * WINDOW + 1); i++) { const s = el("span", "tok"); s.dir = "auto"; c.strip.append(s); c.spans.push(s); }
      c.heat.replaceChildren(c.marker);
      for (const row of spec.rows) {
        const title = el("div", "row-title", row.title), cv = el("canvas", "hm");
        cv.style.height = Math.max(48, Math.min(140, 2 * row.H)) + "px";
        cv.addEventListener("mousemove", (ev) => hover(c, ev));
        c.heat.append(title, cv);
        drawHeatmap(cv, row, spec.cols);
      }
      // The marker spans all rows; in percent of the width, so resizing needs nothing.
      c.marker.style.width = (100 / spec.cols) + "%";
    });
  }

  function drawBars(c, step) {
    const o = c.spec.output;
    if (!o) return;
    const row = o.values.length > 1 ? step : 0;
    const vals = o.values[row], labs = o.labels[o.labels.length > 1 ? row : 0];
    for (let j = 0; j < c.rows.length; j++) {
      const r = c.rows[j], v = vals[j];
      r.lab.textContent = labs[j];
      r.fill.style.width = (100 * Math.max(0, Math.min(1, v))) + "%";
      r.val.textContent = v.toFixed(2);
    }
    c.detail.textContent = o.detail ? o.detail[step] : "";
  }

  function drawStrip(c, step) {
    const n = c.spans.length, T = P.T;
    const lo = Math.max(0, Math.min(step - WINDOW, T - n));
    for (let i = 0; i < n; i++) {
      const k = lo + i, s = c.spans[i];
      s.textContent = P.tokens[k];
      s.className = "tok" + (k === step ? " cur" : "") + (c.unk.has(k) ? " unk" : "");
      s.title = "t = " + k;
    }
  }

  function show(step) {
    t = clamp(step);
    slider.value = String(t);
    stepText.textContent = "t = " + t + " / " + (P.T - 1) + " · " + P.tokens[t];
    for (const c of cols) {
      c.marker.style.left = (100 * Math.floor(t / c.spec.stride) / c.spec.cols) + "%";
      drawBars(c, t);
      drawStrip(c, t);
    }
    window.rnnscope.markDrawn(key + ":" + t, { buildMs: buildMs, parseMs: parseMs });
  }

  // -- time ----------------------------------------------------------------------------
  const time = window.rnnscope.timeline({
    slider: slider, play: play, show: show, now: () => t, length: () => (P ? P.T : 0),
  });

  window.rnnscope.connect($("root"), (d) => {
    if (d.theme) window.rnnscope.applyTheme(d.theme);
    const a = d.args;
    if (a.payload_key !== key) {
      key = a.payload_key;
      const t0 = performance.now();
      const next = JSON.parse(a.payload);
      const t1 = performance.now();
      // The same text with richer outputs (per-prefix probabilities arrive a moment
      // later): keep the step and keep playing.
      const same = P !== null && next.T === P.T && next.tokens.join("\u0000") === P.tokens.join("\u0000");
      const playing = same && time.playing();
      P = next;
      if (!same) time.reportedIs(a.step);
      build(P);
      parseMs = t1 - t0;
      buildMs = performance.now() - t1;
      show(same ? t : a.step);
      if (playing) time.start();
    }
  });
})();
