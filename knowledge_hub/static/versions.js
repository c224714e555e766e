// A record page's language versions as ARIA tabs (WAI-ARIA Authoring Practices, "Tabs
// with automatic activation"): without this script each tab is a link that reloads the
// page with that version shown; with it, the links become tabs that switch in place,
// Left/Right (mirrored right to left), Home and End move between them, and the address
// keeps ?version= so that a copied address opens the same version.
// Also the Share section's copy button, shown only where the script runs.
(function () {
  "use strict";

  function enhanceTabs(list) {
    var links = Array.prototype.slice.call(list.querySelectorAll("a[data-panel]"));
    var panels = links.map(function (link) {
      return document.getElementById(link.getAttribute("data-panel"));
    });
    if (panels.indexOf(null) !== -1) {
      return;
    }
    var heading = document.getElementById("record-title");
    var rtl = getComputedStyle(list).direction === "rtl";
    list.setAttribute("role", "tablist");
    list.setAttribute("aria-labelledby", "versions-heading");
    list.querySelectorAll("li").forEach(function (item) {
      item.setAttribute("role", "presentation");
    });

    function select(index, focus) {
      links.forEach(function (link, i) {
        var on = i === index;
        link.setAttribute("aria-selected", on ? "true" : "false");
        link.tabIndex = on ? 0 : -1;
        link.removeAttribute("aria-current");
        panels[i].hidden = !on;
      });
      var panel = panels[index];
      if (heading) {
        heading.textContent = panel.getAttribute("data-title");
        heading.lang = panel.getAttribute("data-language");
        heading.dir = panel.getAttribute("data-direction");
      }
      var address = new URL(window.location.href);
      address.searchParams.set("version", panel.getAttribute("data-language"));
      address.hash = "";
      window.history.replaceState(null, "", address.toString());
      if (focus) {
        links[index].focus();
      }
    }

    var current = 0;
    links.forEach(function (link, i) {
      link.setAttribute("role", "tab");
      link.setAttribute("aria-controls", panels[i].id);
      panels[i].setAttribute("role", "tabpanel");
      panels[i].setAttribute("aria-labelledby", link.id);
      panels[i].tabIndex = 0;
      if (!panels[i].hidden) {
        current = i;
      }
      link.addEventListener("click", function (event) {
        event.preventDefault();
        select(i, false);
      });
      link.addEventListener("keydown", function (event) {
        var next = null;
        var forward = rtl ? "ArrowLeft" : "ArrowRight";
        var backward = rtl ? "ArrowRight" : "ArrowLeft";
        if (event.key === forward) {
          next = (i + 1) % links.length;
        } else if (event.key === backward) {
          next = (i - 1 + links.length) % links.length;
        } else if (event.key === "Home") {
          next = 0;
        } else if (event.key === "End") {
          next = links.length - 1;
        }
        if (next !== null) {
          event.preventDefault();
          select(next, true);
        }
      });
    });
    links.forEach(function (link, i) {
      link.setAttribute("aria-selected", i === current ? "true" : "false");
      link.tabIndex = i === current ? 0 : -1;
      link.removeAttribute("aria-current");
    });
  }

  function enhanceCopy(button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var status = button.parentNode.querySelector(".copy-status");
    if (!field || !navigator.clipboard) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        if (status) {
          status.textContent = button.getAttribute("data-copied");
        }
      });
    });
  }

  document.querySelectorAll("[data-tabs]").forEach(enhanceTabs);
  document.querySelectorAll("button.copy-link[data-copy]").forEach(enhanceCopy);
})();
