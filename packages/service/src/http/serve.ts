import type { AddressInfo, Socket } from "node:net";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";

export interface ServedApp {
  /** The port it listens on (the one asked for, or the OS's pick for port 0). */
  port: number;
  /** Where a client on this machine reaches it (127.0.0.1 when it listens on every interface). */
  url: string;
  /** Where it listens, truthfully: "127.0.0.1:8080", or "0.0.0.0:8080 (every interface)". */
  listening: string;
  close(): Promise<void>;
}

export interface ServeOptions {
  port?: number;
  /** Interface to listen on; default 127.0.0.1 (only this machine). A pod sets 0.0.0.0 (BATON_HTTP_HOST). */
  hostname?: string;
  /** Open connections at most (default 256); one past it is answered 503 and closed. */
  maxConnections?: number;
}

export const DEFAULT_HTTP_HOST = "127.0.0.1";
export const DEFAULT_MAX_CONNECTIONS = 256;

const BUSY_BODY = JSON.stringify({ error: "too many connections to this service; retry later" });
const BUSY = `HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(BUSY_BODY)}\r\n\r\n${BUSY_BODY}`;

/** Serves a Hono app over HTTP with @hono/node-server; port 0 picks a free port. */
export async function serveStageApp(app: Pick<Hono, "fetch">, options: ServeOptions = {}): Promise<ServedApp> {
  const hostname = options.hostname ?? DEFAULT_HTTP_HOST;
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  return await new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: options.port ?? 0, hostname }, (info: AddressInfo) => {
      const everywhere = hostname === "0.0.0.0" || hostname === "::";
      const host = everywhere ? "127.0.0.1" : hostname.includes(":") ? `[${hostname}]` : hostname;
      resolve({
        port: info.port,
        url: `http://${host}:${info.port}`,
        listening: `${hostname.includes(":") ? `[${hostname}]` : hostname}:${info.port}${everywhere ? " (every interface)" : ""}`,
        close: () =>
          new Promise<void>((done) => {
            // Open SSE streams would keep close() waiting forever.
            if ("closeAllConnections" in server) server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
    // The cap counts sockets, not requests: a connection past it gets a 503 and is closed, so a flood
    // of clients cannot exhaust the process's file descriptors or memory.
    const open = new Set<Socket>();
    server.on("connection", (socket: Socket) => {
      if (open.size >= maxConnections) {
        socket.end(BUSY);
        return;
      }
      open.add(socket);
      socket.once("close", () => open.delete(socket));
    });
    server.once("error", (err: Error) =>
      reject(new Error(`HTTP server could not listen on ${hostname}:${options.port ?? 0}: ${err.message}`)),
    );
  });
}
