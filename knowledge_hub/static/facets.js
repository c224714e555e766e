// The filter box of a long facet's full list: shown only where this script runs (without
// it the whole list is there), it hides the values whose name does not hold what is
// typed, ignoring case and accents ("unhcr", "developpement").
(function () {
  "use strict";

  function folded(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();
  }

  document.querySelectorAll(".facet-filter[hidden]").forEach(function (box) {
    var input = box.querySelector("input");
    var none = box.querySelector(".facet-filter-none");
    var list = document.getElementById(input.getAttribute("aria-controls"));
    if (!list) {
      return;
    }
    var items = Array.prototype.map.call(list.querySelectorAll("li"), function (item) {
      var link = item.querySelector("a");
      return { item: item, name: folded(link ? link.textContent : item.textContent) };
    });
    box.hidden = false;
    input.addEventListener("input", function () {
      var wanted = folded(input.value);
      var shown = 0;
      items.forEach(function (entry) {
        var keep = entry.name.indexOf(wanted) !== -1;
        entry.item.hidden = !keep;
        shown += keep ? 1 : 0;
      });
      none.hidden = shown > 0;
    });
  });
})();
