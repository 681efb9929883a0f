// kpiflow dashboard: sortable tables, PNG downloads of charts, filters that submit on change.
// Plain JavaScript, no build step; every feature is optional (the pages work without it).
"use strict";

(function () {
  // Sortable tables: click, Enter or Space on a header sorts by that column.
  function cellKey(td, numeric) {
    if (numeric) {
      const raw = td.getAttribute("data-value");
      if (raw === null || raw === "") return null;
      const v = Number(raw);
      return Number.isFinite(v) ? v : null;
    }
    return td.textContent.trim().toLowerCase();
  }

  function sortBy(th) {
    const table = th.closest("table");
    const body = table && table.tBodies[0];
    if (!body) return;
    const index = Array.prototype.indexOf.call(th.parentNode.children, th);
    const numeric = th.getAttribute("data-sort") === "number";
    const current = th.getAttribute("aria-sort");
    // Numbers sort largest first on the first click, text A to Z.
    const ascending = current ? current === "descending" : !numeric;
    const rows = Array.from(body.rows);
    rows.sort(function (a, b) {
      const x = cellKey(a.cells[index], numeric);
      const y = cellKey(b.cells[index], numeric);
      if (x === null && y === null) return 0;
      if (x === null) return 1; // missing values last, either way
      if (y === null) return -1;
      const c = x < y ? -1 : x > y ? 1 : 0;
      return ascending ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    th.parentNode.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  document.querySelectorAll("table.data th[data-sort]").forEach(function (th) {
    th.addEventListener("click", function () { sortBy(th); });
    th.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(th); }
    });
  });

  // PNG of a chart: the inline SVG drawn on a canvas at twice its size, on white.
  function chartPng(id) {
    return new Promise(function (resolve, reject) {
      const holder = document.getElementById(id);
      const svg = holder && holder.querySelector("svg");
      if (!svg) { reject(new Error("no chart " + id)); return; }
      const box = svg.viewBox && svg.viewBox.baseVal;
      const width = (box && box.width) || svg.clientWidth || 640;
      const height = (box && box.height) || svg.clientHeight || 320;
      const text = new XMLSerializer().serializeToString(svg);
      const image = new Image();
      image.onload = function () {
        const canvas = document.createElement("canvas");
        canvas.width = width * 2;
        canvas.height = height * 2;
        const g = canvas.getContext("2d");
        g.fillStyle = "#fff";
        g.fillRect(0, 0, canvas.width, canvas.height);
        g.drawImage(image, 0, 0, canvas.width, canvas.height);
        resolve(canvas.toDataURL("image/png"));
      };
      image.onerror = function () { reject(new Error("the chart could not be drawn")); };
      image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(text);
    });
  }
  window.kpiflowChartPng = chartPng;

  document.querySelectorAll("a[data-png-for]").forEach(function (a) {
    a.addEventListener("click", function (e) {
      e.preventDefault();
      const id = a.getAttribute("data-png-for");
      chartPng(id).then(function (url) {
        const link = document.createElement("a");
        link.href = url;
        link.download = id + ".png";
        document.body.appendChild(link);
        link.click();
        link.remove();
      }, function (err) { window.alert(err.message); });
    });
  });

  // Filters: a select submits on change; empty fields stay out of the URL.
  const form = document.querySelector("form.filters");
  if (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("input, select").forEach(function (f) {
        if (f.type !== "checkbox" && f.value === "") f.disabled = true;
      });
    });
    form.querySelectorAll("select").forEach(function (s) {
      s.addEventListener("change", function () {
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
      });
    });
  }
})();
