// bench-action history dashboard: profile/runner filters (rescaling each chart to the runs
// left) and point tooltips. The page is complete without this script; it only adds to it.
// niceTicks and the y mapping mirror benchaction/report/chart.py: change both together.
"use strict";
(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const MANTISSAS = [1, 2, 2.5, 5, 10];

  function niceTicks(lo, hi) {
    if (hi <= lo) {
      const pad = Math.abs(lo) * 0.05 || 1;
      lo -= pad;
      hi += pad;
    }
    const raw = (hi - lo) / 4;
    const exp = Math.floor(Math.log10(raw));
    const mag = Math.pow(10, exp);
    const mantissa = MANTISSAS.find((m) => m * mag >= raw * (1 - 1e-9));
    const step = mantissa * mag;
    const start = Math.floor(lo / step + 1e-9) * step;
    const count = Math.ceil((hi - start) / step - 1e-9);
    const ticks = [];
    for (let i = 0; i <= count; i++) ticks.push(start + i * step);
    let decimals = Math.max(0, -exp);
    if (mantissa === 10) decimals = Math.max(0, -(exp + 1));
    else if (mantissa === 2.5) decimals = Math.max(0, 1 - exp);
    return { ticks, decimals };
  }

  function label(value, decimals) {
    return value.toLocaleString("en-US", {
      minimumFractionDigits: decimals,
      maximumFractionDigits: decimals,
    });
  }

  // Place one chart's visible points, line, band and y axis on a scale fitted to them.
  function layout(svg, keep) {
    const top = +svg.dataset.top;
    const bottom = +svg.dataset.bottom;
    const left = +svg.dataset.left;
    const right = +svg.dataset.right;
    const shown = [];
    for (const pt of svg.querySelectorAll("[data-point]")) {
      const visible = keep === null || keep.has(pt.dataset.point);
      (pt.parentNode.tagName === "a" ? pt.parentNode : pt).style.display = visible ? "" : "none";
      if (visible) shown.push(pt);
    }
    svg.classList.toggle("filtered-out", shown.length === 0);
    if (shown.length === 0) {
      svg.querySelector(".line").setAttribute("points", "");
      svg.querySelector(".band").setAttribute("points", "");
      return 0;
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (const pt of shown) {
      lo = Math.min(lo, +pt.dataset.lo);
      hi = Math.max(hi, +pt.dataset.hi);
    }
    const { ticks, decimals } = niceTicks(lo, hi);
    const y0 = ticks[0];
    const y1 = ticks[ticks.length - 1];
    const y = (v) => Math.round((bottom - ((v - y0) / (y1 - y0)) * (bottom - top)) * 10) / 10;
    const line = [];
    const upper = [];
    const lower = [];
    for (const pt of shown) {
      const x = pt.getAttribute("cx");
      const cy = y(+pt.dataset.v);
      pt.setAttribute("cy", cy);
      line.push(x + "," + cy);
      upper.push(x + "," + y(+pt.dataset.hi));
      lower.push(x + "," + y(+pt.dataset.lo));
    }
    svg.querySelector(".line").setAttribute("points", line.join(" "));
    svg.querySelector(".band").setAttribute("points", upper.concat(lower.reverse()).join(" "));
    const axis = svg.querySelector(".yaxis");
    axis.replaceChildren();
    for (const t of ticks) {
      const gridline = document.createElementNS(SVG, "line");
      gridline.setAttribute("x1", left);
      gridline.setAttribute("x2", right);
      gridline.setAttribute("y1", y(t));
      gridline.setAttribute("y2", y(t));
      const text = document.createElementNS(SVG, "text");
      text.setAttribute("x", left - 6);
      text.setAttribute("y", y(t));
      text.textContent = label(t, decimals);
      axis.append(gridline, text);
    }
    return shown.length;
  }

  const profile = document.getElementById("filter-profile");
  const fingerprint = document.getElementById("filter-fingerprint");
  const count = document.getElementById("filter-count");

  function apply() {
    const p = profile.value;
    const f = fingerprint.value;
    let runs = 0;
    let points = 0;
    for (const section of document.querySelectorAll("section.config")) {
      const keep = p || f ? new Set() : null;
      for (const row of section.querySelectorAll("tr[data-run]")) {
        const ok = (!p || row.dataset.profile === p) && (!f || row.dataset.fingerprint === f);
        row.hidden = !ok;
        if (ok) {
          runs += 1;
          if (keep) keep.add(row.dataset.run);
        }
      }
      for (const svg of section.querySelectorAll("svg.plot")) points += layout(svg, keep);
    }
    count.textContent = p || f ? "showing " + runs + " runs (" + points + " points)" : "";
    document.body.dataset.visiblePoints = String(points);
  }

  profile.addEventListener("change", apply);
  fingerprint.addEventListener("change", apply);
  // A reload keeps the form's choices: honour them.
  if (profile.value || fingerprint.value) apply();
  else document.body.dataset.visiblePoints = String(document.querySelectorAll("[data-point]").length);

  // Tooltips: the first hover moves a point's <title> into the styled box (so the browser's
  // own tooltip does not appear twice).
  const tip = document.getElementById("tooltip");
  function target(event) {
    const el = event.target;
    return el instanceof Element && el.matches("[data-point]") ? el : null;
  }
  document.addEventListener("pointerover", (event) => {
    const pt = target(event);
    if (!pt) return;
    const title = pt.querySelector("title");
    if (title) {
      pt.dataset.tip = title.textContent;
      title.remove();
    }
    tip.textContent = pt.dataset.tip + (pt.parentNode.tagName === "a" ? "\nclick: open the run" : "");
    tip.hidden = false;
  });
  document.addEventListener("pointermove", (event) => {
    if (tip.hidden) return;
    const x = Math.min(event.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
    const y = event.clientY + 16 + tip.offsetHeight > window.innerHeight
      ? event.clientY - tip.offsetHeight - 10
      : event.clientY + 16;
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  });
  document.addEventListener("pointerout", (event) => {
    if (target(event)) tip.hidden = true;
  });
  document.body.dataset.ready = "1";
})();
