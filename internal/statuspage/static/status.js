// Keeps a status page current: once a second it fetches the page's <main>
// alone (?fragment=1) and swaps it in. The page is complete without it.
(function () {
  "use strict";
  var period = 1000;

  function fragmentURL() {
    var u = new URL(window.location.href);
    u.searchParams.set("fragment", "1");
    return u.toString();
  }

  function mark(text, cls) {
    var el = document.getElementById("refresh-state");
    if (el) {
      el.textContent = text;
      el.className = "refresh " + cls;
    }
  }

  // openDetails lists the ids of open <details>, so a swap keeps them open.
  function openDetails(root) {
    return Array.prototype.map.call(root.querySelectorAll("details[id][open]"), function (d) { return d.id; });
  }

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("main");
    var old = document.querySelector("main");
    if (!fresh || !old) {
      throw new Error("no <main> in the page update");
    }
    var keep = openDetails(old);
    fresh = document.adoptNode(fresh);
    keep.forEach(function (id) {
      var d = fresh.querySelector("details[id='" + CSS.escape(id) + "']");
      if (d) { d.open = true; }
    });
    old.replaceWith(fresh);
  }

  function tick() {
    fetch(fragmentURL(), { cache: "no-store", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.text();
      })
      .then(function (html) {
        swap(html);
        mark("live", "refresh-live");
      })
      .catch(function (e) {
        mark("stale: " + e.message, "refresh-stale");
      })
      .then(function () { window.setTimeout(tick, period); });
  }

  mark("live", "refresh-live");
  window.setTimeout(tick, period);
})();
