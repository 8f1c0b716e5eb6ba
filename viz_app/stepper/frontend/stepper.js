// Client-side stepping for the Compare view.
//
// Streamlit sends the whole payload (every model's trace as plotly figures) once per
// sentence; moving the step only restyles what moves: the step marker on each heatmap,
// the output bars and the token strip. The step goes back to Streamlit debounced, only
// for the URL and session state.
//
// User text only ever reaches the DOM through textContent.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const slider = $("step"), play = $("play"), stepText = $("step-text"), note = $("note"), columnsEl = $("columns");
  const WINDOW = 30; // tokens either side of the current one in each strip
  const REPORT_MS = 300;
  let P = null, key = null, t = 0, cols = [], timer = null, reportTimer = null, reported = null;

  function send(type, extra) {
    window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, extra || {}), "*");
  }
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  const clamp = (s) => Math.max(0, Math.min(P.T - 1, s | 0));
  const plotConfig = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };

  function build(p) {
    stop();
    cols.forEach((c) => Plotly.purge(c.heat));
    columnsEl.replaceChildren();
    columnsEl.style.setProperty("--ncols", p.columns.length);
    note.textContent = p.note || "";
    slider.max = String(p.T - 1);
    cols = p.columns.map((c) => {
      const root = el("div", "col");
      root.append(el("h3", "", c.title), el("div", "meta", c.meta), el("div", "warn", c.warning || ""));
      const outTitle = el("div", "out-title", c.output ? c.output.title : "");
      const bars = c.output ? el("div", "bars") : null;
      const rows = [];
      if (bars) {
        const k = c.output.values[0].length;
        for (let j = 0; j < k; j++) {
          const lab = el("span", "bar-label"), track = el("span", "bar-track"), fill = el("span", "bar-fill"), val = el("span", "bar-value");
          lab.dir = "auto";
          track.append(fill);
          bars.append(lab, track, val);
          rows.push({ lab: lab, fill: fill, val: val });
        }
      }
      const detail = el("div", "detail");
      const strip = el("div", "strip");
      const spans = [];
      for (let i = 0; i < Math.min(p.T, 2 * WINDOW + 1); i++) { const s = el("span", "tok"); s.dir = "auto"; strip.append(s); spans.push(s); }
      const wrap = el("div", "heat-wrap"), heat = el("div", "heat"), marker = el("div", "marker");
      wrap.append(heat, marker);
      root.append(outTitle);
      if (bars) root.append(bars, detail);
      root.append(strip, wrap);
      columnsEl.append(root);
      // The figure's shapes[0] is the step marker for static use (notebooks); here an
      // overlaid div replaces it, because moving a div costs nothing and a plotly
      // relayout redraws the whole figure (about 35 ms each).
      const layout = Object.assign({}, c.heatmap.layout, { shapes: [] });
      Plotly.newPlot(heat, c.heatmap.data, layout, plotConfig);
      const col = { spec: c, detail: detail, heat: heat, marker: marker, rows: rows, spans: spans, unk: new Set(c.unknown || []), geom: null };
      const measure = () => { col.geom = geometry(heat, c.marker_half); placeMarker(col); };
      heat.on("plotly_afterplot", measure);
      measure();
      return col;
    });
  }

  // Pixel geometry of the time axis, measured after each plotly draw (resize, zoom).
  function geometry(gd, half) {
    const fl = gd._fullLayout;
    if (!fl || !fl.xaxis || !fl._size) return null;
    const xa = fl.xaxis, p0 = xa.l2p(0), p1 = xa.l2p(1);
    return { x0: xa._offset + p0, dx: p1 - p0, half: half, top: fl._size.t, height: fl._size.h, right: xa._offset + xa._length, left: xa._offset };
  }
  function placeMarker(c) {
    const g = c.geom, m = c.marker;
    if (!g) { m.style.display = "none"; return; }
    const a = Math.max(g.left, g.x0 + (t - g.half) * g.dx), b = Math.min(g.right, g.x0 + (t + g.half) * g.dx);
    m.style.display = "block";
    m.style.top = g.top + "px";
    m.style.height = g.height + "px";
    m.style.width = Math.max(2, b - a) + "px";
    m.style.transform = "translateX(" + a + "px)";
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
      placeMarker(c);
      drawBars(c, t);
      drawStrip(c, t);
    }
    // Tell tests and the benchmark when this step is on screen: after the next paint.
    const stamp = key + ":" + t;
    requestAnimationFrame(() => setTimeout(() => {
      document.body.dataset.drawn = stamp;
      window.dispatchEvent(new CustomEvent("rnnscope:drawn", { detail: { stamp: stamp, at: performance.timeOrigin + performance.now() } }));
    }, 0));
  }

  function report() {
    clearTimeout(reportTimer);
    reportTimer = setTimeout(() => {
      if (timer === null && t !== reported) { reported = t; send("streamlit:setComponentValue", { value: t, dataType: "json" }); }
    }, REPORT_MS);
  }

  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    play.textContent = "▶ Play";
    play.setAttribute("aria-label", "play");
  }
  function start() {
    if (t >= P.T - 1) show(0);
    const ms = Math.max(30, Math.min(400, 12000 / P.T)); // a whole sentence in about 12 s
    timer = setInterval(() => { if (t >= P.T - 1) { stop(); report(); } else show(t + 1); }, ms);
    play.textContent = "⏸ Pause";
    play.setAttribute("aria-label", "pause");
  }

  slider.addEventListener("input", () => { show(+slider.value); report(); });
  play.addEventListener("click", () => { if (timer === null) start(); else { stop(); report(); } });

  window.addEventListener("message", (ev) => {
    const d = ev.data;
    if (!d || d.type !== "streamlit:render") return;
    const a = d.args;
    if (a.payload_key !== key) {
      key = a.payload_key;
      P = JSON.parse(a.payload);
      reported = a.step;
      build(P);
      show(a.step);
    }
  });
  new ResizeObserver(() => send("streamlit:setFrameHeight", { height: document.documentElement.scrollHeight })).observe($("root"));
  send("streamlit:componentReady", { apiVersion: 1 });
})();
