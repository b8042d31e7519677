// Polls a round's solve job and shows its progress (or its place in the queue); reloads
// the page when it ends, is interrupted, or can no longer be found.
(function () {
  var box = document.getElementById("solve-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-poll");
  var stage = document.getElementById("solve-stage");
  var figures = document.getElementById("solve-figures");
  var ended = ["done", "failed", "interrupted", "cancelled"];
  function show(job) {
    var p = job.progress || {};
    if (job.status === "queued" && job.position) {
      stage.textContent = box.getAttribute("data-queued") + " " + job.position;
    } else {
      stage.textContent = (p.stage || job.status) + " · " + Number(job.elapsed || 0).toFixed(1) + " s";
    }
    var parts = [];
    if (p.incumbent !== undefined && p.incumbent !== null) { parts.push(box.getAttribute("data-incumbent") + " " + p.incumbent); }
    if (p.bound !== undefined && p.bound !== null) { parts.push(box.getAttribute("data-bound") + " " + p.bound); }
    figures.textContent = parts.join(" · ");
  }
  function tick() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (!r.ok) { throw {gone: r.status === 404 || r.status === 401}; }
        return r.json();
      })
      .then(function (job) {
        show(job);
        if (ended.indexOf(job.status) >= 0) {
          window.location.replace(box.getAttribute("data-done"));
        } else { window.setTimeout(tick, 500); }
      })
      .catch(function (e) {
        if (e && e.gone) { window.location.replace(box.getAttribute("data-done")); return; }
        window.setTimeout(tick, 1500);
      });
  }
  tick();
}());
