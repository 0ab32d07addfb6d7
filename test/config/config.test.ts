// The configuration table (src/config/config.ts): defaults, value checking,
// --set parsing, configuration files, and configure() on both implementations.
import { describe, expect, it } from "vitest";
import {
  CONFIG_KEYS, ConfigError, KNOBS, configFromJson, configToJson, describeNonDefault, parseSetting, resolveConfig,
} from "../../src/config/config.js";
import { createKernelSync } from "../../src/engine/index.js";
import { createModelKernel } from "../../src/model/index.js";

describe("configuration table", () => {
  it("resolves every knob to its default", () => {
    const c = resolveConfig({ policy: "linux-5.17" });
    for (const k of CONFIG_KEYS) expect(c[k], k).toBe(KNOBS[k].default);
    expect(c.zero_page).toBe(true);
    expect(c.max_map_count).toBe(65530);
    expect(c.rlimit_as).toBe(Infinity);
  });

  it("refuses unknown keys and bad values, naming the key", () => {
    expect(() => resolveConfig({ policy: "linux-5.17", bogus: 1 } as never)).toThrow(/unknown configuration key 'bogus'/);
    expect(() => resolveConfig({ policy: "linux-5.17", overcommit_memory: 3 })).toThrow(/overcommit_memory must be in \[0, 2\]/);
    expect(() => resolveConfig({ policy: "linux-5.17", max_map_count: 1.5 })).toThrow(/max_map_count must be an integer/);
    expect(() => resolveConfig({ policy: "linux-5.17", zero_page: "yes" as never })).toThrow(ConfigError);
  });

  it("parses --set words: integers in C syntax, booleans, unlimited, size suffixes", () => {
    expect(parseSetting("zero_page=0")).toEqual(["zero_page", false]);
    expect(parseSetting("zero_page=true")).toEqual(["zero_page", true]);
    expect(parseSetting("max_map_count=0x100")).toEqual(["max_map_count", 256]);
    expect(parseSetting("rlimit_as=unlimited")).toEqual(["rlimit_as", Infinity]);
    expect(parseSetting("rlimit_stack=16m")).toEqual(["rlimit_stack", 16 * 1024 * 1024]);
    expect(() => parseSetting("max_map_count=4k")).toThrow(/size suffix/);
    expect(() => parseSetting("zero_page")).toThrow(/KEY=VALUE/);
    expect(() => parseSetting("nope=1")).toThrow(/unknown configuration key 'nope'/);
    expect(() => parseSetting("overcommit_memory=x")).toThrow(/not a number/);
  });

  it("reads configuration files, ignoring the probe's host section, and writes them back", () => {
    const c = configFromJson('{"zero_page": false, "rlimit_as": "unlimited", "host": {"release": "6.18.44"}}');
    expect(c).toEqual({ zero_page: false, rlimit_as: Infinity });
    expect(configToJson(c)).toEqual({ zero_page: false, rlimit_as: "unlimited" });
    expect(() => configFromJson("[1]", "x.json")).toThrow(/x\.json: expected a JSON object/);
    expect(() => configFromJson("{", "x.json")).toThrow(/x\.json: not JSON/);
    expect(describeNonDefault({ zero_page: false, max_map_count: 65530 })).toEqual(["zero_page=0"]);
  });
});

for (const [name, make] of [
  ["engine", (c: Parameters<typeof createModelKernel>[0]) => createKernelSync(c)],
  ["model", createModelKernel],
] as const) {
  describe(`${name}: config() and configure()`, () => {
    it("reports the resolved configuration and takes sysctl-like changes", () => {
      const k = make({ policy: "seed", max_map_count: 100 });
      expect(k.config().max_map_count).toBe(100);
      expect(k.maxMapCount()).toBe(100);
      k.configure({ max_map_count: 200, overcommit_memory: 2 });
      expect(k.maxMapCount()).toBe(200);
      expect(k.config().overcommit_memory).toBe(2);
      expect(() => k.configure({ policy: "linux-5.17" })).toThrow(/policy of a kernel cannot change/);
      expect(() => k.configure({ overcommit_memory: 7 })).toThrow(ConfigError);
      expect(k.config().overcommit_memory).toBe(2);
    });
  });
}
