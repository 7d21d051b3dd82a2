// Draws every <canvas data-chart="ID"> from the JSON in <script id="ID"> (Django json_script),
// and every <canvas data-spark="1,2,3"> as a sparkline. A chart answers one question in one
// unit (no second axis); its numbers are always also in a table on the page, so without
// JavaScript, or with a screen reader, nothing is lost.
//
// A spec: {type: "bar"|"line", labels, datasets: [{label, data}], unit, integer, stacked,
//          horizontal, band: {label, low, high}, multiples: [{title, data}], max}
(function () {
  "use strict";
  var palette = ["#1d4ed8", "#b3261e", "#1e6b34", "#8a5300", "#6b21a8", "#0e7490", "#9d174d", "#4b5563"];
  var ink = "#374151";

  function axis(spec, isValueAxis) {
    var scale = { beginAtZero: true, ticks: { color: ink }, grid: { color: "#e5e7eb" } };
    if (!isValueAxis) { scale.grid = { display: false }; return scale; }
    if (spec.integer) { scale.ticks.precision = 0; }
    if (spec.max !== undefined) { scale.max = spec.max; }
    if (spec.unit) { scale.title = { display: true, text: spec.unit, color: ink }; }
    if (spec.stacked) { scale.stacked = true; }
    return scale;
  }

  function datasetsOf(spec, canvas) {
    if (spec.multiples) {
      var panel = spec.multiples[Number(canvas.dataset.index)];
      return [{ label: panel.title, data: panel.data, backgroundColor: spec.colours || palette[1] }];
    }
    var sets = spec.datasets.map(function (d, i) {
      var colour = palette[i % palette.length];
      return { label: d.label, data: d.data, borderColor: colour, backgroundColor: colour,
               pointRadius: spec.type === "line" ? 2 : 0 };
    });
    if (spec.band) {
      // The target band: the range of values that meets the target, shaded behind the line.
      var n = spec.labels.length;
      sets.push({ label: spec.band.label, data: new Array(n).fill(spec.band.high), fill: "+1",
                  borderWidth: 0, pointRadius: 0, backgroundColor: "rgba(30, 107, 52, 0.15)" });
      sets.push({ label: "", data: new Array(n).fill(spec.band.low), borderWidth: 0, pointRadius: 0 });
    }
    return sets;
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var value = axis(spec, true), category = axis(spec, false);
    if (spec.stacked) { category.stacked = true; }
    var horizontal = Boolean(spec.horizontal);
    var multiple = Boolean(spec.multiples);
    canvas.chart = new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasetsOf(spec, canvas) },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        indexAxis: horizontal ? "y" : "x",
        scales: horizontal ? { x: value, y: category } : { x: category, y: value },
        plugins: {
          legend: { display: !multiple && (spec.datasets.length > 1 || Boolean(spec.band)),
                    labels: { color: ink, filter: function (item) { return item.text !== ""; } } },
          title: multiple ? { display: true, text: spec.multiples[Number(canvas.dataset.index)].title,
                              color: ink, font: { weight: "600" } } : { display: false }
        }
      }
    });
    canvas.dataset.rendered = "true";
  }

  function spark(canvas) {
    if (typeof Chart === "undefined") { return; }
    var values = canvas.dataset.spark.split(",").map(Number);
    new Chart(canvas, {
      type: "line",
      data: { labels: values.map(function (_, i) { return i; }),
              datasets: [{ data: values, borderColor: "#1d4ed8", borderWidth: 1.5, pointRadius: 0, tension: 0.3 }] },
      options: { responsive: false, animation: false, events: [],
                 plugins: { legend: { display: false }, tooltip: { enabled: false } },
                 scales: { x: { display: false }, y: { display: false } } }
    });
    canvas.dataset.rendered = "true";
  }

  function init() {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
    document.querySelectorAll("canvas[data-spark]").forEach(spark);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
