/*
 * /init of the initramfs built by scripts/qemu-record.sh: runs the native
 * scenario runner on every scenario script packed into the initramfs, inside
 * a qemu guest booted on an older Debian kernel, then powers the guest off.
 *
 * Build: gcc -static -O2 -Wall -Wextra -o init scripts/qemu-init.c
 *
 * Initramfs layout it expects:
 *   /init                       this program
 *   /bin/scenario-runner        native/scenario-runner.c, built as on the host
 *                               (with its shared libraries under /lib*, see
 *                               qemu-record.sh for why it is not static)
 *   /scripts/NAME.script        the scenario scripts, run in name order
 *
 * It mounts proc (/proc), sysfs (/sys), devtmpfs (/dev) and tmpfs (/tmp and
 * /dev/shm), optionally sets /sys/kernel/mm/transparent_hugepage/{enabled,defrag}
 * from the kernel command line (vmasim.thp=VALUE, vmasim.thp_defrag=VALUE),
 * and runs each script as src/kernel/native.ts does: argv
 * "scenario-runner -" (plus "--no-bpf" first with vmasim.nobpf=1), the script on
 * stdin, stdout and stderr captured (here into files on /tmp). A script gets
 * vmasim.timeout=SECONDS (default 600) before its process group is killed.
 *
 * Results go to the DATA port /dev/ttyS1 (raw mode), which nothing else writes
 * to, so kernel messages on the console (ttyS0) can never interleave:
 *
 *   @@vmasim-qemu@@ uname RELEASE
 *   @@vmasim-qemu@@ config thp=VALUE bpf=0|1 timeout=SECONDS
 *   @@vmasim-qemu@@ file PATH                   (the guest's configuration, for
 *   <the file, newline added as below>           scripts/qemu-profile.ts: /proc/cmdline,
 *   @@vmasim-qemu@@ file-end PATH                /proc/meminfo, /proc/sys/vm/..., /proc/self/limits
 *                                                and status of /init, whose limits and
 *                                                capabilities the runner inherits)
 *   @@vmasim-qemu@@ zero-page status=S           (the host probe's zero-page experiment,
 *   <runner stdout>                              src/kernel/host.ts)
 *   @@vmasim-qemu@@ zero-page-end
 *   @@vmasim-qemu@@ begin NAME
 *   <runner stdout, byte for byte; a newline is added if it does not end in one>
 *   @@vmasim-qemu@@ end NAME status=S bytes=B newline=0|1 seconds=T
 *   @@vmasim-qemu@@ stderr NAME bytes=E         (only when stderr is not empty)
 *   <runner stderr, newline added as above>
 *   @@vmasim-qemu@@ stderr-end NAME
 *   @@vmasim-qemu@@ done COUNT
 *
 * S is the exit status (128+N when killed by signal N, "timeout" after the
 * timeout kill). Progress lines go to the console. At the end it syncs and
 * calls reboot(RB_POWER_OFF); qemu then exits (it runs with -no-reboot, and
 * with panic=-1 a crash of /init reboots, i.e. also ends qemu, without "done").
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MARK "@@vmasim-qemu@@"

static FILE *con;  /* /dev/console: progress */
static int data = -1; /* /dev/ttyS1: results */

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(con, "vmasim-init: ");
    vfprintf(con, fmt, ap);
    fprintf(con, "\n");
    fflush(con);
    va_end(ap);
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            say("write to data port failed: %s", strerror(errno));
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

static void dprint(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        write_all(data, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* Copy a file to the data port; returns its size, *last = its last byte. */
static long copy_file(const char *path, int *last)
{
    int fd = open(path, O_RDONLY);
    long total = 0;
    *last = -1;
    if (fd < 0)
        return 0;
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        write_all(data, buf, (size_t)n);
        total += n;
        *last = (unsigned char)buf[n - 1];
    }
    close(fd);
    return total;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

static void do_mount(const char *src, const char *dst, const char *type, const char *opts)
{
    mkdir(dst, 0755);
    if (mount(src, dst, type, 0, opts) != 0 && errno != EBUSY)
        fprintf(stderr, "vmasim-init: mount %s on %s: %s\n", type, dst, strerror(errno));
}

static char cmdline[4096];

/* Value of KEY=... on the kernel command line, copied into out; 1 if present. */
static int param(const char *key, char *out, size_t outlen)
{
    size_t kl = strlen(key);
    for (char *p = cmdline; *p;) {
        while (*p == ' ' || *p == '\n')
            p++;
        char *e = p;
        while (*e && *e != ' ' && *e != '\n')
            e++;
        if ((size_t)(e - p) > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
            size_t n = (size_t)(e - p) - kl - 1;
            if (n >= outlen)
                n = outlen - 1;
            memcpy(out, p + kl + 1, n);
            out[n] = 0;
            return 1;
        }
        p = e;
    }
    return 0;
}

static void write_sys(const char *path, const char *value)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0 || write(fd, value, strlen(value)) < 0)
        say("cannot write %s to %s: %s", value, path, strerror(errno));
    if (fd >= 0)
        close(fd);
}

/* The bracketed choice of a sysfs "a [b] c" file, or "?" */
static void read_choice(const char *path, char *out, size_t outlen)
{
    char buf[256] = "";
    int fd = open(path, O_RDONLY);
    snprintf(out, outlen, "?");
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = 0;
    char *a = strchr(buf, '['), *b = a ? strchr(a, ']') : NULL;
    if (a && b) {
        *b = 0;
        snprintf(out, outlen, "%s", a + 1);
    }
}

static volatile sig_atomic_t timed_out;
static void on_alarm(int sig) { (void)sig; timed_out = 1; }

static int is_script(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return n > 7 && strcmp(d->d_name + n - 7, ".script") == 0;
}

static void power_off(void)
{
    sync();
    reboot(RB_POWER_OFF);
    say("reboot(RB_POWER_OFF) failed: %s", strerror(errno));
    for (;;)
        pause();
}

/*
 * Run the scenario runner on the script at path (stdin), its stdout and stderr
 * into /tmp/.vmasim-out and /tmp/.vmasim-err; status: the exit status, 128+N
 * after signal N, "timeout" or "forkfail".
 */
static void run_runner(const char *path, int nobpf, int timeout, char *status, size_t statuslen)
{
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        int in = open(path, O_RDONLY);
        int out = open("/tmp/.vmasim-out", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open("/tmp/.vmasim-err", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0 || err < 0)
            _exit(127);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        close(in);
        close(out);
        close(err);
        chdir("/tmp");
        if (nobpf)
            execl("/bin/scenario-runner", "scenario-runner", "--no-bpf", "-", (char *)NULL);
        else
            execl("/bin/scenario-runner", "scenario-runner", "-", (char *)NULL);
        _exit(127);
    }
    snprintf(status, statuslen, "?");
    if (pid < 0) {
        snprintf(status, statuslen, "forkfail");
    } else {
        timed_out = 0;
        alarm((unsigned)timeout);
        int st;
        for (;;) {
            pid_t w = waitpid(pid, &st, 0);
            if (w == pid)
                break;
            if (w < 0 && errno == EINTR && timed_out) {
                kill(-pid, SIGKILL);
                kill(pid, SIGKILL);
            }
            if (w < 0 && errno != EINTR)
                break;
        }
        alarm(0);
        /* Reap anything left in its process group (parked fork children). */
        kill(-pid, SIGKILL);
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        if (timed_out)
            snprintf(status, statuslen, "timeout");
        else if (WIFEXITED(st))
            snprintf(status, statuslen, "%d", WEXITSTATUS(st));
        else if (WIFSIGNALED(st))
            snprintf(status, statuslen, "%d", 128 + WTERMSIG(st));
    }
}

/* The files the host probe reads (src/kernel/host.ts), as the guest has them. */
static const char *const PROFILE_FILES[] = {
    "/proc/cmdline", "/proc/meminfo", "/proc/self/limits", "/proc/self/status",
    "/proc/sys/vm/max_map_count", "/proc/sys/vm/mmap_min_addr", "/proc/sys/vm/overcommit_memory",
    "/proc/sys/vm/overcommit_ratio", "/proc/sys/vm/overcommit_kbytes", "/proc/sys/vm/admin_reserve_kbytes",
    "/proc/sys/vm/user_reserve_kbytes", "/sys/module/kernel/parameters/ignore_rlimit_data",
    "/sys/module/kernel/parameters/pvm_no_zero_page", "/sys/kernel/mm/transparent_hugepage/enabled",
};

/* The guest's configuration and the zero-page experiment, for its host profile. */
static void report_profile(int nobpf, int timeout)
{
    int last;
    for (size_t i = 0; i < sizeof PROFILE_FILES / sizeof PROFILE_FILES[0]; i++) {
        const char *f = PROFILE_FILES[i];
        if (access(f, R_OK) != 0)
            continue;
        dprint("%s file %s\n", MARK, f);
        long n = copy_file(f, &last);
        if (n == 0 || last != '\n')
            write_all(data, "\n", 1);
        dprint("%s file-end %s\n", MARK, f);
    }
    const char *zp = "mmap 0 1 rw\ntouch 0 read\ndump full\n";
    int fd = open("/tmp/.vmasim-zp.script", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, zp, strlen(zp)) < 0) {
        say("cannot write the zero-page experiment: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return;
    }
    close(fd);
    char status[32];
    run_runner("/tmp/.vmasim-zp.script", nobpf, timeout, status, sizeof status);
    dprint("%s zero-page status=%s\n", MARK, status);
    long n = copy_file("/tmp/.vmasim-out", &last);
    if (n > 0 && last != '\n')
        write_all(data, "\n", 1);
    dprint("%s zero-page-end\n", MARK);
    unlink("/tmp/.vmasim-zp.script");
    unlink("/tmp/.vmasim-out");
    unlink("/tmp/.vmasim-err");
}

int main(void)
{
    do_mount("proc", "/proc", "proc", NULL);
    do_mount("sysfs", "/sys", "sysfs", NULL);
    do_mount("devtmpfs", "/dev", "devtmpfs", NULL);
    do_mount("tmpfs", "/tmp", "tmpfs", "mode=1777");
    do_mount("tmpfs", "/dev/shm", "tmpfs", "mode=1777");

    con = fopen("/dev/console", "w");
    if (!con)
        con = stderr;

    int fd = open("/proc/cmdline", O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, cmdline, sizeof cmdline - 1);
        cmdline[n > 0 ? n : 0] = 0;
        close(fd);
    }

    data = open("/dev/ttyS1", O_WRONLY | O_NOCTTY);
    if (data < 0) {
        say("cannot open /dev/ttyS1 (the data port): %s", strerror(errno));
        power_off();
    }
    struct termios t;
    if (tcgetattr(data, &t) == 0) {
        cfmakeraw(&t);
        cfsetospeed(&t, B115200);
        tcsetattr(data, TCSANOW, &t);
    }

    char val[64], thp[64], defrag[64];
    if (param("vmasim.thp", val, sizeof val))
        write_sys("/sys/kernel/mm/transparent_hugepage/enabled", val);
    if (param("vmasim.thp_defrag", val, sizeof val))
        write_sys("/sys/kernel/mm/transparent_hugepage/defrag", val);
    read_choice("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof thp);
    read_choice("/sys/kernel/mm/transparent_hugepage/defrag", defrag, sizeof defrag);
    int nobpf = param("vmasim.nobpf", val, sizeof val) && strcmp(val, "0") != 0;
    int timeout = 600;
    if (param("vmasim.timeout", val, sizeof val) && atoi(val) > 0)
        timeout = atoi(val);

    struct utsname u;
    uname(&u);
    say("kernel %s, thp=%s defrag=%s, bpf=%d, timeout=%ds", u.release, thp, defrag, !nobpf, timeout);
    dprint("%s uname %s\n", MARK, u.release);
    dprint("%s config thp=%s thp_defrag=%s bpf=%d timeout=%d\n", MARK, thp, defrag, !nobpf, timeout);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);

    report_profile(nobpf, timeout);

    struct dirent **names;
    int count = scandir("/scripts", &names, is_script, alphasort);
    if (count < 0) {
        say("cannot read /scripts: %s", strerror(errno));
        count = 0;
    }
    for (int i = 0; i < count; i++) {
        char name[256], path[512];
        snprintf(name, sizeof name, "%.*s", (int)(strlen(names[i]->d_name) - 7), names[i]->d_name);
        snprintf(path, sizeof path, "/scripts/%s", names[i]->d_name);
        say("[%d/%d] %s", i + 1, count, name);

        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        char status[32];
        run_runner(path, nobpf, timeout, status, sizeof status);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

        int last;
        dprint("%s begin %s\n", MARK, name);
        long bytes = copy_file("/tmp/.vmasim-out", &last);
        int newline = bytes == 0 || last == '\n';
        if (!newline)
            write_all(data, "\n", 1);
        dprint("%s end %s status=%s bytes=%ld newline=%d seconds=%.2f\n", MARK, name, status, bytes, newline, secs);
        long ebytes = file_size("/tmp/.vmasim-err");
        if (ebytes > 0) {
            dprint("%s stderr %s bytes=%ld\n", MARK, name, ebytes);
            copy_file("/tmp/.vmasim-err", &last);
            if (last != '\n')
                write_all(data, "\n", 1);
            dprint("%s stderr-end %s\n", MARK, name);
        }
        say("[%d/%d] %s: status %s, %ld bytes, %.2fs", i + 1, count, name, status, bytes, secs);
        unlink("/tmp/.vmasim-out");
        unlink("/tmp/.vmasim-err");
    }
    dprint("%s done %d\n", MARK, count);
    tcdrain(data);
    say("all %d scripts done, powering off", count);
    power_off();
    return 0;
}
