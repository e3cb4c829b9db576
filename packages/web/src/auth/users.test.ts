import { mkdtemp, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RateLimiter } from "./rate-limit.ts";
import { UserFile, usersFileFor } from "./users.ts";

describe("web users", () => {
  it("a token is returned once and stored only as its sha256, in a file only its owner reads", async () => {
    const users = new UserFile(join(await mkdtemp(join(tmpdir(), "baton-users-")), "home", "web-users.json"));
    const token = await users.add("rita", "rater");
    expect(token).toMatch(/^baton_[A-Za-z0-9_-]{32}$/);
    const file = await readFile(users.path, "utf8");
    expect(file).not.toContain(token);
    expect(file).toContain('"tokenSha256"');
    expect((await stat(users.path)).mode & 0o777).toBe(0o600);
    expect(await users.verify(token)).toEqual({ name: "rita", role: "rater" });
    expect(await users.verify(`${token}x`)).toBeNull();
    await users.add("ada", "admin");
    expect(await users.list()).toEqual([
      { name: "rita", role: "rater" },
      { name: "ada", role: "admin" },
    ]);
  });

  it("refuses a second user of one name, a bad name and an unknown role, saying what to do", async () => {
    const users = new UserFile(join(await mkdtemp(join(tmpdir(), "baton-users-")), "web-users.json"));
    await users.add("rita", "rater");
    await expect(users.add("rita", "admin")).rejects.toThrow(/already exists .* pick another name/);
    await expect(users.add("Rita Smith", "rater")).rejects.toThrow(/use lowercase letters/);
    await expect(users.add("bob", "boss" as "rater")).rejects.toThrow(/use one of rater, admin/);
  });

  it("lives under BATON_HOME unless BATON_WEB_USERS names the file", () => {
    expect(usersFileFor({ BATON_HOME: "/srv/baton" })).toBe("/srv/baton/web-users.json");
    expect(usersFileFor({ BATON_HOME: "/srv/baton", BATON_WEB_USERS: "/etc/baton/users.json" })).toBe(
      "/etc/baton/users.json",
    );
  });

  it("the rate limiter allows a budget per key and window, then says how long to wait", () => {
    const limiter = new RateLimiter({ requests: 2, windowMs: 10_000 });
    expect([limiter.take("a", 0), limiter.take("a", 1), limiter.take("a", 2_000)]).toEqual([0, 0, 8]);
    expect(limiter.take("b", 2_000)).toBe(0);
    expect(limiter.take("a", 10_000)).toBe(0);
  });
});
