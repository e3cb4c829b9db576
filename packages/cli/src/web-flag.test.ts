import { describe, expect, it } from "vitest";
import { takeWebFlag } from "./web-flag.ts";

describe("--web [port]", () => {
  it("takes the flag with or without a port, and leaves everything else", () => {
    expect(takeWebFlag(["r.yaml", "--threads", "2"])).toEqual({ argv: ["r.yaml", "--threads", "2"], web: null });
    expect(takeWebFlag(["r.yaml", "--web"])).toEqual({ argv: ["r.yaml"], web: 8080 });
    expect(takeWebFlag(["--web", "9090", "r.yaml"])).toEqual({ argv: ["r.yaml"], web: 9090 });
    expect(takeWebFlag(["--web=0", "r.yaml"])).toEqual({ argv: ["r.yaml"], web: 0 });
    // a recipe file after --web is not its port
    expect(takeWebFlag(["--web", "r.yaml"])).toEqual({ argv: ["r.yaml"], web: 8080 });
  });

  it("refuses a port out of range, naming the flag", () => {
    expect(() => takeWebFlag(["--web=99999"])).toThrow(/--web takes a port number \(0\.\.65535\), got "99999"/);
    expect(() => takeWebFlag(["--web=x"])).toThrow(/--web takes a port number/);
  });
});
