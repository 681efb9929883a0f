// kpiflow dashboard: sortable tables, PNG downloads of charts, filters that submit on change, the
// Import page (preview and import through the API).
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

  // Import page: the form is sent with fetch (the token goes in the Authorization header, which
  // a plain form cannot set). Preview first (POST /api/imports/preview writes nothing), then
  // Import (POST /api/imports) once a preview succeeded for the form as it is. Every text from
  // the files or the server goes into the page as text (textContent), never as HTML.
  const importForm = document.getElementById("import-form");
  if (importForm) setupImport(importForm);

  function setupImport(form) {
    const fileInput = document.getElementById("import-file");
    const tokenInput = document.getElementById("import-token");
    const previewButton = document.getElementById("import-preview");
    const importButton = document.getElementById("import-run");
    const status = document.getElementById("import-status");
    const result = document.getElementById("import-result");
    const zone = document.getElementById("import-drop");
    const list = document.getElementById("import-file-list");
    const TOKEN_KEY = "kpiflow.token";
    let pages = {};
    try { pages = JSON.parse(form.dataset.pages || "{}"); } catch (e) { pages = {}; }
    let busy = false;
    let previewed = false;
    // The files of the last request, in order: the server names each by the copy it read
    // (`…/uploads/<time>/<n>/<name>`), shown here as the file the user chose.
    let sent = [];
    const UPLOADED = /(?:[A-Za-z]:)?[^\s`'"(]*[\\/]uploads[\\/][0-9T.]+[\\/](\d+)[\\/]([^\s\\/:`'"]+)/g;
    function named(text) {
      if (typeof text !== "string") return text;
      return text.replace(UPLOADED, function (all, n, copy) {
        const f = sent[Number(n) - 1];
        return f ? f.name : copy;
      });
    }

    // The token: this tab only (sessionStorage), never localStorage or a URL.
    function storage() {
      try { return window.sessionStorage; } catch (e) { return null; }
    }
    const store = storage();
    if (store) {
      const saved = store.getItem(TOKEN_KEY);
      if (saved && !tokenInput.value) tokenInput.value = saved;
    }
    tokenInput.addEventListener("input", function () {
      if (!store) return;
      try {
        if (tokenInput.value) store.setItem(TOKEN_KEY, tokenInput.value);
        else store.removeItem(TOKEN_KEY);
      } catch (e) { /* storage full or off: the field still works */ }
    });

    function el(tag, attrs) {
      const node = document.createElement(tag);
      if (attrs) {
        Object.keys(attrs).forEach(function (k) {
          if (attrs[k] !== null && attrs[k] !== undefined) node.setAttribute(k, attrs[k]);
        });
      }
      for (let i = 2; i < arguments.length; i++) {
        const child = arguments[i];
        if (child === null || child === undefined) continue;
        node.appendChild(typeof child === "string" || typeof child === "number"
          ? document.createTextNode(String(child)) : child);
      }
      return node;
    }

    function count(n) {
      return typeof n === "number" ? n.toLocaleString("en-US") : "—";
    }

    function setStatus(text) { status.textContent = text; }

    function refreshButtons() {
      previewButton.disabled = busy;
      importButton.disabled = busy || !previewed;
      importButton.title = previewed ? "" : "Preview the files first";
    }

    // What the form holds, as the API reads it: every file, then the options that are set.
    function formData() {
      const data = new FormData();
      Array.prototype.forEach.call(fileInput.files, function (f) { data.append("file", f, f.name); });
      ["table", "preset", "on_error"].forEach(function (name) {
        const field = form.elements[name];
        if (field && field.value) data.append(name, field.value);
      });
      return data;
    }

    function post(url) {
      sent = Array.prototype.slice.call(fileInput.files);
      return fetch(url, {
        method: "POST",
        headers: { "Authorization": "Bearer " + tokenInput.value.trim(), "Accept": "application/json" },
        body: formData(),
        credentials: "same-origin",
      }).then(function (response) {
        return response.text().then(function (text) {
          let body = null;
          try { body = JSON.parse(text); } catch (e) { body = null; }
          return { ok: response.ok, status: response.status, body: body, text: text };
        });
      });
    }

    function errorCard(answer) {
      const body = answer.body && typeof answer.body === "object" ? answer.body : null;
      const message = body && body.message ? named(body.message)
        : "the server answered " + answer.status + (answer.text ? ": " + answer.text.slice(0, 300) : "");
      const card = el("section", { "class": "card import-error", id: "import-error", "aria-labelledby": "import-error-title" },
        el("h2", { id: "import-error-title" }, answer.status ? "Not read (" + answer.status + ")" : "Not sent"),
        el("p", { "class": "notice", role: "alert", "data-code": body && body.code }, message));
      const hints = body && Array.isArray(body.hints) ? body.hints : [];
      if (hints.length) {
        const ul = el("ul", { "class": "import-hints" });
        hints.forEach(function (h) { ul.appendChild(el("li", null, named(String(h)))); });
        card.appendChild(ul);
      }
      return card;
    }

    function errorList(errors) {
      const ul = el("ul", { "class": "import-errors" });
      errors.forEach(function (e) {
        const li = el("li", null, el("strong", null, named(e.file || "?") + ":" + e.line));
        if (e.column) {
          li.appendChild(document.createTextNode(" column "));
          li.appendChild(el("code", null, e.column));
          if (e.source_column && e.source_column !== e.column) {
            li.appendChild(document.createTextNode(" (from "));
            li.appendChild(el("code", null, e.source_column));
            li.appendChild(document.createTextNode(")"));
          }
        }
        if (e.value !== null && e.value !== undefined) {
          li.appendChild(document.createTextNode(" value "));
          li.appendChild(el("code", null, e.value));
        }
        li.appendChild(document.createTextNode(": " + named(e.message || "")));
        ul.appendChild(li);
      });
      return ul;
    }

    // A table of text cells; numeric columns (by index) right-aligned.
    function simpleTable(attrs, headers, rows, numeric) {
      const thead = el("thead", null, el("tr", null));
      headers.forEach(function (h, i) {
        thead.firstChild.appendChild(el("th", { scope: "col", "class": numeric && numeric[i] ? "num" : null }, h));
      });
      const tbody = el("tbody");
      rows.forEach(function (row) {
        const tr = el("tr");
        row.forEach(function (v, i) {
          if (v === null || v === undefined) {
            tr.appendChild(el("td", { "class": numeric && numeric[i] ? "num null" : "null", title: "no value" }, "—"));
          } else {
            tr.appendChild(el("td", { "class": numeric && numeric[i] ? "num" : null }, String(v)));
          }
        });
        tbody.appendChild(tr);
      });
      const cls = attrs["class"] ? "data " + attrs["class"] : "data";
      const table = el("table", Object.assign({}, attrs, { "class": cls }), thead, tbody);
      return el("div", { "class": "table-wrap" }, table);
    }

    function readBy(preset, tables) {
      if (preset) return "preset " + preset;
      return tables && tables.length ? "the columns of " + tables.join(", ") : "—";
    }

    function renderPreview(p) {
      const files = Array.isArray(p.files) ? p.files : [];
      const tables = Array.isArray(p.tables) ? p.tables : [];
      const errors = Array.isArray(p.errors) ? p.errors : [];
      const card = el("section", { "class": "card", id: "import-preview-result", "aria-labelledby": "import-preview-title" },
        el("h2", { id: "import-preview-title" }, "Preview"),
        el("p", { "class": "caption" }, "Nothing is written yet: the first rows of each table as they will be stored."));
      card.appendChild(el("h3", null, files.length === 1 ? "File" : "Files (" + files.length + ")"));
      card.appendChild(simpleTable({ id: "preview-files" }, ["file", "read by", "tables", "columns read"],
        files.map(function (f) {
          return [named(f.name), readBy(f.preset, f.tables), (f.tables || []).join(", "), (f.header || []).join(", ")];
        })));
      tables.forEach(function (t) {
        const rows = Array.isArray(t.rows) ? t.rows : [];
        card.appendChild(el("h3", null, t.table + " ",
          el("span", { "class": "caption" }, rows.length === 1 ? "(1 row shown)" : "(" + rows.length + " rows shown)")));
        if (rows.length) {
          card.appendChild(simpleTable({ id: "preview-" + t.table, "data-table": t.table, "class": "import-rows" },
            t.columns || [], rows, null));
        } else {
          card.appendChild(el("p", { "class": "notice" }, "No rows for " + t.table + " in the start of the files."));
        }
      });
      if (errors.length) {
        card.appendChild(el("h3", null, "Errors (" + errors.length + ")"));
        card.appendChild(el("p", { "class": "caption" }, form.elements.on_error && form.elements.on_error.value === "skip"
          ? "These rows will be skipped and written to a rejects file."
          : "With these errors the import stops and writes nothing; choose “skip them” to import the good rows."));
        card.appendChild(errorList(errors));
      } else {
        card.appendChild(el("p", { "class": "import-clean" }, "No errors in the rows previewed."));
      }
      return card;
    }

    function renderOutcome(o) {
      const files = Array.isArray(o.files) ? o.files : [];
      const tables = Array.isArray(o.tables) ? o.tables : [];
      const errors = Array.isArray(o.errors) ? o.errors : [];
      const card = el("section", { "class": "card", id: "import-outcome", "aria-labelledby": "import-outcome-title" },
        el("h2", { id: "import-outcome-title" }, "Imported: import " + count(o.import_number)),
        el("p", null, count(o.rows_read) + " rows read, " + count(o.rejected) + " rejected, "
          + count(o.dropped) + " dropped (totals, footers: not data), in " + count(o.duration_ms) + " ms."));
      card.appendChild(simpleTable({ id: "outcome-files" }, ["file", "read by", "tables", "read", "rejected", "dropped"],
        files.map(function (f) {
          return [named(f.name), readBy(f.preset, f.tables), (f.tables || []).join(", "),
            count(f.rows_read), count(f.rejected), count(f.dropped)];
        }), [false, false, false, true, true, true]));
      card.appendChild(simpleTable({ id: "outcome-tables" }, ["table", "rows", "inserted", "updated", "unchanged", "version"],
        tables.map(function (t) {
          return [t.table, count(t.rows), count(t.inserted), count(t.updated), count(t.unchanged),
            t.version === null || t.version === undefined ? null : count(t.version)];
        }), [false, true, true, true, true, true]));
      if (tables.length && tables.every(function (t) { return !t.committed; })) {
        card.appendChild(el("p", { "class": "notice" }, "Nothing changed: every row was already stored as it is."));
      }
      if (o.rejects_file) {
        card.appendChild(el("p", null, "Rejected rows were written to ", el("code", null, String(o.rejects_file)), "."));
      }
      if (errors.length) card.appendChild(errorList(errors));
      const links = el("p", { "class": "import-links" }, "See the data: ");
      const seen = {};
      tables.forEach(function (t) {
        const page = pages[t.table];
        if (page && !seen[page.href]) {
          seen[page.href] = true;
          links.appendChild(el("a", { href: page.href }, page.label));
        }
      });
      links.appendChild(el("a", { href: form.dataset.dataPage || "/data" }, "Data"));
      card.appendChild(links);
      return card;
    }

    function show(node) {
      result.replaceChildren(node);
    }

    function send(url, working, done) {
      if (!fileInput.files.length) { setStatus("Choose or drop a file first."); fileInput.focus(); return; }
      if (!tokenInput.value.trim()) { setStatus("The token is needed."); tokenInput.focus(); return; }
      busy = true;
      refreshButtons();
      result.setAttribute("aria-busy", "true");
      setStatus(working);
      post(url).then(function (answer) {
        if (answer.ok && answer.body) {
          done(answer.body);
        } else {
          previewed = false;
          show(errorCard(answer));
          setStatus("");
        }
      }, function (err) {
        previewed = false;
        show(errorCard({ status: 0, body: { message: "the server did not answer: " + err.message, hints: [] } }));
        setStatus("");
      }).then(function () {
        busy = false;
        result.removeAttribute("aria-busy");
        refreshButtons();
      });
    }

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (busy) return;
      send(form.dataset.preview, "Reading the files…", function (p) {
        previewed = true;
        show(renderPreview(p));
        setStatus("Previewed: nothing written yet.");
      });
    });

    importButton.addEventListener("click", function () {
      if (busy || !previewed) return;
      send(form.dataset.import, "Importing…", function (o) {
        previewed = false; // one import per preview: a second click would import again
        show(renderOutcome(o));
        setStatus("Imported.");
      });
    });

    // A change of files or options invalidates the preview.
    function changed() {
      if (previewed) setStatus("Changed since the preview: preview again.");
      previewed = false;
      refreshButtons();
    }
    form.querySelectorAll("select").forEach(function (s) { s.addEventListener("change", changed); });

    function listFiles() {
      list.replaceChildren();
      Array.prototype.forEach.call(fileInput.files, function (f) {
        const kb = f.size < 1024 ? f.size + " B" : (f.size / 1024).toFixed(1) + " KB";
        list.appendChild(el("li", null, f.name + " (" + kb + ")"));
      });
    }
    fileInput.addEventListener("change", function () { listFiles(); changed(); });

    // Drag and drop onto the zone fills the file input; a file dropped beside it does not
    // open in the tab (which would leave the page).
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (e) {
        e.preventDefault();
        if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
        zone.classList.add("drag");
      });
    });
    zone.addEventListener("dragleave", function (e) {
      if (!zone.contains(e.relatedTarget)) zone.classList.remove("drag");
    });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      zone.classList.remove("drag");
      const dropped = e.dataTransfer && e.dataTransfer.files;
      if (!dropped || !dropped.length) return;
      try {
        fileInput.files = dropped;
      } catch (err) {
        const transfer = new DataTransfer();
        Array.prototype.forEach.call(dropped, function (f) { transfer.items.add(f); });
        fileInput.files = transfer.files;
      }
      fileInput.dispatchEvent(new Event("change", { bubbles: true }));
    });
    ["dragover", "drop"].forEach(function (type) {
      document.addEventListener(type, function (e) {
        if (!zone.contains(e.target)) e.preventDefault();
      });
    });

    // The API examples name this server.
    document.querySelectorAll(".import-curl .origin").forEach(function (s) { s.textContent = window.location.origin; });

    listFiles();
    refreshButtons();
  }
})();
