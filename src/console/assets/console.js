// lcm console: live refresh of [data-live] regions and the copy button.
// No inline script anywhere (CSP script-src 'self'); nothing here is needed to use the
// console: without JavaScript every page still works, it just does not refresh itself.
(function () {
  "use strict";

  // Inputs the person has changed since the page loaded: never replaced under them.
  var dirty = new WeakSet();
  document.addEventListener("input", function (e) { dirty.add(e.target); }, true);

  function busy(region) {
    if (region.contains(document.activeElement) && document.activeElement !== region) return true;
    var fields = region.querySelectorAll("input, textarea, select");
    for (var i = 0; i < fields.length; i++) if (dirty.has(fields[i])) return true;
    return false;
  }

  function refresh() {
    if (document.hidden) return;
    fetch(location.href, { credentials: "same-origin", headers: { "X-Requested-With": "lcm-live" } })
      .then(function (r) {
        if (r.redirected || !r.ok) return null;
        return r.text();
      })
      .then(function (text) {
        if (!text) return;
        var doc = new DOMParser().parseFromString(text, "text/html");
        document.querySelectorAll("[data-live][id]").forEach(function (region) {
          var fresh = doc.getElementById(region.id);
          if (!fresh || busy(region)) return;
          if (fresh.innerHTML !== region.innerHTML) region.innerHTML = fresh.innerHTML;
        });
      })
      .catch(function () {});
  }

  if (document.body && document.body.hasAttribute("data-live-page")) {
    setInterval(refresh, 1500);
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent).then(function () {
      button.textContent = button.getAttribute("data-copied") || "Copied";
    });
  });
})();
