// Host profiles (src/kernel/profile.ts): JSON both ways, the sidecars of the
// recording directories, and the matching that decides which live
// comparisons run, on fake profiles (no live kernel needed).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CONFIG_KEYS, ConfigError, configFromJson } from "../../src/config/config.js";
import {
  engineConfig, knobsFromJson, knobsOf, profileDifferences, profileFromJson, profileToJson, readRecordingProfile,
  recordingSkipReason, unknownKnobs, type HostFacts, type HostProfile, type ProfileKnobs,
} from "../../src/kernel/profile.js";

const SCENARIOS = fileURLToPath(new URL("../scenarios/", import.meta.url));
const CORPUS = path.join(SCENARIOS, "corpus");
const FIXTURES = fileURLToPath(new URL("../fixtures/scenarios/", import.meta.url));

/** Some knobs and facts of a profile. */
type Change = Partial<ProfileKnobs> & { host?: Partial<HostFacts> };

/** The corpus's profile with some knobs or facts changed: a fake machine. */
function like(base: HostProfile, change: Change): HostProfile {
  return { ...base, ...change, host: { ...base.host, ...change.host } } as HostProfile;
}

const corpus = readRecordingProfile(CORPUS)!;

describe("recording sidecars", () => {
  it("every corpus directory and the 6.18 examples state their host profile", () => {
    for (const dir of ["corpus", "corpus-6.1", "corpus-5.10", "corpus-6.18-nozp"]) expect(readRecordingProfile(path.join(SCENARIOS, dir)), dir).not.toBeNull();
    // the recordings without the zero page differ from the corpus's in the zero page only
    const nozp = readRecordingProfile(path.join(SCENARIOS, "corpus-6.18-nozp"))!;
    expect(profileDifferences(nozp, readRecordingProfile(CORPUS)!)).toEqual(["zero_page: live 0, recording 1"]);
    expect(readRecordingProfile(FIXTURES, "linux-6.18")).not.toBeNull();
    // a directory of several kernels' recordings has one sidecar per tag
    expect(readRecordingProfile(FIXTURES, "linux-6.1")).toBeNull();
  });

  it("this host's corpus: 6.18 with the zero page, as probed", () => {
    expect(corpus.host.release).toMatch(/^6\.18\./);
    expect(corpus.host.policy).toBe("linux-6.18");
    expect(corpus.zero_page).toBe(true);
    expect(unknownKnobs(corpus)).toEqual([]);
  });

  it("the qemu guests: root, default sysctls, unknown where the guest reported nothing", () => {
    for (const [dir, release, policy, bpf] of [
      ["corpus-6.1", "6.1.0-56-amd64", "linux-6.1", true], ["corpus-5.10", "5.10.0-46-amd64", "linux-5.10", false],
    ] as const) {
      const p = readRecordingProfile(path.join(SCENARIOS, dir))!;
      expect(p.host).toMatchObject({ release, policy, root: true, bpf, thp: "madvise" });
      expect(p).toMatchObject({ zero_page: true, max_map_count: 65530, overcommit_memory: 0, cap_ipc_lock: true, cap_sys_admin: true });
      expect(unknownKnobs(p)).toEqual(["mmap_min_addr", "user_reserve_kbytes", "totalram_pages"]);
      for (const k of unknownKnobs(p)) expect(p.host.found[k], k).toMatch(/^unknown: /);
      // the engine gets the known knobs; unknown ones keep their defaults
      expect(engineConfig(p, "linux-5.17")).not.toHaveProperty("mmap_min_addr");
    }
  });
});

describe("profile JSON", () => {
  it("round-trips, with unknown knobs and facts written as unknown", () => {
    const p = like(corpus, { zero_page: null, host: { bpf: null, note: "n" } });
    const text = profileToJson(p);
    expect(JSON.parse(text)).toMatchObject({ zero_page: "unknown", rlimit_as: "unlimited", host: { bpf: "unknown", note: "n" } });
    expect(profileFromJson(text, "x")).toEqual(p);
  });

  it("serves as a configuration file: the knobs, without the unknown ones and the host facts", () => {
    const text = profileToJson(like(corpus, { zero_page: null, mmap_min_addr: 8192 }));
    const knobs = knobsFromJson(text, "f.json");
    expect(knobs).toEqual(knobsOf(like(corpus, { zero_page: null, mmap_min_addr: 8192 })));
    expect(knobs).not.toHaveProperty("zero_page");
    expect(Object.keys(knobs).length).toBe(CONFIG_KEYS.length - 1);
    // without an unknown knob it is a plain configuration file
    expect(configFromJson(profileToJson(corpus))).toEqual(knobsOf(corpus));
    expect(() => knobsFromJson('{"zero_page": 3}', "f.json")).toThrow(ConfigError);
    expect(() => knobsFromJson('{"zero_page": 3}', "f.json")).toThrow(/^f\.json: zero_page must be/);
  });
});

describe("matching a live profile with a recording's", () => {
  it("a zero-page-less live host skips the zero-page corpus, and configures the engine with zero_page off", () => {
    const nozp = like(corpus, { zero_page: false });
    const why = recordingSkipReason(nozp, corpus, "test/scenarios/corpus (linux-6.18)");
    expect(why).toBe("the live host is configured unlike the machine that recorded test/scenarios/corpus (linux-6.18): zero_page: live 0, recording 1");
    // engine-vs-kernel comparisons still run, with the live configuration
    expect(engineConfig(nozp, "linux-6.18")).toMatchObject({ policy: "linux-6.18", zero_page: false });
    // and a recording made without the zero page (e.g. corpus-6.18-nozp) matches it
    const dir = mkdtempSync(path.join(tmpdir(), "vmasim-nozp-"));
    try {
      writeFileSync(path.join(dir, "host-profile.json"), profileToJson(nozp));
      expect(recordingSkipReason(nozp, readRecordingProfile(dir, "linux-6.18"), "nozp")).toBeNull();
      expect(recordingSkipReason(corpus, readRecordingProfile(dir, "linux-6.18"), "nozp")).toMatch(/zero_page: live 1, recording 0$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the same machine matches; the RAM, the commit charge and the THP mode do not matter", () => {
    const other = like(corpus, { totalram_pages: 1000, user_reserve_kbytes: 31, host: { committed_as_pages: 1, thp: "always", release: "6.18.50" } });
    expect(profileDifferences(other, corpus)).toEqual([]);
    expect(recordingSkipReason(corpus, corpus, "x")).toBeNull();
  });

  it("every knob that changes output is compared, and the release series", () => {
    const cases: [Change, string][] = [
      [{ max_map_count: 1000 }, "max_map_count: live 1000, recording 65530"],
      [{ mmap_min_addr: 65536 }, "mmap_min_addr: live 65536, recording 4096"],
      [{ stack_guard_gap_pages: 1 }, "stack_guard_gap_pages: live 1, recording 256"],
      [{ overcommit_memory: 1 }, "overcommit_memory: live 1, recording 0"],
      [{ ignore_rlimit_data: true }, "ignore_rlimit_data: live 1, recording 0"],
      [{ rlimit_as: 1 << 30 }, "rlimit_as: live 1073741824, recording unlimited"],
      [{ rlimit_data: 1 << 30 }, "rlimit_data: live 1073741824, recording unlimited"],
      [{ rlimit_stack: Infinity }, "rlimit_stack: live unlimited, recording 8388608"],
      [{ cap_ipc_lock: false }, "cap_ipc_lock: live 0, recording 1"],
      [{ cap_sys_admin: false }, "cap_sys_admin: live 0, recording 1"],
      [{ host: { release: "6.19.1" } }, `release: live 6.19.1, recording ${corpus.host.release}`],
      [{ host: { release: null } }, `release: live unknown, recording ${corpus.host.release}`],
      [{ zero_page: null }, "zero_page: live unknown, recording 1"],
    ];
    for (const [change, diff] of cases) expect(profileDifferences(like(corpus, change), corpus)).toEqual([diff]);
  });

  it("RLIMIT_MEMLOCK matters only without CAP_IPC_LOCK", () => {
    expect(profileDifferences(like(corpus, { rlimit_memlock: 65536 }), corpus)).toEqual([]);
    const noCap = like(corpus, { cap_ipc_lock: false });
    expect(profileDifferences(like(noCap, { rlimit_memlock: 65536 }), noCap)).toEqual(["rlimit_memlock: live 65536, recording 8388608"]);
  });

  it("under strict overcommit the commit limit's parts are compared too", () => {
    const strict = like(corpus, { overcommit_memory: 2 });
    expect(profileDifferences(like(strict, { totalram_pages: 1000 }), strict)).toEqual([`totalram_pages: live 1000, recording ${corpus.totalram_pages}`]);
    expect(profileDifferences(like(strict, { overcommit_ratio: 80 }), strict)).toEqual(["overcommit_ratio: live 80, recording 50"]);
    expect(profileDifferences(like(strict, { user_reserve_kbytes: null }), strict)).toEqual([`user_reserve_kbytes: live unknown, recording ${corpus.user_reserve_kbytes}`]);
    expect(profileDifferences(like(corpus, { overcommit_ratio: 80 }), corpus)).toEqual([]);
  });

  it("a recording without a profile is never compared with the live kernel", () => {
    expect(recordingSkipReason(corpus, null, "dir")).toBe("dir states no host profile (no host-profile.json)");
  });

  it("the qemu recordings are not this host's", () => {
    const guest = readRecordingProfile(path.join(SCENARIOS, "corpus-6.1"))!;
    const d = profileDifferences(corpus, guest);
    expect(d[0]).toMatch(/^release: live 6\.18\.\S+, recording 6\.1\.0-56-amd64$/);
    expect(d).toContain("mmap_min_addr: live 4096, recording unknown");
  });
});

it("the sidecars are written as profileToJson writes them", () => {
  const sidecars = ["corpus", "corpus-6.1", "corpus-5.10", "corpus-6.18-nozp"].map((d) => path.join(SCENARIOS, d, "host-profile.json"));
  for (const f of [...sidecars, path.join(FIXTURES, "host-profile.linux-6.18.json")]) {
    const text = readFileSync(f, "utf8");
    expect(profileToJson(profileFromJson(text, f)), f).toBe(text);
  }
});
