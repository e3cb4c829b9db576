// The ranking task's only script: order the responses by dragging (SortableJS) or by keyboard
// alone, then submit, skip or flag. The server checks everything again; this only builds the request.
(() => {
  const task = document.getElementById("task");
  if (!task) return;
  const list = document.getElementById("responses");
  const status = document.getElementById("status");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const items = () => [...list.children];

  const renumber = () => {
    items().forEach((li, p) => {
      if (p === 0) delete li.dataset.tie;
      li.querySelector(".pos").textContent = String(p + 1);
      li.querySelector(".tie-mark").hidden = li.dataset.tie !== "1";
      li.classList.toggle("tied", li.dataset.tie === "1");
      li.setAttribute("aria-label", `position ${p + 1}${li.dataset.tie === "1" ? ", tied with the one above" : ""}`);
    });
  };
  const place = (li, p) => {
    const others = items().filter((x) => x !== li);
    const at = Math.max(0, Math.min(p, others.length));
    list.insertBefore(li, others[at] ?? null);
    renumber();
    li.focus();
  };

  window.Sortable.create(list, { animation: 0, forceFallback: true, onEnd: renumber });
  renumber();

  const send = async (action) => {
    const body = { submissionId: task.dataset.submission, item: Number(task.dataset.item), action };
    if (action === "rank") {
      body.order = items().map((li) => li.dataset.id);
      body.ties = items().flatMap((li, p) => (p > 0 && li.dataset.tie === "1" ? [p] : []));
    }
    status.textContent = "sending…";
    const res = await fetch(`/rate/${task.dataset.campaign}/submit`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify(body),
    });
    const answer = await res.json().catch(() => ({}));
    if (res.ok) {
      status.textContent = "recorded";
      location.reload();
    } else {
      status.textContent = `${res.status}: ${answer.error ?? "not recorded"}`;
    }
  };

  document.getElementById("submit").addEventListener("click", () => send("rank"));
  document.getElementById("skip").addEventListener("click", () => send("skip"));
  document.getElementById("flag").addEventListener("click", () => send("flag"));

  document.addEventListener("keydown", (e) => {
    const li = document.activeElement?.closest?.("#responses > li");
    const all = items();
    const p = li ? all.indexOf(li) : -1;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const step = e.key === "ArrowDown" ? 1 : -1;
      if (li && e.altKey) place(li, p + step);
      else (all[Math.max(0, Math.min(all.length - 1, p + step))] ?? all[0]).focus();
    } else if (li && /^[1-9]$/.test(e.key)) {
      e.preventDefault();
      place(li, Number(e.key) - 1);
    } else if (li && (e.key === "t" || e.key === "T")) {
      e.preventDefault();
      if (p > 0) li.dataset.tie = li.dataset.tie === "1" ? "" : "1";
      renumber();
    } else if (e.key === "Enter" && (li || document.activeElement === document.body)) {
      e.preventDefault();
      send("rank");
    } else if ((e.key === "s" || e.key === "S") && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      send("skip");
    } else if ((e.key === "f" || e.key === "F") && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      send("flag");
    }
  });
})();
