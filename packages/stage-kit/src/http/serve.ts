import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";

export interface ServedApp {
  /** The port it listens on (the one asked for, or the OS's pick for port 0). */
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Serves a Hono app over HTTP with @hono/node-server; port 0 picks a free port. */
export async function serveStageApp(app: Hono, options: { port?: number; hostname?: string } = {}): Promise<ServedApp> {
  const hostname = options.hostname ?? "0.0.0.0";
  return await new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: options.port ?? 0, hostname }, (info: AddressInfo) => {
      const host = hostname === "0.0.0.0" ? "127.0.0.1" : hostname;
      resolve({
        port: info.port,
        url: `http://${host}:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            // Open SSE streams would keep close() waiting forever.
            if ("closeAllConnections" in server) server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
    server.once("error", (err: Error) => reject(new Error(`HTTP server could not listen on ${hostname}:${options.port ?? 0}: ${err.message}`)));
  });
}
