// bench-action history dashboard: profile/runner filters (rescaling each chart to the runs
// left), point tooltips and point links (joined from the runs tables, which hold each run's
// commit, date, profile, runner and links once). Without script the charts still draw.
// niceTicks and the y mapping mirror benchaction/report/chart.py: change both together.
"use strict";
(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const MANTISSAS = [1, 2, 2.5, 5, 10];

  function niceTicks(lo, hi) {
    if (hi - lo <= 1e-9 * Math.max(Math.abs(lo), Math.abs(hi), 1e-9)) {
      const pad = Math.abs(lo) * 0.05 || 1;
      lo = lo - pad >= 0 || lo < 0 ? lo - pad : 0; // a flat 0 % stays >= 0
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
    // A change point found among other runs' points (another profile or runner) hides too.
    for (const cp of svg.querySelectorAll("[data-change-point]")) {
      cp.style.display = keep === null || keep.has(cp.dataset.changePoint) ? "" : "none";
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

  // Each run's commit, date, profile, runner and links, read once from the runs tables.
  const runs = new Map();
  for (const section of document.querySelectorAll("section.config")) {
    const table = new Map();
    for (const row of section.querySelectorAll("tr[data-run]")) {
      const run = row.querySelector("a.run");
      const commit = row.querySelector("a.commit");
      table.set(row.dataset.run, {
        commit: row.cells[1].textContent.trim(),
        when: row.cells[2].textContent.trim(),
        profile: row.dataset.profile,
        fingerprint: row.dataset.fingerprint,
        url: run ? run.href : commit ? commit.href : null,
      });
    }
    runs.set(section, table);
  }

  // About four significant digits, as the server's _num does.
  function num(value) {
    if (value === 0 || !isFinite(value)) return String(value);
    const decimals = Math.min(6, Math.max(0, 3 - Math.floor(Math.log10(Math.abs(value)))));
    return label(value, decimals);
  }

  function describe(pt) {
    const svg = pt.closest("svg");
    const run = runs.get(pt.closest("section.config")).get(pt.dataset.point);
    const unit = svg.dataset.unit ? " " + svg.dataset.unit : "";
    return (
      run.commit + " · " + run.when + "\n" +
      svg.dataset.label + ": " + num(+pt.dataset.v) + unit +
      " (trials " + num(+pt.dataset.lo) + "–" + num(+pt.dataset.hi) + ", n=" + pt.dataset.n + ")\n" +
      "profile " + run.profile + " · runner " + run.fingerprint +
      (run.url ? "\nclick: open the run" : "")
    );
  }

  const tip = document.getElementById("tooltip");
  function target(event) {
    const el = event.target;
    return el instanceof Element && el.matches("[data-point]") ? el : null;
  }
  document.addEventListener("pointerover", (event) => {
    const pt = target(event);
    if (!pt) return;
    tip.textContent = describe(pt);
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
  // A point opens its run (its commit when the run has no link); a modified or middle click
  // opens it in a new tab, as a link would.
  function open(event) {
    const pt = target(event);
    if (!pt) return;
    const run = runs.get(pt.closest("section.config")).get(pt.dataset.point);
    if (!run.url) return;
    if (event.button === 1 || event.ctrlKey || event.metaKey || event.shiftKey) {
      window.open(run.url, "_blank", "noopener");
    } else if (event.button === 0) {
      window.location.assign(run.url);
    }
  }
  document.addEventListener("click", open);
  document.addEventListener("auxclick", open);
  document.body.dataset.ready = "1";
})();
