#!/usr/bin/env bash
# qemu-record.sh: record native scenario-runner outputs on OLDER kernels, by
# booting a Debian kernel package under qemu-system-x86_64 with an initramfs
# that runs native/scenario-runner.c on every script. Not part of CI.
#
#   scripts/qemu-record.sh [--kernel-version V | --kernel-deb FILE] [--out DIR]
#                          [--accel tcg|kvm|auto] [--thp VALUE|keep] [--no-bpf]
#                          [--timeout SECONDS] [--mem MB] [--smp N] [--append ARGS]
#                          [SCRIPT...]
#
#   --kernel-version V  a Debian kernel: "6.1" (default; the newest
#                       linux-image-6.1.0-N-amd64-unsigned of bookworm), "5.10"
#                       (bullseye's, fetched through a temporary sources list
#                       that does not touch the system's apt state), "6.12"
#                       (bookworm-security carries linux-6.12), or an exact ABI
#                       such as 6.1.0-53-amd64 (package linux-image-V[-unsigned]).
#   --kernel-deb FILE   use this linux-image-*.deb instead of downloading one.
#   --out DIR           where NAME.linux-MAJOR.MINOR.out files go (default: a new
#                       temp dir, printed at the end). MAJOR.MINOR is the booted
#                       kernel's uname, as /init reports it.
#   --accel             tcg (default: software emulation, ~20 s for the whole
#                       corpus), kvm, or auto (kvm if /dev/kvm is usable). Under
#                       nested virtualisation KVM may hang or stop with "KVM
#                       internal error" (seen on the machine this was written on).
#   --thp VALUE         transparent_hugepage/enabled AND defrag in the guest
#                       (default: the host's current settings, so that the guest
#                       runs under the conditions of the host's recordings;
#                       Debian kernels boot with enabled=always); "keep" leaves
#                       the kernel's defaults.
#   --no-bpf            run the runner with --no-bpf (every anon line `anon ?`).
#   --append ARGS       more kernel command-line arguments (the default line is
#                       "console=ttyS0 panic=-1 quiet vsyscall=xonly" + vmasim.*;
#                       vsyscall=xonly because Debian kernels default to none,
#                       which changes the VMA count that `padvmas` sees).
#   --timeout SECONDS   per-script timeout inside the guest (default 600); the
#                       whole guest gets 120 + SECONDS * number of scripts.
#   SCRIPT...           scenario scripts (default: test/scenarios/corpus/*.script).
#
# Steps: install qemu-system-x86 and cpio with apt-get when missing; download
# the kernel with `apt-get download` and take /boot/vmlinuz-* out with
# dpkg-deb -x (no modules: Debian builds tmpfs, proc, sysfs, devtmpfs, memfd,
# the 8250 serial console, BPF and BTF into the image); build
# native/scenario-runner.c with the flags of src/kernel/native.ts and
# scripts/qemu-init.c (static) as /init; pack them with the scripts into a
# gzip'ed newc cpio; boot
#   qemu-system-x86_64 -kernel vmlinuz -initrd initramfs.cpio.gz
#     -append "console=ttyS0 panic=-1 quiet ..." -display none -no-reboot -m 512
#     -serial file:console.log -serial file:data.log
# and split data.log (the guest's second serial port, written only by /init;
# format in scripts/qemu-init.c) into one file per script. Kernel messages stay
# in console.log (kept in the output dir as qemu-console.log, with
# qemu-summary.txt listing each script's exit status and stderr). The guest's
# host profile (its sysctls, limits, capabilities and zero page, found by the
# probe of src/kernel/host.ts through scripts/qemu-profile.ts) goes to
# host-profile.json beside the recordings (needs the repository's npm ci).
#
# The runner is NOT linked statically: a static glibc program already has a
# [heap] VMA when main() starts (glibc sets up its TLS with sbrk), which would
# change the brk/dumpheap scenarios and the VMA counts near max_map_count.
# Instead the host's dynamic binary is packed with the shared libraries ldd
# names (same process image as on the host).
#
# Fails (non-zero, message) when qemu cannot be installed, the kernel cannot be
# downloaded, the guest does not power off in time, or the guest's output is
# incomplete.
set -euo pipefail

die() { echo "qemu-record: error: $*" >&2; exit 1; }
note() { echo "qemu-record: $*" >&2; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KVERSION="6.1"
KDEB=""
OUT=""
ACCEL="tcg"
THP="host"
NOBPF=0
TIMEOUT=600
MEM=512
SMP=2
EXTRA_APPEND=""
SCRIPTS=()

while [ $# -gt 0 ]; do
  case "$1" in
    --kernel-version) KVERSION="${2:?}"; shift 2 ;;
    --kernel-deb) KDEB="${2:?}"; shift 2 ;;
    --out) OUT="${2:?}"; shift 2 ;;
    --accel) ACCEL="${2:?}"; shift 2 ;;
    --thp) THP="${2:?}"; shift 2 ;;
    --no-bpf) NOBPF=1; shift ;;
    --timeout) TIMEOUT="${2:?}"; shift 2 ;;
    --mem) MEM="${2:?}"; shift 2 ;;
    --smp) SMP="${2:?}"; shift 2 ;;
    --append) EXTRA_APPEND="${2:?}"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --) shift; SCRIPTS+=("$@"); break ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) SCRIPTS+=("$1"); shift ;;
  esac
done
if [ ${#SCRIPTS[@]} -eq 0 ]; then
  SCRIPTS=("$ROOT"/test/scenarios/corpus/*.script)
fi
for s in "${SCRIPTS[@]}"; do
  [ -f "$s" ] || die "no such script: $s"
  case "$s" in *.script) ;; *) die "not a .script file: $s" ;; esac
done
[ "$(uname -m)" = x86_64 ] || die "needs an x86_64 host (the runner is built here and run in the guest)"

# ---------------------------------------------------------------- tools
need_pkgs=()
command -v qemu-system-x86_64 >/dev/null || need_pkgs+=(qemu-system-x86)
command -v cpio >/dev/null || need_pkgs+=(cpio)
command -v dpkg-deb >/dev/null || die "dpkg-deb not found (a Debian-like host is needed)"
command -v gcc >/dev/null || die "gcc not found"
if [ ${#need_pkgs[@]} -gt 0 ]; then
  note "installing ${need_pkgs[*]} with apt-get (needs root and the Debian archive)"
  [ "$(id -u)" = 0 ] || die "${need_pkgs[*]} missing and not root: install them (apt-get install ${need_pkgs[*]})"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}"; } >&2; then
    die "could not install ${need_pkgs[*]} with apt-get"
  fi
  command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 still missing after installing qemu-system-x86"
  command -v cpio >/dev/null || die "cpio still missing after installing it"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/qemu-record.XXXXXX")"
QPID=""
cleanup() {
  # timeout(1) forwards the signal to qemu.
  if [ -n "$QPID" ]; then kill "$QPID" 2>/dev/null || true; wait "$QPID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
if [ -z "$OUT" ]; then OUT="$(mktemp -d "${TMPDIR:-/tmp}/qemu-record-out.XXXXXX")"; fi
mkdir -p "$OUT"

# ---------------------------------------------------------------- kernel
# apt-get with a private sources list and state (for suites the system does not list).
apt_private() { # SUITE...  -> sets APT_OPTS
  local dir="$WORK/apt" suite
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  : > "$dir/sources.list"
  for suite in "$@"; do
    case "$suite" in
      *-security) echo "deb http://deb.debian.org/debian-security $suite main" >> "$dir/sources.list" ;;
      *) echo "deb http://deb.debian.org/debian $suite main" >> "$dir/sources.list" ;;
    esac
  done
  APT_OPTS=(-o "Dir::Etc::SourceList=$dir/sources.list" -o "Dir::Etc::SourceParts=-"
            -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache" -o "APT::Sandbox::User=root")
  note "apt-get update with a temporary sources list: $*"
  apt-get "${APT_OPTS[@]}" update -qq >&2 || die "apt-get update for $* failed (is deb.debian.org reachable?)"
}

if [ -z "$KDEB" ]; then
  APT_OPTS=(-o "APT::Sandbox::User=root")
  case "$KVERSION" in
    5.10|5.10.*) apt_private bullseye bullseye-security bullseye-updates ;;
    4.19|4.19.*) apt_private buster buster-security ;;
    6.1|6.1.*|6.12|6.12.*) ;;  # bookworm (the host's suites)
    *) ;;
  esac
  case "$KVERSION" in
    *-amd64) PKG="$(apt-cache "${APT_OPTS[@]}" pkgnames "linux-image-$KVERSION" | grep -xE "linux-image-$KVERSION(-unsigned)?" | sort | tail -1 || true)" ;;
    *) PKG="$(apt-cache "${APT_OPTS[@]}" pkgnames linux-image- \
               | grep -E "^linux-image-${KVERSION//./\\.}(\\.[0-9]+)*[-+][^ ]*-amd64-unsigned$" \
               | grep -vE -- '-(cloud|rt)-amd64' | sort -V | tail -1 || true)" ;;
  esac
  [ -n "$PKG" ] || die "no Debian kernel package found for version $KVERSION (try apt-cache search linux-image-$KVERSION)"
  note "downloading $PKG"
  ( cd "$WORK" && apt-get "${APT_OPTS[@]}" download "$PKG" >&2 ) || die "apt-get download $PKG failed"
  KDEB="$(ls "$WORK"/linux-image-*.deb | head -1)"
fi
[ -f "$KDEB" ] || die "no such kernel package: $KDEB"
KPKG_DESC="$(dpkg-deb -f "$KDEB" Package) $(dpkg-deb -f "$KDEB" Version)"
dpkg-deb -x "$KDEB" "$WORK/kernel" || die "dpkg-deb -x $KDEB failed"
VMLINUZ="$(ls "$WORK"/kernel/boot/vmlinuz-* 2>/dev/null | head -1 || true)"
[ -n "$VMLINUZ" ] || die "$KDEB holds no /boot/vmlinuz-*"
note "kernel: $KPKG_DESC ($(basename "$VMLINUZ"))"
KCONFIG="$(ls "$WORK"/kernel/boot/config-* 2>/dev/null | head -1 || true)"
if [ -n "$KCONFIG" ]; then
  for opt in BLK_DEV_INITRD RD_GZIP PROC_FS SYSFS DEVTMPFS TMPFS SHMEM MEMFD_CREATE SERIAL_8250_CONSOLE BINFMT_ELF; do
    grep -q "^CONFIG_$opt=y" "$KCONFIG" || die "the kernel lacks built-in CONFIG_$opt (modules are not loaded by this initramfs)"
  done
  grep -q "^CONFIG_DEBUG_INFO_BTF=y" "$KCONFIG" || note "kernel without BTF: anon lines will read 'anon ?'"
fi

# ---------------------------------------------------------------- initramfs
IR="$WORK/initramfs"
mkdir -p "$IR/bin" "$IR/scripts" "$IR/proc" "$IR/sys" "$IR/dev" "$IR/tmp"
gcc -static -O2 -Wall -Wextra -o "$IR/init" "$ROOT/scripts/qemu-init.c" || die "building scripts/qemu-init.c failed"
# The flags of src/kernel/native.ts (buildNativeRunner).
gcc -std=c11 -O2 -Wall -Wextra -Wl,-z,now -o "$IR/bin/scenario-runner" "$ROOT/native/scenario-runner.c" \
  || die "building native/scenario-runner.c failed"
# Its shared libraries and loader, at the same paths as on the host.
ldd "$IR/bin/scenario-runner" | grep -oE '/[^ ]+' | while read -r lib; do
  mkdir -p "$IR$(dirname "$lib")"
  cp -L "$lib" "$IR$lib"
done
for s in "${SCRIPTS[@]}"; do cp "$s" "$IR/scripts/"; done
NSCRIPTS="$(ls "$IR/scripts" | wc -l)"
[ "$NSCRIPTS" -eq ${#SCRIPTS[@]} ] || die "two scripts share a file name"
( cd "$IR" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 ) | gzip -6 > "$WORK/initramfs.cpio.gz"

# ---------------------------------------------------------------- boot
host_choice() { sed -n 's/.*\[\(.*\)\].*/\1/p' "$1" 2>/dev/null || true; }
# vsyscall=xonly: Debian kernels default to vsyscall=none (no [vsyscall] line in
# /proc/self/maps), which shifts `padvmas` (it counts the lines of
# /proc/self/maps) by one VMA against hosts booted with the upstream default
# xonly; the host recordings (test/scenarios/corpus) were made with it.
APPEND="console=ttyS0 panic=-1 quiet vsyscall=xonly vmasim.timeout=$TIMEOUT${EXTRA_APPEND:+ $EXTRA_APPEND}"
case "$THP" in
  keep) ;;
  host)
    e="$(host_choice /sys/kernel/mm/transparent_hugepage/enabled)"
    d="$(host_choice /sys/kernel/mm/transparent_hugepage/defrag)"
    [ -n "$e" ] && APPEND="$APPEND vmasim.thp=$e"
    [ -n "$d" ] && APPEND="$APPEND vmasim.thp_defrag=$d" ;;
  *) APPEND="$APPEND vmasim.thp=$THP" ;;
esac
[ "$NOBPF" = 1 ] && APPEND="$APPEND vmasim.nobpf=1"

ACCEL_ARGS=(-accel tcg)
if [ "$ACCEL" = kvm ] || { [ "$ACCEL" = auto ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }; then
  ACCEL_ARGS=(-accel kvm)
  ACCEL=kvm
else
  ACCEL=tcg
fi
GUEST_TIMEOUT=$((120 + TIMEOUT * NSCRIPTS))
CONSOLE="$WORK/console.log"
DATA="$WORK/data.log"
note "booting under qemu ($ACCEL, -m $MEM, -smp $SMP) with $NSCRIPTS scripts; console: $CONSOLE"
START=$(date +%s)
# Background + wait, so that the trap can stop qemu when this script is killed.
timeout -k 10 "$GUEST_TIMEOUT" qemu-system-x86_64 "${ACCEL_ARGS[@]}" -m "$MEM" -smp "$SMP" \
  -kernel "$VMLINUZ" -initrd "$WORK/initramfs.cpio.gz" -append "$APPEND" \
  -display none -monitor none -no-reboot \
  -serial "file:$CONSOLE" -serial "file:$DATA" </dev/null >&2 &
QPID=$!
QRC=0
wait "$QPID" || QRC=$?
QPID=""
ELAPSED=$(( $(date +%s) - START ))
cp "$CONSOLE" "$OUT/qemu-console.log" 2>/dev/null || true
if [ "$QRC" = 124 ] || [ "$QRC" = 137 ]; then
  die "the guest did not power off within ${GUEST_TIMEOUT}s (console log: $OUT/qemu-console.log)"
fi
[ "$QRC" = 0 ] || die "qemu-system-x86_64 exited with status $QRC (console log: $OUT/qemu-console.log)"
[ -s "$DATA" ] || die "the guest wrote nothing on its data port (console log: $OUT/qemu-console.log)"
grep -aq "^@@vmasim-qemu@@ done " "$DATA" || die "the guest stopped before the end (no 'done' line; console log: $OUT/qemu-console.log)"

# ---------------------------------------------------------------- split
RELEASE="$(sed -n 's/^@@vmasim-qemu@@ uname //p' "$DATA" | head -1)"
TAG="$(echo "$RELEASE" | sed -n 's/^\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/linux-\1.\2/p')"
[ -n "$TAG" ] || die "no kernel release in the guest output"
SUMMARY="$OUT/qemu-summary.txt"
{
  echo "kernel package: $KPKG_DESC"
  echo "uname -r: $RELEASE"
  sed -n 's/^@@vmasim-qemu@@ config //p' "$DATA" | sed 's/^/guest config: /'
  echo "qemu: $ACCEL -m $MEM -smp $SMP, append: $APPEND"
  echo "boot + $NSCRIPTS scripts: ${ELAPSED}s"
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} > "$SUMMARY"
LC_ALL=C awk -v out="$OUT" -v tag="$TAG" -v summary="$SUMMARY" '
  /^@@vmasim-qemu@@ begin / { name = $3; file = out "/" name "." tag ".out"; printf "" > file; mode = 1; next }
  /^@@vmasim-qemu@@ end /   { close(file); mode = 0; print name, $4, $5, $6, $7 >> summary; next }
  /^@@vmasim-qemu@@ stderr-end / { mode = 0; next }
  /^@@vmasim-qemu@@ stderr / { mode = 2; print "  stderr of " $3 ":" >> summary; next }
  /^@@vmasim-qemu@@ / { next }
  mode == 1 { print > file }
  mode == 2 { print "    " $0 >> summary }
' "$DATA"
# Byte counts: drop the newline /init added, and check that nothing was lost.
bad=0
while read -r name st bytes newline _; do
  f="$OUT/$name.$TAG.out"
  b="${bytes#bytes=}"
  [ "$newline" = newline=0 ] && truncate -s "$b" "$f"
  if [ "$(stat -c %s "$f")" != "$b" ]; then note "size mismatch for $name"; bad=1; fi
  case "$st" in status=0|status=2) ;; *) note "$name: runner exit $st" ;; esac
done < <(grep -E '^[^ ]+ status=' "$SUMMARY")
DONE_N="$(sed -n 's/^@@vmasim-qemu@@ done //p' "$DATA")"
[ "$DONE_N" = "$NSCRIPTS" ] || die "the guest ran $DONE_N of $NSCRIPTS scripts"
[ "$bad" = 0 ] || die "guest output damaged (see above)"
# ---------------------------------------------------------------- host profile
PROFILE_NOTE="a Debian kernel under qemu, recorded by scripts/qemu-record.sh: $KPKG_DESC, $ACCEL -m $MEM -smp $SMP, append: $APPEND"
if ( cd "$ROOT" && npx --no-install tsx scripts/qemu-profile.ts "$DATA" "$PROFILE_NOTE" ) > "$OUT/host-profile.json"; then
  note "host profile: $OUT/host-profile.json"
else
  rm -f "$OUT/host-profile.json"
  note "could not write host-profile.json (run npm ci in $ROOT first); write it by hand (docs/configuration.md)"
fi
note "kernel $RELEASE ($KPKG_DESC): $NSCRIPTS outputs in $OUT (boot + run ${ELAPSED}s, $ACCEL)"
note "summary: $SUMMARY"
echo "$OUT"
