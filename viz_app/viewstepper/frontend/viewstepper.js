// Client-side stepping for the Attention and Language-model views.
//
// Streamlit sends the payload (viz_app/payloads.py) once per text. Moving the step
// changes only what moves: the chosen token in the text, the formulas (attention) or
// the next-character bars (language model), and one overlaid marker box per chart.
// The step goes back to Streamlit debounced, only for the URL and session state.
//
// User text only ever reaches the DOM through textContent. Colours follow the theme
// Streamlit sends with every render (light or dark).
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const slider = $("step"), play = $("play"), stepText = $("step-text"), note = $("note"), columnsEl = $("columns");
  const el = window.rnnscope.el; // shared with the Compare stepper: ../viz_app.frontend.common/timeline.js
  let P = null, key = null, themeKey = null, theme = {}, t = 0, cols = [];
  const clamp = (s) => Math.max(0, Math.min(P.T - 1, s | 0));
  const num = (x, d) => (x === null || x === undefined ? "—" : x.toFixed(d === undefined ? 3 : d).replace("-", "−"));
  const par = (x) => (x !== null && x < 0 ? "(" + num(x) + ")" : num(x));
  // The modebar keeps its PNG download; "Share chart" would upload the data to Plotly Cloud, so it goes.
  const plotConfig = { displaylogo: false, responsive: true, showSendToCloud: false,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "sendChartToCloud"] };


  // -- building (once per payload or theme) ---------------------------------------------

  function textBox(c, lm) {
    const box = el("div", "text" + (lm ? " lm" : "")), tk = new Array(P.T);
    const unk = new Set(c.unknown || []);
    for (const [s, i] of P.pieces) {
      if (i < 0) { box.append(document.createTextNode(s)); continue; }
      const span = el("span", "tk" + (unk.has(i) ? " unk" : ""), s);
      span.dir = "auto";
      span.title = "t = " + i + (unk.has(i) ? " (not in the vocabulary: read as <unk>)" : "");
      span.addEventListener("click", () => { show(i); time.report(); });
      box.append(span);
      tk[i] = span;
    }
    return { box: box, tk: tk };
  }

  function barRows(parent, k) {
    const bars = el("div", "bars"), rows = [];
    for (let j = 0; j < k; j++) {
      const lab = el("span", "bar-label"), track = el("span", "bar-track"), fill = el("span", "bar-fill"), val = el("span", "bar-value");
      lab.dir = "auto";
      track.append(fill);
      bars.append(lab, track, val);
      rows.push({ lab: lab, fill: fill, val: val });
    }
    parent.append(bars);
    return rows;
  }
  function setBar(r, label, v, digits) {
    r.lab.textContent = label;
    r.fill.style.width = (100 * Math.max(0, Math.min(1, v || 0))) + "%";
    r.val.textContent = v === null ? "—" : v.toFixed(digits);
  }

  function buildAttention(c, root, col) {
    if (c.prediction) {
      const pr = c.prediction;
      let best = 0;
      pr.probs.forEach((p, j) => { if (p > pr.probs[best]) best = j; });
      root.append(el("div", "sub", "prediction: " + pr.labels[best] + " (" + pr.probs[best].toFixed(2) + ")"));
      barRows(root, pr.labels.length).forEach((r, j) => setBar(r, pr.labels[j], pr.probs[j], 2));
    }
    root.append(el("div", "sub", "attention on the text (" + c.rules[0].label + ")"));
    const tb = textBox(c, false);
    const a = c.rules[0].a;
    tb.tk.forEach((s, i) => { if (s) s.style.background = "rgba(255, 75, 75, " + Math.min(1, a[i] / P.wmax).toFixed(3) + ")"; });
    root.append(tb.box);
    col.tk = tb.tk;
    col.formulas = c.rules.map((r) => {
      const box = el("div", "formula");
      box.append(el("div", "rule" + (r.trained ? "" : " untrained"), r.label + " — " + r.note));
      const body = el("div", "", "");
      box.append(body);
      return { rule: r, body: body, box: box };
    });
  }

  function buildLM(c, root, col) {
    const tb = textBox(c, true);
    root.append(tb.box);
    col.tk = tb.tk;
    col.head = el("div", "sub");
    root.append(col.head);
    col.rows = barRows(root, c.top[0].length);
    col.actual = el("div", "line");
    col.ppl = el("div", "line");
    root.append(col.actual, col.ppl);
  }

  function build(p) {
    stop();
    cols.forEach((c) => c.plots.forEach((pl) => Plotly.purge(pl.gd)));
    columnsEl.replaceChildren();
    columnsEl.style.setProperty("--ncols", p.columns.length);
    note.textContent = p.note || "";
    slider.max = String(p.T - 1);
    cols = p.columns.map((c) => {
      const root = el("div", "col");
      root.append(el("h3", "", c.title), el("div", "meta", c.meta), el("div", "warn", c.warning || ""));
      const col = { spec: c, plots: [], cur: null };
      if (p.mode === "attention") buildAttention(c, root, col); else buildLM(c, root, col);
      for (const pl of c.plots) {
        if (pl.caption) root.append(el("div", "meta", pl.caption));
        col.plots.push(plot(root, pl.fig));
      }
      if (col.formulas) col.formulas.forEach((f) => root.append(f.box)); // below the charts
      columnsEl.append(root);
      return col;
    });
  }

  // A static plotly figure with an overlaid marker box: moving a div costs nothing, while a
  // plotly relayout redraws the whole figure (tens of ms each).
  function plot(root, fig) {
    const wrap = el("div", "plot-wrap"), gd = el("div", "plot"), marker = el("div", "marker");
    wrap.append(gd, marker);
    root.append(wrap);
    const grid = "rgba(128,128,128,0.25)";
    const layout = Object.assign({}, fig.layout, { shapes: [], font: { color: theme.textColor || "#31333f", family: theme.font } });
    for (const ax of Object.keys(layout).filter((k) => /^[xy]axis\d*$/.test(k))) {
      layout[ax] = Object.assign({}, layout[ax], { gridcolor: grid, zerolinecolor: grid });
    }
    Plotly.newPlot(gd, fig.data, layout, plotConfig);
    const pl = { gd: gd, marker: marker, geom: null };
    const measure = () => { pl.geom = geometry(gd); placeMarker(pl); };
    gd.on("plotly_afterplot", measure);
    measure();
    return pl;
  }
  function geometry(gd) {
    const fl = gd._fullLayout;
    if (!fl || !fl.xaxis || !fl._size) return null;
    const xa = fl.xaxis, p0 = xa.l2p(0), p1 = xa.l2p(1);
    return { x0: xa._offset + p0, dx: p1 - p0, top: fl._size.t, height: fl._size.h, left: xa._offset, right: xa._offset + xa._length };
  }
  function placeMarker(pl) {
    const g = pl.geom, m = pl.marker;
    if (!g) { m.style.display = "none"; return; }
    const a = Math.max(g.left, g.x0 + (t - 0.5) * g.dx), b = Math.min(g.right, g.x0 + (t + 0.5) * g.dx);
    m.style.display = "block";
    m.style.top = g.top + "px";
    m.style.height = g.height + "px";
    m.style.width = Math.max(2, b - a) + "px";
    m.style.transform = "translateX(" + a + "px)";
  }

  // -- stepping -------------------------------------------------------------------------

  function formulaText(r, step) {
    const [L, R, I] = r.sym, idx = r.idx[step], left = r.left[step], right = r.right[step];
    const k = idx.length, more = r.n - k;
    const names = idx.map((j) => L + "[" + j + "]·" + R + "[" + j + "]").join(" + ");
    const vals = idx.map((_, j) => par(left[j]) + "×" + par(right[j])).join(" + ");
    const sc = r.scale_text ? r.scale_text + " × (" : "", close = r.scale_text ? ")" : "";
    const rest = more > 0 ? " + " + par(r.rest[step]) + " (" + more + " more terms)" : "";
    const s = r.s[step];
    return [
      r.formula + "   at t = " + step + " «" + P.tokens[step] + "»",
      "s_t = " + sc + "Σ_" + I + " " + L + "_" + I + "·" + R + "_" + I + close + ", " + r.n + " terms; the " + k + " largest:",
      "    = " + sc + names + (more > 0 ? " + …" : "") + close,
      "    = " + sc + vals + rest + close + " = " + num(s),
      "a_t = exp(s_t − max s) / Σ_u exp(s_u − max s) = exp(" + num(s - r.m) + ") / " + num(r.Z) + " = " + num(r.a[step], 4),
    ].join("\n");
  }

  function stepAttention(c, step) {
    for (const f of c.formulas) f.body.textContent = formulaText(f.rule, step);
  }

  function stepLM(c, step) {
    const s = c.spec, top = s.top[step], tp = s.top_p[step], act = s.actual_id[step];
    c.head.textContent = "after «" + P.tokens[step] + "» (t = " + step + "), the next character:";
    for (let j = 0; j < c.rows.length; j++) {
      setBar(c.rows[j], s.vocab[top[j]], tp[j], 3);
      c.rows[j].lab.classList.toggle("actual", top[j] === act);
    }
    if (s.actual[step] === null) c.actual.textContent = "end of the text: nothing follows";
    else if (act < 0) c.actual.textContent = "actual next «" + s.actual[step] + "»: not in the vocabulary (read as <unk>; not scored)";
    else {
      const rank = top.indexOf(act);
      c.actual.textContent = "actual next «" + s.actual[step] + "»: p = " + num(s.p_actual[step], 4) +
        (rank >= 0 ? " (rank " + (rank + 1) + ", outlined)" : " (not in the top " + top.length + ")");
    }
    c.ppl.textContent = "running perplexity: " + (s.ppl[step] === null ? "— (nothing scored yet)" : num(s.ppl[step], 2));
  }

  function show(step) {
    t = clamp(step);
    slider.value = String(t);
    stepText.textContent = "t = " + t + " / " + (P.T - 1) + " · " + P.tokens[t];
    for (const c of cols) {
      if (c.cur !== null && c.tk[c.cur]) c.tk[c.cur].classList.remove("cur");
      if (c.tk[t]) c.tk[t].classList.add("cur");
      c.cur = t;
      if (P.mode === "attention") stepAttention(c, t); else stepLM(c, t);
      c.plots.forEach(placeMarker);
    }
    window.rnnscope.markDrawn(key + ":" + t);
  }

  const time = window.rnnscope.timeline({
    slider: slider, play: play, show: show, now: () => t, length: () => (P ? P.T : 0),
  });

  window.rnnscope.connect($("root"), (d) => {
    const a = d.args, tk = JSON.stringify(d.theme || {});
    if (a.payload_key !== key || tk !== themeKey) {
      const keep = a.payload_key === key ? t : a.step;
      key = a.payload_key;
      themeKey = tk;
      theme = d.theme || {};
      window.rnnscope.applyTheme(theme);
      P = JSON.parse(a.payload);
      time.reportedIs(a.step);
      build(P);
      show(keep);
    }
  });
})();
