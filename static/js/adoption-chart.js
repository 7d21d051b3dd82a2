// The change plan's adoption chart: requests per week through the tool, back-filled from the
// legacy tracker, and approvals decided outside the tool (the same numbers are in a table).
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("adoption-data");
    var canvas = document.getElementById("adoption-chart");
    if (!source || !canvas || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          {label: "Portal or API", data: data.tool, backgroundColor: "#1e6b34", stack: "requests", order: 2},
          {label: "Back-filled from legacy", data: data.legacy, backgroundColor: "#d08a2c", stack: "requests", order: 2},
          {label: "Approvals decided outside the tool", data: data.bypassed, type: "line",
           borderColor: "#b3261e", backgroundColor: "#b3261e", pointRadius: 3, order: 1}
        ]
      },
      options: {responsive: true, maintainAspectRatio: false,
                plugins: {title: {display: true, text: "Requests for the items in scope, per week"}},
                scales: {x: {stacked: true}, y: {stacked: true, beginAtZero: true, ticks: {precision: 0}}}}
    });
    canvas.dataset.rendered = "true";
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
