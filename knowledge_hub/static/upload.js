/* Upload progress for forms marked data-progress. Without this script the forms post as usual. */
(function () {
  "use strict";
  if (!window.XMLHttpRequest || !window.FormData || !window.DOMParser) { return; }

  function showResponse(xhr) {
    // Show the page the server answered with (the redirect's target, or an error page),
    // as a plain form post would have.
    var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
    document.title = doc.title;
    document.body.replaceWith(document.adoptNode(doc.body));
    if (xhr.responseURL && window.history && window.history.replaceState) {
      window.history.replaceState(null, "", xhr.responseURL);
    }
    var target = xhr.responseURL && xhr.responseURL.split("#")[1];
    var focus = (target && document.getElementById(target)) || document.getElementById("main");
    if (focus) {
      focus.setAttribute("tabindex", "-1");
      focus.focus();
    }
    enhanceAll();
  }

  function enhance(form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sending) { event.preventDefault(); return; }
      event.preventDefault();
      form.dataset.sending = "1";
      var status = document.createElement("div");
      status.className = "upload-progress";
      var label = document.createElement("span");
      label.setAttribute("role", "status");
      var bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      var uploading = form.getAttribute("data-uploading") || "…";
      var checking = form.getAttribute("data-checking") || "…";
      label.textContent = uploading + " 0%";
      bar.setAttribute("aria-label", label.textContent);
      status.appendChild(bar);
      status.appendChild(label);
      form.appendChild(status);
      Array.prototype.forEach.call(form.querySelectorAll("button[type=submit]"), function (b) { b.disabled = true; });

      var xhr = new XMLHttpRequest();
      xhr.open(form.method || "POST", form.action || window.location.href);
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) { return; }
        var percent = Math.round((e.loaded / e.total) * 100);
        bar.value = percent;
        label.textContent = uploading + " " + percent + "%";
        if (percent === 100) { label.textContent = checking; bar.removeAttribute("value"); }
      });
      xhr.addEventListener("load", function () { showResponse(xhr); });
      xhr.addEventListener("error", function () {
        // Fall back to a plain post, which shows the browser's own error.
        delete form.dataset.sending;
        status.remove();
        form.submit();
      });
      xhr.send(new FormData(form));
    });
  }

  function enhanceAll() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-progress]"), enhance);
  }

  document.addEventListener("DOMContentLoaded", enhanceAll);
})();
