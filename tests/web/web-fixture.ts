// The web app against real services for the web tests: nats-server and an S3 server (startTestServices),
// a committed tiny checkpoint in the store to rank, users with tokens, the app on a free port, and
// helpers to log in and to create a campaign over HTTP as the admin's form does.
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commitCheckpoint, type StageEnv, stageEnv } from "@baton/runner";
import { tinyCheckpoint } from "@baton/stage-contract";
import { startTestServices, type TestServices } from "@baton/testing";
import { type Role, type RunningWeb, type StartWebOptions, startWeb, UserFile } from "@baton/web";

export interface WebWorld {
  dir: string;
  services: TestServices;
  env: StageEnv;
  web: RunningWeb;
  users: UserFile;
  /** token of each user added with `user()` */
  tokens: Map<string, string>;
  checkpointUri: string;
  /** every log line the app wrote */
  logs: string[];
  user(name: string, role: Role): Promise<string>;
  close(): Promise<void>;
}

export async function startWebWorld(options: Partial<StartWebOptions> = {}): Promise<WebWorld> {
  const dir = await mkdtemp(join(tmpdir(), "baton-web-"));
  const services = await startTestServices();
  const env = await stageEnv({ ...services.env, BATON_HOME: join(dir, "home") });
  const committed = await commitCheckpoint(env.store, {
    // a folder of this world's own: the store may be shared (S3_ENDPOINT from the environment)
    prefix: `checkpoints/web-fixture-${Date.now().toString(36)}-${process.pid}/0-instruct/a1/`,
    dir: await tinyCheckpoint(join(dir, "tiny")),
    manifest: {
      runId: "web-fixture",
      cursor: 0,
      step: "instruct",
      stage: "instruct",
      implementation: "fixture",
      version: "0",
      parent: null,
      config: {},
      datasets: [],
      metrics: {},
      traceId: null,
      startedAt: new Date().toISOString(),
    },
  });
  const logs: string[] = [];
  const log = {
    info: (msg: string, f?: Record<string, unknown>) => logs.push(JSON.stringify({ msg, ...f })),
    warn: (msg: string, f?: Record<string, unknown>) => logs.push(JSON.stringify({ msg, ...f })),
    error: (msg: string, f?: Record<string, unknown>) => logs.push(JSON.stringify({ msg, ...f })),
  };
  const users = new UserFile(join(dir, "home", "web-users.json"));
  const web = await startWeb({
    bus: env.bus,
    store: env.store,
    log: options.log ?? log,
    users,
    port: 0,
    threads: 1,
    ...options,
  });
  const tokens = new Map<string, string>();
  return {
    dir,
    services,
    env,
    web,
    users,
    tokens,
    checkpointUri: committed.ref.uri,
    logs,
    async user(name, role) {
      const token = await users.add(name, role);
      tokens.set(name, token);
      return token;
    },
    async close() {
      await web.close();
      await env.close();
      await services.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Client {
  cookie: string;
  csrf: string;
  get(path: string, init?: RequestInit): Promise<Response>;
  post(
    path: string,
    body: unknown,
    init?: { csrf?: string | null; headers?: Record<string, string> },
  ): Promise<Response>;
}

/** Logs in with a token as the login form does; the session cookie and the page's CSRF token. */
export async function login(url: string, token: string): Promise<Client> {
  const res = await fetch(`${url}/login`, { method: "POST", body: new URLSearchParams({ token }), redirect: "manual" });
  if (res.status !== 303) throw new Error(`login answered ${res.status}: ${await res.text()}`);
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const page = await (await fetch(`${url}/rate`, { headers: { cookie, accept: "text/html" } })).text();
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(page)?.[1];
  if (!csrf) throw new Error("no CSRF token on /rate after login");
  return {
    cookie,
    csrf,
    get: (path, init) =>
      fetch(`${url}${path}`, {
        ...init,
        redirect: "manual",
        headers: { cookie, ...(init?.headers as Record<string, string>) },
      }),
    post: (path, body, init) =>
      fetch(`${url}${path}`, {
        method: "POST",
        redirect: "manual",
        headers: {
          cookie,
          "content-type": "application/json",
          ...(init?.csrf === null ? {} : { "x-csrf-token": init?.csrf ?? csrf }),
          ...init?.headers,
        },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
  };
}

export interface CampaignForm {
  id: string;
  prompts: string[];
  k: number;
  wanted: number;
  guidelines?: string;
  maxTokens?: number;
}

/** Creates a campaign as the admin's form does (multipart, prompt file uploaded) and waits for its sampling. */
export async function createCampaign(w: WebWorld, admin: Client, f: CampaignForm): Promise<void> {
  const form = new FormData();
  form.set("_csrf", admin.csrf);
  form.set("id", f.id);
  form.set("checkpoint", w.checkpointUri);
  form.set("k", String(f.k));
  form.set("wanted", String(f.wanted));
  form.set("maxTokens", String(f.maxTokens ?? 6));
  form.set("guidelines", f.guidelines ?? "Best answer first. Tie answers that are equally good.");
  form.set(
    "prompts",
    new Blob([`${f.prompts.map((p) => JSON.stringify({ instruction: p, input: "", output: "x" })).join("\n")}\n`]),
    "prompts.jsonl",
  );
  const res = await fetch(`${w.web.url}/rate`, {
    method: "POST",
    body: form,
    redirect: "manual",
    headers: { cookie: admin.cookie },
  });
  if (res.status !== 303) throw new Error(`creating campaign ${f.id} answered ${res.status}: ${await res.text()}`);
  for (let i = 0; i < 600; i++) {
    const phase = w.web.campaigns.state(f.id).phase;
    if (phase === "open") return;
    if (phase === "failed") throw new Error(`campaign ${f.id} failed: ${JSON.stringify(w.web.campaigns.state(f.id))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`campaign ${f.id} still sampling after 30s`);
}

/** The next item the app shows a rater, read from the task page (its ids in the order shown). */
export async function nextTask(
  client: Client,
  campaign: string,
): Promise<{ item: number; submissionId: string; ids: string[] } | null> {
  const page = await (await client.get(`/rate/${campaign}`, { headers: { accept: "text/html" } })).text();
  const m = /data-item="(\d+)" data-submission="([^"]+)"/.exec(page);
  if (!m) return null;
  return {
    item: Number(m[1]),
    submissionId: m[2]!,
    ids: [...page.matchAll(/<li data-id="([^"]+)"/g)].map((x) => x[1]!),
  };
}

/**
 * POSTs `size` bytes the way a browser uploads: headers first (with Content-Length), then the body in
 * chunks, stopping as soon as the server answers. A server that refuses a body early may close the
 * connection before the upload ends; what the client gets is that early answer.
 */
export function postLargeBody(
  url: string,
  path: string,
  headers: Record<string, string>,
  size: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: "POST", headers: { ...headers, "content-length": String(size) } });
    let answered = false;
    req.once("response", (res) => {
      answered = true;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.once("end", () => {
        resolve({ status: res.statusCode ?? 0, body });
        req.destroy();
      });
    });
    req.once("error", (err) => {
      if (!answered) reject(err);
    });
    const chunk = Buffer.alloc(64 * 1024, "x");
    let sent = 0;
    const pump = () => {
      while (!answered && sent < size) {
        const n = Math.min(chunk.length, size - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once("drain", pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}
