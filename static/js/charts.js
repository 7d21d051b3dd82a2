// Draws every <canvas data-chart="ID"> from the JSON in <script id="ID"> (Django json_script).
// The numbers are always also in a table on the page; without JavaScript nothing is lost.
(function () {
  "use strict";
  var palette = ["#1d4ed8", "#b3261e", "#1e6b34", "#8a5300", "#6b21a8"];
  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var twoAxes = spec.datasets.some(function (d) { return d.axis === "y2"; });
    var datasets = spec.datasets.map(function (d, i) {
      var colour = palette[i % palette.length];
      return {
        label: d.label, data: d.data, borderColor: colour, backgroundColor: colour,
        borderDash: d.dashed ? [6, 4] : [], pointRadius: d.dashed ? 0 : 2,
        type: d.axis === "y2" && spec.type === "bar" ? "line" : undefined,
        yAxisID: d.axis === "y2" ? "y2" : "y"
      };
    });
    var scales = { y: { beginAtZero: true } };
    if (twoAxes) { scales.y2 = { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } }; }
    canvas.chart = new Chart(canvas, {
      type: spec.type, data: { labels: spec.labels, datasets: datasets },
      options: { responsive: true, maintainAspectRatio: false, animation: false, scales: scales }
    });
    canvas.dataset.rendered = "true";
  }
  function init() { document.querySelectorAll("canvas[data-chart]").forEach(draw); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
