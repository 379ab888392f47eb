// Draws every consumption chart on the page: an element with data-chart="<id>"
// reads its figures from the JSON script element <id> (Django's json_script).
(function () {
  "use strict";
  const rtl = document.documentElement.dir === "rtl";
  const lang = document.documentElement.lang || "en";
  const number = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });

  function draw(element) {
    const source = document.getElementById(element.dataset.chart);
    if (!source || typeof echarts === "undefined") {
      return;
    }
    const data = JSON.parse(source.textContent);
    const chart = echarts.init(element);
    chart.setOption({
      grid: { left: 16, right: 16, top: 32, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", valueFormatter: (v) => (v == null ? "–" : number.format(v) + " " + data.unit) },
      // Time runs the way the page reads.
      xAxis: { type: "category", data: data.labels, inverse: rtl, axisLabel: { hideOverlap: true } },
      yAxis: {
        type: "value",
        name: data.unit,
        position: rtl ? "right" : "left",
        axisLabel: { formatter: (v) => number.format(v) },
      },
      series: [{ type: "bar", name: data.name, data: data.values, itemStyle: { color: "#1d3557" } }],
    });
    window.addEventListener("resize", () => chart.resize());
  }

  document.querySelectorAll("[data-chart]").forEach(draw);
})();
