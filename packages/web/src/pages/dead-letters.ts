import { html } from "hono/html";
import type { Session } from "../auth/sessions.ts";
import type { DeadLetter } from "../console/run-index.ts";
import { type Html, layout } from "./layout.ts";

export function deadLettersPage(session: Session, letters: DeadLetter[]): Html {
  const admin = session.user.role === "admin";
  return layout(
    "Dead letters",
    session,
    html`<h1>Dead letters</h1>
<p>Events no worker could process, with the reason the last attempt gave.${admin ? " Replay republishes the original event to its subject, once the cause is fixed." : ""}</p>
${
  letters.length === 0
    ? html`<p>None.</p>`
    : html`<table id="dead-letters"><thead><tr><th>#</th><th>event</th><th>run</th><th>subject</th><th>code</th><th>reason</th><th>deliveries</th>${admin ? html`<th></th>` : ""}</tr></thead>
<tbody>${letters.map(
        (l) =>
          html`<tr data-seq="${l.seq}"><td>${l.seq}</td><td><code>${l.eventId}</code></td><td>${l.runId ? html`<a href="/runs/${l.runId}">${l.runId}</a>` : "—"}</td><td><code>${l.originalSubject}</code></td><td>${l.code}</td><td class="reason">${l.reason}</td><td>${l.deliveries}</td>${
            admin
              ? html`<td>${
                  l.replayedAt
                    ? html`replayed ${l.replayedAt}`
                    : html`<form method="post" action="/dead-letters/${l.seq}/replay"><input type="hidden" name="_csrf" value="${session.csrf}"><button type="submit">Replay</button></form>`
                }</td>`
              : ""
          }</tr>`,
      )}</tbody></table>`
}`,
  );
}
