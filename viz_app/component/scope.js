// rnnscope's one browser component (Streamlit components v2: no iframe).
//
// Python sends one payload per text (viz_app/component/payload.py; the schema is in
// docs/CONTRACTS.md): the time steps' tokens and columns of panels. A panel is data
// plus a type name, and one renderer per type draws it: text, bars, formula, plotly,
// heatmap. After that, stepping never leaves the browser: a step moves what moves (an
// overlaid marker per chart, the bars, the formulas, the current token) and goes
// back to Streamlit debounced, only for the URL and session state.
//
// A second, tiny mount of the same component can patch a panel of a payload already
// on screen ({update_for, patches}): the classifiers' per-prefix probabilities arrive
// that way, a moment after the columns, without a redraw.
//
// User text reaches the DOM only through textContent; plotly text is escaped in Python.

const PLOTLY_JS = "_stcore/bidi-components/rnnscope.scope/plotly.min.js"; // the installed plotly's own
const REPORT_MS = 300; // the step goes back to Streamlit this long after the last change
const WINDOW = 30; // tokens either side of the current one in a strip
const PLOT_CONFIG = { // the modebar keeps zoom and its PNG button; "share" would upload the data
  displaylogo: false, responsive: true, showSendToCloud: false,
  modeBarButtonsToRemove: ["select2d", "lasso2d", "sendChartToCloud"],
};

const scopes = new Map(); // parent element -> Scope
const patches = new Map(); // payload key -> [patch], for payloads not on screen yet
let activeScope = null; // the one the arrow keys step
let plotlyReady = null;

// -- small helpers ------------------------------------------------------------------------

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

function num(x, digits) {
  if (x === null || x === undefined || Number.isNaN(x)) return "—";
  if (typeof x !== "number") return String(x);
  return x.toFixed(digits).replace("-", "−");
}

const clamp = (t, T) => Math.max(0, Math.min(T - 1, t | 0));

// The step reported, in the address bar at once. The server writes it there too once the
// report reaches it, but Streamlit drops a report from a page whose session expired (a
// network drop longer than the TTL) until the next full run; a reload or a copied address
// must still open this step.
function stepInAddress(t) {
  const url = new URL(window.location.href);
  if (url.searchParams.get("step") === String(t)) return;
  url.searchParams.set("step", String(t));
  window.history.replaceState(window.history.state, "", url);
}

// The component's own words come in the payload, in the page's language (payload.strings
// in Python); these English ones stand in for a payload that lacks them.
const STRINGS = {
  play: "▶ Play", pause: "⏸ Pause", units: "units:", time_step: "time step",
  no_quantity: "This cell has no {name}.", few_units: "This layer has only {H} units.",
  unit_over_time: "{title}, unit {unit} over time (click another row to change; the same unit index in every column)",
  unknown: "{t} (not in the vocabulary: read as <unk>)", not_drawn: "The charts could not be drawn: {error}",
};

function say(P, key, params) {
  const text = (P && P.strings && P.strings[key]) || STRINGS[key];
  return text.replace(/\{(\w+)\}/g, (m, name) => (params && name in params ? String(params[name]) : m));
}

function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!plotlyReady) {
    plotlyReady = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = new URL(PLOTLY_JS, document.baseURI).href;
      s.onload = () => resolve(window.Plotly);
      s.onerror = () => { plotlyReady = null; reject(new Error("plotly.js could not be loaded from " + s.src)); };
      document.head.append(s);
    });
  }
  return plotlyReady;
}

// Streamlit's theme reaches the component as CSS variables (--st-text-color, …).
function themeOf(node) {
  const css = getComputedStyle(node);
  const v = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  const size = node.classList.contains("rs-present") ? 16 : 12; // plotly's default, or larger for a projector
  return { text: v("--st-text-color", "#31333f"), font: v("--st-font", "sans-serif"), grid: "rgba(128,128,128,0.25)", size };
}

// A float32 array in plotly's JSON form {dtype: "f4", bdata, shape}, and its rows.
function decode(typed) {
  const bin = atob(typed.bdata), bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

function rowsOf(typed) {
  const flat = decode(typed), [R, C] = String(typed.shape).split(",").map(Number);
  return Array.from({ length: R }, (_, r) => flat.subarray(r * C, (r + 1) * C));
}

// -- formulas: a template, and one value per step for each field ---------------------------
// The template language of viz_app/charts/formula.py (its docstring lists the fields;
// the browser test holds this `fill` and that one equal).

const FIELD = /\{(\w+)(?:\.(\d+))?(?::([psde]|\d))?\}/g;

function fill(template, values, t, token, digits) {
  return template.replace(FIELD, (_, name, j, fmt) => {
    let v = name === "t" ? t : name === "tok" ? token : values[name][t];
    if (j !== undefined) v = v[+j];
    if (name === "t" || typeof v !== "number") return v === null || v === undefined ? "—" : String(v);
    if (fmt === "d") return String(Math.trunc(v));
    if (fmt === "e") return v.toExponential(2).replace(/-/g, "−");
    if (fmt === "p") return v < 0 ? "(" + num(v, digits) + ")" : num(v, digits);
    if (fmt === "s") return (v < 0 ? " − " : " + ") + num(Math.abs(v), digits);
    return num(v, fmt ? +fmt : digits);
  });
}

// -- panels: build(spec, scope, parent) -> {el, show(t), theme(colours), destroy()} ---------
// A panel appends its element to `parent` before drawing: plotly sizes a chart to its
// container, so the container must already be in the page.

function textPanel(spec, scope, parent) {
  const root = el("div", "rs-text rs-" + spec.mode), unk = new Set(spec.unknown || []);
  parent.append(root);
  if (spec.title) root.append(el("div", "rs-sub", spec.title));
  const box = el("div", "rs-tokens");
  root.append(box);
  let spans = [], cur = null;
  if (spec.mode === "strip") { // a window of tokens around t, refilled at every step
    const n = Math.min(scope.P.T, 2 * WINDOW + 1);
    for (let i = 0; i < n; i++) { const s = el("span", "rs-tok"); s.dir = "auto"; box.append(s); spans.push(s); }
  } else { // the whole text, each token clickable, shaded by spec.shade
    spans = new Array(scope.P.T);
    for (const [piece, i] of spec.pieces) {
      if (i < 0) { box.append(document.createTextNode(piece)); continue; }
      const s = el("span", "rs-tok" + (unk.has(i) ? " rs-unk" : ""), piece);
      s.dir = "auto";
      s.title = unk.has(i) ? say(scope.P, "unknown", { t: "t = " + i }) : "t = " + i;
      s.addEventListener("click", () => scope.step(i));
      box.append(s);
      spans[i] = s;
    }
  }
  // Shading: one weight per token, or (a list per step) one row per step; a diverging
  // shade is red for positive weights and blue for negative ones, by |w| / shade_max.
  const perStep = spec.shade && Array.isArray(spec.shade[0]);
  function shade(row) {
    spans.forEach((s, i) => {
      if (!s) return;
      const w = row[i] === null || row[i] === undefined ? 0 : row[i], a = Math.min(1, Math.abs(w) / spec.shade_max);
      s.style.background = (spec.diverging && w < 0 ? "rgba(28, 131, 225, " : "rgba(255, 75, 75, ") + a.toFixed(3) + ")";
    });
  }
  if (spec.shade && !perStep) shade(spec.shade);
  function show(t) {
    if (perStep) shade(spec.shade[t] || []); // steps past the rows given: no shading
    if (spec.mode === "strip") {
      const T = scope.P.T, lo = Math.max(0, Math.min(t - WINDOW, T - spans.length));
      spans.forEach((s, i) => {
        const k = lo + i;
        s.textContent = scope.P.tokens[k];
        s.className = "rs-tok" + (k === t ? " rs-cur" : "") + (unk.has(k) ? " rs-unk" : "");
        s.title = "t = " + k;
      });
      return;
    }
    if (cur !== null && spans[cur]) spans[cur].classList.remove("rs-cur");
    if (spans[t]) spans[t].classList.add("rs-cur");
    cur = t;
  }
  return { el: root, show: show };
}

function barsPanel(spec, scope, parent) {
  const root = el("div", "rs-barpanel"), title = el("div", "rs-sub"), grid = el("div", "rs-bars");
  parent.append(root);
  const detail = el("div", "rs-line");
  root.append(title, grid, detail);
  const k = spec.values[0].length, rows = [];
  for (let j = 0; j < k; j++) {
    const lab = el("span", "rs-bar-label"), track = el("span", "rs-bar-track"), fill_ = el("span", "rs-bar-fill");
    const val = el("span", "rs-bar-value");
    lab.dir = "auto";
    track.append(fill_);
    grid.append(lab, track, val);
    rows.push({ lab: lab, fill: fill_, val: val });
  }
  function show(t) {
    const row = spec.values.length > 1 ? t : 0, vals = spec.values[row];
    title.textContent = spec.title;
    rows.forEach((r, j) => {
      const id = spec.ids ? spec.ids[t][j] : j;
      r.lab.textContent = spec.ids ? spec.vocab[id] : spec.labels[j];
      r.lab.classList.toggle("rs-mark", spec.mark ? spec.mark[t] === id : false);
      r.fill.style.width = (100 * Math.max(0, Math.min(1, vals[j] || 0))) + "%";
      r.val.textContent = num(vals[j], spec.digits);
    });
    detail.textContent = spec.detail ? spec.detail[t] : "";
  }
  return { el: root, show: show };
}

function formulaPanel(spec, scope, parent) {
  const root = el("div", "rs-formula");
  parent.append(root);
  if (spec.title) root.append(el("div", "rs-rule" + (spec.muted ? " rs-untrained" : ""), spec.title));
  const body = el("div", "rs-formula-body");
  root.append(body);
  return {
    el: root,
    show: (t) => {
      body.textContent = spec.lines.map((l) => fill(l, spec.values, t, scope.P.tokens[t], spec.digits)).join("\n");
    },
  };
}

// A plotly chart whose x axis is time, with step t marked by an overlaid box: moving a
// div costs nothing, where a plotly relayout redraws the figure (tens of ms). It draws
// once plotly.js is loaded (the rest of the page does not wait for it), and redraws in
// place with Plotly.react, which is much cheaper than a new plot.
function plotBox(fig, stride, colours, parent, png) {
  const wrap = el("div", "rs-plot-wrap"), gd = el("div", "rs-plot"), marker = el("div", "rs-marker");
  wrap.append(gd, marker);
  wrap.style.height = (fig.layout.height || 450) + "px"; // known in advance: the chart's layout is contained
  parent.append(wrap);
  const box = { wrap: wrap, gd: gd, geom: null, t: 0, colours: colours };
  const measure = () => { box.geom = geometry(gd); box.place(box.t); };
  const draw = (f) => loadPlotly().then((Plotly) => Plotly.react(gd, f.data, themed(f.layout, box.colours), configFor(Plotly, png)));
  box.ready = draw(fig).then(() => { gd.on("plotly_afterplot", measure); measure(); });
  box.redraw = (f) => (box.ready = box.ready.then(() => draw(f)));
  box.place = (t) => {
    box.t = t;
    const g = box.geom;
    if (!g || stride === 0) { marker.style.display = "none"; return; }
    const s = Math.floor(t / stride) * stride, a = Math.max(g.left, g.x(s - stride / 2)), b = Math.min(g.right, g.x(s + stride / 2));
    marker.style.display = "block";
    marker.style.top = g.top + "px";
    marker.style.height = g.height + "px";
    marker.style.width = Math.max(2, b - a) + "px";
    marker.style.transform = "translateX(" + a + "px)";
  };
  box.theme = (c) => {
    box.colours = c;
    return box.ready.then(() => window.Plotly.relayout(gd, { "font.color": c.text, "font.family": c.font, "font.size": c.size }));
  };
  box.destroy = () => box.ready.then(() => window.Plotly.purge(gd));
  return box;
}

// PLOT_CONFIG, with the modebar's PNG button drawing the figure png(gd) gives (a chart whose
// colour scales are HTML beside it puts them back for the image).
function configFor(Plotly, png) {
  if (!png) return PLOT_CONFIG;
  const button = { name: "pngWithScales", title: "Download plot as a PNG", icon: Plotly.Icons.camera,
    click: (gd) => Plotly.downloadImage(png(gd), { format: "png", filename: "newplot", width: gd._fullLayout.width, height: gd._fullLayout.height }) };
  return Object.assign({}, PLOT_CONFIG, { modeBarButtonsToRemove: PLOT_CONFIG.modeBarButtonsToRemove.concat(["toImage"]),
    modeBarButtonsToAdd: [button] });
}

// A heatmap's colour bars are HTML, in the room plotly keeps for them: each plotly colour
// bar is an axis of its own that it lays out and draws again for every new text, half of
// what an LSTM's heatmap costs. The PNG button puts plotly's back for the image.
const colourAxes = (layout) => Object.keys(layout).filter((k) => /^coloraxis\d*$/.test(k));

function showScales(layout, on) {
  const out = Object.assign({}, layout);
  for (const k of colourAxes(layout)) out[k] = Object.assign({}, layout[k], { showscale: on });
  return out;
}

function scaleBars(layout) { // per colour axis: its colours upwards, its highest value, its title, its lowest
  const box = el("div", "rs-scales"), m = layout.margin || {}, end = (v) => num(v, v % 1 ? 1 : 0);
  box.style.top = (m.t || 0) + "px";
  box.style.bottom = (m.b || 0) + "px";
  for (const k of colourAxes(layout)) {
    const ca = layout[k], item = el("div", "rs-scale"), bar = el("span", "rs-scale-bar");
    bar.style.background = "linear-gradient(to top, " + ca.colorscale.map(([p, c]) => c + " " + 100 * p + "%").join(", ") + ")";
    item.append(bar, el("span", "rs-scale-max", end(ca.cmax)), el("span", "rs-scale-title", ((ca.colorbar || {}).title || {}).text || ""),
      el("span", "rs-scale-min", end(ca.cmin)));
    box.append(item);
  }
  return box;
}

// The page's theme on a figure's layout: its text colour and font, faint grid lines. Tick
// labels may overflow the chart's edge ("allow"): plotly's default measures every label of
// every axis and colour bar to hide those that do, a fifth of the time a new text takes to
// draw, and the chart's own box clips them anyway.
function themed(layout, colours) {
  const out = Object.assign({ xaxis: {}, yaxis: {} }, layout, { font: { color: colours.text, family: colours.font, size: colours.size } });
  for (const ax of Object.keys(out).filter((k) => /^[xy]axis\d*$/.test(k))) {
    out[ax] = Object.assign({}, out[ax], { gridcolor: colours.grid, zerolinecolor: colours.grid, ticklabeloverflow: "allow" });
  }
  for (const ca of colourAxes(out)) {
    out[ca] = Object.assign({}, out[ca], { colorbar: Object.assign({}, out[ca].colorbar, { ticklabeloverflow: "allow" }) });
  }
  return out;
}

function geometry(gd) {
  const fl = gd._fullLayout;
  if (!fl || !fl.xaxis || !fl._size) return null;
  const xa = fl.xaxis;
  return { x: (v) => xa._offset + xa.l2p(v), top: fl._size.t, height: fl._size.h, left: xa._offset, right: xa._offset + xa._length };
}

function plotlyPanel(spec, scope, parent) {
  const root = el("div", "rs-plotpanel"), caption = el("div", "rs-meta");
  parent.append(root);
  root.append(caption);
  const box = plotBox(spec.fig, spec.marker === false ? 0 : spec.stride || 1, scope.colours, root);
  let paths;
  function use(s) {
    spec = s;
    caption.textContent = spec.caption || "";
    paths = Object.keys(spec.steps || {});
  }
  use(spec);
  return {
    el: root, get ready() { return box.ready; },
    show: (t) => {
      box.place(t);
      if (paths.length) { // per-step changes to the figure itself (the cell diagram's colours and numbers)
        const update = {};
        for (const p of paths) update[p] = spec.steps[p][t];
        box.ready.then(() => window.Plotly.relayout(box.gd, update));
      }
    },
    update: (s) => { use(s); return box.redraw(s.fig); },
    theme: box.theme, destroy: box.destroy,
  };
}

// Heatmaps over time × units, one block of rows per quantity (viz_app/charts/heatmaps.py
// makes the figure): step t marked; rows re-orderable by the scope's unit order; a click
// on a unit shows that unit over time in every column (scope.selectUnit).
function heatmapPanel(spec, scope, parent) {
  const root = el("div", "rs-heatpanel");
  parent.append(root);
  let scales = null;
  let stored, steps, by = scope.orderSelect.value || "stored";
  function use(s) {
    spec = s;
    stored = spec.fig.data.map((tr) => rowsOf(tr.z)); // per quantity: H rows of T' values, stored unit order
    steps = decode(spec.fig.data[0].x);
    const bars = scaleBars(spec.fig.layout);
    if (scales) scales.replaceWith(bars);
    scales = bars;
  }
  function figure() { // each row's unit goes with it as customdata, for hover and click
    const data = spec.fig.data.map((tr, i) => {
      const H = stored[i].length, perm = by === "stored" ? Array.from({ length: H }, (_, u) => u) : spec.orders[spec.rows[i].name][by];
      return Object.assign({}, tr, { z: perm.map((u) => stored[i][u]), customdata: perm.map((u) => new Int16Array(steps.length).fill(u)) });
    });
    return { data: data, layout: showScales(spec.fig.layout, false) };
  }
  use(spec);
  const box = plotBox(figure(), spec.stride, scope.colours, root, (gd) => ({ data: gd.data, layout: showScales(gd.layout, true) }));
  box.wrap.append(scales);
  const unitNote = el("div", "rs-meta"), unitBox = el("div", "rs-unit");
  root.append(unitNote, unitBox);
  let unitPlot = null;
  box.ready.then(() => box.gd.on("plotly_click", (ev) => {
    const p = ev.points && ev.points[0];
    if (p && p.customdata !== undefined) scope.selectUnit(spec.rows[p.curveNumber].name, +p.customdata);
  }));
  function showUnit(name, unit) {
    const i = spec.rows.findIndex((r) => r.name === name);
    if (unitPlot) { unitPlot.destroy(); unitPlot = null; unitBox.replaceChildren(); }
    if (i < 0 || unit >= spec.rows[i].H) {
      unitNote.textContent = i < 0 ? say(scope.P, "no_quantity", { name: name }) : say(scope.P, "few_units", { H: spec.rows[i].H });
      return;
    }
    const axis = spec.fig.layout[spec.fig.data[i].coloraxis];
    unitNote.textContent = say(scope.P, "unit_over_time", { title: spec.rows[i].title, unit: unit });
    const line = { data: [{ type: "scatter", mode: "lines", x: Array.from(steps), y: Array.from(stored[i][unit]),
      line: { color: "#ff4b4b", width: 2 }, hovertemplate: "t=%{x}: %{y:.3f}<extra></extra>" }],
      layout: { height: 150, margin: { l: 40, r: 10, t: 6, b: 24 }, showlegend: false, paper_bgcolor: "rgba(0,0,0,0)",
        plot_bgcolor: "rgba(0,0,0,0)", yaxis: { range: [axis.cmin, axis.cmax], fixedrange: true }, xaxis: { fixedrange: true } } };
    unitPlot = plotBox(line, spec.stride, scope.colours, unitBox);
    unitPlot.place(scope.t);
  }
  return {
    el: root, get ready() { return box.ready; }, showUnit: showUnit,
    order: (o) => { by = o; return box.redraw(figure()); },
    update: (s) => { use(s); return box.redraw(figure()); },
    show: (t) => { box.place(t); if (unitPlot) unitPlot.place(t); },
    theme: (c) => { box.theme(c); if (unitPlot) unitPlot.theme(c); },
    destroy: () => { box.destroy(); if (unitPlot) unitPlot.destroy(); },
  };
}

const PANELS = { text: textPanel, bars: barsPanel, formula: formulaPanel, plotly: plotlyPanel, heatmap: heatmapPanel };

// -- the scope: the shell around the panels, and time ---------------------------------------

class Scope {
  constructor(parent) {
    this.root = el("div", "rs-scope");
    this.root.dataset.testid = "rs-scope";
    const controls = el("div", "rs-controls");
    this.play = el("button", "rs-play", say(null, "play"));
    this.play.type = "button";
    this.slider = el("input", "rs-slider");
    Object.assign(this.slider, { type: "range", min: "0", max: "0", value: "0", step: "1" });
    this.slider.setAttribute("aria-label", say(null, "time_step"));
    this.stepText = el("span", "rs-step-text");
    this.stepText.dir = "auto";
    this.orderBox = el("label", "rs-order", say(null, "units") + " ");
    this.orderSelect = el("select");
    this.orderBox.append(this.orderSelect);
    controls.append(this.play, this.slider, this.stepText, this.orderBox);
    this.note = el("div", "rs-note");
    this.wide = el("div", "rs-wide"); // panels across all columns
    this.columns = el("div", "rs-columns");
    this.root.append(controls, this.note, this.wide, this.columns);
    parent.append(this.root);

    this.key = null; this.P = null; this.t = 0; this.cols = []; this.timer = null; this.reportTimer = null;
    this.ready = Promise.resolve();
    this.reported = null; this.unit = null; this.report = () => {};
    this.play.addEventListener("click", () => (this.timer === null ? this.start() : this.pause()));
    this.slider.addEventListener("input", () => this.step(+this.slider.value));
    this.orderSelect.addEventListener("change", () => this.order(this.orderSelect.value));
    this.onKey = (ev) => this.keydown(ev);
    document.addEventListener("keydown", this.onKey);
  }

  // A render from Streamlit: a new payload, or the same one again (a rerun, a theme change).
  receive(data, setStateValue) {
    this.report = (t) => { // a stale report (an older text) is ignored in Python
      setStateValue("step", [data.key, t]);
      stepInAddress(t);
    };
    activeScope = this;
    this.presentAs(data.present || null);
    if (data.key === this.key) { this.retheme(); this.showColumns(); return; }
    this.key = data.key;
    const t0 = performance.now(), P = JSON.parse(data.payload), t1 = performance.now();
    this.build(P);
    this.reported = data.start;
    this.show(data.start, { receivedAt: t0, parseMs: t1 - t0, buildMs: () => performance.now() - t1 });
  }

  // Draw a payload. The text, bars and formulas appear at once; charts as soon as plotly.js
  // is there. A payload shaped like the one on screen (a new sentence in the same view)
  // updates each panel in place: Plotly.react instead of new plots.
  build(P) {
    const shape = (Q) => JSON.stringify([Q.view, (Q.wide || []).map((p) => p.type), Q.columns.map((c) => c.panels.map((p) => p.type))]);
    const same = this.P !== null && shape(this.P) === shape(P);
    if (!same) this.destroyPanels();
    this.P = P;
    this.speak();
    this.colours = themeOf(this.root);
    this.slider.max = String(P.T - 1);
    this.note.textContent = P.note || "";
    this.orderBox.style.display = P.unit_orders ? "" : "none";
    const by = this.orderSelect.value; // kept from the previous text when it still applies
    this.orderSelect.replaceChildren(...(P.unit_orders || []).map(([v, label]) => { const o = el("option", "", label); o.value = v; return o; }));
    if ((P.unit_orders || []).some(([v]) => v === by)) this.orderSelect.value = by;
    this.columns.style.setProperty("--rs-ncols", P.columns.length);
    const wide = { spec: { panels: P.wide || [] }, root: this.wide, panels: same ? this.widePanels : [] };
    (P.wide || []).forEach((spec, j) => {
      if (!same) wide.panels.push(PANELS[spec.type](spec, this, this.wide));
      else if (wide.panels[j].update) wide.panels[j].update(spec);
      else this.replace(wide, j, spec);
    });
    this.widePanels = wide.panels;
    this.cols = P.columns.map((c, i) => {
      const old = same ? this.cols[i] : null, root = old ? old.root : el("div", "rs-col");
      if (!old) {
        root.append(el("h3"), el("div", "rs-meta"), el("div", "rs-warn"));
        this.columns.append(root);
      }
      const [title, meta, warn] = root.children;
      title.textContent = c.title;
      meta.textContent = c.meta;
      warn.textContent = c.warning || "";
      const col = { spec: c, root: root, panels: old ? old.panels : [] };
      c.panels.forEach((spec, j) => {
        if (!old) col.panels.push(PANELS[spec.type](spec, this, root));
        else if (old.panels[j].update) old.panels[j].update(spec);
        else this.replace(col, j, spec);
      });
      return col;
    });
    this.ready = Promise.all(this.cols.flatMap((c) => c.panels).concat(this.widePanels).map((p) => p.ready))
      .catch((e) => { this.note.textContent = say(P, "not_drawn", { error: e.message }); });
    (patches.get(this.key) || []).forEach((p) => this.patch(p));
    if (this.unit) this.selectUnit(this.unit.name, this.unit.unit);
    this.showColumns();
  }

  // The shell's words in the payload's language (a new payload may bring another).
  speak() {
    this.playLabel(this.timer === null ? "play" : "pause");
    this.slider.setAttribute("aria-label", say(this.P, "time_step"));
    this.orderBox.firstChild.textContent = say(this.P, "units") + " ";
  }

  playLabel(key) { // "▶ Play" on the button; "Play" for a screen reader
    this.play.textContent = say(this.P, key);
    this.play.setAttribute("aria-label", say(this.P, key).replace(/^\S+\s+/, ""));
  }

  // Presentation mode (viz_app/present.py): larger type and marks, and perhaps one column only.
  presentAs(opts) {
    this.root.classList.toggle("rs-present", opts !== null);
    this.only = opts ? opts.only : null;
  }

  showColumns() {
    const has = this.only !== null && this.cols.some((c) => c.spec.title === this.only);
    let shown = 0;
    for (const c of this.cols) {
      const on = !has || c.spec.title === this.only;
      c.root.style.display = on ? "" : "none";
      shown += on ? 1 : 0;
    }
    this.columns.style.setProperty("--rs-ncols", Math.max(1, shown));
  }

  replace(col, j, spec) {
    const old = col.panels[j], next = PANELS[spec.type](spec, this, col.root);
    old.el.replaceWith(next.el); // drawn at the column's end, then moved into the old one's place
    if (old.destroy) old.destroy();
    col.panels[j] = next;
    return next;
  }

  // Replace one panel by a richer one (e.g. per-prefix probabilities), keeping the step.
  patch(p) {
    const col = this.cols[p.column];
    if (!col || !col.panels[p.panel]) return;
    const spec = Object.assign({}, col.spec.panels[p.panel], p.set);
    col.spec.panels[p.panel] = spec;
    this.replace(col, p.panel, spec).show(this.t);
  }

  order(by) {
    for (const c of this.cols) for (const p of c.panels) if (p.order) p.order(by);
  }

  selectUnit(name, unit) {
    this.unit = { name: name, unit: unit };
    this.cols.forEach((c) => c.panels.forEach((p) => p.showUnit && p.showUnit(name, unit)));
  }

  show(t, costs) {
    this.t = clamp(t, this.P.T);
    this.slider.value = String(this.t);
    this.stepText.textContent = (this.P.step_label || "t") + " = " + this.t + " / " + (this.P.T - 1) + " · " + this.P.tokens[this.t];
    for (const p of this.allPanels()) p.show(this.t);
    this.drawn(costs);
  }

  step(t) { this.show(t); this.scheduleReport(); }

  // Tell tests and benchmarks when a step is on screen, charts included: after the next paint.
  drawn(costs) {
    const stamp = this.key + ":" + this.t;
    this.ready.then(() => requestAnimationFrame(() => setTimeout(() => {
      if (this.key + ":" + this.t !== stamp) return; // a later step or text is on its way
      this.root.dataset.drawn = stamp;
      const c = Object.assign({}, costs || {});
      if (typeof c.buildMs === "function") c.buildMs = c.buildMs();
      const detail = Object.assign({ stamp: stamp, at: performance.timeOrigin + performance.now(), view: this.P.view }, c);
      window.dispatchEvent(new CustomEvent("rnnscope:drawn", { detail: detail }));
    }, 0)));
  }

  // -- time: one interval at most; a payload arriving while playing keeps it going ------
  start() {
    if (this.timer !== null || !this.P) return;
    if (this.t >= this.P.T - 1) this.show(0);
    const ms = Math.max(30, Math.min(400, 12000 / this.P.T)); // a whole text in about 12 s
    this.timer = setInterval(() => (this.t >= this.P.T - 1 ? this.pause() : this.show(this.t + 1)), ms);
    this.playLabel("pause");
    this.root.dataset.playing = "1";
  }

  pause() {
    if (this.timer !== null) { clearInterval(this.timer); this.timer = null; }
    this.playLabel("play");
    delete this.root.dataset.playing;
    this.scheduleReport();
  }

  scheduleReport() {
    clearTimeout(this.reportTimer);
    this.reportTimer = setTimeout(() => {
      if (this.timer === null && this.t !== this.reported) { this.reported = this.t; this.report(this.t); }
    }, REPORT_MS);
  }

  // Arrow keys, a presenter's clicker (Page Up / Page Down), Home and End step the
  // scope from anywhere on the page, except while typing in a field.
  keydown(ev) {
    if (activeScope !== this || !this.P || ev.defaultPrevented || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const tag = ev.target && ev.target.tagName, typing = ev.target && ev.target.isContentEditable;
    if (ev.target === this.slider || typing || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
    const moves = { ArrowRight: 1, ArrowLeft: -1, PageDown: 1, PageUp: -1, Home: -Infinity, End: Infinity };
    if (!(ev.key in moves)) return;
    ev.preventDefault();
    const d = moves[ev.key];
    this.step(Number.isFinite(d) ? this.t + d : d < 0 ? 0 : this.P.T - 1);
  }

  retheme() {
    const c = themeOf(this.root);
    if (!this.colours || (c.text === this.colours.text && c.size === this.colours.size)) return;
    this.colours = c;
    for (const p of this.allPanels()) if (p.theme) p.theme(c);
  }

  allPanels() {
    return this.cols.flatMap((c) => c.panels).concat(this.widePanels || []);
  }

  destroyPanels() {
    for (const p of this.allPanels()) if (p.destroy) p.destroy();
    this.columns.replaceChildren();
    this.wide.replaceChildren();
    this.cols = [];
    this.widePanels = [];
  }

  destroy() {
    this.pause();
    clearTimeout(this.reportTimer);
    this.destroyPanels();
    document.removeEventListener("keydown", this.onKey);
    if (activeScope === this) activeScope = null;
  }
}

function receivePatch(data) {
  patches.set(data.update_for, data.patches); // the latest patch set for that payload
  for (const scope of scopes.values()) if (scope.key === data.update_for) data.patches.forEach((p) => scope.patch(p));
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  if (data.preload) { loadPlotly().catch(() => {}); return undefined; } // a payload will say if it failed
  if (data.update_for) { receivePatch(data); return undefined; }
  let scope = scopes.get(parentElement);
  if (!scope) { scope = new Scope(parentElement); scopes.set(parentElement, scope); }
  scope.receive(data, setStateValue);
  // Streamlit calls this before every re-render as well as on unmount: tear down only
  // once the element has really left the page.
  return () => setTimeout(() => {
    if (!scope.root.isConnected) { scope.destroy(); scopes.delete(parentElement); }
  }, 0);
}
