// The web app's people: a name, a role and the sha256 of a login token, in one JSON file under
// BATON_HOME (mode 0600). A token is printed once by `baton web add-user` and never stored: it has
// 192 random bits, so a plain sha256 is enough to make the file useless to whoever reads it.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";

export type Role = "rater" | "admin";
export const ROLES: readonly Role[] = ["rater", "admin"];

export interface WebUser {
  name: string;
  role: Role;
}

interface StoredUser extends WebUser {
  tokenSha256: string;
  createdAt: string;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Where the users file lives: $BATON_WEB_USERS, else web-users.json under $BATON_HOME (default ./runs). */
export function usersFileFor(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.BATON_WEB_USERS ?? resolve(env.BATON_HOME ?? "./runs", "web-users.json"));
}

const digest = (token: string): Buffer => createHash("sha256").update(token, "utf8").digest();

export class UserFile {
  constructor(readonly path: string) {}

  /** Adds a user and returns its token (the only time it exists in clear). */
  async add(name: string, role: Role): Promise<string> {
    if (!NAME.test(name))
      throw new Error(
        `user name ${JSON.stringify(name)}: use lowercase letters, digits, '.', '_' and '-' (it is recorded as the rater id)`,
      );
    if (!ROLES.includes(role)) throw new Error(`role ${JSON.stringify(role)}: use one of ${ROLES.join(", ")}`);
    const users = await this.read();
    if (users.some((u) => u.name === name))
      throw new Error(
        `user ${name} already exists in ${this.path}; pick another name (a rater id must stay one person's)`,
      );
    const token = `baton_${randomBytes(24).toString("base64url")}`;
    users.push({ name, role, tokenSha256: digest(token).toString("hex"), createdAt: new Date().toISOString() });
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify({ users }, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, this.path);
    return token;
  }

  /** The user a token belongs to, or null. Compares every digest in constant time. */
  async verify(token: string): Promise<WebUser | null> {
    const d = digest(token);
    let found: WebUser | null = null;
    for (const u of await this.read()) {
      const stored = Buffer.from(u.tokenSha256, "hex");
      if (stored.length === d.length && timingSafeEqual(stored, d)) found = { name: u.name, role: u.role };
    }
    return found;
  }

  async list(): Promise<WebUser[]> {
    return (await this.read()).map(({ name, role }) => ({ name, role }));
  }

  private async read(): Promise<StoredUser[]> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    const parsed = JSON.parse(text) as { users?: StoredUser[] };
    if (!Array.isArray(parsed.users))
      throw new Error(
        `${this.path} is not a Baton users file ({"users": [...]}); move it away and add the users again`,
      );
    return parsed.users;
  }
}
