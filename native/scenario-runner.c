/*
 * vmasim native scenario runner: executes a scenario script (the language of
 * docs/scenario-language.md) with real system calls on the running Linux
 * kernel and prints the result in the same text format as the engine's
 * runner (src/scenario/), so that the two outputs can be diffed.
 *
 * Usage:  scenario-runner [--no-bpf] SCRIPT      (SCRIPT = a path, or "-" for stdin)
 * Build:  cc -std=c11 -O2 -Wall -Wextra -Wl,-z,now -o scenario-runner scenario-runner.c
 *         (src/kernel/native.ts builds it on demand into build/native/)
 *
 * Exit status: 0 at the end of the script; 2 at the end of the script when a
 * line gave EPARSE; CODE for `exit CODE`; after `fork` (child continues) the
 * parent exits with the child's status (128+SIG if the child was killed).
 * 125 = the runner itself failed (script unreadable or larger than 8 MiB,
 * arena setup failed, stdout unwritable); the reason is on stderr, prefixed
 * with "scenario-runner: fatal:".
 *
 * No allocation after setup: the script is read whole with read() into a
 * static buffer before the arena is reserved; output goes through a static
 * buffer written with write() (flushed when full, before fork and at exit);
 * /proc files are read with read() into static buffers. No malloc and no stdio
 * are used at all, so libc makes no mmap of its own once the arena exists.
 *
 * Output formats (those of docs/scenario-language.md, plus these choices):
 *
 *   dump         `dump`, then per VMA intersecting the arena, from /proc/self/maps:
 *                  "  <start> <end> <perms> <kind> <pgoff>"
 *                kind/pgoff: for a private anonymous VMA "anon ?" with no " av="
 *                field (/proc hides vm_pgoff and the anon_vma), or, when the BPF
 *                hidden-state reader below is active, "anon X av=A/R" / "anon X av=-"
 *                as docs/scenario-language.md defines them; "fileN X" (temp file N,
 *                X = file page offset); "shmem X" (shared anonymous, "/dev/zero
 *                (deleted)", X = offset column in pages); "other X" (any other
 *                file-backed mapping, which the language cannot create in the arena);
 *                with the reader active, file, shmem and other lines end in
 *                " av=A/R" / " av=-" too (a private file mapping gets an anon_vma
 *                at its first copy-on-write fault); without it no line has " av=";
 *                then "  (<n> vmas)". (A /proc read error in the middle adds a line
 *                "  (read error <ERRNO>)" before the count.)
 *   dump full    the same lines, each followed by (read from /proc/self/smaps)
 *                  " rss=<R> anon=<A> locked=<L> flags=<f1,f2,...>"
 *                R, A, L = the Rss, Anonymous and Locked fields converted from kB to
 *                4 KiB pages; flags = the VmFlags two-letter codes in smaps order,
 *                comma-separated, "sd" (soft-dirty) left out; "flags=-" if none.
 *                Example: "  0 4 rw-p anon ? rss=2 anon=2 locked=0 flags=rd,wr,mr,mw,me,ac"
 *   dumpheap     `dumpheap`, then the VMAs /proc/self/maps labels "[heap]" in the dump
 *                line format, pages relative to PAGE_ALIGN(initial break), then
 *                "  (<n> vmas)".
 *   count        "count => process_vmas=<a> arena_vmas=<b> other_vmas=<a-b> max_map_count=<m>"
 *   count total  "count total => process_vmas=<a> max_map_count=<m>"
 *   (a dump/count whose /proc file cannot be opened prints "<op line> => <ERRNO>")
 *
 * Decisions where docs/scenario-language.md is silent:
 *   - A number token is one that strtoll(s, 0) consumes whole without overflow;
 *     an out-of-range token is not a number (EPARSE where one is expected) and is
 *     printed as written.
 *   - PROT: `none`, or a non-empty string of the letters r w x and '-' (repeats
 *     allowed; "---" = none).
 *   - Range check: [P, P+N) must satisfy 0 <= P and P + N <= 262144 (N = 0 at
 *     P = 262144 passes and reaches the kernel, which answers EINVAL); touch/peek use
 *     N = 1; mremap checks [P, P+OLDN) and, with fixed, [NEWP, NEWP+NEWN).
 *   - `mmap ... file ID FOFF`: a FOFF whose byte offset does not fit in off_t prints
 *     EOVERFLOW without a syscall; a failing temp-file creation or ftruncate prints
 *     that call's errno.
 *   - `brk DELTA` whose target address overflows prints ENOMEM without a syscall.
 *   - `exit CODE`: CODE must be 0..255, else EPARSE.
 *   - `sysctl KEY VALUE`: KEY one of sysctl_keys[]; VALUE (a number, not '@')
 *     is written in decimal to /proc/sys/vm/KEY; prints ok or the errno of the
 *     open or the write. The caller saves and restores the host's values.
 *   - `repeat`: 0 <= COUNT <= 2^24 and START >= 0 are plain numbers ('@' is not allowed
 *     there); STEP may be negative. The inner op is checked once with @ = START
 *     (a syntax error makes the whole line EPARSE). If @ = START+i*STEP makes a
 *     page argument negative (or overflows), that iteration's result is
 *     ERANGE_ARENA; if it makes an argument invalid otherwise (file ID outside
 *     0..63, advice outside int), its result is "EPARSE (line N)" and the runner
 *     exits 2 at the end. An iteration fails when its result does not start
 *     with "ok".
 *   - `padvmas TARGET P`: counts the lines of /proc/self/maps, maps
 *     (TARGET - count) 1-page PROT_READ private anonymous MAP_FIXED_NOREPLACE
 *     VMAs at P, P+2, ..., then counts again (a page may have merged with a
 *     neighbour) until TARGET is reached. A page that would leave the arena
 *     gives ERANGE_ARENA.
 *   - `fork parent`: the parked child closes its stdin/stdout/stderr, sets
 *     PR_SET_PDEATHSIG(SIGHUP) and waits for SIGHUP, then exits 0. A process
 *     that exits (end of script, `exit`, or a parent whose `fork` child ended)
 *     first sends SIGHUP to its own parked children and reaps them, so when the
 *     runner's exit status is known all its processes are gone.
 *   - Temp files: created on first use as <dir>/vmasim-<pid>-<id>-<n> with
 *     O_RDWR|O_CREAT|O_EXCL and unlinked at once; dir = /dev/shm, else /tmp (a
 *     directory mounted noexec is used only if no other works, since `x` file
 *     mappings fail there). A VMA is attributed to temp file N by its inode and
 *     device numbers.
 *   - A NUL byte in the script is read as a space; a line of more than 32 tokens
 *     is EPARSE.
 *   - `mmap` without `hint` that the kernel places elsewhere than asked (only a
 *     kernel that ignores MAP_FIXED_NOREPLACE does) prints `ok @P` like `hint`.
 *   - av=A/R numbering (BPF mode): a number is given at the first dump line that
 *     shows the anon_vma, A before R; the table is copied into fork children.
 *     Identity is the anon_vma's kernel address, so an anon_vma freed and a new
 *     one allocated at the same address between two dumps keep one number.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__has_include) && !defined(VMASIM_NO_BPF)
#if __has_include(<linux/bpf.h>)
#include <linux/bpf.h> /* kernel UAPI header: only for the optional hidden-state reader */
#define HAVE_BPF 1
#endif
#endif

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MREMAP_MAYMOVE
#define MREMAP_MAYMOVE 1
#endif
#ifndef MREMAP_FIXED
#define MREMAP_FIXED 2
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
/* The 2025 MREMAP_RELOCATE_ANON proposal (never merged): released kernels answer EINVAL. */
#ifndef MREMAP_RELOCATE_ANON
#define MREMAP_RELOCATE_ANON 8
#endif
#ifndef MREMAP_MUST_RELOCATE_ANON
#define MREMAP_MUST_RELOCATE_ANON 16
#endif
#ifndef SYS_memfd_create
#define SYS_memfd_create 319
#endif
#ifndef SYS_mlock2
#define SYS_mlock2 325
#endif
#define NR_MSEAL 462
#define MLOCK_ONFAULT_FLAG 1

#define PAGE 4096ULL
#define ARENA_PAGES 262144LL
#define ARENA_BYTES ((uint64_t)ARENA_PAGES * PAGE)
#define MAX_FILES 64
#define SCRIPT_MAX (8u << 20)
#define MAX_TOKENS 32
#define MAX_PARKED 256
#define EXIT_RUNNER_FAILED 125

/* ------------------------------------------------------------------ output */

static char out_buf[1 << 16];
static size_t out_len;

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void fatal(const char *what, int err);

static void out_flush(void)
{
    if (out_len == 0)
        return;
    size_t n = out_len;
    out_len = 0;
    if (write_all(1, out_buf, n) < 0)
        fatal("cannot write the output", errno);
}

static void out_mem(const char *s, size_t n)
{
    while (n > 0) {
        size_t room = sizeof out_buf - out_len;
        if (room == 0) {
            out_flush();
            room = sizeof out_buf;
        }
        size_t k = n < room ? n : room;
        memcpy(out_buf + out_len, s, k);
        out_len += k;
        s += k;
        n -= k;
    }
}

static void out_str(const char *s) { out_mem(s, strlen(s)); }
static void out_ch(char c) { out_mem(&c, 1); }

/* Decimal text of v into buf (at least 21 bytes); returns the length. */
static int fmt_i64(char *buf, int64_t v)
{
    char tmp[24];
    int n = 0, len = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[len++] = '-';
    while (n)
        buf[len++] = tmp[--n];
    buf[len] = 0;
    return len;
}

static void out_i64(int64_t v)
{
    char b[24];
    out_mem(b, (size_t)fmt_i64(b, v));
}

/* ------------------------------------------------------------------ errors */

/* Must match ERRNO_NAMES in src/abi/constants.ts (test/kernel/native.test.ts checks it). */
static const struct { int no; const char *name; } errno_names[] = {
    { 1, "EPERM" }, { 2, "ENOENT" }, { 4, "EINTR" }, { 9, "EBADF" }, { 11, "EAGAIN" },
    { 12, "ENOMEM" }, { 13, "EACCES" }, { 14, "EFAULT" }, { 17, "EEXIST" },
    { 19, "ENODEV" }, { 22, "EINVAL" }, { 38, "ENOSYS" }, { 75, "EOVERFLOW" }, { 95, "EOPNOTSUPP" },
};

/* Errno name into buf (at least 24 bytes): "ENOMEM", or "E<number>". */
static void errno_text(char *buf, int e)
{
    for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++) {
        if (errno_names[i].no == e) {
            strcpy(buf, errno_names[i].name);
            return;
        }
    }
    buf[0] = 'E';
    fmt_i64(buf + 1, e);
}

static void fatal(const char *what, int err)
{
    char msg[256], en[24];
    size_t n = 0, k;
    const char *parts[3] = { "scenario-runner: fatal: ", what, ": " };
    for (int i = 0; i < 3; i++) {
        k = strlen(parts[i]);
        if (n + k > 200)
            k = 200 - n;
        memcpy(msg + n, parts[i], k);
        n += k;
    }
    errno_text(en, err);
    k = strlen(en);
    memcpy(msg + n, en, k);
    n += k;
    msg[n++] = '\n';
    write_all(2, msg, n);
    _exit(EXIT_RUNNER_FAILED);
}

/* ------------------------------------------------------------------ state */

static char script[SCRIPT_MAX + 1];
static size_t script_len;
static uintptr_t arena;      /* address of arena page 0 */
static uintptr_t heap_base;  /* PAGE_ALIGN(initial break) */
static int line_no;
static int had_eparse;

static int tf_fd[MAX_FILES];
static uint64_t tf_ino[MAX_FILES];
static unsigned tf_maj[MAX_FILES], tf_min[MAX_FILES];
static unsigned tf_serial;

static pid_t parked[MAX_PARKED];
static int nparked;

/* ------------------------------------------------------------------ results */

/* The text after " => " of an op that may run inside repeat. */
struct res {
    char s[128];
    int len;
};

static void res_put(struct res *r, const char *s)
{
    size_t k = strlen(s);
    if (k > sizeof r->s - 1 - (size_t)r->len)
        k = sizeof r->s - 1 - (size_t)r->len;
    memcpy(r->s + r->len, s, k);
    r->len += (int)k;
    r->s[r->len] = 0;
}

static void res_num(struct res *r, int64_t v)
{
    char b[24];
    fmt_i64(b, v);
    res_put(r, b);
}

static void res_init(struct res *r) { r->len = 0; r->s[0] = 0; }
static void res_ok(struct res *r) { res_init(r); res_put(r, "ok"); }

static void res_errno(struct res *r, int e)
{
    char b[24];
    res_init(r);
    errno_text(b, e);
    res_put(r, b);
}

static void res_text(struct res *r, const char *s) { res_init(r); res_put(r, s); }

/* `ok @P`, `ok @OUTSIDE_ARENA`, or `ok @?RAW` for an address the kernel chose. */
static void res_at(struct res *r, uint64_t v)
{
    res_init(r);
    if (v & (PAGE - 1)) {
        res_put(r, "ok @?");
        res_num(r, (int64_t)v);
    } else if (v >= arena && v - arena < ARENA_BYTES) {
        res_put(r, "ok @");
        res_num(r, (int64_t)((v - arena) / PAGE));
    } else {
        res_put(r, "ok @OUTSIDE_ARENA");
    }
}

/* ------------------------------------------------------------------ parsing */

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }
static int is_sep(char c) { return c == ' ' || c == '\t' || c == 0; }

static int parse_num(const char *t, int64_t *v)
{
    if (!*t || is_ws(*t))
        return 0;
    char *end;
    errno = 0;
    long long x = strtoll(t, &end, 0);
    if (errno || end == t || *end)
        return 0;
    *v = x;
    return 1;
}

/* Print the tokens of [s, e) joined by one space, numbers in decimal. Called
 * only after run_line() has cut the tokens with NULs (*e is NUL too). */
static void out_normalized(const char *s, const char *e)
{
    int first = 1;
    while (s < e) {
        while (s < e && is_sep(*s))
            s++;
        if (s >= e)
            break;
        const char *t = s;
        while (s < e && !is_sep(*s))
            s++;
        if (!first)
            out_ch(' ');
        first = 0;
        int64_t v;
        if (parse_num(t, &v))
            out_i64(v);
        else
            out_mem(t, (size_t)(s - t));
    }
}

enum opkind {
    OP_MMAP, OP_MUNMAP, OP_MPROTECT, OP_MREMAP, OP_TOUCH, OP_TOUCHN, OP_PEEK, OP_MADVISE,
    OP_MLOCK, OP_MUNLOCK, OP_MSEAL, OP_BRK, OP_PADVMAS,
    /* not allowed inside repeat: */
    OP_DUMPHEAP, OP_FORK, OP_DUMP, OP_COUNT, OP_REPEAT, OP_EXIT, OP_SETRLIMIT, OP_CAPDROP, OP_SYSCTL,
};

enum { PL_NOREPLACE, PL_FIXED, PL_HINT };
enum { FORK_PLAIN, FORK_CHILD, FORK_PARENT };

struct op {
    int kind;
    int64_t p, n;          /* page and page count (most ops) */
    int64_t n2;            /* mremap NEWN; padvmas P; repeat START */
    int64_t newp;          /* mremap fixed NEWP; repeat STEP */
    int prot;
    int shared, placement, populate, noreserve, locked, stack;
    int file_id;           /* -1 = anonymous */
    int64_t foff;
    int maymove, fixed, dontunmap, relocate_anon, must_relocate_anon;
    int write;             /* touch/touchn */
    int advice;
    int onfault;
    int variant;           /* fork kind; dump full; count total */
    int64_t code;          /* exit code; brk delta; padvmas target; repeat count */
    int at_bad;            /* '@' made a page argument negative: ERANGE_ARENA */
    int inner;             /* repeat: index of the inner op's first token */
};

/* The vm sysctls `sysctl` may write (src/scenario/parse.ts SYSCTL_KEYS). */
static const char *const sysctl_keys[] = {
    "overcommit_memory", "overcommit_ratio", "overcommit_kbytes", "admin_reserve_kbytes",
    "user_reserve_kbytes", "max_map_count", "mmap_min_addr",
};

struct atctx {
    int64_t val;
    int overflow;          /* START + i*STEP overflowed */
};

/* A number argument; '@' is START+i*STEP inside repeat. */
static int arg_int(const char *t, const struct atctx *at, int64_t *v, int *from_at)
{
    if (from_at)
        *from_at = 0;
    if (at && t[0] == '@' && t[1] == 0) {
        *v = at->val;
        if (from_at)
            *from_at = 1;
        return 1;
    }
    return parse_num(t, v);
}

/* A page-like argument: >= 0; a negative value that came from '@' is accepted
 * and flagged (the op then prints ERANGE_ARENA). */
static int arg_page(const char *t, const struct atctx *at, int64_t *v, struct op *op)
{
    int from_at;
    if (!arg_int(t, at, v, &from_at))
        return 0;
    if (from_at && at->overflow) {
        op->at_bad = 1;
        return 1;
    }
    if (*v < 0) {
        if (!from_at)
            return 0;
        op->at_bad = 1;
    }
    return 1;
}

static int parse_prot(const char *t, int *prot)
{
    if (strcmp(t, "none") == 0) {
        *prot = PROT_NONE;
        return 1;
    }
    int p = 0;
    if (!*t)
        return 0;
    for (; *t; t++) {
        switch (*t) {
        case 'r': p |= PROT_READ; break;
        case 'w': p |= PROT_WRITE; break;
        case 'x': p |= PROT_EXEC; break;
        case '-': break;
        default: return 0;
        }
    }
    *prot = p;
    return 1;
}

static const struct { const char *name; int value; } advices[] = {
    { "normal", 0 }, { "random", 1 }, { "sequential", 2 }, { "willneed", 3 },
    { "dontneed", 4 }, { "free", 8 }, { "remove", 9 }, { "dontfork", 10 },
    { "dofork", 11 }, { "mergeable", 12 }, { "unmergeable", 13 }, { "hugepage", 14 },
    { "nohugepage", 15 }, { "dontdump", 16 }, { "dodump", 17 }, { "wipeonfork", 18 },
    { "keeponfork", 19 }, { "cold", 20 }, { "pageout", 21 }, { "populate_read", 22 },
    { "populate_write", 23 }, { "dontneed_locked", 24 }, { "collapse", 25 },
    { "guard_install", 102 }, { "guard_remove", 103 },
};

static int eq(const char *a, const char *b) { return strcmp(a, b) == 0; }

/* Parse tokens t[0..n) into op. Returns 1, or 0 for bad syntax. */
static int parse_op(char **t, int n, const struct atctx *at, struct op *op)
{
    memset(op, 0, sizeof *op);
    op->file_id = -1;
    const char *name = t[0];
    int i;

    if (eq(name, "mmap")) {
        op->kind = OP_MMAP;
        if (n < 4 || !arg_page(t[1], at, &op->p, op) || !arg_page(t[2], at, &op->n, op) ||
            !parse_prot(t[3], &op->prot))
            return 0;
        int have_kind = 0, have_place = 0;
        for (i = 4; i < n; i++) {
            const char *k = t[i];
            if (eq(k, "anon")) {
                if (have_kind++)
                    return 0;
            } else if (eq(k, "file")) {
                int64_t id;
                if (have_kind++ || i + 2 >= n || !arg_int(t[i + 1], at, &id, NULL) ||
                    id < 0 || id >= MAX_FILES || !arg_page(t[i + 2], at, &op->foff, op))
                    return 0;
                op->file_id = (int)id;
                i += 2;
            } else if (eq(k, "shared")) {
                if (op->shared++)
                    return 0;
            } else if (eq(k, "fixed") || eq(k, "noreplace") || eq(k, "hint")) {
                if (have_place++)
                    return 0;
                op->placement = eq(k, "fixed") ? PL_FIXED : eq(k, "hint") ? PL_HINT : PL_NOREPLACE;
            } else if (eq(k, "populate")) {
                if (op->populate++)
                    return 0;
            } else if (eq(k, "noreserve")) {
                if (op->noreserve++)
                    return 0;
            } else if (eq(k, "locked")) {
                if (op->locked++)
                    return 0;
            } else if (eq(k, "stack")) {
                if (op->stack++)
                    return 0;
            } else {
                return 0;
            }
        }
        return 1;
    }
    if (eq(name, "munmap") || eq(name, "munlock") || eq(name, "mseal")) {
        op->kind = eq(name, "munmap") ? OP_MUNMAP : eq(name, "munlock") ? OP_MUNLOCK : OP_MSEAL;
        return n == 3 && arg_page(t[1], at, &op->p, op) && arg_page(t[2], at, &op->n, op);
    }
    if (eq(name, "mprotect")) {
        op->kind = OP_MPROTECT;
        return n == 4 && arg_page(t[1], at, &op->p, op) && arg_page(t[2], at, &op->n, op) &&
               parse_prot(t[3], &op->prot);
    }
    if (eq(name, "mremap")) {
        op->kind = OP_MREMAP;
        if (n < 4 || !arg_page(t[1], at, &op->p, op) || !arg_page(t[2], at, &op->n, op) ||
            !arg_page(t[3], at, &op->n2, op))
            return 0;
        for (i = 4; i < n; i++) {
            if (eq(t[i], "maymove")) {
                if (op->maymove++)
                    return 0;
            } else if (eq(t[i], "dontunmap")) {
                if (op->dontunmap++)
                    return 0;
            } else if (eq(t[i], "relocate_anon")) {
                if (op->relocate_anon++)
                    return 0;
            } else if (eq(t[i], "must_relocate_anon")) {
                if (op->must_relocate_anon++)
                    return 0;
            } else if (eq(t[i], "fixed")) {
                if (op->fixed++ || i + 1 >= n || !arg_page(t[i + 1], at, &op->newp, op))
                    return 0;
                i++;
            } else {
                return 0;
            }
        }
        return 1;
    }
    if (eq(name, "touch") || eq(name, "touchn")) {
        int multi = eq(name, "touchn");
        op->kind = multi ? OP_TOUCHN : OP_TOUCH;
        op->n = 1;
        op->write = 1;
        i = 1;
        if (n < 2 + multi || !arg_page(t[i++], at, &op->p, op))
            return 0;
        if (multi && !arg_page(t[i++], at, &op->n, op))
            return 0;
        if (i < n) {
            if (eq(t[i], "read"))
                op->write = 0;
            else if (!eq(t[i], "write"))
                return 0;
            i++;
        }
        return i == n;
    }
    if (eq(name, "peek")) {
        op->kind = OP_PEEK;
        op->n = 1;
        return n == 2 && arg_page(t[1], at, &op->p, op);
    }
    if (eq(name, "madvise")) {
        op->kind = OP_MADVISE;
        if (n != 4 || !arg_page(t[1], at, &op->p, op) || !arg_page(t[2], at, &op->n, op))
            return 0;
        for (size_t k = 0; k < sizeof advices / sizeof advices[0]; k++) {
            if (eq(t[3], advices[k].name)) {
                op->advice = advices[k].value;
                return 1;
            }
        }
        int64_t v;
        if (!arg_int(t[3], at, &v, NULL) || v < INT32_MIN || v > INT32_MAX)
            return 0;
        op->advice = (int)v;
        return 1;
    }
    if (eq(name, "mlock")) {
        op->kind = OP_MLOCK;
        if (n < 3 || n > 4 || !arg_page(t[1], at, &op->p, op) || !arg_page(t[2], at, &op->n, op))
            return 0;
        if (n == 4) {
            if (!eq(t[3], "onfault"))
                return 0;
            op->onfault = 1;
        }
        return 1;
    }
    if (eq(name, "brk")) {
        op->kind = OP_BRK;
        return n == 2 && arg_int(t[1], at, &op->code, NULL) && !(at && eq(t[1], "@") && at->overflow);
    }
    if (eq(name, "padvmas")) {
        op->kind = OP_PADVMAS;
        return n == 3 && arg_page(t[1], at, &op->code, op) && arg_page(t[2], at, &op->n2, op);
    }
    if (eq(name, "dumpheap")) {
        op->kind = OP_DUMPHEAP;
        return n == 1;
    }
    if (eq(name, "fork")) {
        op->kind = OP_FORK;
        if (n == 1)
            op->variant = FORK_PLAIN;
        else if (n == 2 && eq(t[1], "child"))
            op->variant = FORK_CHILD;
        else if (n == 2 && eq(t[1], "parent"))
            op->variant = FORK_PARENT;
        else
            return 0;
        return 1;
    }
    if (eq(name, "dump")) {
        op->kind = OP_DUMP;
        if (n == 2 && eq(t[1], "full"))
            op->variant = 1;
        else if (n != 1)
            return 0;
        return 1;
    }
    if (eq(name, "count")) {
        op->kind = OP_COUNT;
        if (n == 2 && eq(t[1], "total"))
            op->variant = 1;
        else if (n != 1)
            return 0;
        return 1;
    }
    if (eq(name, "sysctl")) {
        op->kind = OP_SYSCTL;
        if (n != 3 || at)
            return 0;
        for (size_t k = 0; k < sizeof sysctl_keys / sizeof sysctl_keys[0]; k++) {
            if (eq(t[1], sysctl_keys[k])) {
                op->variant = (int)k;
                return parse_num(t[2], &op->code);
            }
        }
        return 0;
    }
    if (eq(name, "exit")) {
        op->kind = OP_EXIT;
        if (n == 1)
            return 1;
        return n == 2 && parse_num(t[1], &op->code) && op->code >= 0 && op->code <= 255;
    }
    if (eq(name, "setrlimit")) {
        /* setrlimit RES CUR [MAX]: variant = RLIMIT_*, n = cur, n2 = max, -1 = unlimited */
        op->kind = OP_SETRLIMIT;
        if (at || n < 3 || n > 4)
            return 0;
        if (eq(t[1], "as")) op->variant = RLIMIT_AS;
        else if (eq(t[1], "data")) op->variant = RLIMIT_DATA;
        else if (eq(t[1], "stack")) op->variant = RLIMIT_STACK;
        else if (eq(t[1], "memlock")) op->variant = RLIMIT_MEMLOCK;
        else return 0;
        for (i = 2; i < n; i++) {
            int64_t v = -1;
            if (!eq(t[i], "unlimited") && (!parse_num(t[i], &v) || v < 0))
                return 0;
            if (i == 2) op->n = v; else op->n2 = v;
        }
        if (n == 3)
            op->n2 = op->n;
        return 1;
    }
    if (eq(name, "capdrop")) {
        /* capdrop CAP: variant = CAP_* number */
        op->kind = OP_CAPDROP;
        if (at || n != 2)
            return 0;
        if (eq(t[1], "ipc_lock")) op->variant = 14;       /* CAP_IPC_LOCK */
        else if (eq(t[1], "sys_admin")) op->variant = 21; /* CAP_SYS_ADMIN */
        else if (eq(t[1], "sys_resource")) op->variant = 24; /* CAP_SYS_RESOURCE */
        else return 0;
        return 1;
    }
    if (eq(name, "repeat")) {
        op->kind = OP_REPEAT;
        /* COUNT at most 2^24, as src/scenario/parse.ts MAX_REPEAT */
        if (at || n < 5 || !parse_num(t[1], &op->code) || op->code < 0 || op->code > 16777216 ||
            !parse_num(t[2], &op->n2) || op->n2 < 0 || !parse_num(t[3], &op->newp))
            return 0;
        const char *in = t[4];
        if (eq(in, "fork") || eq(in, "repeat") || eq(in, "exit") || eq(in, "dump") ||
            eq(in, "dumpheap") || eq(in, "count") || eq(in, "echo") || eq(in, "setrlimit") ||
            eq(in, "capdrop") || eq(in, "sysctl"))
            return 0;
        struct atctx first = { op->n2, 0 };
        struct op inner;
        if (!parse_op(t + 4, n - 4, &first, &inner))
            return 0;
        op->inner = 4;
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ /proc reading */

static char rd_buf[1 << 16];
static char ln_buf[1 << 13];

typedef void (*line_cb)(char *line, void *ctx);

/* Call cb for every line of the open file fd (closed afterwards). Lines longer
 * than ln_buf are cut. Returns 0 or an errno. */
static int for_each_line(int fd, line_cb cb, void *ctx)
{
    size_t ll = 0;
    int err = 0;
    for (;;) {
        ssize_t n = read(fd, rd_buf, sizeof rd_buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            err = errno;
            break;
        }
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            char c = rd_buf[i];
            if (c == '\n') {
                ln_buf[ll] = 0;
                cb(ln_buf, ctx);
                ll = 0;
            } else if (ll < sizeof ln_buf - 1) {
                ln_buf[ll++] = c;
            }
        }
    }
    if (ll) {
        ln_buf[ll] = 0;
        cb(ln_buf, ctx);
    }
    close(fd);
    return err;
}

static int open_proc(const char *path)
{
    int fd;
    do
        fd = open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : fd;
}

/* ------------------------------------------------------------------ hidden state (BPF)
 *
 * /proc hides an anonymous VMA's vm_pgoff and anon_vma. When the runner is
 * root on a kernel with BTF (/sys/kernel/btf/vmlinux) and BPF task_vma
 * iterators with a task filter (6.1+), it loads a small iter/task_vma program
 * (assembled here from the BTF field offsets: no compiler, no libbpf) that
 * writes for each VMA of this process {vm_start, vm_pgoff, anon_vma,
 * anon_vma->root}; anon dump lines then read "anon X av=A/R" and file/shmem
 * lines "fileN X av=A/R" (A, R numbered in order of first appearance in dumps
 * of this process, A before R, inherited across fork; "av=-" without anon_vma).
 * All of it is set up before the arena and silently skipped where unavailable
 * (or with --no-bpf): anon lines stay "anon ?" and no line has " av=".
 */
struct hrec {
    uint64_t start, pgoff, av, root;
};

#define HREC_MAX (1u << 17)
#define AVNUM_SLOTS (1u << 18)

static struct hrec hrecs[HREC_MAX];
static size_t nhrecs;
static uint64_t avnum_key[AVNUM_SLOTS];
static int64_t avnum_val[AVNUM_SLOTS];
static int64_t avnum_next = 1;

/* The number of anon_vma (kernel address) av, given on first sight; 0 if the table is full. */
static int64_t av_number(uint64_t av)
{
    uint64_t h = (av >> 6) * 0x9E3779B97F4A7C15ULL;
    for (uint32_t i = 0; i < AVNUM_SLOTS; i++) {
        uint32_t slot = (uint32_t)((h >> 40) + i) & (AVNUM_SLOTS - 1);
        if (avnum_key[slot] == av)
            return avnum_val[slot];
        if (avnum_key[slot] == 0) {
            if (avnum_next > (int64_t)(AVNUM_SLOTS / 2))
                return 0;
            avnum_key[slot] = av;
            avnum_val[slot] = avnum_next;
            return avnum_next++;
        }
    }
    return 0;
}

static const struct hrec *hid_find(uint64_t start)
{
    size_t lo = 0, hi = nhrecs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (hrecs[mid].start < start)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < nhrecs && hrecs[lo].start == start ? &hrecs[lo] : NULL;
}

#ifdef HAVE_BPF
#define BTF_BUF_MAX (32u << 20)
#define BTF_TYPES_MAX (1u << 20)
static char btf_buf[BTF_BUF_MAX];
static uint32_t btf_type_off[BTF_TYPES_MAX];
static uint32_t btf_ntypes;
static const char *btf_strs;
static uint32_t btf_strs_len;
static int hid_ok;
static int hid_prog_fd = -1, hid_link_fd = -1;

struct btf_t {
    uint32_t name_off, info, size_or_type;
};

static const struct btf_t *btf_type(uint32_t id)
{
    return id > 0 && id <= btf_ntypes ? (const struct btf_t *)(btf_buf + btf_type_off[id]) : NULL;
}

static const char *btf_name(uint32_t off) { return off < btf_strs_len ? btf_strs + off : ""; }
static unsigned btf_kind(const struct btf_t *t) { return (t->info >> 24) & 0x1f; }
static unsigned btf_vlen(const struct btf_t *t) { return t->info & 0xffff; }

/* Read and index /sys/kernel/btf/vmlinux; 1 on success. */
static int btf_load(void)
{
    int fd = open("/sys/kernel/btf/vmlinux", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t len = 0;
    for (;;) {
        if (len == BTF_BUF_MAX) {
            close(fd);
            return 0;
        }
        ssize_t n = read(fd, btf_buf + len, BTF_BUF_MAX - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    struct {
        uint16_t magic;
        uint8_t version, flags;
        uint32_t hdr_len, type_off, type_len, str_off, str_len;
    } h;
    if (len < sizeof h)
        return 0;
    memcpy(&h, btf_buf, sizeof h);
    if (h.magic != 0xeB9F || (uint64_t)h.hdr_len + h.type_off + h.type_len > len ||
        (uint64_t)h.hdr_len + h.str_off + h.str_len > len)
        return 0;
    btf_strs = btf_buf + h.hdr_len + h.str_off;
    btf_strs_len = h.str_len;
    uint32_t p = h.hdr_len + h.type_off, end = p + h.type_len;
    while (p + 12 <= end) {
        if (btf_ntypes + 1 >= BTF_TYPES_MAX)
            return 0;
        btf_type_off[++btf_ntypes] = p;
        const struct btf_t *t = (const struct btf_t *)(btf_buf + p);
        uint32_t vlen = btf_vlen(t), extra;
        switch (btf_kind(t)) {
        case 1: extra = 4; break;                      /* INT */
        case 3: extra = 12; break;                     /* ARRAY */
        case 4: case 5: extra = 12 * vlen; break;      /* STRUCT, UNION */
        case 6: extra = 8 * vlen; break;               /* ENUM */
        case 13: extra = 8 * vlen; break;              /* FUNC_PROTO */
        case 14: extra = 4; break;                     /* VAR */
        case 15: extra = 12 * vlen; break;             /* DATASEC */
        case 17: extra = 4; break;                     /* DECL_TAG */
        case 19: extra = 12 * vlen; break;             /* ENUM64 */
        case 2: case 7: case 8: case 9: case 10: case 11: case 12: case 16: case 18:
            extra = 0;
            break;
        default:
            return 0;
        }
        p += 12 + extra;
    }
    return p == end;
}

static uint32_t btf_find(const char *name, unsigned kind)
{
    for (uint32_t id = 1; id <= btf_ntypes; id++) {
        const struct btf_t *t = btf_type(id);
        if (btf_kind(t) == kind && strcmp(btf_name(t->name_off), name) == 0 && (kind != 4 || btf_vlen(t) > 0))
            return id;
    }
    return 0;
}

/* Byte offset of member `name` of struct/union id (looking into anonymous
 * members), or -1. */
static int64_t btf_member_off(uint32_t id, const char *name, int depth)
{
    const struct btf_t *t = btf_type(id);
    while (t && depth < 32 && (btf_kind(t) == 8 || btf_kind(t) == 9 || btf_kind(t) == 10 ||
                               btf_kind(t) == 11 || btf_kind(t) == 18)) {
        t = btf_type(t->size_or_type);
        depth++;
    }
    if (!t || depth >= 32 || (btf_kind(t) != 4 && btf_kind(t) != 5))
        return -1;
    int kflag = (int)(t->info >> 31);
    const uint32_t *m = (const uint32_t *)(t + 1);
    for (unsigned i = 0; i < btf_vlen(t); i++, m += 3) {
        uint32_t bits = kflag ? (m[2] & 0xffffff) : m[2];
        if (m[0] == 0) {
            int64_t inner = btf_member_off(m[1], name, depth + 1);
            if (inner >= 0)
                return (int64_t)(bits / 8) + inner;
        } else if (strcmp(btf_name(m[0]), name) == 0) {
            return bits % 8 ? -1 : (int64_t)(bits / 8);
        }
    }
    return -1;
}

static long bpf_call(int cmd, union bpf_attr *a) { return syscall(SYS_bpf, cmd, a, sizeof *a); }

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
    struct bpf_insn i;
    memset(&i, 0, sizeof i);
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}

/* A task_vma iterator link limited to this process. */
static int hid_link(void)
{
    union bpf_iter_link_info info;
    union bpf_attr a;
    memset(&info, 0, sizeof info);
    info.task.tid = (uint32_t)getpid();
    memset(&a, 0, sizeof a);
    a.link_create.prog_fd = (uint32_t)hid_prog_fd;
    a.link_create.attach_type = BPF_TRACE_ITER;
    a.link_create.iter_info = (uint64_t)(uintptr_t)&info;
    a.link_create.iter_info_len = sizeof info;
    long fd = bpf_call(BPF_LINK_CREATE, &a);
    if (hid_link_fd >= 0)
        close(hid_link_fd);
    hid_link_fd = (int)fd;
    return fd >= 0;
}

static void hid_setup(void)
{
    if (!btf_load())
        return;
    uint32_t iter_fn = btf_find("bpf_iter_task_vma", 12);
    uint32_t vma = btf_find("vm_area_struct", 4), avs = btf_find("anon_vma", 4);
    uint32_t meta = btf_find("bpf_iter_meta", 4);
    if (!iter_fn || !vma || !avs || !meta)
        return;
    int64_t o_start = btf_member_off(vma, "vm_start", 0), o_pgoff = btf_member_off(vma, "vm_pgoff", 0);
    int64_t o_av = btf_member_off(vma, "anon_vma", 0), o_root = btf_member_off(avs, "root", 0);
    int64_t o_seq = btf_member_off(meta, "seq", 0);
    if (o_start < 0 || o_pgoff < 0 || o_av < 0 || o_root < 0 || o_seq < 0 ||
        o_start > 32767 || o_pgoff > 32767 || o_av > 32767 || o_root > 32767 || o_seq > 32767)
        return;
    /* ctx = {meta, task, vma}; r6 = ctx, r7 = meta, r8 = vma */
    enum { LDX_DW = BPF_LDX | BPF_MEM | BPF_DW, STX_DW = BPF_STX | BPF_MEM | BPF_DW,
           MOV_X = BPF_ALU64 | BPF_MOV | BPF_X, MOV_K = BPF_ALU64 | BPF_MOV | BPF_K,
           ADD_K = BPF_ALU64 | BPF_ADD | BPF_K, JEQ_K = BPF_JMP | BPF_JEQ | BPF_K };
    struct bpf_insn prog[] = {
        insn(MOV_X, 6, 1, 0, 0),
        insn(LDX_DW, 7, 6, 0, 0),
        insn(LDX_DW, 8, 6, 16, 0),
        insn(JEQ_K, 8, 0, 15, 0),                 /* no vma: done */
        insn(LDX_DW, 1, 8, (int16_t)o_start, 0),
        insn(STX_DW, 10, 1, -32, 0),
        insn(LDX_DW, 1, 8, (int16_t)o_pgoff, 0),
        insn(STX_DW, 10, 1, -24, 0),
        insn(LDX_DW, 2, 8, (int16_t)o_av, 0),
        insn(STX_DW, 10, 2, -16, 0),
        insn(MOV_K, 3, 0, 0, 0),
        insn(JEQ_K, 2, 0, 1, 0),
        insn(LDX_DW, 3, 2, (int16_t)o_root, 0),
        insn(STX_DW, 10, 3, -8, 0),
        insn(LDX_DW, 1, 7, (int16_t)o_seq, 0),
        insn(MOV_X, 2, 10, 0, 0),
        insn(ADD_K, 2, 0, 0, -32),
        insn(MOV_K, 3, 0, 0, 32),
        insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_seq_write),
        insn(MOV_K, 0, 0, 0, 0),
        insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
    };
    static const char license[] = "Dual MIT/GPL";
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_TRACING;
    a.expected_attach_type = BPF_TRACE_ITER;
    a.attach_btf_id = iter_fn;
    a.insns = (uint64_t)(uintptr_t)prog;
    a.insn_cnt = sizeof prog / sizeof prog[0];
    a.license = (uint64_t)(uintptr_t)license;
    memcpy(a.prog_name, "vmasim_vmas", 12);
    long fd = bpf_call(BPF_PROG_LOAD, &a);
    if (fd < 0)
        return;
    hid_prog_fd = (int)fd;
    if (!hid_link())
        return;
    hid_ok = 1;
}

/* After fork: the iterator link names the parent; make one for this process. */
static void hid_after_fork(void)
{
    if (hid_ok && !hid_link())
        hid_ok = 0;
}

/* Snapshot this process's VMAs into hrecs; 0 on failure (lines fall back to "anon ?"). */
static int hid_snapshot(void)
{
    nhrecs = 0;
    if (!hid_ok)
        return 0;
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.iter_create.link_fd = (uint32_t)hid_link_fd;
    long fd = bpf_call(BPF_ITER_CREATE, &a);
    if (fd < 0)
        return 0;
    char *buf = (char *)hrecs;
    size_t got = 0, cap = sizeof hrecs;
    int ok = 1;
    for (;;) {
        if (got == cap) {
            char extra[sizeof(struct hrec)];
            ssize_t n = read((int)fd, extra, sizeof extra);
            if (n < 0 && errno == EINTR)
                continue;
            if (n != 0)
                ok = 0; /* more VMAs than the table holds: keep the first ones */
            break;
        }
        ssize_t n = read((int)fd, buf + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ok = 0;
            break;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close((int)fd);
    nhrecs = got / sizeof(struct hrec);
    if (!ok && got == 0)
        return 0;
    return 1;
}
#else
static void hid_setup(void) {}
static void hid_after_fork(void) {}
static int hid_snapshot(void) { nhrecs = 0; return 0; }
#endif

struct mline {
    uint64_t start, end, off, ino;
    unsigned maj, min;
    char perms[5];
    const char *path;
};

static const char *parse_hex(const char *s, uint64_t *v)
{
    uint64_t x = 0;
    const char *b = s;
    for (;; s++) {
        int d;
        if (*s >= '0' && *s <= '9') d = *s - '0';
        else if (*s >= 'a' && *s <= 'f') d = *s - 'a' + 10;
        else if (*s >= 'A' && *s <= 'F') d = *s - 'A' + 10;
        else break;
        x = x * 16 + (uint64_t)d;
    }
    *v = x;
    return s == b ? NULL : s;
}

/* "start-end perms offset maj:min inode   path" */
static int parse_mline(const char *s, struct mline *m)
{
    uint64_t v;
    if (!(s = parse_hex(s, &m->start)) || *s++ != '-' || !(s = parse_hex(s, &m->end)) || *s++ != ' ')
        return 0;
    for (int i = 0; i < 4; i++) {
        if (!*s)
            return 0;
        m->perms[i] = *s++;
    }
    m->perms[4] = 0;
    if (*s++ != ' ' || !(s = parse_hex(s, &m->off)) || *s++ != ' ' || !(s = parse_hex(s, &v)) ||
        *s++ != ':')
        return 0;
    m->maj = (unsigned)v;
    if (!(s = parse_hex(s, &v)) || *s++ != ' ')
        return 0;
    m->min = (unsigned)v;
    if (*s < '0' || *s > '9')
        return 0;
    m->ino = 0;
    while (*s >= '0' && *s <= '9')
        m->ino = m->ino * 10 + (uint64_t)(*s++ - '0');
    while (*s == ' ')
        s++;
    m->path = s;
    return 1;
}

/* " av=A/R" or " av=-" of a hidden-state record into buf; returns its length. */
static size_t fmt_av(char *buf, const struct hrec *h)
{
    char *b = buf;
    strcpy(b, " av=");
    b += 4;
    if (!h->av) {
        strcpy(b, "-");
        return (size_t)(b + 1 - buf);
    }
    int64_t a = av_number(h->av), r = av_number(h->root);
    if (a > 0) b += fmt_i64(b, a); else *b++ = '?';
    *b++ = '/';
    if (r > 0) b += fmt_i64(b, r); else *b++ = '?';
    *b = 0;
    return (size_t)(b - buf);
}

/* "<kind> <pgoff>[ av=...]" of a VMA into buf (at least 80 bytes); rel = the
 * address of page 0 of the dump. With the hidden-state reader every kind gets
 * " av=": a private file mapping's copy-on-write pages give it an anon_vma too. */
static void fmt_kind(char *buf, const struct mline *m, uint64_t rel)
{
    char num[24];
    fmt_i64(num, (int64_t)(m->off / PAGE));
    const struct hrec *h = hid_find(m->start);
    if (m->ino == 0) {
        if (!h) {
            strcpy(buf, "anon ?");
            return;
        }
        strcpy(buf, "anon ");
        buf += strlen(buf);
        buf += fmt_i64(buf, (int64_t)(h->pgoff - rel / PAGE));
        fmt_av(buf, h);
        return;
    }
    int found = 0;
    for (int id = 0; id < MAX_FILES && !found; id++) {
        if (tf_fd[id] >= 0 && tf_ino[id] == m->ino && tf_maj[id] == m->maj && tf_min[id] == m->min) {
            strcpy(buf, "file");
            fmt_i64(buf + 4, id);
            strcat(buf, " ");
            found = 1;
        }
    }
    if (!found)
        strcpy(buf, strncmp(m->path, "/dev/zero", 9) == 0 ? "shmem " : "other ");
    strcat(buf, num);
    if (h)
        fmt_av(buf + strlen(buf), h);
}

enum { SEL_ARENA, SEL_HEAP };

struct scan {
    int sel;               /* SEL_ARENA or SEL_HEAP */
    int print;             /* print dump lines */
    int full;              /* smaps: add rss= anon= locked= flags= */
    uint64_t rel;          /* page 0 of the printed numbers */
    int total, n;
    /* dump full: the pending VMA */
    int pending;
    char pre[192];
    int64_t rss_kb, anon_kb, locked_kb;
    char flags[200];
};

static int selected(const struct scan *c, const struct mline *m)
{
    if (c->sel == SEL_HEAP)
        return strcmp(m->path, "[heap]") == 0;
    return m->end > arena && m->start < arena + ARENA_BYTES;
}

static void fmt_prefix(char *buf, const struct scan *c, const struct mline *m)
{
    char *b = buf;
    *b++ = ' ';
    *b++ = ' ';
    b += fmt_i64(b, (int64_t)(m->start - c->rel) / (int64_t)PAGE);
    *b++ = ' ';
    b += fmt_i64(b, (int64_t)(m->end - c->rel) / (int64_t)PAGE);
    *b++ = ' ';
    memcpy(b, m->perms, 4);
    b += 4;
    *b++ = ' ';
    fmt_kind(b, m, c->rel);
}

static void flush_pending(struct scan *c)
{
    if (!c->pending)
        return;
    c->pending = 0;
    out_str(c->pre);
    out_str(" rss=");
    out_i64(c->rss_kb / 4);
    out_str(" anon=");
    out_i64(c->anon_kb / 4);
    out_str(" locked=");
    out_i64(c->locked_kb / 4);
    out_str(" flags=");
    out_str(c->flags[0] ? c->flags : "-");
    out_ch('\n');
}

static int64_t field_kb(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    int64_t v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (*s++ - '0');
    return v;
}

static void scan_line(char *line, void *vctx)
{
    struct scan *c = vctx;
    struct mline m;
    char first = line[0];
    int header = (first >= '0' && first <= '9') || (first >= 'a' && first <= 'f');
    if (header) {
        if (!parse_mline(line, &m))
            return;
        if (c->full)
            flush_pending(c);
        c->total++;
        if (!selected(c, &m))
            return;
        c->n++;
        if (!c->print)
            return;
        if (c->full) {
            fmt_prefix(c->pre, c, &m);
            c->pending = 1;
            c->rss_kb = c->anon_kb = c->locked_kb = 0;
            c->flags[0] = 0;
        } else {
            char buf[192];
            fmt_prefix(buf, c, &m);
            out_str(buf);
            out_ch('\n');
        }
        return;
    }
    if (!c->pending)
        return;
    if (strncmp(line, "Rss:", 4) == 0) {
        c->rss_kb = field_kb(line + 4);
    } else if (strncmp(line, "Anonymous:", 10) == 0) {
        c->anon_kb = field_kb(line + 10);
    } else if (strncmp(line, "Locked:", 7) == 0) {
        c->locked_kb = field_kb(line + 7);
    } else if (strncmp(line, "VmFlags:", 8) == 0) {
        const char *s = line + 8;
        size_t fl = 0;
        while (*s) {
            while (*s == ' ')
                s++;
            const char *w = s;
            while (*s && *s != ' ')
                s++;
            size_t k = (size_t)(s - w);
            if (k == 0 || (k == 2 && w[0] == 's' && w[1] == 'd'))
                continue;
            if (fl + k + 2 >= sizeof c->flags)
                break;
            if (fl)
                c->flags[fl++] = ',';
            memcpy(c->flags + fl, w, k);
            fl += k;
            c->flags[fl] = 0;
        }
    }
}

/* Number of lines of /proc/self/maps and of arena VMAs; 0 or an errno. */
static int count_vmas(int *total, int *in_arena)
{
    int fd = open_proc("/proc/self/maps");
    if (fd < 0)
        return -fd;
    struct scan c;
    memset(&c, 0, sizeof c);
    c.sel = SEL_ARENA;
    int e = for_each_line(fd, scan_line, &c);
    *total = c.total;
    *in_arena = c.n;
    return e;
}

static int64_t read_max_map_count(void)
{
    int fd = open_proc("/proc/sys/vm/max_map_count");
    if (fd < 0)
        return -1;
    char b[32];
    ssize_t n = read(fd, b, sizeof b - 1);
    close(fd);
    if (n <= 0)
        return -1;
    b[n] = 0;
    int64_t v = 0;
    for (char *s = b; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (*s - '0');
    return v;
}

/* ------------------------------------------------------------------ memory probing */

static sigjmp_buf fault_jb;
static volatile sig_atomic_t fault_armed;
static volatile unsigned char sink;

static void on_fault(int sig)
{
    if (fault_armed) {
        fault_armed = 0;
        siglongjmp(fault_jb, sig);
    }
    /* A fault outside touch/peek is a runner bug: die of it. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(sig, &sa, NULL);
}

/* Read (and if write, increment) the first byte of the page at addr.
 * Returns 0 and the byte read, or the signal number. */
static int probe(uintptr_t addr, int write, unsigned *value)
{
    volatile unsigned char *p = (volatile unsigned char *)addr;
    int sig = sigsetjmp(fault_jb, 1);
    if (sig != 0)
        return sig;
    fault_armed = 1;
    unsigned char v = *p;
    if (write)
        *p = (unsigned char)(v + 1);
    fault_armed = 0;
    sink = v;
    *value = v;
    return 0;
}

static void res_fault(struct res *r, int sig, int64_t page)
{
    res_init(r);
    res_put(r, sig == SIGBUS ? "SIGBUS at " : "SIGSEGV at ");
    res_num(r, page);
}

/* ------------------------------------------------------------------ temp files */

/* The fd of temp file id, created on first use; or -errno. */
static int temp_file(int id)
{
    static const char *const dirs[] = { "/dev/shm", "/tmp" };
    if (tf_fd[id] >= 0)
        return tf_fd[id];
    int fallback = -1, err = ENOENT;
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
        char path[128], num[24];
        strcpy(path, dirs[d]);
        strcat(path, "/vmasim-");
        fmt_i64(num, getpid());
        strcat(path, num);
        strcat(path, "-");
        fmt_i64(num, id);
        strcat(path, num);
        strcat(path, "-");
        fmt_i64(num, tf_serial++);
        strcat(path, num);
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            err = errno;
            continue;
        }
        unlink(path);
        struct statvfs vf;
        if (fstatvfs(fd, &vf) == 0 && (vf.f_flag & ST_NOEXEC) && d + 1 < sizeof dirs / sizeof dirs[0]) {
            if (fallback < 0)
                fallback = fd;
            else
                close(fd);
            continue;
        }
        if (fallback >= 0)
            close(fallback);
        fallback = fd;
        break;
    }
    if (fallback < 0)
        return -err;
    struct stat st;
    if (fstat(fallback, &st) < 0) {
        err = errno;
        close(fallback);
        return -err;
    }
    tf_fd[id] = fallback;
    tf_ino[id] = (uint64_t)st.st_ino;
    tf_maj[id] = major(st.st_dev);
    tf_min[id] = minor(st.st_dev);
    return fallback;
}

/* ------------------------------------------------------------------ executing ops */

static int range_ok(int64_t p, int64_t n)
{
    return p >= 0 && n >= 0 && p <= ARENA_PAGES && n <= ARENA_PAGES - p;
}

static uintptr_t page_addr(int64_t p) { return arena + (uintptr_t)p * PAGE; }

static void res_syscall(struct res *r, long rc)
{
    if (rc == -1)
        res_errno(r, errno);
    else
        res_ok(r);
}

static void exec_padvmas(const struct op *op, struct res *r)
{
    int64_t target = op->code, next = op->n2;
    for (;;) {
        int total, in_arena, e = count_vmas(&total, &in_arena);
        if (e) {
            res_errno(r, e);
            return;
        }
        if (total >= target) {
            res_ok(r);
            return;
        }
        for (int64_t k = target - total; k > 0; k--, next += 2) {
            if (!range_ok(next, 1)) {
                res_text(r, "ERANGE_ARENA");
                return;
            }
            void *want = (void *)page_addr(next);
            void *got = mmap(want, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
            if (got == MAP_FAILED) {
                res_errno(r, errno);
                return;
            }
            if (got != want) { /* a kernel without MAP_FIXED_NOREPLACE took it as a hint */
                munmap(got, PAGE);
                res_errno(r, EEXIST);
                return;
            }
        }
    }
}

static void exec_mmap(const struct op *op, struct res *r)
{
    uintptr_t addr = page_addr(op->p);
    int flags = op->shared ? MAP_SHARED : MAP_PRIVATE;
    int fd = -1;
    off_t off = 0;
    if (op->placement == PL_FIXED)
        flags |= MAP_FIXED;
    else if (op->placement == PL_NOREPLACE)
        flags |= MAP_FIXED_NOREPLACE;
    if (op->populate)
        flags |= MAP_POPULATE;
    if (op->noreserve)
        flags |= MAP_NORESERVE;
    if (op->locked)
        flags |= MAP_LOCKED;
    if (op->stack)
        flags |= MAP_STACK;
    if (op->file_id < 0) {
        flags |= MAP_ANONYMOUS;
    } else {
        if (op->foff > INT64_MAX / (int64_t)PAGE - op->n) {
            res_errno(r, EOVERFLOW);
            return;
        }
        fd = temp_file(op->file_id);
        if (fd < 0) {
            res_errno(r, -fd);
            return;
        }
        off = (off_t)(op->foff * (int64_t)PAGE);
        off_t need = (off_t)((op->foff + op->n) * (int64_t)PAGE);
        struct stat st;
        if (fstat(fd, &st) < 0 || (st.st_size < need && ftruncate(fd, need) < 0)) {
            res_errno(r, errno);
            return;
        }
    }
    void *got = mmap((void *)addr, (size_t)op->n * PAGE, op->prot, flags, fd, off);
    if (got == MAP_FAILED)
        res_errno(r, errno);
    else if (op->placement != PL_HINT && (uintptr_t)got == addr)
        res_ok(r);
    else
        res_at(r, (uintptr_t)got);
}

static void exec_touch(const struct op *op, struct res *r, int peek)
{
    unsigned v = 0;
    for (int64_t i = 0; i < op->n; i++) {
        int sig = probe(page_addr(op->p + i), peek ? 0 : op->write, &v);
        if (sig) {
            res_fault(r, sig, op->p + i);
            return;
        }
    }
    res_ok(r);
    if (peek) {
        res_put(r, " ");
        res_num(r, v);
    }
}

/* setrlimit(2); -1 = RLIM_INFINITY. */
static void exec_setrlimit(const struct op *op, struct res *r)
{
    struct rlimit rl;
    rl.rlim_cur = op->n < 0 ? RLIM_INFINITY : (rlim_t)op->n;
    rl.rlim_max = op->n2 < 0 ? RLIM_INFINITY : (rlim_t)op->n2;
    res_syscall(r, setrlimit(op->variant, &rl));
}

/* capset(2) without libcap: clear one capability from the effective and
 * permitted sets (version 3 headers: two 32-bit words per set). */
static void exec_capdrop(const struct op *op, struct res *r)
{
    struct { uint32_t version; int pid; } hdr = { 0x20080522, 0 };
    struct { uint32_t effective, permitted, inheritable; } data[2];
    if (syscall(SYS_capget, &hdr, data) != 0) {
        res_errno(r, errno);
        return;
    }
    uint32_t bit = 1u << (op->variant % 32);
    int w = op->variant / 32;
    data[w].effective &= ~bit;
    data[w].permitted &= ~bit;
    res_syscall(r, syscall(SYS_capset, &hdr, data));
}

/* Execute an op that may appear inside repeat; the result goes to r. */
static void exec_simple(const struct op *op, struct res *r)
{
    if (op->at_bad) {
        res_text(r, "ERANGE_ARENA");
        return;
    }
    if (op->kind != OP_BRK && op->kind != OP_PADVMAS) {
        if (!range_ok(op->p, op->n) ||
            (op->kind == OP_MREMAP && op->fixed && !range_ok(op->newp, op->n2))) {
            res_text(r, "ERANGE_ARENA");
            return;
        }
    }
    void *a = (void *)page_addr(op->p);
    size_t len = (size_t)op->n * PAGE;
    switch (op->kind) {
    case OP_MMAP:
        exec_mmap(op, r);
        return;
    case OP_MUNMAP:
        res_syscall(r, munmap(a, len));
        return;
    case OP_MPROTECT:
        res_syscall(r, mprotect(a, len, op->prot));
        return;
    case OP_MREMAP: {
        int flags = 0;
        if (op->maymove || op->fixed || op->dontunmap || op->relocate_anon || op->must_relocate_anon)
            flags |= MREMAP_MAYMOVE;
        if (op->fixed)
            flags |= MREMAP_FIXED;
        if (op->dontunmap)
            flags |= MREMAP_DONTUNMAP;
        if (op->relocate_anon)
            flags |= MREMAP_RELOCATE_ANON;
        if (op->must_relocate_anon)
            flags |= MREMAP_MUST_RELOCATE_ANON;
        long rc = syscall(SYS_mremap, a, len, (size_t)op->n2 * PAGE, flags,
                          op->fixed ? (void *)page_addr(op->newp) : NULL);
        if (rc == -1)
            res_errno(r, errno);
        else
            res_at(r, (uint64_t)rc);
        return;
    }
    case OP_TOUCH:
    case OP_TOUCHN:
        exec_touch(op, r, 0);
        return;
    case OP_PEEK:
        exec_touch(op, r, 1);
        return;
    case OP_MADVISE:
        res_syscall(r, syscall(SYS_madvise, a, len, op->advice));
        return;
    case OP_MLOCK:
        res_syscall(r, op->onfault ? syscall(SYS_mlock2, a, len, MLOCK_ONFAULT_FLAG)
                                   : syscall(SYS_mlock, a, len));
        return;
    case OP_MUNLOCK:
        res_syscall(r, syscall(SYS_munlock, a, len));
        return;
    case OP_MSEAL:
        res_syscall(r, syscall(NR_MSEAL, a, len, 0UL));
        return;
    case OP_BRK: {
        int64_t delta = op->code, target;
        if (delta > INT64_MAX / (int64_t)PAGE || delta < INT64_MIN / (int64_t)PAGE ||
            __builtin_add_overflow((int64_t)heap_base, delta * (int64_t)PAGE, &target) || target < 0) {
            res_errno(r, ENOMEM);
            return;
        }
        long got = syscall(SYS_brk, (unsigned long)target);
        if (got == target)
            res_ok(r);
        else
            res_errno(r, ENOMEM);
        return;
    }
    case OP_PADVMAS:
        exec_padvmas(op, r);
        return;
    default:
        res_text(r, "EPARSE");
        return;
    }
}

/* ------------------------------------------------------------------ the line loop */

static void finish(int code)
{
    out_flush();
    for (int i = 0; i < nparked; i++) {
        kill(parked[i], SIGHUP);
        while (waitpid(parked[i], NULL, 0) < 0 && errno == EINTR)
            ;
    }
    nparked = 0;
    _exit(code);
}

static void park(pid_t parent)
{
    sigset_t set;
    int sig;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    prctl(PR_SET_PDEATHSIG, SIGHUP);
    if (getppid() != parent)
        _exit(0);
    close(0);
    close(1);
    close(2);
    while (sigwait(&set, &sig) != 0)
        ;
    _exit(0);
}

static void print_line_result(const char *s, const char *e, const char *result)
{
    out_normalized(s, e);
    out_str(" => ");
    out_str(result);
    out_ch('\n');
}

static void eparse(const char *s, const char *e)
{
    char b[48];
    strcpy(b, "EPARSE (line ");
    fmt_i64(b + strlen(b), line_no);
    strcat(b, ")");
    print_line_result(s, e, b);
    had_eparse = 1;
}

static void exec_scan(const char *s, const char *e, const struct op *op)
{
    const char *path = op->kind == OP_DUMP && op->variant ? "/proc/self/smaps" : "/proc/self/maps";
    if (op->kind != OP_COUNT)
        hid_snapshot();
    int fd = open_proc(path);
    if (fd < 0) {
        char b[24];
        errno_text(b, -fd);
        print_line_result(s, e, b);
        return;
    }
    struct scan c;
    memset(&c, 0, sizeof c);
    c.sel = op->kind == OP_DUMPHEAP ? SEL_HEAP : SEL_ARENA;
    c.rel = op->kind == OP_DUMPHEAP ? heap_base : arena;
    c.print = op->kind != OP_COUNT;
    c.full = op->kind == OP_DUMP && op->variant;
    if (c.print) {
        out_normalized(s, e);
        out_ch('\n');
    }
    int err = for_each_line(fd, scan_line, &c);
    flush_pending(&c);
    if (err) {
        char b[24];
        errno_text(b, err);
        if (!c.print) {
            print_line_result(s, e, b);
            return;
        }
        out_str("  (read error ");
        out_str(b);
        out_str(")\n");
    }
    if (c.print) {
        out_str("  (");
        out_i64(c.n);
        out_str(" vmas)\n");
        return;
    }
    int64_t mmc = read_max_map_count();
    out_normalized(s, e);
    out_str(" => process_vmas=");
    out_i64(c.total);
    if (!op->variant) {
        out_str(" arena_vmas=");
        out_i64(c.n);
        out_str(" other_vmas=");
        out_i64(c.total - c.n);
    }
    out_str(" max_map_count=");
    if (mmc < 0)
        out_ch('?');
    else
        out_i64(mmc);
    out_ch('\n');
}

/* Write v in decimal to /proc/sys/vm/KEY: 0 or the errno of open or write. */
static int write_sysctl(const char *key, int64_t v)
{
    char path[64], num[24];
    strcpy(path, "/proc/sys/vm/");
    strcat(path, key);
    fmt_i64(num, v);
    size_t len = strlen(num);
    num[len++] = '\n';
    int fd;
    do
        fd = open(path, O_WRONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return errno;
    ssize_t w;
    do
        w = write(fd, num, len);
    while (w < 0 && errno == EINTR);
    int err = w < 0 ? errno : (size_t)w != len ? EIO : 0;
    close(fd);
    return err;
}

static void exec_fork(const char *s, const char *e, const struct op *op)
{
    pid_t me = getpid();
    out_flush();
    pid_t pid = fork();
    if (pid < 0) {
        char b[24];
        errno_text(b, errno);
        print_line_result(s, e, b);
        return;
    }
    if (op->variant == FORK_PARENT) {
        if (pid == 0)
            park(me);
        if (nparked < MAX_PARKED)
            parked[nparked++] = pid;
        print_line_result(s, e, "parent continues (child parked)");
        return;
    }
    if (pid == 0) {
        nparked = 0; /* the parent's parked children are not ours to end */
        hid_after_fork();
        print_line_result(s, e, "child continues (parent waits)");
        return;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            status = EXIT_RUNNER_FAILED << 8;
            break;
        }
    }
    finish(WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : EXIT_RUNNER_FAILED);
}

static void exec_repeat(const char *s, const char *e, char **t, int n, const struct op *op)
{
    struct res r;
    for (int64_t i = 0; i < op->code; i++) {
        struct atctx at = { 0, 0 };
        int64_t step;
        if (__builtin_mul_overflow(i, op->newp, &step) || __builtin_add_overflow(op->n2, step, &at.val))
            at.overflow = 1;
        struct op inner;
        if (!parse_op(t + op->inner, n - op->inner, &at, &inner)) {
            char b[48];
            strcpy(b, "EPARSE (line ");
            fmt_i64(b + strlen(b), line_no);
            strcat(b, ")");
            res_text(&r, b);
            had_eparse = 1;
        } else {
            exec_simple(&inner, &r);
        }
        if (!(r.len >= 2 && r.s[0] == 'o' && r.s[1] == 'k')) {
            out_normalized(s, e);
            out_str(" => ok x");
            out_i64(i);
            out_str(", then i=");
            out_i64(i);
            out_str(" (page ");
            if (at.overflow)
                out_ch('?');
            else
                out_i64(at.val);
            out_str("): ");
            out_str(r.s);
            out_ch('\n');
            return;
        }
    }
    out_normalized(s, e);
    out_str(" => ok x");
    out_i64(op->code);
    out_ch('\n');
}

static void run_line(char *s, char *e)
{
    for (char *q = s; q < e; q++)
        if (*q == 0)
            *q = ' ';
    char *hash = memchr(s, '#', (size_t)(e - s));
    if (hash)
        e = hash;
    while (s < e && is_ws(*s))
        s++;
    while (e > s && is_ws(e[-1]))
        e--;
    if (s == e)
        return;
    *e = 0;

    char *ope = s;
    while (ope < e && !is_sep(*ope))
        ope++;
    if (ope - s == 4 && memcmp(s, "echo", 4) == 0) {
        char *rest = ope;
        while (rest < e && is_sep(*rest))
            rest++;
        out_str("echo");
        if (rest < e) {
            out_ch(' ');
            out_mem(rest, (size_t)(e - rest));
        }
        out_ch('\n');
        return;
    }

    char *tok[MAX_TOKENS];
    int n = 0, too_many = 0;
    for (char *q = s; q < e;) {
        while (q < e && is_sep(*q))
            q++;
        if (q >= e)
            break;
        if (n < MAX_TOKENS)
            tok[n++] = q;
        else
            too_many = 1;
        while (q < e && !is_sep(*q))
            q++;
        if (q < e)
            *q++ = 0;
    }
    struct op op;
    if (too_many || !parse_op(tok, n, NULL, &op)) {
        eparse(s, e);
        return;
    }
    struct res r;
    switch (op.kind) {
    case OP_DUMP:
    case OP_DUMPHEAP:
    case OP_COUNT:
        exec_scan(s, e, &op);
        return;
    case OP_FORK:
        exec_fork(s, e, &op);
        return;
    case OP_REPEAT:
        exec_repeat(s, e, tok, n, &op);
        return;
    case OP_EXIT:
        print_line_result(s, e, "ok");
        finish((int)op.code);
        return;
    case OP_SETRLIMIT:
        exec_setrlimit(&op, &r);
        print_line_result(s, e, r.s);
        return;
    case OP_CAPDROP:
        exec_capdrop(&op, &r);
        print_line_result(s, e, r.s);
        return;
    case OP_SYSCTL: {
        char b[24];
        int err = write_sysctl(sysctl_keys[op.variant], op.code);
        if (err)
            errno_text(b, err);
        print_line_result(s, e, err ? b : "ok");
        return;
    }
    default:
        exec_simple(&op, &r);
        print_line_result(s, e, r.s);
        return;
    }
}

/* ------------------------------------------------------------------ setup */

static void read_script(const char *path)
{
    int fd = 0;
    if (strcmp(path, "-") != 0) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            fatal("cannot open the script", errno);
    }
    for (;;) {
        if (script_len == SCRIPT_MAX) {
            char extra;
            ssize_t n = read(fd, &extra, 1);
            if (n > 0)
                fatal("script larger than 8 MiB", EFBIG);
            if (n == 0)
                break;
            if (errno == EINTR)
                continue;
            fatal("cannot read the script", errno);
        }
        ssize_t n = read(fd, script + script_len, SCRIPT_MAX - script_len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fatal("cannot read the script", errno);
        }
        if (n == 0)
            break;
        script_len += (size_t)n;
    }
    if (fd != 0)
        close(fd);
    script[script_len] = 0;
}

static void setup_arena(void)
{
    size_t total = ARENA_BYTES + 2 * PAGE;
    char *r = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED)
        fatal("cannot reserve the arena", errno);
    int mfd = (int)syscall(SYS_memfd_create, "vmasim-arena", 0);
    if (mfd < 0)
        fatal("memfd_create", errno);
    if (ftruncate(mfd, (off_t)PAGE) < 0)
        fatal("ftruncate of the guard memfd", errno);
    if (mmap(r, PAGE, PROT_READ, MAP_SHARED | MAP_FIXED, mfd, 0) == MAP_FAILED ||
        mmap(r + PAGE + ARENA_BYTES, PAGE, PROT_READ, MAP_SHARED | MAP_FIXED, mfd, 0) == MAP_FAILED)
        fatal("cannot map the arena guards", errno);
    close(mfd);
    if (munmap(r + PAGE, ARENA_BYTES) < 0)
        fatal("cannot empty the arena", errno);
    arena = (uintptr_t)(r + PAGE);
    long brk0 = syscall(SYS_brk, 0UL);
    heap_base = ((uintptr_t)brk0 + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
}

int main(int argc, char **argv)
{
    int use_bpf = 1;
    if (argc == 3 && strcmp(argv[1], "--no-bpf") == 0) {
        use_bpf = 0;
        argv++;
        argc--;
    }
    if (argc != 2) {
        static const char usage[] =
            "usage: scenario-runner [--no-bpf] SCRIPT   (SCRIPT = a file, or - for stdin)\n";
        write_all(2, usage, sizeof usage - 1);
        return EXIT_RUNNER_FAILED;
    }
    for (int i = 0; i < MAX_FILES; i++)
        tf_fd[i] = -1;
    read_script(argv[1]);
    if (use_bpf)
        hid_setup();

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fault;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);

    setup_arena();

    char *p = script, *end = script + script_len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        line_no++;
        run_line(p, le);
        p = nl ? nl + 1 : end;
    }
    finish(had_eparse ? 2 : 0);
    return 0;
}
