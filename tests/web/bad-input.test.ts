// Bad input to the web app on real services (nats-server, an S3 server): no session, forged CSRF,
// rankings that are not a permutation of what was shown, a 10 MB body, a repeated submission, a
// flood from one user, and 50 raters submitting at once. Each gets its own status code, and the
// store ends with exactly the valid submissions.

import { type BatonEvent, decodeEvent, keys, subjects } from "@baton/contracts";
import { silentLogger } from "@baton/runner";
import { CampaignBook } from "@baton/web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Client,
  createCampaign,
  login,
  nextTask,
  postLargeBody,
  startWebWorld,
  type WebWorld,
} from "./web-fixture.ts";

const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;
// campaign ids of this run: the store may be a shared one (S3_ENDPOINT from the environment)
const RUN = Date.now().toString(36);
const [BAD, CROWD, FORMCHECK, TOOLONG] = ["bad", "crowd", "formcheck", "toolong"].map((c) => `${c}-${RUN}`) as [
  string,
  string,
  string,
  string,
];
const PROMPTS = ["say hi", "count to 3", "name a colour", "rev cat"];

describe("web app: bad input", () => {
  let w: WebWorld;
  let admin: Client;
  let rater: Client;
  const judgements = async (campaign: string) => (await w.env.store.list(keys.judgements(campaign))).length;

  beforeAll(async () => {
    w = await startWebWorld({
      rateLimit: { requests: 40, windowMs: 60_000 },
      loginRateLimit: { requests: 200, windowMs: 60_000 },
    });
    admin = await login(w.web.url, await w.user("ada", "admin"));
    rater = await login(w.web.url, await w.user("rita", "rater"));
    await createCampaign(w, admin, { id: BAD, prompts: PROMPTS, k: 3, wanted: 100 });
  });
  afterAll(async () => {
    await w?.close();
  });

  it("without a session only the login page answers: pages redirect to /login, the rest is 401", async () => {
    const url = w.web.url;
    const page = await fetch(`${url}/rate`, { headers: { accept: "text/html" }, redirect: "manual" });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/login");
    for (const path of [`/rate/${BAD}/summary.json`, "/assets/rank.js", `/rate/${BAD}`])
      expect((await fetch(`${url}${path}`, { redirect: "manual" })).status).toBe(401);
    const post = await fetch(`${url}/rate/${BAD}/submit`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(post.status).toBe(401);
    expect(await errorOf(post)).toMatch(/not logged in: log in at \/login/);
    const login = await fetch(`${url}/login`);
    expect(login.status).toBe(200);
    expect(login.headers.get("content-security-policy")).toMatch(
      /default-src 'self'; script-src 'self'.*frame-ancestors 'none'/,
    );
    expect(login.headers.get("x-content-type-options")).toBe("nosniff");
    expect(login.headers.get("referrer-policy")).toBe("same-origin");
    // a stolen-looking cookie is no session
    expect(
      (await fetch(`${url}/rate/${BAD}/summary.json`, { headers: { cookie: "baton_session=forged" } })).status,
    ).toBe(401);
    const wrong = await fetch(`${url}/login`, {
      method: "POST",
      body: new URLSearchParams({ token: "baton_not-a-token" }),
      redirect: "manual",
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
  });

  it("the session cookie is HttpOnly and SameSite=Strict; a rater cannot reach admin pages", async () => {
    const res = await fetch(`${w.web.url}/login`, {
      method: "POST",
      body: new URLSearchParams({ token: w.tokens.get("rita")! }),
      redirect: "manual",
    });
    expect(res.headers.get("set-cookie")).toMatch(/^baton_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict$/);
    expect((await rater.get(`/rate/${BAD}/summary.json`)).status).toBe(403);
    expect((await rater.get("/rate/new")).status).toBe(403);
  });

  it("a forged or missing CSRF token is refused with 403 and records nothing", async () => {
    const task = (await nextTask(rater, BAD))!;
    const body = { submissionId: task.submissionId, item: task.item, action: "rank", order: task.ids };
    const forged = await rater.post(`/rate/${BAD}/submit`, body, { csrf: admin.csrf });
    expect(forged.status).toBe(403);
    expect(await errorOf(forged)).toMatch(/CSRF token/);
    expect((await rater.post(`/rate/${BAD}/submit`, body, { csrf: null })).status).toBe(403);
    // a cross-site login form post
    expect(
      (
        await fetch(`${w.web.url}/login`, {
          method: "POST",
          headers: { origin: "http://evil.example" },
          body: new URLSearchParams({ token: "x" }),
        })
      ).status,
    ).toBe(403);
    expect(await judgements(BAD)).toBe(0);
  });

  it("an order with an unknown, missing or repeated id, injected text or an item not shown: 422 / 409, nothing recorded", async () => {
    const task = (await nextTask(rater, BAD))!;
    const send = (order: unknown, extra: Record<string, unknown> = {}) =>
      rater.post(`/rate/${BAD}/submit`, {
        submissionId: task.submissionId,
        item: task.item,
        action: "rank",
        order,
        ...extra,
      });
    const [a, b, c] = task.ids as [string, string, string];
    const cases: [unknown, RegExp][] = [
      [[a, b, "r000000000000"], /not shown to you/],
      [[a, b], /leaves out response id/],
      [[a, a, b], /more than once/],
      [[a, b, "a better answer I wrote myself"], /not shown to you/],
      ["a,b,c", /must be an array/],
    ];
    for (const [order, message] of cases) {
      const res = await send(order);
      expect(res.status, JSON.stringify(order)).toBe(422);
      expect(await errorOf(res)).toMatch(message);
    }
    expect((await send([a, b, c], { ties: [0] })).status).toBe(422);
    const other = await rater.post(`/rate/${BAD}/submit`, {
      submissionId: task.submissionId,
      item: task.item + 1,
      action: "rank",
      order: [a, b, c],
    });
    expect(other.status).toBe(409);
    expect(await errorOf(other)).toMatch(/was not shown to you/);
    expect(
      (
        await rater.post(`/rate/${BAD}/submit`, {
          submissionId: "x",
          item: task.item,
          action: "rank",
          order: [a, b, c],
        })
      ).status,
    ).toBe(400);
    expect((await rater.post(`/rate/${BAD}/submit`, "{not json")).status).toBe(400);
    expect(
      (await rater.post("/rate/nope/submit", { submissionId: task.submissionId, item: 0, action: "skip" })).status,
    ).toBe(404);
    expect(await judgements(BAD)).toBe(0);
  });

  it("a campaign form with K out of range, an unknown checkpoint or no prompt file: 400 naming the field", async () => {
    const form = (
      fields: Record<string, string>,
      prompts = '{"instruction": "say hi", "input": "", "output": "hi"}\n',
    ) => {
      const f = new FormData();
      for (const [k, v] of Object.entries({
        _csrf: admin.csrf,
        id: FORMCHECK,
        checkpoint: w.checkpointUri,
        k: "3",
        wanted: "5",
        guidelines: "g",
        ...fields,
      }))
        f.set(k, v);
      if (prompts) f.set("prompts", new Blob([prompts]), "prompts.jsonl");
      return fetch(`${w.web.url}/rate`, {
        method: "POST",
        body: f,
        headers: { cookie: admin.cookie },
        redirect: "manual",
      });
    };
    const cases: [Promise<Response>, RegExp][] = [
      [form({ k: "12" }), /K \(responses per prompt\) must be an integer in 2\.\.9, got &quot;12&quot;/],
      [
        form({ checkpoint: "file:///nowhere/ckpt/" }),
        new RegExp(`file:///nowhere/ckpt/ is not in this store \\(bucket ${w.services.s3.bucket}\\)`),
      ],
      [
        form({ checkpoint: `s3://${w.services.s3.bucket}/checkpoints/none/` }),
        /checkpoints\/none\/ has no manifest\.json/,
      ],
      [form({ id: "Bad Id" }), /campaign id &quot;Bad Id&quot;/],
      [form({}, ""), /upload a prompt file/],
      [form({}, '{"instruction": \n'), /prompt file prompts\.jsonl: .*1/],
    ];
    for (const [res, message] of cases) {
      const r = await res;
      expect(r.status).toBe(400);
      expect(await r.text()).toMatch(message);
    }
    expect((await rater.post("/rate", {})).status).toBe(403);
    // a form that is fine but a prompt the model has no room to answer: the campaign fails, saying why
    expect(
      (await form({ id: TOOLONG }, `${JSON.stringify({ instruction: "x".repeat(200), input: "", output: "y" })}\n`))
        .status,
    ).toBe(303);
    await expect.poll(() => w.web.campaigns.state(TOOLONG).phase, { timeout: 30_000 }).toBe("failed");
    const page = await (await admin.get(`/rate/${TOOLONG}/summary`, { headers: { accept: "text/html" } })).text();
    expect(page).toContain(
      `failed: campaign ${TOOLONG}: prompt 1 leaves no room to answer in the model&#39;s block of 48 tokens; shorten it`,
    );
    expect(await w.env.store.head(keys.campaign(FORMCHECK))).toBeNull();
  });

  it("a 10 MB body is refused with 413, before the app reads it", async () => {
    const res = await postLargeBody(
      w.web.url,
      `/rate/${BAD}/submit`,
      { cookie: rater.cookie, "x-csrf-token": rater.csrf, "content-type": "application/json" },
      10 * 1024 * 1024,
    );
    expect(res.status).toBe(413);
    expect((JSON.parse(res.body) as { error: string }).error).toMatch(/over the limit of 1048576 bytes/);
    // the app still answers, and recorded nothing
    expect((await rater.get(`/rate/${BAD}`)).status).toBe(200);
    expect(await judgements(BAD)).toBe(0);
  });

  it("the same submission twice is recorded once: 201, then 409", async () => {
    const task = (await nextTask(rater, BAD))!;
    const body = { submissionId: task.submissionId, item: task.item, action: "rank", order: [...task.ids].reverse() };
    const first = await rater.post(`/rate/${BAD}/submit`, body);
    expect(first.status).toBe(201);
    const again = await rater.post(`/rate/${BAD}/submit`, body);
    expect(again.status).toBe(409);
    expect(await errorOf(again)).toMatch(/already recorded/);
    // the same prompt again under a new submission id: judged once is enough
    const other = await rater.post(`/rate/${BAD}/submit`, { ...body, submissionId: "another-submission-1" });
    expect(other.status).toBe(409);
    expect(await judgements(BAD)).toBe(1);
  });

  it("one user over the rate limit gets 429 with Retry-After; others are not slowed", async () => {
    const flooder = await login(w.web.url, await w.user("flo", "rater"));
    const statuses = await Promise.all(
      Array.from({ length: 45 }, () => flooder.get(`/rate/${BAD}`).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    const limited = await flooder.get(`/rate/${BAD}`);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await rater.get(`/rate/${BAD}`)).status).toBe(200);
  });

  it("50 raters at once, each submitting twice: exactly 50 recorded, the export and feedback.ready happen once", {
    timeout: 120_000,
  }, async () => {
    await createCampaign(w, admin, { id: CROWD, prompts: PROMPTS, k: 2, wanted: 50 });
    const seen: BatonEvent[] = [];
    const unwatch = await w.env.bus.watch(subjects.feedbackReady(), (m) => seen.push(decodeEvent(m.data, m.subject)), {
      from: "all",
    });
    const raters: Client[] = [];
    for (let i = 0; i < 50; i++) raters.push(await login(w.web.url, await w.user(`crowd-${i}`, "rater")));
    const tasks = await Promise.all(raters.map((r) => nextTask(r, CROWD)));
    const sends = raters.flatMap((r, i) => {
      const t = tasks[i]!;
      const body = { submissionId: t.submissionId, item: t.item, action: "rank", order: t.ids };
      return [r.post(`/rate/${CROWD}/submit`, body), r.post(`/rate/${CROWD}/submit`, body)];
    });
    const statuses = (await Promise.all(sends)).map((r) => r.status);
    expect(statuses.filter((s) => s === 201).length).toBe(50);
    expect(statuses.filter((s) => s === 409).length).toBe(50);
    expect(await judgements(CROWD)).toBe(50);
    // one more after the count: refused, not stored
    const late = await login(w.web.url, await w.user("late", "rater"));
    const lateTask = await nextTask(late, CROWD);
    expect(lateTask).toBeNull();
    await new Promise((r) => setTimeout(r, 300));
    await unwatch();
    const mine = seen.filter((e) => e.subject === CROWD);
    expect(mine).toHaveLength(1);
    const exported = new TextDecoder()
      .decode(await w.env.store.getBytes(keys.campaignExport(CROWD)))
      .trim()
      .split("\n");
    expect(exported).toHaveLength(50);
    expect((mine[0]!.data as { rankings: number }).rankings).toBe(50);
    expect(new Set(exported.map((l) => JSON.parse(l).rater)).size).toBe(50);
  });

  it("a restarted app reads every campaign back from the store: the same counts, the export not made again", async () => {
    const before = await w.env.store.list(keys.judgements(CROWD));
    const seen: BatonEvent[] = [];
    const unwatch = await w.env.bus.watch(subjects.feedbackReady(), (m) => seen.push(decodeEvent(m.data, m.subject)), {
      from: "new",
    });
    const restarted = new CampaignBook(w.env.store, w.env.bus, silentLogger);
    await restarted.load();
    expect(restarted.summary(CROWD)).toMatchObject({
      rankings: 50,
      state: { phase: "complete", export: { count: 50 } },
    });
    expect(restarted.summary(BAD)).toMatchObject({ rankings: 1, state: { phase: "open" } });
    await new Promise((r) => setTimeout(r, 200));
    await unwatch();
    expect(seen).toHaveLength(0);
    expect(await w.env.store.list(keys.judgements(CROWD))).toEqual(before);
  });

  it("no token or session cookie appears in the app's logs", () => {
    const text = w.logs.join("\n");
    expect(w.logs.length).toBeGreaterThan(50);
    for (const token of w.tokens.values()) expect(text).not.toContain(token);
    expect(text).not.toContain(rater.cookie.split("=")[1]);
    expect(text).not.toContain(rater.csrf);
  });
});
