// Log in with a token from `baton web add-user`, log out. The token is read from the form body only
// and never logged, echoed or put in a URL; the session cookie is HttpOnly and SameSite=Strict.
import { Hono } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import { SESSION_COOKIE, type Sessions } from "../auth/sessions.ts";
import type { UserFile } from "../auth/users.ts";
import { loginPage } from "../pages/login.ts";
import type { WebEnv } from "../security.ts";

export function loginRoutes(users: UserFile, sessions: Sessions, secureCookie: boolean): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  app.get("/login", (c) => c.html(loginPage()));
  app.post("/login", async (c) => {
    const body = await c.req.parseBody();
    const token = typeof body["token"] === "string" ? body["token"].trim() : "";
    const user = token ? await users.verify(token) : null;
    if (!user)
      return c.html(loginPage("That token is not known here. Ask an admin for one (baton web add-user)."), 401);
    const session = sessions.open(user);
    setCookie(c, SESSION_COOKIE, session.id, { httpOnly: true, sameSite: "Strict", path: "/", secure: secureCookie });
    return c.redirect(user.role === "admin" ? "/" : "/rate", 303);
  });
  app.post("/logout", (c) => {
    sessions.close(c.get("session").id);
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.redirect("/login", 303);
  });
  return app;
}
