// A long <select multiple data-picker> (places, languages) made easier where this script
// runs: a box above it that filters the options by name, ignoring case and accents
// ("cote" finds Côte d'Ivoire), a click that toggles one option without Ctrl, and the
// chosen names as chips below, each with a button that removes it. The select itself
// stays and is what the form sends, so without the script the browser's own list, with
// its type-ahead, does the same job.
(function () {
  "use strict";

  function folded(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();
  }

  function element(tag, className, text) {
    var made = document.createElement(tag);
    made.className = className;
    if (text) {
      made.textContent = text;
    }
    return made;
  }

  function enhance(select) {
    var options = Array.prototype.slice.call(select.options);
    var names = options.map(function (option) {
      return folded(option.textContent + " " + option.value);
    });

    var filterLabel = element("label", "picker-filter-label", select.dataset.filterLabel);
    var filter = element("input", "picker-filter");
    filter.type = "search";
    filter.id = select.id + "-filter";
    filter.autocomplete = "off";
    filter.setAttribute("aria-controls", select.id);
    filterLabel.htmlFor = filter.id;
    select.parentNode.insertBefore(filterLabel, select);
    select.parentNode.insertBefore(filter, select);

    var chosenLabel = element("p", "picker-chosen-label", select.dataset.chosenLabel);
    chosenLabel.id = select.id + "-chosen-label";
    var chips = element("ul", "picker-chips");
    chips.setAttribute("aria-labelledby", chosenLabel.id);
    select.parentNode.insertBefore(chosenLabel, select.nextSibling);
    select.parentNode.insertBefore(chips, chosenLabel.nextSibling);

    function chip(option) {
      var item = element("li", "picker-chip");
      var remove = element("button", "picker-remove", "×");
      remove.type = "button";
      remove.setAttribute(
        "aria-label",
        select.dataset.removeLabel.replace("{name}", option.textContent)
      );
      remove.addEventListener("click", function () {
        option.selected = false;
        showChips();
        select.focus();
      });
      item.appendChild(element("span", "picker-name", option.textContent));
      item.appendChild(remove);
      return item;
    }

    function showChips() {
      chips.textContent = "";
      options.forEach(function (option) {
        if (option.selected) {
          chips.appendChild(chip(option));
        }
      });
      if (!chips.children.length) {
        chips.appendChild(element("li", "picker-none", select.dataset.noneLabel));
      }
    }

    filter.addEventListener("input", function () {
      var wanted = folded(filter.value);
      options.forEach(function (option, i) {
        option.hidden = names[i].indexOf(wanted) === -1;
      });
      // A group with nothing left to show is hidden too, heading included.
      Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
        group.hidden = !group.querySelector("option:not([hidden])");
      });
    });
    // Enter in the filter would send the form; it picks the first option shown instead.
    filter.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") {
        return;
      }
      event.preventDefault();
      var first = options.filter(function (option) {
        return !option.hidden;
      })[0];
      if (first) {
        first.selected = true;
        showChips();
      }
    });
    // A click toggles one option and keeps the others chosen, as the chips suggest.
    select.addEventListener("mousedown", function (event) {
      if (event.target.tagName !== "OPTION") {
        return;
      }
      event.preventDefault();
      event.target.selected = !event.target.selected;
      select.focus();
      showChips();
    });
    select.addEventListener("change", showChips);
    showChips();
  }

  document.querySelectorAll("select[multiple][data-picker]").forEach(enhance);
})();
