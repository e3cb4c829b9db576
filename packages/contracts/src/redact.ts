// The one redactor: whatever leaves a Baton process (log lines, events, dead-letter headers, the HTTP
// face, CLI output, reports) goes through it, so a secret from the environment never does.
//   - values of secret-named variables (AWS_SECRET_ACCESS_KEY, NATS_PASSWORD, ...), raw and URL-encoded,
//     8 characters or more
//   - passwords of URLs in any variable (S3_ENDPOINT=http://user:pass@host, NATS_URL=nats://u:p@a,nats://u:q@b)
//   - in any text: the password part of scheme://user:password@ and the token of scheme://token@
//   - in objects: fields with secret names (secretAccessKey, authorization, password, sessionToken)

/**
 * Field names whose values are secrets: AWS keys, passwords, auth headers, and tokens
 * (`token`, `NATS_TOKEN`, `sessionToken`) but not token counts (`tokens`, `tokensPerSecond`) or `tokenizer`.
 */
const SECRET_WORD =
  /(secret|password|passwd|passphrase|authorization|credential|api[-_]?key|access[-_]?key|private[-_]?key|nkey)/i;
const TOKEN_NAME = /(^|[-_.])token$|[a-z]Token$/i;
export const isSecretName = (name: string): boolean => SECRET_WORD.test(name) || TOKEN_NAME.test(name);
export const REDACTED = "[redacted]";
/** Variables that hold credentials without saying so in their name (OTEL_EXPORTER_OTLP_HEADERS=authorization=...). */
const SECRET_VARIABLE = /(^|_)HEADERS$/;

// scheme://user:password@  and  scheme://token@ (NATS token URLs); every occurrence, not the first.
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+):[^@\s/]+@/gi;
const URL_TOKEN = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+@/gi;
const USERINFO = /\b[a-z][a-z0-9+.-]*:\/\/([^/\s@]+)@/gi;

const MIN_SECRET = 8;

/** Secret values found in an environment: secret-named variables, and passwords inside URLs. */
export function secretsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const out = new Set<string>();
  // A value shorter than MIN_SECRET is no real secret, and cutting it out would mangle ordinary text
  // (compose's access key "baton" is also the bucket's and every subject's name).
  const add = (v: string | undefined) => {
    if (!v || v.length < MIN_SECRET) return;
    out.add(v);
    let decoded = v;
    try {
      decoded = decodeURIComponent(v);
    } catch {
      // not percent-encoded
    }
    for (const form of [decoded, encodeURIComponent(decoded)]) if (form.length >= MIN_SECRET) out.add(form);
  };
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== "string") continue;
    if (isSecretName(name) || SECRET_VARIABLE.test(name)) add(value);
    for (const m of value.matchAll(USERINFO)) {
      const info = m[1]!;
      const colon = info.indexOf(":");
      add(colon >= 0 ? info.slice(colon + 1) : info);
    }
  }
  return [...out].sort((a, b) => b.length - a.length); // longest first: a secret containing another goes whole
}

export interface Redactor {
  /** A string safe to show. */
  text(s: string): string;
  /** A copy safe to show: strings redacted, secret-named fields replaced, errors as { name, message, stack }. */
  value(v: unknown): unknown;
  /** The same strings redacted, field names left alone (events, reports: their keys are the contract). */
  strings<T>(v: T): T;
}

export function createRedactor(secrets: readonly string[] = secretsFromEnv()): Redactor {
  const text = (s: string): string => {
    let out = s
      .replace(URL_PASSWORD, `$1:${REDACTED}@`)
      .replace(URL_TOKEN, (whole, scheme: string) => (whole.includes(REDACTED) ? whole : `${scheme}${REDACTED}@`));
    for (const secret of secrets) if (secret) out = out.split(secret).join(REDACTED);
    return out;
  };
  const value = (v: unknown, depth = 0): unknown => {
    if (depth > 8) return "[too deep]";
    if (typeof v === "string") return text(v);
    if (typeof v === "bigint") return v.toString();
    if (v instanceof Error) {
      const out: Record<string, unknown> = { name: v.name, message: text(v.message) };
      if (v.stack) out["stack"] = text(v.stack);
      if (v.cause !== undefined) out["cause"] = value(v.cause, depth + 1);
      return out;
    }
    if (Array.isArray(v)) return v.map((x) => value(x, depth + 1));
    if (v && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = isSecretName(k) ? REDACTED : value(x, depth + 1);
      return out;
    }
    return v;
  };
  const strings = <T>(v: T): T => {
    if (typeof v === "string") return text(v) as T;
    if (Array.isArray(v)) return v.map((x) => strings(x)) as T;
    if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = strings(x);
      return out as T;
    }
    return v;
  };
  return { text, value: (v) => value(v), strings };
}

let processRedactor: Redactor | undefined;
/** The redactor of this process's environment (built once, on first use). */
export function redactor(): Redactor {
  return (processRedactor ??= createRedactor());
}

/** Shorthand: `redactor().text(s)`. */
export const redactText = (s: string): string => redactor().text(s);

/**
 * Routes everything written to stdout and stderr through the redactor: the CLI's own output and
 * whatever a library prints. A secret split across two writes is not caught; lines are written whole.
 */
export function redactStandardStreams(r: Redactor = redactor()): void {
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) =>
      write(
        typeof chunk === "string"
          ? r.text(chunk)
          : chunk instanceof Uint8Array
            ? r.text(Buffer.from(chunk).toString("utf8"))
            : chunk,
        ...rest,
      )) as typeof stream.write;
  }
}
