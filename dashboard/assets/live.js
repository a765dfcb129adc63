// live.js keeps a dashboard page current without a reload. It is the
// dashboard's only script, hand-written and embedded in the binary: no
// library, no build step, no external request, so pages work offline and
// the Content-Security-Policy can allow scripts from this origin only.
//
// On a study or trial page (an element #live with data-live-url) it polls
// that URL every data-refresh-ms of <body>, writes the counts into the
// elements with a matching data-live attribute, and when the version
// changes (a trial finished, started, or the best moved) re-fetches the
// page's report part (?fragment=1, same filters) and swaps it into
// #report. On the study
// list it polls /studies.json and updates each row the same way. Clicking
// a chart's caption hides or shows the chart. On the parallel-coordinates
// chart, dragging along an axis brushes a range: trials whose line misses
// any brushed range (or that did not sample that param) fade; a click on
// an axis clears its brush. Brushes survive the live refreshes.
//
// Charts with a data-axes attribute (line and scatter charts: its JSON
// gives the plot areas in SVG units and the data range they show) zoom:
// dragging a rectangle over the plot area (a horizontal range on the
// timeline, a vertical one on the slice panels) asks the server for that
// chart redrawn for the box (?fig=ID&xmin=&xmax=&ymin=&ymax=), so its
// ticks label the zoomed range; a double-click or its "reset zoom" button
// redraws it whole. Zooms survive the live refreshes: the refreshed report
// gets the zoomed charts swapped in before it is shown. Clicking a legend
// entry of such a chart hides or shows that series (the marks drawn in its
// colour), also across refreshes and zooms.
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
        .then(function (html) {
          var t = document.createElement("template");
          t.innerHTML = html;
          return rezoom(t.content).then(function () {
            report.replaceChildren(t.content);
            initCharts(report);
            lastFetch = Date.now();
          });
        });
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

  // brushes maps an axis's name to its brushed [top, bottom] (SVG units):
  // by name, since a refresh may reorder the axes by importance.
  var brushes = {};

  function svgPoint(svg, ev) {
    var pt = svg.createSVGPoint();
    pt.x = ev.clientX; pt.y = ev.clientY;
    return pt.matrixTransform(svg.getScreenCTM().inverse());
  }

  // axesOf maps each axis name (the label under it) to its x.
  function axesOf(svg) {
    var xs = {};
    svg.querySelectorAll("text.label").forEach(function (t) { xs[t.textContent] = parseFloat(t.getAttribute("x")); });
    return xs;
  }

  // applyBrushes fades the lines outside any brush and redraws the boxes.
  function applyBrushes(svg) {
    svg.querySelectorAll("rect.brush").forEach(function (r) { r.remove(); });
    var axes = axesOf(svg);
    var active = Object.keys(brushes).filter(function (name) { return axes[name] !== undefined; });
    svg.querySelectorAll("path").forEach(function (path) {
      var at = {}, re = /[ML]\s*(-?[\d.]+)\s+(-?[\d.]+)/g, m;
      while ((m = re.exec(path.getAttribute("d"))) !== null) { at[parseFloat(m[1]).toFixed(1)] = parseFloat(m[2]); }
      var keep = active.every(function (name) {
        var y = at[axes[name].toFixed(1)], b = brushes[name];
        return y !== undefined && y >= b[0] && y <= b[1];
      });
      path.classList.toggle("dim", !keep);
    });
    active.forEach(function (name) {
      var r = document.createElementNS("http://www.w3.org/2000/svg", "rect");
      r.setAttribute("class", "brush");
      r.setAttribute("x", axes[name] - 6); r.setAttribute("width", 12);
      r.setAttribute("y", brushes[name][0]); r.setAttribute("height", brushes[name][1] - brushes[name][0]);
      svg.appendChild(r);
    });
  }

  function brushable(svg) {
    var axis = null, from = 0;
    function span(ev) {
      var y = svgPoint(svg, ev).y;
      return [Math.min(from, y), Math.max(from, y)];
    }
    svg.addEventListener("pointerdown", function (ev) {
      var p = svgPoint(svg, ev), axes = axesOf(svg);
      axis = null;
      Object.keys(axes).forEach(function (name) { if (Math.abs(axes[name] - p.x) < 14) { axis = name; } });
      if (axis !== null) { from = p.y; ev.preventDefault(); }
    });
    svg.addEventListener("pointermove", function (ev) {
      if (axis === null) { return; }
      brushes[axis] = span(ev);
      applyBrushes(svg);
    });
    svg.addEventListener("pointerup", function (ev) {
      if (axis === null) { return; }
      var b = span(ev);
      if (b[1] - b[0] < 3) { delete brushes[axis]; } else { brushes[axis] = b; }
      axis = null;
      applyBrushes(svg);
    });
  }

  // zooms maps a chart's data-fig to the box it is zoomed to, as query
  // parameters (xmin, xmax, ymin, ymax; data values).
  var zooms = {};

  // chart fetches chart id drawn for box (null: whole) as a <figure>.
  function chart(id, box) {
    var q = new URLSearchParams(location.search);
    q.set("fragment", "1");
    q.set("fig", id);
    Object.keys(box || {}).forEach(function (k) { q.set(k, String(box[k])); });
    return fetch(location.pathname + "?" + q.toString(), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error("chart " + id + ": " + r.status); } return r.text(); })
      .then(function (html) {
        var t = document.createElement("template");
        t.innerHTML = html.trim();
        return t.content.firstElementChild;
      });
  }

  // redraw replaces the figure fig with chart id drawn for box.
  function redraw(fig, id, box) {
    if (box) { zooms[id] = box; } else { delete zooms[id]; }
    return chart(id, box).then(function (el) { fig.replaceWith(el); zoomable(el); })
      .catch(function () { delete zooms[id]; });
  }

  // rezoom swaps zoomed charts into a freshly fetched report; a chart
  // that can no longer be drawn so is left whole and forgotten.
  function rezoom(root) {
    var jobs = [];
    root.querySelectorAll("figure[data-axes]").forEach(function (fig) {
      var id = fig.dataset.fig, box = zooms[id];
      if (!box) { return; }
      jobs.push(chart(id, box).then(function (el) { fig.replaceWith(el); })
        .catch(function () { delete zooms[id]; }));
    });
    return Promise.all(jobs);
  }

  // hidden maps a chart's data-fig to the legend colours switched off.
  var hidden = {};

  // colour is the colour a mark is drawn in: its stroke, else its fill.
  function colour(el) {
    var s = el.getAttribute("stroke");
    return s && s !== "none" ? s : el.getAttribute("fill");
  }

  // swatchOf returns the legend swatch el is, or whose label it is.
  function swatchOf(el, ax) {
    var top = Math.min.apply(null, ax.areas.map(function (a) { return a[1]; }));
    var is = function (r) {
      return r && r.tagName === "rect" && (ax.series || []).indexOf(r.getAttribute("fill")) >= 0 &&
        parseFloat(r.getAttribute("y")) < top;
    };
    return is(el) ? el : is(el.previousElementSibling) ? el.previousElementSibling : null;
  }

  // applySeries hides the marks of the series switched off in fig and
  // greys their legend entries.
  function applySeries(fig, ax) {
    var off = hidden[fig.dataset.fig] || {};
    fig.querySelectorAll("svg [fill], svg [stroke]").forEach(function (el) {
      var sw = swatchOf(el, ax);
      if (sw === el) {
        el.classList.add("swatch");
        el.classList.toggle("muted", !!off[colour(el)]);
        if (el.nextElementSibling) { el.nextElementSibling.classList.toggle("muted", !!off[colour(el)]); }
      } else if (!sw) {
        el.classList.toggle("series-off", !!off[colour(el)]);
      }
    });
  }

  // zoomable lets a drag over fig's plot areas zoom it, a double-click
  // reset it, and a click on a legend entry hide or show that series.
  function zoomable(fig) {
    if (!fig.dataset || !fig.dataset.axes) { return; }
    var svg = fig.querySelector("svg"), ax = JSON.parse(fig.dataset.axes), id = fig.dataset.fig;
    var area = null, from = null, box = null;
    applySeries(fig, ax);
    svg.addEventListener("click", function (ev) {
      var sw = swatchOf(ev.target, ax);
      if (!sw) { return; }
      var off = hidden[id] = hidden[id] || {}, c = sw.getAttribute("fill");
      if (off[c]) { delete off[c]; } else { off[c] = true; }
      applySeries(fig, ax);
    });
    // span is the dragged rectangle from the press to ev, inside the
    // area; an axis that does not zoom spans the whole area.
    function span(ev) {
      var p = svgPoint(svg, ev);
      var x = Math.min(Math.max(p.x, area[0]), area[2]), y = Math.min(Math.max(p.y, area[1]), area[3]);
      var r = ax.zoom_x ? [Math.min(from.x, x), Math.max(from.x, x)] : [area[0], area[2]];
      var c = ax.zoom_y ? [Math.min(from.y, y), Math.max(from.y, y)] : [area[1], area[3]];
      return { x: r[0], y: c[0], w: r[1] - r[0], h: c[1] - c[0] };
    }
    svg.addEventListener("pointerdown", function (ev) {
      var p = svgPoint(svg, ev);
      area = null;
      ax.areas.forEach(function (a) { if (p.x >= a[0] && p.x <= a[2] && p.y >= a[1] && p.y <= a[3]) { area = a; } });
      if (!area) { return; }
      from = p;
      ev.preventDefault();
      // Keep the pointer's events while it is down, so that a drag that
      // ends outside the chart still ends here.
      try { svg.setPointerCapture(ev.pointerId); } catch (e) { /* not an active pointer */ }
    });
    svg.addEventListener("pointermove", function (ev) {
      if (!area) { return; }
      var s = span(ev);
      if (!box) {
        box = document.createElementNS("http://www.w3.org/2000/svg", "rect");
        box.setAttribute("class", "zoombox");
        svg.appendChild(box);
      }
      box.setAttribute("x", s.x); box.setAttribute("y", s.y);
      box.setAttribute("width", s.w); box.setAttribute("height", s.h);
    });
    svg.addEventListener("pointerup", function (ev) {
      if (!area) { return; }
      var s = span(ev), a = area, z = Object.assign({}, zooms[id] || {});
      area = null;
      if (box) { box.remove(); box = null; }
      // An axis zooms only when the drag covers 4 SVG units of it: a
      // flat drag over a chart that zooms both axes zooms x alone.
      var zx = ax.zoom_x && s.w >= 4, zy = ax.zoom_y && s.h >= 4;
      if (!zx && !zy) { return; }
      var dx = function (px) { return ax.x.lo + (px - a[0]) / (a[2] - a[0]) * (ax.x.hi - ax.x.lo); };
      var dy = function (py) { return ax.y.lo + (a[3] - py) / (a[3] - a[1]) * (ax.y.hi - ax.y.lo); };
      if (zx) { z.xmin = dx(s.x); z.xmax = dx(s.x + s.w); }
      if (zy) { z.ymin = dy(s.y + s.h); z.ymax = dy(s.y); }
      redraw(fig, id, z);
    });
    svg.addEventListener("dblclick", function () { redraw(fig, id, null); });
  }

  // initCharts wires the charts of a freshly rendered report.
  function initCharts(root) {
    var svg = root.querySelector('figure[data-fig="parallel"] svg');
    if (svg) { brushable(svg); applyBrushes(svg); }
    root.querySelectorAll("figure[data-axes]").forEach(zoomable);
  }

  document.addEventListener("click", function (ev) {
    var reset = ev.target.closest && ev.target.closest("button.unzoom");
    if (reset) {
      var fig = reset.parentElement;
      redraw(fig, fig.dataset.fig, null);
      return;
    }
    var cap = ev.target.closest && ev.target.closest("figcaption");
    if (cap) { cap.parentElement.classList.toggle("hidden"); }
  });

  initCharts(document);
  var live = document.getElementById("live");
  if (live) { studyPage(live); }
  var list = document.getElementById("studies");
  if (list) { studyList(list); }
})();
