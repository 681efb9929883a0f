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

  // A chart on a canvas at twice its size, on white (the SVG carries its own styles).
  function chartCanvas(id) {
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
        resolve(canvas);
      };
      image.onerror = function () { reject(new Error("the chart could not be drawn")); };
      image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(text);
    });
  }

  // A chart as a PNG data URL (used by the browser tests).
  window.kpiflowChartPng = function (id) {
    return chartCanvas(id).then(function (canvas) { return canvas.toDataURL("image/png"); });
  };

  document.querySelectorAll("a[data-png-for]").forEach(function (a) {
    a.addEventListener("click", function (e) {
      e.preventDefault();
      const id = a.getAttribute("data-png-for");
      chartCanvas(id).then(function (canvas) {
        return new Promise(function (resolve, reject) {
          canvas.toBlob(function (blob) {
            if (blob) resolve(blob); else reject(new Error("the PNG could not be made"));
          }, "image/png");
        });
      }).then(function (blob) {
        const url = URL.createObjectURL(blob);
        const link = document.createElement("a");
        link.href = url;
        link.download = id + ".png";
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
      }).catch(function (err) { window.alert(err.message); });
    });
  });

  // On a phone the filter panel starts closed unless a filter is set (without this script it
  // stays open).
  const panel = document.querySelector("details.filter-panel");
  if (panel && window.matchMedia("(max-width: 700px)").matches && panel.dataset.active === "0") {
    panel.open = false;
  }

  // Filters: a select submits on change; empty fields stay out of the URL.
  const form = document.querySelector("form.filters");
  if (form) {
    const fields = function () { return form.querySelectorAll("input, select"); };
    const clean = function () {
      fields().forEach(function (f) {
        if (f.type !== "checkbox" && f.value === "") f.disabled = true;
      });
    };
    form.addEventListener("submit", clean);
    form.querySelectorAll("select").forEach(function (s) {
      s.addEventListener("change", function () {
        if (form.requestSubmit) { form.requestSubmit(); } else { clean(); form.submit(); }
      });
    });
    // Back to a page kept in the history cache: its emptied fields are usable again.
    window.addEventListener("pageshow", function () {
      fields().forEach(function (f) { f.disabled = false; });
    });
  }
})();
