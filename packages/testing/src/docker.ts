import { existsSync } from "node:fs";
import { request } from "node:http";
import { homedir } from "node:os";
import { join } from "node:path";

/** How to reach a Docker engine's API: a unix socket or a TCP host:port. */
export type DockerAddress = { socketPath: string } | { host: string; port: number };

/** Where a Docker engine could listen, in the order testcontainers looks: DOCKER_HOST, then the usual sockets. */
export function dockerCandidates(env: NodeJS.ProcessEnv = process.env): DockerAddress[] {
  const fromEnv = env["DOCKER_HOST"];
  if (fromEnv) {
    if (fromEnv.startsWith("unix://")) return [{ socketPath: fromEnv.slice("unix://".length) }];
    const tcp = /^(?:tcp|http):\/\/([^:/]+):(\d+)/.exec(fromEnv);
    if (tcp?.[1] && tcp[2]) return [{ host: tcp[1], port: Number(tcp[2]) }];
    return [];
  }
  const sockets = [
    env["TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE"],
    "/var/run/docker.sock",
    join(homedir(), ".docker/run/docker.sock"),
    join(homedir(), ".docker/desktop/docker.sock"),
    env["XDG_RUNTIME_DIR"] ? join(env["XDG_RUNTIME_DIR"], "docker.sock") : undefined,
  ];
  // A socket file that does not exist cannot answer: skip it without a network round trip.
  return sockets.filter((s): s is string => !!s && existsSync(s)).map((socketPath) => ({ socketPath }));
}

/**
 * True when a Docker engine answers `GET /_ping` within `timeoutMs`.
 * Quick on purpose: with no engine (the usual case on CI here) it returns false at once.
 */
export async function dockerAnswers(env: NodeJS.ProcessEnv = process.env, timeoutMs = 750): Promise<boolean> {
  for (const address of dockerCandidates(env)) {
    if (await ping(address, timeoutMs)) return true;
  }
  return false;
}

function ping(address: DockerAddress, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ ...address, path: "/_ping", method: "GET", timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once("timeout", () => {
      req.destroy();
      resolve(false);
    });
    req.once("error", () => resolve(false));
    req.end();
  });
}
