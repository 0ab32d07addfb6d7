// What an importer tracks about the traced tasks: the thread group of each
// task (the perf trace prints only TIDs) and each task's file descriptor
// table, so that an mmap's fd resolves to the traced open that made its
// struct file. Rules (Linux 6.12):
// - CLONE_THREAD puts the child in the parent's thread group, otherwise it
//   leads a new one (kernel/fork.c copy_process());
// - CLONE_FILES shares the fd table, otherwise the child gets a copy
//   (kernel/fork.c copy_files() → fs/file.c dup_fd());
// - a successful exec makes the execing thread the group leader (de_thread()),
//   unshares the table (unshare_files()) and closes the close-on-exec fds
//   (do_close_on_exec()): fs/exec.c begin_new_exec();
// - dup/dup2 clear close-on-exec on the new fd, dup3 and open take it from
//   O_CLOEXEC (fs/file.c do_dup2(), ksys_dup3(); close_range() in __close_range()).

import { CLONE_FILES, CLONE_THREAD } from "./flags.js";

const O_CLOEXEC = 0o2000000;
const CLOSE_RANGE_CLOEXEC = 4;

interface OpenFile {
  /** Source line of the call that created the struct file. */
  open: number;
  cloexec: boolean;
}

type FdTable = Map<number, OpenFile>;

export class TaskTable {
  private readonly pids = new Map<number, number>();
  private readonly files = new Map<number, FdTable>();
  /** Every task seen, and every thread group. */
  readonly tids = new Set<number>();

  /** The thread group of `tid` (itself until a task_newtask said otherwise). */
  pidOf(tid: number): number {
    this.tids.add(tid);
    return this.pids.get(tid) ?? tid;
  }

  /** Whether a task_newtask/clone announced `tid`, or it was seen. */
  known(tid: number): boolean {
    return this.tids.has(tid);
  }

  /** Records a new task made by `parent` with clone `flags`; returns the child's thread group. */
  newTask(parent: number, child: number, flags: number): number {
    const pid = flags & CLONE_THREAD ? this.pidOf(parent) : child;
    this.pids.set(child, pid);
    this.tids.add(child);
    const table = this.table(parent);
    this.files.set(child, flags & CLONE_FILES ? table : new Map(table));
    return pid;
  }

  /** A successful exec by `tid` (which becomes its group's leader `pid`, de_thread()). */
  exec(tid: number, pid: number): void {
    const table = this.table(tid);
    const fresh: FdTable = new Map();
    for (const [fd, f] of table) if (!f.cloexec) fresh.set(fd, f);
    this.pids.set(pid, pid);
    this.tids.add(pid);
    this.files.set(pid, fresh);
    if (tid !== pid) this.files.set(tid, fresh);
  }

  /** A successful open/openat/creat/memfd_create returning `fd`. */
  opened(tid: number, fd: number, line: number, openFlags: number): void {
    this.table(tid).set(fd, { open: line, cloexec: (openFlags & O_CLOEXEC) !== 0 });
  }

  /** A successful dup/dup2/dup3 of `oldfd` to `newfd`. */
  dup(tid: number, oldfd: number, newfd: number, cloexec: boolean): void {
    const t = this.table(tid);
    const f = t.get(oldfd);
    if (f === undefined) t.delete(newfd); // an untraced opener: the new fd is unknown too
    else t.set(newfd, { open: f.open, cloexec });
  }

  closed(tid: number, fd: number): void {
    this.table(tid).delete(fd);
  }

  closeRange(tid: number, first: number, last: number, flags: number): void {
    const t = this.table(tid);
    for (const [fd, f] of [...t]) {
      if (fd < first || fd > last) continue;
      if (flags & CLOSE_RANGE_CLOEXEC) t.set(fd, { ...f, cloexec: true });
      else t.delete(fd);
    }
  }

  /** The open behind `fd` in `tid`'s table, or null if no traced call made it. */
  openOf(tid: number, fd: number): number | null {
    return this.table(tid).get(fd)?.open ?? null;
  }

  private table(tid: number): FdTable {
    let t = this.files.get(tid);
    if (t === undefined) {
      t = new Map();
      this.files.set(tid, t);
    }
    return t;
  }
}

export { O_CLOEXEC };
