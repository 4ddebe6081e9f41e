// keysweep report: sort, filter and expand the findings table. The page is complete without this
// script (every row and its details are in the HTML); nothing here loads or sends anything.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  var table = document.getElementById("findings");
  if (!table) { return; }
  var bodies = Array.prototype.slice.call(table.querySelectorAll("tbody.finding"));
  var headers = Array.prototype.slice.call(table.querySelectorAll("th[data-sort]"));
  var shown = document.getElementById("shown");
  var noMatch = document.getElementById("no-match");
  var controls = Array.prototype.slice.call(document.querySelectorAll("[data-filter]"));

  function mainRow(body) { return body.querySelector("tr.main"); }
  function detailRow(body) { return body.querySelector("tr.detail"); }

  function setExpanded(body, open) {
    var button = body.querySelector("button.toggle");
    detailRow(body).hidden = !open;
    if (button) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      button.title = open ? "Hide details" : "Show details";
    }
  }

  bodies.forEach(function (body) {
    setExpanded(body, false);
    mainRow(body).addEventListener("click", function (event) {
      if (event.target.closest("a")) { return; }
      setExpanded(body, detailRow(body).hidden);
    });
  });

  // --- filtering ---------------------------------------------------------------------------
  function matches(row, filters) {
    for (var i = 0; i < filters.length; i++) {
      var name = filters[i][0], value = filters[i][1];
      if (!value) { continue; }
      if (name === "status") {
        if ((" " + row.getAttribute("data-status") + " ").indexOf(" " + value + " ") < 0) { return false; }
      } else if (name === "path") {
        if (row.getAttribute("data-path").toLowerCase().indexOf(value.toLowerCase()) < 0) { return false; }
      } else if (row.getAttribute("data-" + name) !== value) {
        return false;
      }
    }
    return true;
  }

  function applyFilters() {
    var filters = controls.map(function (c) { return [c.getAttribute("data-filter"), c.value.trim()]; });
    var count = 0;
    bodies.forEach(function (body) {
      var visible = matches(mainRow(body), filters);
      body.hidden = !visible;
      if (visible) { count++; }
    });
    if (shown) { shown.textContent = count + " of " + bodies.length; }
    if (noMatch) { noMatch.hidden = count !== 0; }
  }

  controls.forEach(function (c) {
    c.addEventListener(c.tagName === "INPUT" ? "input" : "change", applyFilters);
  });
  var form = document.getElementById("filters");
  if (form) { form.addEventListener("submit", function (event) { event.preventDefault(); }); }

  // --- sorting -----------------------------------------------------------------------------
  function sortBy(header, direction) {
    var key = header.getAttribute("data-sort");
    var numeric = header.getAttribute("data-type") === "number" || key === "severity";
    var attribute = "data-sort-" + key;
    var keyed = bodies.map(function (body, position) {
      var raw = mainRow(body).getAttribute(attribute) || "";
      return { body: body, value: numeric ? Number(raw) : raw.toLowerCase(), position: position };
    });
    keyed.sort(function (a, b) {
      var order = a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
      return order * direction || a.position - b.position;
    });
    bodies = keyed.map(function (k) { return k.body; });
    bodies.forEach(function (body) { table.appendChild(body); });
    headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", direction > 0 ? "ascending" : "descending");
  }

  headers.forEach(function (header) {
    header.querySelector("button").addEventListener("click", function () {
      var direction = header.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      sortBy(header, direction);
    });
  });

  // --- expand / collapse, copy -------------------------------------------------------------
  function setAll(open) {
    bodies.forEach(function (body) { if (!body.hidden) { setExpanded(body, open); } });
  }
  var expand = document.getElementById("expand-all");
  var collapse = document.getElementById("collapse-all");
  if (expand) { expand.addEventListener("click", function () { setAll(true); }); }
  if (collapse) { collapse.addEventListener("click", function () { setAll(false); }); }

  Array.prototype.forEach.call(document.querySelectorAll("button.copy"), function (button) {
    button.addEventListener("click", function (event) {
      event.stopPropagation();
      var text = button.getAttribute("data-copy");
      var done = function () { button.textContent = "Copied"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { button.textContent = "Select the line above"; });
      } else {
        var pre = button.previousElementSibling;
        var range = document.createRange();
        range.selectNodeContents(pre);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        button.textContent = "Selected: press Ctrl+C";
      }
    });
  });

  applyFilters();
})();
