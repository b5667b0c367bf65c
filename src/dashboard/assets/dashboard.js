// The dashboard's only script, served from the binary: the journal's live feed (server-sent
// events), the payment page's notification timeline kept fresh, and confirmations. The pages
// work without it; it only saves reloading.
"use strict";

// The journal: each new entry arrives as a rendered, escaped table row.
const rows = document.querySelector("tbody[data-live]");
if (rows && window.EventSource) {
  const keep = Number(rows.dataset.keep || 200);
  const state = document.getElementById("live-state");
  const feed = new EventSource(rows.dataset.live);
  feed.addEventListener("entry", (event) => {
    rows.insertAdjacentHTML("afterbegin", event.data);
    const empty = document.getElementById("journal-empty");
    if (empty) empty.remove();
    while (rows.rows.length > keep) rows.deleteRow(-1);
  });
  // "on" once the feed is open: from then on no entry is missed.
  feed.onopen = () => { if (state) { state.classList.remove("off"); state.classList.add("on"); } };
  feed.onerror = () => { if (state) { state.classList.remove("on"); state.classList.add("off"); } };
}

// A payment's notification section is fetched again every few seconds, so attempts appear
// on the timeline as the sender makes them.
const live = document.querySelector("[data-refresh]");
if (live && live.id) {
  const every = Number(live.dataset.refresh || 2000);
  setInterval(async () => {
    if (document.hidden) return;
    try {
      const answer = await fetch(location.href, { credentials: "same-origin" });
      if (!answer.ok) return;
      const page = new DOMParser().parseFromString(await answer.text(), "text/html");
      const fresh = page.getElementById(live.id);
      if (fresh) live.innerHTML = fresh.innerHTML;
    } catch (_) {
      // Offline for a moment: the next round tries again.
    }
  }, every);
}

// Controls that forget things ask first.
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const question = button && button.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
