// The web commands as a user runs them: `baton web add-user` prints a token once and `baton web users`
// lists the users; `baton run --web 0` serves the console over the run's own memory bus, with an
// admin token issued when there is no user, shows the run there, and stays up until Ctrl-C.
import { spawn } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateDemoData } from "@baton/data";
import { tsxNodeArgs } from "@baton/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../e2e/cluster.ts";

const CLI = fileURLToPath(new URL("../../packages/cli/src/main.ts", import.meta.url));
const TINY = fileURLToPath(new URL("../e2e/recipes/tiny.yaml", import.meta.url));

describe("baton web commands", () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), "baton-cli-web-"));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it("add-user prints the token once on stdout and stores only its hash; users lists names and roles", {
    timeout: 120_000,
  }, async () => {
    const env = { BATON_HOME: join(home, "users-home") };
    const added = await cli(["web", "add-user", "ann", "--role", "rater"], env);
    expect(added.code, added.stderr).toBe(0);
    const token = added.stdout.trim();
    expect(token).toMatch(/^baton_[A-Za-z0-9_-]{32}$/);
    expect(added.stderr).toContain("shown only now");
    expect(added.stderr).not.toContain(token);
    expect(await readFile(join(home, "users-home", "web-users.json"), "utf8")).not.toContain(token);
    const again = await cli(["web", "add-user", "ann", "--role", "admin"], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("user ann already exists");
    const bad = await cli(["web", "add-user", "bob", "--role", "owner"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--role must be rater or admin, got "owner"');
    const list = await cli(["web", "users"], env);
    expect(list.stdout.trim()).toMatch(/^ann\s+rater$/);
  });

  it("baton run --web 0: the console shows the run over its memory bus, then stays up until Ctrl-C", {
    timeout: 120_000,
  }, async () => {
    const runHome = join(home, "run-home");
    await generateDemoData(join(runHome, "data"), { seed: 4, scale: 0.2 });
    await copyFile(TINY, join(runHome, "data", "recipe.yaml"));
    const child = spawn(
      process.execPath,
      [
        ...tsxNodeArgs(),
        CLI,
        "run",
        join(runHome, "data", "recipe.yaml"),
        "--run-id",
        "cli-web-1",
        "--web",
        "0",
        "--threads",
        "1",
      ],
      {
        env: { ...process.env, BATON_HOME: runHome },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await expect.poll(() => out.includes("the console stays at"), { timeout: 100_000, interval: 250 }).toBe(true);
      const url = /web console: (http:\/\/\S+)/.exec(out)![1]!;
      const token = /added admin "local", log in with this token \(shown only now\):\n(\S+)/.exec(out)![1]!;
      const login = await fetch(`${url}/login`, {
        method: "POST",
        body: new URLSearchParams({ token }),
        redirect: "manual",
      });
      expect(login.status).toBe(303);
      const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
      const runs = await (await fetch(`${url}/`, { headers: { cookie } })).text();
      expect(runs).toMatch(
        /data-run="cli-web-1">.*<td class="state">completed<\/td><td>e2e-tiny<\/td><td>2 \/ 2<\/td>/,
      );
      const page = await (await fetch(`${url}/runs/cli-web-1`, { headers: { cookie } })).text();
      expect([...page.matchAll(/<tr id="step-\d" data-state="(\w+)">/g)].map((m) => m[1])).toEqual([
        "committed",
        "committed",
      ]);
      child.kill("SIGINT");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
