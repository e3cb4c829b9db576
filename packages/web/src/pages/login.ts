import { html } from "hono/html";
import { type Html, layout } from "./layout.ts";

export function loginPage(error?: string): Html {
  return layout(
    "Log in",
    null,
    html`<h1>Log in</h1>
<p>Use the token <code>baton web add-user &lt;name&gt; --role rater|admin</code> printed for you.</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ""}
<form method="post" action="/login">
  <label>Token <input type="password" name="token" autocomplete="off" required autofocus></label>
  <button type="submit">Log in</button>
</form>`,
  );
}
