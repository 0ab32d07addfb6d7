// The help of each command (`vmasim CMD --help`, `vmasim help CMD`): its usage
// line, what it does, its options and its exit status. The global help
// (main.ts HELP) lists the commands.

import { MODEL_POLICIES } from "../fuzz/lockstep.js";
import { KERNEL_POLICIES } from "../engine/policy.js";
import { POLICIES } from "../types.js";
import { OUTPUT_HELP } from "./output_file.js";

const CONFIG = `
Configuration of the engine's kernel (docs/configuration.md):
  --config FILE.json   knobs from a JSON object (e.g. the output of vmasim host --json)
  --set KEY=VALUE      one knob (repeatable; a later one wins; --set over --config)
`;

const SCRIPT = "\nSCRIPT is a file, - for standard input, or @NAME for a bundled scenario (vmasim list;\ndocs/scenario-language.md).\n";

export const COMMAND_HELP: Readonly<Record<string, string>> = {
  run: `Usage: vmasim run [options] SCRIPT

Runs a scenario script in the engine; with several policies, their outputs side
by side, the differing rows marked !. The invariant checkers run after the
script and their verdict is printed on stderr. Parse errors are reported on
stderr as SCRIPT:LINE: reason.
${SCRIPT}
Options:
  --policy P[,P...]   the kernel policies (default linux-5.17; all, or any of:
                      ${POLICIES.join(", ")})
  --trace             after each line, the merge attempts it made: case, or why each side failed
  --ftrace            after each line, the series' tracepoints vm_av_merge / vm_pgoff_merge
  --stats             after the script, the merge counters of each policy
  --maps              after the script, /proc/pid/maps of the scenario's process
  --check-every-line  run the checkers after every line, not only after the script
  --no-check          do not run the checkers
  --keep-going        parse errors do not change the exit status
  --width N           with several policies, fit N columns: side by side when
                      they fit, else stacked (differing rows once per version);
                      default: the terminal's width, no limit when stdout is not
                      a terminal
  --color WHEN        colour the differing rows: auto (default: when stdout is a
                      terminal and NO_COLOR is not set), always or never
${OUTPUT_HELP}  -h, --help          this help
${CONFIG}
Exit status: 0; 1 when an invariant fails; 2 when a line gave EPARSE (unless
--keep-going) or on a usage error; an \`exit N\` line's N.
`,
  compare: `Usage: vmasim compare [options] SCRIPT|DIR...

Runs scripts under every policy (or those listed): one row per script with the
VMAs, merges, pages rewritten and whether the checker held after every line;
then the merge counters of each policy. Directories are searched recursively
for *.script files, in sorted order.
${SCRIPT}
Options:
  --policy P,...            the policies (default: all)
  --format text|json|csv    the output (json and csv: one schema, docs/cli.md)
  --keep-going              run scripts with parse errors anyway (exit 0)
${OUTPUT_HELP}  -h, --help                this help
${CONFIG}
Exit status: 0; 2 when a script has a parse error (nothing is run, unless
--keep-going) or on a usage error.
`,
  kernel: `Usage: vmasim kernel SCRIPT

Runs a scenario script on the running Linux kernel (native/scenario-runner.c).
Parse errors are reported on stderr as SCRIPT:LINE: reason.
${SCRIPT}
Options:
${OUTPUT_HELP}  -h, --help   this help

Exit status: the runner's: 0, 2 when a line gave EPARSE, an \`exit N\` line's N.
`,
  diff: `Usage: vmasim diff [options] SCRIPT

Unified diff of the running kernel's output (---) and the engine's (+++). The
engine runs under the kernel's own policy (the one nearest to its release)
unless --policy says otherwise, configured from the host's profile; both are
said on stderr. When they agree, diff says so.
${SCRIPT}
Options:
  --policy P   the engine's policy (default: the running kernel's)
  --layout     compare layouts only: ignore the pgoff of anon lines and av=
${OUTPUT_HELP}  -h, --help   this help
${CONFIG}
Exit status: 0 when the outputs agree, 1 when they differ, 2 on EPARSE or a usage error.
`,
  "fuzz-kernel": `Usage: vmasim fuzz-kernel --seed S [options]

Runs generated scripts on the kernel and in the engine; each mismatch class is
shrunk to a minimal script. The engine runs under the kernel's own policy
unless --policy says otherwise (said on stderr). Progress on stderr when it is
a terminal.

Options:
  --seed S     the run's seed (an integer; script i uses a seed derived from S and i)
  --count N    how many scripts (default 100)
  --ops K      operations per script (default 20)
  --start I    index of the first script (default 0; --start I --count 1 re-runs script I)
  --policy P   the engine's policy (default: the running kernel's)
  --layout     compare layouts only
  --allow OPS  the ops the generator may use, comma-separated
  --top-down   also generate mmap hint / mremap maymove
  --keep DIR   write every mismatching script, both outputs and each class's minimal script into DIR
${OUTPUT_HELP}  -h, --help   this help
${CONFIG}
Exit status: 0 when every script agrees, 1 on a mismatch, 2 on a usage error.
`,
  fuzz: `Usage: vmasim fuzz [options]
       vmasim fuzz --replay FILE [--policy P] [--set K=V]
       vmasim fuzz --gen KIND,... [--events N] [--pids P] [options]

Random sequences of every modelled call (mmap, munmap, mprotect, mremap,
faults, madvise, mlock, mlockall, mseal, brk, anon names, fork, threads, exit,
exec, setrlimit, capdrop, sysctl writes) on several tasks, in episodes of 250
steps from a fresh kernel; each runs in the engine and in the reference model
in lock step (results and mm counters after every step), with the whole state
compared and the invariant checkers run every --check-every steps. Policies
without a reference model (${POLICIES.filter((p) => !MODEL_POLICIES.includes(p)).join(", ")}) run the engine with the
checkers alone, and say so. Failures are grouped by class; the first of each
class is shrunk to a minimal fuzz script (docs/cli.md "vmasim fuzz"), which
--replay runs again. Under seed-v2 a class that is one of the defects
documented in docs/policies.md is marked so and does not fail the run. The
output is the same for the same seed and --ops; timings go to stderr.

Options:
  --policy P,...   policies to fuzz, or all (default all)
  --ops N          steps per policy (default 10000)
  --seed S         the run's seed (default 1; episode i uses a seed derived from S and i)
  --time T         stop a policy after T seconds (at an episode's end), even before --ops
  --check-every N  full comparison and checkers every N steps (default 1: every step);
                   a failure seen late is located again with checks after every step
  --no-shrink      print each class's failing steps unshrunk
  --replay FILE    run one fuzz script (- for standard input), checked after every step
  --gen KIND,...   instead: generated workloads (vmasim gen: allocator, server, build,
                   adversarial) replayed, on the engine and the model in lock step where the
                   model has the policy; --ops counts events, traces of --events N (default
                   10000) from seeds S, S+1, ...; --check-every defaults to 1000 events
  --events N       events per generated trace (with --gen)
  --pids P         processes at once in a generated trace (with --gen; vmasim gen --pids)
${OUTPUT_HELP}  -h, --help       this help
${CONFIG}
Exit status: 0 when no failure (seed-v2: only documented defects), 1 on any
other failure, 2 on a usage error or a fuzz script that does not parse.
`,
  host: `Usage: vmasim host [--json]

The host profile: every configuration knob of the running machine, then what
else the probe saw (release, THP, root, BPF, commit).

Options:
  --json       the profile as JSON: the knobs, then a "host" object
${OUTPUT_HELP}  -h, --help   this help
`,
  import: `Usage: vmasim import IN [--sidecar FILE] [--format perf|strace|native|auto] [--strict] -o OUT

Converts a perf trace (with its side-band file), strace -f output or a native
trace, plain or gzip, to vmasim's trace format (docs/trace-format.md), and
prints a summary on stderr: events by kind, unparsed lines, unmodelled calls,
processes and threads.

Options:
  --sidecar FILE  the perf side-band (NAME.mmap2.txt.gz), merged by time
  --format F      the input's format (default auto: detected from its lines)
  --strict        stop at the first line that cannot be parsed
  -o OUT          the output (OUT ending in .gz is gzipped; - is stdout)
  -h, --help      this help

Exit status: 0; 1 when some lines could not be parsed (they are counted, and
the first ones listed, in the summary); 2 on a usage error, an unreadable
input, or with --strict at the first line that cannot be parsed.
`,
  gen: `Usage: vmasim gen KIND --events N --seed S [-o FILE] [--pids P] [--max-map-count M]

Writes a seeded synthetic workload as a trace in vmasim's own format
(docs/trace-format.md), ready for vmasim replay. KIND is one of:
  allocator    a malloc-like allocator: per-thread arenas of 2 MiB chunks,
               extents split and coalesced, purging with madvise(MADV_FREE,
               MADV_DONTNEED), large allocations grown with mremap
  server       a redis-like server forking snapshot children while it keeps
               writing: copy-on-write faults in parent and child
  build        a make -j build: short processes (fork, vfork, exec, exit),
               brk growth, ld.so's mappings of shared libraries, inputs
  adversarial  every other page of a region split off until max_map_count,
               then calls at the limit (ENOMEM results as the kernel gives)
The same KIND, options and seed give the same file, byte for byte. The trace
has exactly N events and ends with every process exited; it is written as it
is made, in constant memory (docs/gen.md).

Options:
  --events N          events in the trace (at least 17)
  --seed S            the seed, 0 to 4294967295
  --pids P            processes at once (allocator, server, adversarial: 1;
                      build: make's -j, 4)
  --max-map-count M   adversarial: the vm.max_map_count to fill (default 65530);
                      with -o FILE, FILE's host profile NAME.host.json says it
                      so that vmasim replay FILE uses it
  -o, --output FILE   the trace (gzip when FILE ends in .gz; default, or -:
                      standard output)
  -h, --help          this help

Exit status: 0; 2 on a usage error or an unwritable FILE.
`,
  replay: `Usage: vmasim replay TRACE|@NAME [--sidecar MMAP2] [--policy P,...|all] [--json] [options]

Replays a trace (perf trace with its side-band, strace -f, or vmasim's own
format; plain or gzip) under each policy, every process with its own address
space, and prints per policy: merges and why they failed, the merges the
series enables and those it refuses because of sharing, the VMA count over
time and the closest approach to max_map_count, pages rewritten, how many
side-band MMAP2 records the engine's VMAs agree with, and the engine time
with its ratio to linux-5.17's (docs/replay.md). The engine is configured as
the trace's host: NAME.host.json next to the trace when there is one, then
--config and --set. @NAME is a trace bundled with vmasim (traces/NAME.perf.txt.gz).

Options:
  --sidecar MMAP2     the perf side-band (default: NAME.mmap2.txt.gz next to a
                      perf trace NAME.perf.txt.gz, when there)
  --policy P[,P...]   the policies (default all; any of: ${POLICIES.join(", ")})
  --check-every N     run the invariant checkers every N events and at the end
  --json              one JSON object instead of the table (docs/replay.md)
  --html FILE         also write the HTML report to FILE (as vmasim report)
${OUTPUT_HELP}  -h, --help          this help
${CONFIG}
Exit status: 0; 1 when lines could not be parsed or an invariant failed; 2 on
a usage error, an unreadable trace or an unwritable --html FILE.
`,
  report: `Usage: vmasim report REPLAY.json [-o report.html]

Makes the HTML report of a replay saved with vmasim replay TRACE --json: one
self-contained page (inline CSS and SVG, no scripts, no external references)
with the table, the VMA count over time per policy, the failed merges by
reason, and the address space of the process with the most VMAs at its peak
(docs/replay.md). vmasim replay TRACE --html FILE makes the same page.

Options:
${OUTPUT_HELP}  -h, --help          this help

Exit status: 0; 2 on a usage error, or when REPLAY.json cannot be read or is
not the output of vmasim replay --json.
`,
  sweep: `Usage: vmasim sweep SPEC.json [--workers N | --queue redis://HOST:PORT[/DB]] -o RESULT.json [options]

Runs every job of a sweep: each input of SPEC (a trace with its side-band, a
scenario script, generated scripts) under each of its policies and
configurations. A trace job's result is its replay JSON (vmasim replay --json,
one policy), a script job's is its output, merge counters and checker verdict.
RESULT.json lists the jobs sorted by key and is byte-identical whatever ran
them: the wall times go to RESULT.timing.json. Each job's result is also kept
in RESULT.json.jobs/ as it finishes; a job that fails (an engine error, the
memory cap) is recorded with its error and the sweep goes on. A progress bar
(done, running, failed, ETA) is shown on a terminal. docs/sweep.md describes
SPEC and RESULT.

Options:
  -o, --output FILE   RESULT.json (required)
  --workers N         threads on this machine (default: the number of cores)
  --queue URL         enqueue the jobs on Redis (redis://HOST:PORT[/DB]) for
                      vmasim worker processes on any machine, and collect them
  --csv FILE          also one CSV row per job (its numeric results as columns)
  --resume            keep the jobs finished in RESULT.json.jobs/ and run the rest
  -h, --help          this help

Exit status: 0 when every job succeeded; 1 when a job failed; 2 on a usage
error, a bad SPEC or an unreachable queue.
`,
  worker: `Usage: vmasim worker --queue redis://HOST:PORT[/DB] [--concurrency N] [--keep-running] [options]

Takes the jobs of vmasim sweep --queue from Redis and runs them, N at a time,
each on its own thread and engine; stops once the queue has had nothing
waiting or running for --idle seconds, or never with --keep-running. Trace
files are fetched from Redis (or read from the path shared by every machine
when SPEC says "inputsVia": "path"), checked against their SHA-256 and cached.
A worker killed in the middle of a job loses nothing: once its lock expires,
another worker takes the job again (docs/sweep.md).

Options:
  --queue URL         the Redis of the sweep (required)
  --concurrency N     jobs at a time (default: the number of cores)
  --keep-running      wait for jobs for good
  --idle S            stop after S seconds with an empty queue (default 5)
  --lock-seconds S    a job's lock: how long a silent (dead) worker keeps its job
                      before another takes it (default 30)
  --cache DIR         where fetched inputs are kept (default ~/.cache/vmasim/inputs)
  -h, --help          this help

Exit status: 0 once the queue is empty; 2 on a usage error or when Redis
cannot be reached.
`,
  list: `Usage: vmasim list

Lists the scenarios bundled with vmasim, each with its first comment line. Any
command that takes a SCRIPT takes one of them as @NAME: the exact name
(@default, @spec-12/S05-hole-between-two-anon-vmas), a folder (@spec-12), an
S-number (@S05) or a unique prefix.

Options:
  -h, --help   this help
`,
  serve: `Usage: vmasim serve [--port N]

Serves the playground (dist/web/, built by npm run build) on 127.0.0.1: a
script editor with the bundled scenarios, the script run under several
policies side by side in the browser, each policy's output as vmasim run
prints it, its merge trace, the checker's verdict and a picture of the address
space (docs/browser.md). The site is static: any web server can serve dist/web.
Runs until interrupted (Ctrl-C).

Options:
  --port N     the port (default 8080; 0: any free port, printed)
  -h, --help   this help

Exit status: 0 when interrupted; 2 on a usage error, a port in use, or no
built site.
`,
  record: `Usage: vmasim record [-o NAME] [--strace] [--force] -- CMD [ARGS...]

Records a real workload with perf (root, or perf_event_paranoid -1): the memory
syscalls, page faults and task events of CMD's whole process tree into
NAME.perf.txt.gz, the side-band (MMAP2/FORK/EXIT/COMM: the VMAs after merging)
into NAME.mmap2.txt.gz, and this host's profile (vmasim host --json) into
NAME.host.json (docs/recording.md).

Options:
  -o, --output NAME  the files' common name (default: CMD's base name, here)
  --strace           also strace -f -tt -y a second run into NAME.strace.gz
  --force            replace existing output files
  -h, --help         this help

Exit status: the recorded command's status (1 when it left no exit call);
2 on a usage error, perf missing or not permitted, or existing output files.
`,
  bisect: `Usage: vmasim bisect [options] SCRIPT

Runs the script in the engine as mainline at every release from 5.10 to 6.18,
in order (a behaviour bisection without building kernels), groups the releases
whose output equals the previous release's, and prints each range: the first
one "same", then the first release where the output changes with a unified
diff (--- the release before, +++ the changed one), then every later change
point the same way. The walk is linear, not a binary search: a behaviour may
change in one release and change back in a later one, and every change point
is shown. Each range names the kernel policies whose release it contains
(${KERNEL_POLICIES.join(", ")}).
${SCRIPT}
Options:
  --from X.Y          the first release walked (default 5.10)
  --to X.Y            the last release walked (default 6.18)
  --json              a JSON list of the ranges: {from, to, policies,
                      firstChangedLine, diff, status}; firstChangedLine is the
                      1-based output line where the range first differs from
                      the range before (null for the first range)
${OUTPUT_HELP}  -h, --help          this help
${CONFIG}
Exit status: 0; 2 on a usage error (a release outside 5.10 .. 6.18, --from
after --to, an unreadable script, a script with parse errors, a bad
configuration key or value).
`,
};
