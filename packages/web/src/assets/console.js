// The run page's only script: listen to the run's events (server-sent, from the bus) and swap in a
// fresh copy of the live part of the page, at most once a second (well inside the per-user request budget).
(() => {
  const live = document.getElementById("live");
  if (!live) return;
  const run = live.dataset.run;
  let pending = false;
  const refresh = () => {
    if (pending) return;
    pending = true;
    setTimeout(async () => {
      pending = false;
      const res = await fetch(`/runs/${encodeURIComponent(run)}/live`);
      if (res.ok) live.innerHTML = await res.text();
    }, 1000);
  };
  const events = new EventSource(`/runs/${encodeURIComponent(run)}/events`);
  events.addEventListener("progress", (e) => {
    const p = JSON.parse(e.data);
    const cell = document.querySelector(`#step-${p.cursor} .progress`);
    if (cell) cell.textContent = `step ${p.trainStep}/${p.totalSteps ?? "?"}`;
    refresh();
  });
  events.addEventListener("change", refresh);
})();
