// `baton web`: the app on a port, over the bus and store of this environment (stageEnv: NATS_URL,
// S3_ENDPOINT, ... as the stage services read them; else the in-memory bus and the local folder store),
// or over those of a running `baton run --web` in this process.
import type { Bus } from "@baton/bus";
import type { Logger } from "@baton/runner";
import { serveStageApp } from "@baton/service";
import type { Store } from "@baton/store";
import { createWebApp, type WebApp, type WebAppOptions } from "./app.ts";
import { UserFile, usersFileFor } from "./auth/users.ts";

export interface StartWebOptions extends Partial<Omit<WebAppOptions, "bus" | "store" | "log" | "users">> {
  bus: Bus;
  store: Store;
  log: Logger;
  users?: UserFile;
  port?: number;
  hostname?: string;
}

export interface RunningWeb extends WebApp {
  url: string;
  listening: string;
  close(): Promise<void>;
}

export const DEFAULT_WEB_PORT = 8080;

export async function startWeb(o: StartWebOptions): Promise<RunningWeb> {
  const users = o.users ?? new UserFile(usersFileFor());
  const web = await createWebApp({ ...o, users });
  const served = await serveStageApp(web.app, {
    port: o.port ?? DEFAULT_WEB_PORT,
    ...(o.hostname !== undefined && { hostname: o.hostname }),
  });
  return {
    ...web,
    url: served.url,
    listening: served.listening,
    close: async () => {
      await served.close();
      await web.close();
    },
  };
}
