// The host probe (src/kernel/host.ts): its parsers on /proc text captured on
// this project's machines (test/fixtures/proc; cmdline-nozp and
// cmdline-ignored are written by hand), probeHost() on stand-in machines
// (with and without the zero page, without a runner), and once on this one.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CONFIG_KEYS } from "../../src/config/config.js";
import {
  ZERO_PAGE_SCRIPT, nearestPolicy, parseCapEff, parseChoice, parseCmdline, parseLimits, parseMeminfo, probeHost,
  zeroPageFromDump, type HostReader,
} from "../../src/kernel/host.js";
import { canRunNative } from "../../src/kernel/native.js";

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/proc/${name}`, import.meta.url), "utf8");
const MiB = 1024 * 1024;

describe("host probe parsers", () => {
  it("reads the boot options of /proc/cmdline, up to the init arguments", () => {
    expect(parseCmdline(fixture("cmdline"))).toEqual({ noZeroPage: false, stackGuardGapPages: null, ignoreRlimitData: false });
    // stack_guard_gap=9 after `--` belongs to init
    expect(parseCmdline(fixture("cmdline-nozp"))).toEqual({ noZeroPage: true, stackGuardGapPages: 1, ignoreRlimitData: true });
    // a value that is not a plain decimal is ignored by cmdline_parse_stack_guard_gap(); =0 turns a bool off
    expect(parseCmdline(fixture("cmdline-ignored"))).toEqual({ noZeroPage: false, stackGuardGapPages: null, ignoreRlimitData: false });
  });

  it("reads the soft limits of /proc/self/limits in bytes", () => {
    expect(parseLimits(fixture("limits"))).toEqual({ rlimit_as: Infinity, rlimit_data: Infinity, rlimit_stack: 8 * MiB, rlimit_memlock: 8 * MiB });
    expect(parseLimits("Max locked memory         65536                65536                bytes\n")).toEqual({ rlimit_memlock: 65536 });
  });

  it("reads CAP_IPC_LOCK, CAP_SYS_ADMIN and CAP_SYS_RESOURCE from CapEff", () => {
    // root on this project's machines: every capability but CAP_SYS_RESOURCE (24)
    expect(parseCapEff(fixture("status"))).toEqual({ cap_ipc_lock: true, cap_sys_admin: true, cap_sys_resource: false });
    expect(parseCapEff("CapEff:\t0000000000000000\n")).toEqual({ cap_ipc_lock: false, cap_sys_admin: false, cap_sys_resource: false });
    expect(parseCapEff("CapEff:\t0000000000004000\n")).toEqual({ cap_ipc_lock: true, cap_sys_admin: false, cap_sys_resource: false });
    expect(parseCapEff("CapEff:\t0000000000200000\n")).toEqual({ cap_ipc_lock: false, cap_sys_admin: true, cap_sys_resource: false });
    expect(parseCapEff("CapEff:\t0000000001000000\n")).toEqual({ cap_ipc_lock: false, cap_sys_admin: false, cap_sys_resource: true });
    expect(parseCapEff("Name: x\n")).toBeNull();
  });

  it("reads RAM, swap and the commit charge of /proc/meminfo in pages", () => {
    expect(parseMeminfo(fixture("meminfo"))).toEqual({
      totalram_pages: 24683792 / 4, total_swap_pages: 0, committed_as_pages: 1003276 / 4, commit_limit_pages: 12341896 / 4,
    });
  });

  it("reads the THP mode", () => {
    expect(parseChoice(fixture("thp-enabled"))).toBe("madvise");
    expect(parseChoice("[always] madvise never\n")).toBe("always");
  });

  it("tells the zero page from the experiment's dump", () => {
    expect(zeroPageFromDump(fixture("zero-page-experiment.out"))).toBe(true);
    expect(zeroPageFromDump("dump full\n  0 1 rw-p anon 0 av=1/1 rss=1 anon=1 locked=0 flags=rd,wr,mr,mw,me,ac\n")).toBe(false);
    expect(zeroPageFromDump("mmap 0 1 rw => ENOMEM\ndump full\n  (0 vmas)\n")).toBeNull();
  });

  it("names the nearest policy of a release, counting releases", () => {
    expect(nearestPolicy("6.18.44-fc-v1252")).toBe("linux-6.18");
    expect(nearestPolicy("6.12.9")).toBe("linux-6.12");
    expect(nearestPolicy("6.15.0")).toBe("linux-6.12"); // three from 6.12, three from 6.18: the older
    expect(nearestPolicy("6.16.0")).toBe("linux-6.18");
    expect(nearestPolicy("6.6.0")).toBe("linux-6.1");
    expect(nearestPolicy("6.7.0")).toBe("linux-6.12");
    expect(nearestPolicy("6.1.0-56-amd64")).toBe("linux-6.1");
    expect(nearestPolicy("5.19.0")).toBe("linux-5.17"); // two from 5.17, two from 6.1 (5.19 is followed by 6.0): the older
    expect(nearestPolicy("6.0.0")).toBe("linux-6.1");
    expect(nearestPolicy("5.15.0")).toBe("linux-5.17");
    expect(nearestPolicy("5.13.0")).toBe("linux-5.10");
    expect(nearestPolicy("5.10.0-46-amd64")).toBe("linux-5.10");
    expect(nearestPolicy("4.19.0")).toBe("linux-5.10");
    expect(nearestPolicy("unknown")).toBeNull();
  });
});

/** A stand-in machine: the captured files, a runner printing `experiment`, or no runner. */
function machine(opts: { experiment?: string | null; cmdline?: string; files?: Record<string, string | null> } = {}): HostReader & { scripts: string[] } {
  const files: Record<string, string | null> = {
    "/proc/cmdline": fixture(opts.cmdline ?? "cmdline"),
    "/proc/self/limits": fixture("limits"),
    "/proc/self/status": fixture("status"),
    "/proc/meminfo": fixture("meminfo"),
    "/sys/kernel/mm/transparent_hugepage/enabled": fixture("thp-enabled"),
    "/sys/module/kernel/parameters/ignore_rlimit_data": "N\n",
    "/sys/module/kernel/parameters/pvm_no_zero_page": "N\n",
    "/proc/sys/vm/max_map_count": "65530\n",
    "/proc/sys/vm/mmap_min_addr": "4096\n",
    "/proc/sys/vm/overcommit_memory": "0\n",
    "/proc/sys/vm/overcommit_ratio": "50\n",
    "/proc/sys/vm/overcommit_kbytes": "0\n",
    "/proc/sys/vm/admin_reserve_kbytes": "8192\n",
    "/proc/sys/vm/user_reserve_kbytes": "100437\n",
    ...opts.files,
  };
  const experiment = opts.experiment === undefined ? fixture("zero-page-experiment.out") : opts.experiment;
  const scripts: string[] = [];
  return {
    scripts,
    readFile: (p) => files[p] ?? null,
    runScript: (s) => {
      scripts.push(s);
      return experiment ?? "";
    },
    runnerAvailable: () => (experiment === null ? { ok: false, reason: "no C compiler found: install gcc or set CC" } : { ok: true }),
    bpfAvailable: () => true,
    release: () => "6.18.44-fc-v1252",
    uid: () => 0,
  };
}

describe("probeHost on stand-in machines", () => {
  it("finds every knob of this project's machines with the zero page", () => {
    const m = machine();
    const p = probeHost(m);
    expect(m.scripts).toEqual([ZERO_PAGE_SCRIPT]);
    expect(Object.keys(p).filter((k) => k !== "host").sort()).toEqual([...CONFIG_KEYS].sort());
    expect(p).toMatchObject({
      zero_page: true, max_map_count: 65530, mmap_min_addr: 4096, stack_guard_gap_pages: 256, overcommit_memory: 0,
      overcommit_ratio: 50, overcommit_kbytes: 0, admin_reserve_kbytes: 8192, user_reserve_kbytes: 100437,
      totalram_pages: 6170948, total_swap_pages: 0, ignore_rlimit_data: false, rlimit_as: Infinity, rlimit_data: Infinity,
      rlimit_stack: 8 * MiB, rlimit_memlock: 8 * MiB, cap_ipc_lock: true, cap_sys_admin: true, cap_sys_resource: false,
    });
    expect(p.host).toMatchObject({
      release: "6.18.44-fc-v1252", policy: "linux-6.18", thp: "madvise", root: true, bpf: true,
      committed_as_pages: 250819, commit_limit_pages: 3085474,
    });
    expect(p.host.found.zero_page).toMatch(/^experiment: .* rss=0; \/proc\/cmdline has no pvm_no_zero_page=1/);
    expect(p.host.found.rlimit_stack).toContain("/proc/self/limits");
  });

  it("finds the zero page off by experiment (pvm_no_zero_page=1), and the boot options", () => {
    const nozp = "mmap 0 1 rw => ok\ntouch 0 read => ok\ndump full\n  0 1 rw-p anon ? rss=1 anon=1 locked=0 flags=rd,wr,mr,mw,me,ac\n  (1 vmas)\n";
    const p = probeHost(machine({ experiment: nozp, cmdline: "cmdline-nozp", files: { "/sys/module/kernel/parameters/ignore_rlimit_data": null } }));
    expect(p.zero_page).toBe(false);
    expect(p.host.found.zero_page).toMatch(/rss=1; \/proc\/cmdline has pvm_no_zero_page=1/);
    expect(p.stack_guard_gap_pages).toBe(1);
    // without the sysfs parameter, the boot option
    expect(p.ignore_rlimit_data).toBe(true);
    expect(p.host.found.ignore_rlimit_data).toBe("/proc/cmdline ignore_rlimit_data");
  });

  it("reports the zero page unknown, with the reason, when the runner cannot run; never guesses from the boot options", () => {
    const p = probeHost(machine({ experiment: null, cmdline: "cmdline-nozp" }));
    expect(p.zero_page).toBeNull();
    expect(p.host.found.zero_page).toBe(
      "unknown: the native runner cannot run (no C compiler found: install gcc or set CC); /proc/cmdline has pvm_no_zero_page=1, /sys/module/kernel/parameters/pvm_no_zero_page=N",
    );
    expect(p.host.bpf).toBeNull();
    expect(p.max_map_count).toBe(65530);
  });

  it("reports unreadable sources as unknown", () => {
    const p = probeHost(machine({ files: { "/proc/sys/vm/mmap_min_addr": null, "/proc/self/status": null, "/proc/meminfo": "" } }));
    expect(p.mmap_min_addr).toBeNull();
    expect(p.host.found.mmap_min_addr).toBe("unknown: /proc/sys/vm/mmap_min_addr unreadable");
    expect(p.cap_ipc_lock).toBeNull();
    expect(p.totalram_pages).toBeNull();
    expect(p.host.committed_as_pages).toBeNull();
  });
});

describe("probeHost on this machine", () => {
  const native = canRunNative();
  it("reads this machine's sysctls and finds the zero page by experiment where the runner runs", () => {
    const p = probeHost();
    expect(p.max_map_count).toBe(Number(readFileSync("/proc/sys/vm/max_map_count", "utf8")));
    expect(p.mmap_min_addr).toBe(Number(readFileSync("/proc/sys/vm/mmap_min_addr", "utf8")));
    if (!native.ok) {
      console.log(`zero-page experiment not run: ${native.reason}`);
      expect(p.zero_page).toBeNull();
      return;
    }
    const bootOff = /(^|\s)pvm_no_zero_page=1(\s|$)/.test(readFileSync("/proc/cmdline", "utf8").split(" -- ")[0]!);
    expect(p.zero_page).toBe(!bootOff);
  });
});

describe("a qemu guest's profile (scripts/qemu-profile.ts)", () => {
  /** A guest's data log as scripts/qemu-init.c writes it. */
  const file = (p: string, text: string) => `@@vmasim-qemu@@ file ${p}\n${text.replace(/\n$/, "")}\n@@vmasim-qemu@@ file-end ${p}\n`;
  const log = (experiment: string | null, status = "0") => [
    "@@vmasim-qemu@@ uname 6.1.0-53-cloud-amd64\n",
    "@@vmasim-qemu@@ config thp=madvise thp_defrag=madvise bpf=1 timeout=600\n",
    file("/proc/cmdline", "console=ttyS0 panic=-1 quiet vsyscall=xonly vmasim.timeout=600\n"),
    file("/proc/meminfo", "MemTotal:         481056 kB\nSwapTotal:             0 kB\nCommitLimit:      240528 kB\nCommitted_AS:       3244 kB\n"),
    file("/proc/self/limits", fixture("limits")),
    file("/proc/self/status", "Name:\tinit\nCapEff:\t000001ffffffffff\n"),
    file("/proc/sys/vm/max_map_count", "65530\n"),
    file("/proc/sys/vm/mmap_min_addr", "65536\n"),
    file("/proc/sys/vm/user_reserve_kbytes", "14511\n"),
    file("/sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n"),
    ...(experiment === null ? [] : [`@@vmasim-qemu@@ zero-page status=${status}\n${experiment}@@vmasim-qemu@@ zero-page-end\n`]),
    "@@vmasim-qemu@@ begin 02-x\nmmap 0 1 rw => ok\ndump\n  0 1 rw-p anon 0 av=1/1\n  (1 vmas)\n@@vmasim-qemu@@ end 02-x status=0 bytes=60 newline=1 seconds=0.01\n",
    "@@vmasim-qemu@@ done 1\n",
  ].join("");

  it("runs the probe on what the guest reported", async () => {
    const { guestProfile, parseGuestLog } = await import("../../scripts/qemu-profile.js");
    const g = parseGuestLog(log(fixture("zero-page-experiment.out")));
    expect(g.release).toBe("6.1.0-53-cloud-amd64");
    expect(g.files.get("/proc/sys/vm/mmap_min_addr")).toBe("65536\n");
    expect(g.bpf).toBe(true);
    const p = guestProfile(log(fixture("zero-page-experiment.out")), "a guest")!;
    expect(p).toMatchObject({
      zero_page: true, max_map_count: 65530, mmap_min_addr: 65536, user_reserve_kbytes: 14511, totalram_pages: 120264,
      total_swap_pages: 0, stack_guard_gap_pages: 256, rlimit_memlock: 8 * MiB, cap_ipc_lock: true, cap_sys_admin: true,
      cap_sys_resource: true,
    });
    expect(p.host).toMatchObject({ release: "6.1.0-53-cloud-amd64", policy: "linux-6.1", thp: "madvise", root: true, bpf: true, note: "a guest" });
    // what the guest did not report is unknown, never a default
    expect(p.overcommit_memory).toBeNull();
    expect(p.ignore_rlimit_data).toBe(false); // from /proc/cmdline
  });

  it("leaves the zero page unknown when the experiment is missing or failed", async () => {
    const { guestProfile } = await import("../../scripts/qemu-profile.js");
    expect(guestProfile(log(null), "n")!.host.found.zero_page).toMatch(/^unknown: the native runner cannot run \(the guest's zero-page experiment is missing\)/);
    expect(guestProfile(log("", "125"), "n")!.zero_page).toBeNull();
    expect(guestProfile("@@vmasim-qemu@@ uname 5.10\n@@vmasim-qemu@@ done 0\n", "n")).toBeNull();
  });
});
