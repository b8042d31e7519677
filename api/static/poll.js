// Polls a round's solve job and shows its progress; reloads the page when it ends.
(function () {
  var box = document.getElementById("solve-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-poll");
  var stage = document.getElementById("solve-stage");
  var figures = document.getElementById("solve-figures");
  function show(job) {
    var p = job.progress || {};
    stage.textContent = (p.stage || job.status) + " · " + (job.elapsed || 0).toFixed(1) + " s";
    var parts = [];
    if (p.incumbent !== undefined && p.incumbent !== null) { parts.push(box.getAttribute("data-incumbent") + " " + p.incumbent); }
    if (p.bound !== undefined && p.bound !== null) { parts.push(box.getAttribute("data-bound") + " " + p.bound); }
    figures.textContent = parts.join(" · ");
  }
  function tick() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (job) {
        show(job);
        if (job.status === "done" || job.status === "failed") {
          window.location.replace(box.getAttribute("data-done"));
        } else { window.setTimeout(tick, 500); }
      })
      .catch(function () { window.setTimeout(tick, 1500); });
  }
  tick();
}());
