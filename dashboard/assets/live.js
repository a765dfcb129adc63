// live.js keeps a dashboard page current without a reload. It is the
// dashboard's only script, hand-written and embedded in the binary: no
// library, no build step, no external request, so pages work offline and
// the Content-Security-Policy can allow scripts from this origin only.
//
// On a study page (an element #live with data-live-url) it polls that URL
// every data-refresh-ms of <body>, writes the counts into the elements
// with a matching data-live attribute, and when the version changes (a
// trial finished, started, or the best moved) re-fetches the page's report
// part (?fragment=1, same filters) and swaps it into #report. On the study
// list it polls /studies.json and updates each row the same way. Clicking
// a chart's caption hides or shows the chart.
(function () {
  "use strict";
  var every = parseInt(document.body.dataset.refreshMs, 10) || 2000;

  function setAll(root, state) {
    root.querySelectorAll("[data-live]").forEach(function (el) {
      var v = state[el.dataset.live];
      if (v === undefined || v === null) { return; }
      if (el.tagName === "PROGRESS") { el.value = v; } else { el.textContent = String(v); }
    });
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(url + ": " + r.status); } return r.json(); });
  }

  function studyPage(live) {
    var version = null, lastFetch = Date.now(), busy = false;
    var report = document.getElementById("report");
    var stamp = document.getElementById("updated");
    function fragment() {
      var q = new URLSearchParams(location.search);
      q.set("fragment", "1");
      return fetch(location.pathname + "?" + q.toString(), { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error("fragment: " + r.status); } return r.text(); })
        .then(function (html) { report.innerHTML = html; lastFetch = Date.now(); });
    }
    function tick() {
      if (busy) { return; }
      busy = true;
      getJSON(live.dataset.liveUrl).then(function (st) {
        setAll(document, st);
        stamp.textContent = "updated " + new Date().toLocaleTimeString();
        var changed = version !== null && st.version !== version;
        // Running trials add points to the curves without changing any
        // count: refresh those every few polls too.
        var stale = st.running > 0 && Date.now() - lastFetch > 5 * every;
        version = st.version;
        if (changed || stale) { return fragment(); }
      }).catch(function (e) { stamp.textContent = "update failed: " + e.message; })
        .then(function () { busy = false; });
    }
    setInterval(tick, every);
    tick();
  }

  function studyList(table) {
    setInterval(function () {
      getJSON("/studies.json").then(function (rows) {
        rows.forEach(function (st) {
          table.querySelectorAll("tr[data-study]").forEach(function (tr) {
            if (tr.dataset.study !== st.name) { return; }
            st.best = st.best_text;
            setAll(tr, st);
          });
        });
      }).catch(function () {});
    }, every);
  }

  document.addEventListener("click", function (ev) {
    var cap = ev.target.closest && ev.target.closest("figcaption");
    if (cap) { cap.parentElement.classList.toggle("hidden"); }
  });

  var live = document.getElementById("live");
  if (live) { studyPage(live); }
  var list = document.getElementById("studies");
  if (list) { studyList(list); }
})();
