// Shared by the two browser steppers (viz_app/stepper for Compare, viz_app/viewstepper
// for Attention and Language model): Streamlit's component protocol, safe element
// building, the theme's colours, and the timeline — slider, play/pause, arrow keys and
// the debounced report of the step back to Streamlit (only for the URL and state).
//
// User text only ever reaches the DOM through textContent.
window.rnnscope = (function () {
  "use strict";
  const REPORT_MS = 300;

  function send(type, extra) {
    window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, extra || {}), "*");
  }
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  // Follow Streamlit's light or dark theme through CSS variables.
  function applyTheme(th) {
    const r = document.documentElement.style;
    if (th.textColor) r.setProperty("--text", th.textColor);
    if (th.backgroundColor) r.setProperty("--bg", th.backgroundColor);
    if (th.secondaryBackgroundColor) r.setProperty("--bg2", th.secondaryBackgroundColor);
    if (th.primaryColor) r.setProperty("--primary", th.primaryColor);
    if (th.font) r.setProperty("--font", th.font);
    document.body.dataset.theme = th.base || "light";
  }
  // Tell tests and benchmarks when a step is on screen: after the next paint.
  function markDrawn(stamp, extra) {
    requestAnimationFrame(() => setTimeout(() => {
      document.body.dataset.drawn = stamp;
      const detail = Object.assign({ stamp: stamp, at: performance.timeOrigin + performance.now() }, extra || {});
      window.dispatchEvent(new CustomEvent("rnnscope:drawn", { detail: detail }));
    }, 0));
  }

  // o: {slider, play, length() -> T (0 before any payload), now() -> t, show(t)}
  function timeline(o) {
    let timer = null, reportTimer = null, reported = null;
    function report() {
      clearTimeout(reportTimer);
      reportTimer = setTimeout(() => {
        const t = o.now();
        if (timer === null && t !== reported) { reported = t; send("streamlit:setComponentValue", { value: t, dataType: "json" }); }
      }, REPORT_MS);
    }
    function stop() {
      if (timer !== null) { clearInterval(timer); timer = null; }
      o.play.textContent = "▶ Play";
      o.play.setAttribute("aria-label", "play");
    }
    function start() {
      if (o.now() >= o.length() - 1) o.show(0);
      const ms = Math.max(30, Math.min(400, 12000 / o.length())); // a whole text in about 12 s
      timer = setInterval(() => { if (o.now() >= o.length() - 1) { stop(); report(); } else o.show(o.now() + 1); }, ms);
      o.play.textContent = "⏸ Pause";
      o.play.setAttribute("aria-label", "pause");
    }
    o.slider.addEventListener("input", () => { o.show(+o.slider.value); report(); });
    o.play.addEventListener("click", () => { if (timer === null) start(); else { stop(); report(); } });
    // Arrow keys step from anywhere in the component, not only on the focused slider.
    document.addEventListener("keydown", (ev) => {
      if (ev.target === o.slider || !o.length() || (ev.key !== "ArrowLeft" && ev.key !== "ArrowRight")) return;
      ev.preventDefault();
      o.show(o.now() + (ev.key === "ArrowRight" ? 1 : -1));
      report();
    });
    return {
      report: report, start: start, stop: stop,
      playing: () => timer !== null,
      reportedIs: (s) => { reported = s; }, // the step Streamlit already has
    };
  }

  // Call `render(message)` for every render message; size the iframe to `root`.
  function connect(root, render) {
    window.addEventListener("message", (ev) => {
      if (ev.data && ev.data.type === "streamlit:render") render(ev.data);
    });
    new ResizeObserver(() => send("streamlit:setFrameHeight", { height: document.documentElement.scrollHeight })).observe(root);
    send("streamlit:componentReady", { apiVersion: 1 });
  }

  return { send: send, el: el, applyTheme: applyTheme, markDrawn: markDrawn, timeline: timeline, connect: connect };
})();
