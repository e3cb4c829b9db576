// The trigger's only state, in NATS KV (bucket baton-trigger), so a SIGKILL loses nothing:
//   seen.<rule>.<id>        this object (uri + sha256 or ETag) already started a run of this rule
//   window.<rule>.<scope>   updates waiting for the rule's next run (scope: the feedback checkpoint, or "latest")
// An update joins its rule's open window (once: the window remembers every id it absorbed); a window
// closes when `windowMs` passed without a new update (or `maxWaitMs` after it opened). Closing is
// compare-and-set to "closing" with the run id and start checkpoint fixed, then the seen marks, then
// the first event (its id derives from the run id, so a replay after a crash is the same event), then
// the window's deletion. A restarted trigger finds closing windows and finishes them.
import { createHash } from "node:crypto";
import type { KvState, Versioned } from "@baton/bus";
import type { CheckpointRef } from "@baton/contracts";
import type { Rule } from "./rules.ts";
import type { Update } from "./updates.ts";

export interface PendingItem {
  uri: string;
  sha256?: string;
  etag?: string;
}

export interface Window {
  rule: string;
  openedAt: number;
  lastAt: number;
  /** The newest announced version of each object, by URI. */
  items: PendingItem[];
  /** Every update id absorbed (all versions), marked seen when the window closes. */
  ids: string[];
  /** feedback rules: the checkpoint named by the events (one window per checkpoint). */
  checkpoint: CheckpointRef | null;
  state: "open" | "closing";
  runId?: string;
  start?: CheckpointRef | null;
}

export interface Seen {
  runId: string;
  uri: string;
}

export type AddResult = "opened" | "added" | "duplicate" | "busy";

const hash = (s: string): string => createHash("sha256").update(s).digest("hex");

/** Identity of an update for a rule: the object and its content (sha256, else ETag). */
export function updateId(u: PendingItem): string {
  return hash(`${u.uri}\n${u.sha256 ? `sha256:${u.sha256}` : u.etag ? `etag:${u.etag}` : "unversioned"}`).slice(0, 32);
}

export const windowKey = (rule: Rule, checkpoint: CheckpointRef | null): string =>
  `window.${rule.name}.${checkpoint ? hash(checkpoint.uri).slice(0, 16) : "latest"}`;
const seenKey = (rule: string, id: string): string => `seen.${rule}.${id}`;

export class Windows {
  constructor(
    private readonly kv: KvState<Window | Seen>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Puts an update into its rule's window; "busy" while that window is closing (retry shortly). */
  async add(rule: Rule, u: Update): Promise<AddResult> {
    const item: PendingItem = {
      uri: u.uri,
      ...(u.sha256 ? { sha256: u.sha256 } : {}),
      ...(u.etag ? { etag: u.etag } : {}),
    };
    const id = updateId(item);
    if (await this.kv.get(seenKey(rule.name, id))) return "duplicate";
    const checkpoint = rule.checkpoint.kind === "event" ? (u.checkpoint ?? null) : null;
    const key = windowKey(rule, checkpoint);
    for (;;) {
      const now = this.now();
      const current = (await this.kv.get(key)) as Versioned<Window> | null;
      if (!current) {
        const fresh: Window = {
          rule: rule.name,
          openedAt: now,
          lastAt: now,
          items: [item],
          ids: [id],
          checkpoint,
          state: "open",
        };
        if (!(await this.kv.create(key, fresh))) continue;
        // A window holding this update may have closed between the seen check and the create.
        if (await this.kv.get(seenKey(rule.name, id))) {
          const mine = await this.get(key);
          if (mine && mine.value.ids.length === 1 && mine.value.state === "open")
            await this.kv.delete(key, mine.revision);
          return "duplicate";
        }
        return "opened";
      }
      const w = current.value;
      if (w.ids.includes(id)) return "duplicate";
      if (w.state === "closing") return "busy";
      const next: Window = {
        ...w,
        lastAt: now,
        items: [...w.items.filter((x) => x.uri !== item.uri), item].sort((a, b) => a.uri.localeCompare(b.uri)),
        ids: [...w.ids, id],
      };
      if (await this.kv.update(key, next, current.revision)) return "added";
    }
  }

  /** Every window key (open or closing). */
  keys(): Promise<string[]> {
    return this.kv.keys("window.>");
  }

  get(key: string): Promise<Versioned<Window> | null> {
    return this.kv.get(key) as Promise<Versioned<Window> | null>;
  }

  /** Whether an open window is due to close now. */
  due(rule: Rule, w: Window): boolean {
    const now = this.now();
    return w.state === "closing" || now - w.lastAt >= rule.windowMs || now - w.openedAt >= rule.maxWaitMs;
  }

  /** Freezes a window: its run id and start checkpoint are fixed from here on. False if another writer moved it. */
  async freeze(
    key: string,
    current: Versioned<Window>,
    runId: string,
    start: CheckpointRef | null,
  ): Promise<Versioned<Window> | null> {
    const closing: Window = { ...current.value, state: "closing", runId, start };
    if (!(await this.kv.update(key, closing, current.revision))) return null;
    return this.get(key);
  }

  /** Marks every absorbed update seen (so a late redelivery of any of them is a duplicate). */
  async markSeen(w: Window): Promise<void> {
    for (const id of w.ids)
      await this.kv.create(seenKey(w.rule, id), {
        runId: w.runId!,
        uri: w.items.find((i) => updateId(i) === id)?.uri ?? "",
      });
  }

  /** Removes a closed window (its run was published). */
  async remove(key: string, revision: number): Promise<boolean> {
    return this.kv.delete(key, revision);
  }
}

/** A run id from the window: the rule, when it opened, and what it holds (stable across restarts). */
export function runIdOf(w: Window): string {
  const stamp = new Date(w.openedAt)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "")
    .replace("T", "-");
  return `${w.rule}-${stamp}-${hash(w.ids.join(",")).slice(0, 8)}`;
}
