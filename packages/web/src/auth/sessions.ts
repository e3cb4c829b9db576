// Logged-in sessions, in this process's memory: an unguessable id in an HttpOnly, SameSite=Strict
// cookie, and per session the CSRF token every state-changing request must echo.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { WebUser } from "./users.ts";

export const SESSION_COOKIE = "baton_session";
export const CSRF_HEADER = "x-csrf-token";
export const CSRF_FIELD = "_csrf";

export interface Session {
  id: string;
  user: WebUser;
  csrf: string;
  expiresAt: number;
}

export class Sessions {
  private readonly byId = new Map<string, Session>();

  constructor(private readonly ttlMs = 12 * 3600_000) {}

  open(user: WebUser): Session {
    const s: Session = {
      id: randomBytes(32).toString("base64url"),
      user,
      csrf: randomBytes(32).toString("base64url"),
      expiresAt: Date.now() + this.ttlMs,
    };
    this.byId.set(s.id, s);
    return s;
  }

  get(id: string | undefined): Session | null {
    if (!id) return null;
    const s = this.byId.get(id);
    if (!s) return null;
    if (s.expiresAt < Date.now()) {
      this.byId.delete(id);
      return null;
    }
    return s;
  }

  close(id: string): void {
    this.byId.delete(id);
  }
}

/** Whether `given` is the session's CSRF token (constant time). */
export function csrfMatches(session: Session, given: string | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
