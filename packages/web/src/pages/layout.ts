// The page shell every page shares: a header with the two faces of the app and who is logged in.
// Pages are functions from data to HTML; `html` escapes every interpolated value.
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { Session } from "../auth/sessions.ts";

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export function layout(title: string, session: Session | null, body: Html, scripts: string[] = []): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${session ? html`<meta name="csrf-token" content="${session.csrf}">` : ""}
<title>${title} · Baton</title>
<link rel="stylesheet" href="/assets/style.css">
${scripts.map((s) => html`<script src="${s}" defer></script>`)}
</head>
<body>
<header>
  <strong>Baton</strong>
  ${
    session
      ? html`<nav><a href="/">Runs</a> <a href="/rate">Ranking</a></nav>
  <form method="post" action="/logout" class="logout"><input type="hidden" name="_csrf" value="${session.csrf}"><span>${session.user.name} (${session.user.role})</span> <button type="submit">Log out</button></form>`
      : ""
  }
</header>
<main>
${body}
</main>
</body>
</html>`;
}
