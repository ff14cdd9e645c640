// The overview's charts (Chart.js, vendored in vendor/). Labels are drawn on a canvas, so
// no text of ours ever becomes markup.
"use strict";

window.charts = (() => {
  const made = {};
  const BLUE = "#2481cc", GREEN = "#34a853", GREY = "rgba(36,129,204,0.15)";

  function draw(name, config) {
    const canvas = document.querySelector(`canvas[data-chart="${name}"]`);
    if (made[name]) made[name].destroy();
    config.options = { animation: false, responsive: true, maintainAspectRatio: false, ...config.options };
    made[name] = new Chart(canvas, config);
    canvas.dataset.drawn = String(config.data.labels.length);
  }

  function funnel(stages) {
    draw("funnel", {
      type: "bar",
      data: {
        labels: stages.map((s) => s.stage),
        datasets: [{ label: "reached", data: stages.map((s) => s.reached), backgroundColor: BLUE }],
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  }

  function active(days) {
    draw("active", {
      type: "line",
      data: {
        labels: days.map((d) => d.day),
        datasets: [{ label: "users", data: days.map((d) => d.active_users), borderColor: BLUE, tension: 0.2 }],
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  }

  function likes(days) {
    const shown = days.filter((d) => d.feed_ratings > 0);
    draw("likes", {
      type: "line",
      data: {
        labels: shown.map((d) => d.day),
        datasets: [
          { label: "95% CI high", data: shown.map((d) => d.ci_high * 100), borderWidth: 0, pointRadius: 0, fill: "+1", backgroundColor: GREY },
          { label: "95% CI low", data: shown.map((d) => d.ci_low * 100), borderWidth: 0, pointRadius: 0, fill: false },
          { label: "like rate %", data: shown.map((d) => d.like_rate * 100), borderColor: GREEN, tension: 0.2 },
        ],
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { min: 0, max: 100 } } },
    });
  }

  return { funnel, active, likes };
})();
