(function () {
  "use strict";
  var list = document.getElementById("findings-list");
  if (!list) { return; }
  var heads = list.querySelector(".fhead").children;
  var items = function () { return Array.prototype.slice.call(list.querySelectorAll(".finding")); };

  function sortKey(item, col) {
    if (col === 0) { return Number(item.getAttribute("data-sev")); }
    var cell = item.querySelector("summary").children[col];
    var title = cell.querySelector(".t");
    return (title ? title.textContent : cell.textContent).trim().toLowerCase();
  }

  function sortBy(col) {
    var head = heads[col];
    var dir = head.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    for (var i = 0; i < heads.length; i++) { heads[i].removeAttribute("aria-sort"); }
    head.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    var all = items();
    all.sort(function (a, b) {
      var x = sortKey(a, col), y = sortKey(b, col), c;
      if (col === 0) { c = y - x; } else { c = x < y ? -1 : x > y ? 1 : 0; }
      return dir * c || Number(a.getAttribute("data-n")) - Number(b.getAttribute("data-n"));
    });
    all.forEach(function (item) { list.appendChild(item); });
  }

  Array.prototype.forEach.call(heads, function (head, col) {
    head.classList.add("sortable");
    head.setAttribute("role", "button");
    head.tabIndex = 0;
    head.title = "Sort by " + head.textContent.trim().toLowerCase();
    head.addEventListener("click", function () { sortBy(col); });
    head.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(col); }
    });
  });

  var query = document.getElementById("findings-query");
  if (query) {
    query.hidden = false;
    query.addEventListener("input", function () {
      var q = query.value.trim().toLowerCase();
      items().forEach(function (item) {
        item.classList.toggle("nomatch", q !== "" && item.textContent.toLowerCase().indexOf(q) < 0);
      });
    });
  }

  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (d) {
      d.open = true;
      d.setAttribute("data-print-opened", "");
    });
  });
  window.addEventListener("afterprint", function () {
    document.querySelectorAll("details[data-print-opened]").forEach(function (d) {
      d.open = false;
      d.removeAttribute("data-print-opened");
    });
  });
})();
