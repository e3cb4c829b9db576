// The workspace's import graph, read from the sources: every `.ts` file under a package's `src/`
// (any package.json below packages/, however deep), with its relative imports and the workspace
// packages it imports by name, type-only imports included. The graph must have no cycle, between
// files or between packages, and a file may import a package by name only when its package.json
// declares it. Plain node: the specifiers come from a few regular expressions over the text.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const rel = (file: string): string => relative(ROOT, file).split(sep).join("/");

interface PackageJson {
  name: string;
  exports?: string | Record<string, string | Record<string, string>>;
  main?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

interface WorkspacePackage {
  dir: string;
  json: PackageJson;
  /** its src/**\/*.ts files (not those of a package nested below it) */
  files: string[];
}

// ---- reading the specifiers -------------------------------------------------------------------

// `import x from`, `import x, { a } from`, `import * as n from`, `import { a,\n b } from`,
// `import type ...`, `export * from`, `export * as n from`, `export { a } from`, `export type { a } from`
const STATIC_FROM =
  /^[ \t]*(?:import|export)\s+(?:type\s+)?(?:[\w$]+\s*,\s*)?(?:\*\s*(?:as\s+[\w$]+\s*)?|\{[^}]*\}\s*|[\w$]+\s+)from\s*["']([^"'\n]+)["']/gm;
// `import "./side-effect.ts"`
const SIDE_EFFECT = /^[ \t]*import\s*["']([^"'\n]+)["']/gm;
// `await import("x")` and `typeof import("x")`
const DYNAMIC = /\bimport\s*\(\s*["']([^"'\n]+)["']\s*\)/g;
// lines that are comments: `// ...`, ` * ...` inside a block comment, `/* ...`
const COMMENT_LINE = /^[ \t]*(?:\/\/|\/\*|\*).*$/gm;
// `require("x")`, `require.resolve("x")`, `createRequire(import.meta.url).resolve("x")`, `import.meta.resolve("x")`:
// a package found by name at run time, which must be declared as an import must
const RESOLVE =
  /(?:\b(?:require|createRequire\([^)]*\))(?:\.resolve)?|\bimport\.meta\.resolve)\(\s*["']([^"'\n]+)["']\s*[,)]/g;

/** Every module specifier a source imports or re-exports, in order of appearance. */
export function specifiers(source: string): string[] {
  const code = source.replace(COMMENT_LINE, "");
  const found: { at: number; spec: string }[] = [];
  for (const re of [STATIC_FROM, SIDE_EFFECT, DYNAMIC])
    for (const m of code.matchAll(re)) found.push({ at: m.index, spec: m[1] as string });
  return found.sort((a, b) => a.at - b.at).map((f) => f.spec);
}

/** Every module a source resolves or requires by a literal name (not a graph edge: it may not load it). */
export function resolvedSpecifiers(source: string): string[] {
  return [...source.replace(COMMENT_LINE, "").matchAll(RESOLVE)].map((m) => m[1] as string);
}

// ---- the workspace ----------------------------------------------------------------------------

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();
const isFile = (p: string): boolean => existsSync(p) && statSync(p).isFile();
const readJson = <T>(p: string): T => JSON.parse(readFileSync(p, "utf8")) as T;

function sourceFiles(dir: string, skip: ReadonlySet<string>): string[] {
  if (!isDir(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" || skip.has(p) ? [] : sourceFiles(p, skip);
    return /\.(ts|mts|cts|tsx)$/.test(e.name) && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

function packageDirs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (!e.isDirectory() || e.name === "node_modules" || e.name.startsWith(".")) return [];
    const p = join(dir, e.name);
    return [...(isFile(join(p, "package.json")) ? [p] : []), ...packageDirs(p)];
  });
}

function readWorkspace(): WorkspacePackage[] {
  const dirs = packageDirs(join(ROOT, "packages"));
  const all = new Set(dirs);
  return dirs.map((dir) => ({
    dir,
    json: readJson<PackageJson>(join(dir, "package.json")),
    files: sourceFiles(join(dir, "src"), all),
  }));
}

/** The file a workspace package's name (or `name/subpath`) resolves to, through its `exports`. */
function entryFile(pkg: WorkspacePackage, subpath: string): string | null {
  const key = subpath ? `./${subpath}` : ".";
  const { exports, main } = pkg.json;
  let target: string | undefined;
  if (typeof exports === "string") target = key === "." ? exports : undefined;
  else if (exports) {
    const e = exports[key];
    target = typeof e === "string" ? e : (e?.import ?? e?.default);
  } else if (key === ".") target = main ?? "./src/index.ts";
  return target && isFile(join(pkg.dir, target)) ? resolve(pkg.dir, target) : null;
}

function resolveRelative(from: string, spec: string): string | null {
  const base = resolve(dirname(from), spec);
  for (const c of [base, base.replace(/\.js$/, ".ts"), `${base}.ts`, join(base, "index.ts")]) if (isFile(c)) return c;
  return null;
}

const packageName = (spec: string): string =>
  spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : (spec.split("/")[0] as string);
const BUILTIN = new Set(builtinModules);
const isBuiltin = (spec: string): boolean => spec.startsWith("node:") || BUILTIN.has(packageName(spec));

interface ImportGraph {
  packages: WorkspacePackage[];
  /** file -> the workspace files it imports */
  edges: Map<string, Set<string>>;
  /** file -> its package */
  owner: Map<string, WorkspacePackage>;
  /** what breaks the rules, one sentence each */
  undeclared: string[];
  unresolved: string[];
  reachingIn: string[];
}

/** The workspace root's devDependencies (vitest, typescript, tsx): tooling every package resolves from the root. */
const ROOT_TOOLING = new Set(Object.keys(readJson<PackageJson>(join(ROOT, "package.json")).devDependencies ?? {}));

function importGraph(): ImportGraph {
  const packages = readWorkspace();
  const byName = new Map(packages.map((p) => [p.json.name, p]));
  const owner = new Map(packages.flatMap((p) => p.files.map((f) => [f, p] as const)));
  const g: ImportGraph = { packages, edges: new Map(), owner, undeclared: [], unresolved: [], reachingIn: [] };
  for (const pkg of packages) {
    const declared = new Set([
      pkg.json.name,
      ...Object.keys(pkg.json.dependencies ?? {}),
      ...Object.keys(pkg.json.devDependencies ?? {}),
    ]);
    for (const file of pkg.files) {
      const out = new Set<string>();
      g.edges.set(file, out);
      const source = readFileSync(file, "utf8");
      for (const spec of resolvedSpecifiers(source)) {
        const name = packageName(spec);
        if (!spec.startsWith(".") && !isBuiltin(spec) && !declared.has(name) && !ROOT_TOOLING.has(name))
          g.undeclared.push(
            `${rel(file)} resolves ${name}, which ${rel(join(pkg.dir, "package.json"))} does not declare`,
          );
      }
      for (const spec of specifiers(source)) {
        if (spec.startsWith(".")) {
          const target = resolveRelative(file, spec);
          if (!target) g.unresolved.push(`${rel(file)} imports "${spec}", which is no file`);
          else if (owner.has(target)) {
            if (owner.get(target) !== pkg)
              g.reachingIn.push(
                `${rel(file)} imports ${rel(target)} of ${owner.get(target)?.json.name} by a relative path; import the package by name`,
              );
            out.add(target);
          }
          continue;
        }
        if (isBuiltin(spec)) continue;
        const name = packageName(spec);
        if (!declared.has(name) && !ROOT_TOOLING.has(name))
          g.undeclared.push(
            `${rel(file)} imports ${name}, which ${rel(join(pkg.dir, "package.json"))} does not declare`,
          );
        const target = byName.get(name);
        if (!target) continue; // a package from the registry: a leaf of this graph
        const entry = entryFile(target, spec.slice(name.length + 1));
        if (entry) out.add(entry);
        else g.unresolved.push(`${rel(file)} imports "${spec}", which ${name}'s exports do not name`);
      }
    }
  }
  return g;
}

// ---- cycles -----------------------------------------------------------------------------------

/** One shortest cycle through each strongly connected component that has one (Tarjan, then BFS). */
export function cycles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v) as number);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        c.push(w);
      } while (w !== v);
      components.push(c);
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  const found: string[][] = [];
  for (const c of components) {
    const inside = new Set(c);
    const start = [...c].sort()[0] as string;
    if (c.length === 1 && !edges.get(start)?.has(start)) continue;
    // breadth-first from start back to start, inside the component
    const prev = new Map<string, string>();
    const queue = [start];
    let end: string | null = null;
    while (queue.length && end === null) {
      const v = queue.shift() as string;
      for (const w of [...(edges.get(v) ?? [])].sort()) {
        if (w === start) {
          end = v;
          break;
        }
        if (inside.has(w) && !prev.has(w)) {
          prev.set(w, v);
          queue.push(w);
        }
      }
    }
    const path = [start];
    for (let v = end as string; v !== start; v = prev.get(v) as string) path.splice(1, 0, v);
    found.push([...path, start]);
  }
  return found.sort((a, b) => (a[0] as string).localeCompare(b[0] as string));
}

// ---- the tests --------------------------------------------------------------------------------

describe("reading import specifiers", () => {
  it("finds static, type-only, side-effect, re-exported, multi-line and dynamic imports, and skips comments", () => {
    const source = [
      `import { a } from "./a.ts";`,
      `import type { B } from "@scope/b";`,
      `import c, { type C } from "c";`,
      `import * as d from "node:fs";`,
      `import {`,
      `  e,`,
      `  f,`,
      `} from "../e.ts";`,
      `import "./side-effect.ts";`,
      `export * from "./g.ts";`,
      `export { h } from "@scope/h/sub";`,
      `export type { I } from "./i.ts";`,
      `// import { no } from "./commented.ts";`,
      `/** import { no } from "./doc.ts" */`,
      ` * const m = await import("./doc-dynamic.ts");`,
      `const j = await import("./j.ts");`,
      `type K = typeof import("./k.ts");`,
      `const s = "not an import from here";`,
    ].join("\n");
    expect(specifiers(source)).toEqual([
      "./a.ts",
      "@scope/b",
      "c",
      "node:fs",
      "../e.ts",
      "./side-effect.ts",
      "./g.ts",
      "@scope/h/sub",
      "./i.ts",
      "./j.ts",
      "./k.ts",
    ]);
  });

  it("finds the packages a source resolves by name at run time", () => {
    const source = [
      `const require = createRequire(import.meta.url);`,
      `const a = readFileSync(require.resolve("a/dist/a.min.js"), "utf8");`,
      `const b = createRequire(import.meta.url).resolve("@scope/b");`,
      `const c = require("c");`,
      `const d = import.meta.resolve("d");`,
      `// require.resolve("commented")`,
      `const e = path.resolve("not-a-package");`,
    ].join("\n");
    expect(resolvedSpecifiers(source)).toEqual(["a/dist/a.min.js", "@scope/b", "c", "d"]);
  });

  it("names one cycle per strongly connected component, and none in a tree", () => {
    const g = new Map<string, Set<string>>([
      ["a", new Set(["b"])],
      ["b", new Set(["c"])],
      ["c", new Set(["a", "d"])],
      ["d", new Set(["d"])],
      ["e", new Set(["a"])],
    ]);
    expect(cycles(g)).toEqual([
      ["a", "b", "c", "a"],
      ["d", "d"],
    ]);
    expect(
      cycles(
        new Map([
          ["a", new Set(["b", "c"])],
          ["b", new Set(["c"])],
          ["c", new Set<string>()],
        ]),
      ),
    ).toEqual([]);
  });
});

describe("the workspace's import graph", () => {
  const g = importGraph();

  it("reads every package's sources", () => {
    expect(g.packages.length).toBeGreaterThan(1);
    for (const p of g.packages) if (isDir(join(p.dir, "src"))) expect(p.files.length, p.json.name).toBeGreaterThan(0);
    expect([...g.edges.values()].some((out) => out.size > 0)).toBe(true);
  });

  it("has no cycle between files", () => {
    expect(cycles(g.edges).map((c) => c.map(rel).join(" -> "))).toEqual([]);
  });

  it("has no cycle between packages", () => {
    const between = new Map<string, Set<string>>();
    for (const [file, out] of g.edges) {
      const from = g.owner.get(file)?.json.name as string;
      const to = between.get(from) ?? new Set<string>();
      between.set(from, to);
      for (const target of out)
        if (g.owner.get(target)?.json.name !== from) to.add(g.owner.get(target)?.json.name as string);
    }
    expect(cycles(between).map((c) => c.join(" -> "))).toEqual([]);
  });

  it("imports by name only the packages each package.json declares", () => {
    expect(g.undeclared).toEqual([]);
  });

  it("resolves every import, and reaches another package only through its name", () => {
    expect([...g.unresolved, ...g.reachingIn]).toEqual([]);
  });
});
