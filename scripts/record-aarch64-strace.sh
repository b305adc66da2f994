#!/usr/bin/env bash
# record-aarch64-strace.sh: record a real strace log on AArch64, for the
# strace importer's test data (tests/data/strace/, see tests/data/README.md).
#
# Run by hand, as root, on a Debian 12 (bookworm) x86-64 host; CI does not
# run it. qemu-user cannot run strace (no ptrace), so this boots a real
# arm64 Linux kernel under full-system emulation:
#
#   1. installs the host packages it needs (qemu-system-arm, cpio, ...) with
#      apt-get, and enables the arm64 foreign architecture if it is not yet;
#   2. in a temporary directory, `apt-get download`s Debian's arm64 kernel
#      (the image that linux-image-arm64 depends on, or $KERNEL_PKG),
#      busybox-static:arm64, strace:arm64 and the closure of strace's
#      Depends/Pre-Depends (libc6 ...), and checks with readelf that every
#      NEEDED library of strace is there;
#   3. unpacks them into a root file system with an /init (busybox sh) that
#      runs `strace -f -e trace=%memory,%process -o /tmp/s.log` on a small
#      multi-process busybox shell workload, prints the log between marker
#      lines on the serial console, and powers off;
#   4. packs it as a newc cpio.gz initramfs and boots it with
#      qemu-system-aarch64 -M virt -cpu cortex-a57 (under `timeout`);
#   5. cuts the log out of the console output, checks its md5 against the
#      one the guest printed, and writes it with `gzip -9 -n` to $1.
#
# Usage: sudo scripts/record-aarch64-strace.sh [OUTPUT.log.gz]
#   default OUTPUT: tests/data/strace/busybox_pipeline.aarch64.log.gz
# Environment:
#   KERNEL_PKG=linux-image-...-arm64   kernel package to boot (default: what
#                                      linux-image-arm64 depends on)
#   BOOT_TIMEOUT=300                   seconds before qemu is killed
#   KEEP_WORK=1                        keep the temporary directory
# The package versions used and the QEMU version are printed at the end.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$REPO/tests/data/strace/busybox_pipeline.aarch64.log.gz}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}

# The traced command (run by busybox sh inside the guest): forks, a
# pipeline, execs of busybox applets and of a dynamically linked program
# (strace -V itself, so that ld.so's mmap/mprotect calls are in the log),
# and a background job waited for.
WORKLOAD='ls -l / >/dev/null; cat /proc/self/maps >/dev/null; echo hi | wc -c; strace -V >/dev/null; sleep 0 & wait'

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'record-aarch64-strace: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (apt-get, dpkg --add-architecture, mknod)"
command -v apt-get >/dev/null || die "needs a Debian host (apt-get)"

# --- 1. host packages and the arm64 architecture -------------------------
need_pkgs=()
for pair in qemu-system-aarch64:qemu-system-arm cpio:cpio readelf:binutils \
            file:file gzip:gzip timeout:coreutils md5sum:coreutils; do
  command -v "${pair%%:*}" >/dev/null || need_pkgs+=("${pair#*:}")
done
if ((${#need_pkgs[@]})); then
  log "installing host packages: ${need_pkgs[*]}"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_pkgs[@]}"
fi

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  log "enabling the arm64 foreign architecture"
  dpkg --add-architecture arm64
  apt-get update
elif ! apt-cache show strace:arm64 >/dev/null 2>&1; then
  apt-get update
fi

# --- 2. download the arm64 packages --------------------------------------
WORK=$(mktemp -d /tmp/record-aarch64-strace.XXXXXX)
chmod 755 "$WORK"
if [[ ${KEEP_WORK:-0} == 1 ]]; then
  log "work directory: $WORK (kept)"
else
  trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK/debs" "$WORK/root" "$WORK/kernel"
# apt-get download writes as the _apt user where it can (else it warns).
id _apt >/dev/null 2>&1 && chown _apt "$WORK/debs"

if [[ -z ${KERNEL_PKG:-} ]]; then
  KERNEL_PKG=$(apt-cache depends linux-image-arm64:arm64 |
               sed -n 's/^ *Depends: \(linux-image-[^:]*\).*/\1/p' | head -n1)
  [[ -n $KERNEL_PKG ]] || die "cannot tell which kernel linux-image-arm64 depends on"
fi

# The closure of the Depends and Pre-Depends of the given arm64 packages:
# the first of each set of alternatives, virtual packages skipped (the
# readelf check below catches a library that this misses).
dep_closure() {
  local -a queue=("$@")
  local -A seen=()
  local p line name alt_cont
  while ((${#queue[@]})); do
    p=${queue[0]}; queue=("${queue[@]:1}")
    [[ -n ${seen[$p]:-} ]] && continue
    seen[$p]=1
    printf '%s\n' "$p"
    alt_cont=0
    while IFS= read -r line; do
      [[ $line =~ ^\ ([\ |])(Pre)?Depends:\ (.*)$ ]] || continue
      name=${BASH_REMATCH[3]}
      if ((alt_cont)); then   # a later alternative of a set already taken
        [[ ${BASH_REMATCH[1]} == '|' ]] || alt_cont=0
        continue
      fi
      [[ ${BASH_REMATCH[1]} == '|' ]] && alt_cont=1
      [[ $name == '<'* ]] && { log "skipping virtual dependency $name of $p"; continue; }
      name=${name%%:*}
      queue+=("$name")
    done < <(apt-cache depends --no-recommends --no-suggests --no-conflicts \
               --no-breaks --no-replaces --no-enhances "$p:arm64")
  done
}

mapfile -t strace_pkgs < <(dep_closure strace)
log "strace:arm64 and its dependencies: ${strace_pkgs[*]}"
(
  cd "$WORK/debs"
  apt-get download "$KERNEL_PKG:arm64" busybox-static:arm64 \
    "${strace_pkgs[@]/%/:arm64}"
)

# --- 3. the root file system ---------------------------------------------
ROOT=$WORK/root
shopt -s nullglob
kernel_deb=("$WORK/debs/${KERNEL_PKG}"_*.deb)
[[ ${#kernel_deb[@]} -eq 1 ]] || die "kernel package not downloaded"
for deb in "$WORK"/debs/*.deb; do
  [[ $deb == "${kernel_deb[0]}" ]] && continue
  dpkg-deb -x "$deb" "$ROOT"
done
# Only /boot of the kernel package (its modules are not needed: the serial
# console, devtmpfs and the initramfs are built in).
dpkg-deb --fsys-tarfile "${kernel_deb[0]}" | tar -x -C "$WORK/kernel" ./boot
rm -rf "$ROOT/usr/share/doc" "$ROOT/usr/share/man" "$ROOT/usr/share/lintian" \
       "$ROOT/usr/share/locale" "$ROOT/usr/lib/aarch64-linux-gnu/gconv"

[[ -x $ROOT/bin/busybox ]] || die "no /bin/busybox in the root file system"
[[ -x $ROOT/usr/bin/strace ]] || die "no /usr/bin/strace in the root file system"

# Every NEEDED library of strace (and of those libraries), and ld.so.
find_lib() {
  local d
  for d in lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu lib usr/lib; do
    [[ -e $ROOT/$d/$1 ]] && { printf '%s\n' "$ROOT/$d/$1"; return 0; }
  done
  return 1
}
interp=$(readelf -l "$ROOT/usr/bin/strace" | sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p')
[[ -e $ROOT$interp ]] || die "strace's program interpreter $interp is missing"
declare -A checked=()
elfs=("$ROOT/usr/bin/strace")
while ((${#elfs[@]})); do
  elf=${elfs[0]}; elfs=("${elfs[@]:1}")
  while read -r lib; do
    [[ -n ${checked[$lib]:-} ]] && continue
    checked[$lib]=1
    path=$(find_lib "$lib") || die "library $lib (needed by ${elf#"$ROOT"}) is missing"
    elfs+=("$(readlink -f "$path")")
  done < <(readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done
log "strace's libraries are all there: ${!checked[*]} (+ $interp)"

mkdir -p "$ROOT"/{dev,proc,sys,tmp,sbin,usr/sbin}
chmod 1777 "$ROOT/tmp"
[[ -e $ROOT/dev/console ]] || mknod -m 600 "$ROOT/dev/console" c 5 1
[[ -e $ROOT/dev/null ]] || mknod -m 666 "$ROOT/dev/null" c 1 3

cat > "$ROOT/init" <<EOF
#!/bin/busybox sh
# Made by scripts/record-aarch64-strace.sh.
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s
export PATH=/usr/bin:/bin:/usr/sbin:/sbin
echo 1 >/proc/sys/kernel/printk   # keep kernel messages off the log
cd /
echo "== guest: \$(uname -a)"
strace -f -e trace=%memory,%process -o /tmp/s.log busybox sh -c '$WORKLOAD'
echo "== strace exit status \$?"
echo '=====BEGIN STRACE LOG====='
cat /tmp/s.log
echo '=====END STRACE LOG====='
echo "== md5 \$(md5sum </tmp/s.log)"
sync
poweroff -f
EOF
chmod 755 "$ROOT/init"

# --- 4. initramfs and boot -----------------------------------------------
(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z |
   cpio --null -o -H newc --owner 0:0 --quiet) | gzip -6 -n > "$WORK/initrd.cpio.gz"

vmlinuz=("$WORK"/kernel/boot/vmlinuz-*)
[[ ${#vmlinuz[@]} -eq 1 ]] || die "no single vmlinuz in $KERNEL_PKG"
kernel=${vmlinuz[0]}
log "kernel: $(file -b "$kernel")"
if file -b "$kernel" | grep -q '^gzip'; then   # older QEMU wants a raw Image
  gunzip -c "$kernel" > "$WORK/Image"
  kernel=$WORK/Image
  log "gunzipped: $(file -b "$kernel")"
fi

log "booting (initramfs $(du -h "$WORK/initrd.cpio.gz" | cut -f1), timeout ${BOOT_TIMEOUT}s)"
start=$(date +%s)
rc=0
timeout "$BOOT_TIMEOUT" qemu-system-aarch64 -M virt -cpu cortex-a57 -m 1024 \
  -nographic -no-reboot -nic none \
  -kernel "$kernel" -initrd "$WORK/initrd.cpio.gz" \
  -append "console=ttyAMA0 rdinit=/init panic=-1" \
  </dev/null >"$WORK/console.log" 2>&1 || rc=$?
BOOT_SECONDS=$(($(date +%s) - start))
log "qemu exited with status $rc after ${BOOT_SECONDS}s"
[[ ${KEEP_WORK:-0} == 1 ]] && log "console output: $WORK/console.log"

# --- 5. cut the log out --------------------------------------------------
tr -d '\r' <"$WORK/console.log" >"$WORK/console.txt"
grep -q '^=====END STRACE LOG=====$' "$WORK/console.txt" || {
  tail -n 40 "$WORK/console.txt" >&2
  die "no strace log in the console output (qemu status $rc)"
}
sed -n '/^=====BEGIN STRACE LOG=====$/,/^=====END STRACE LOG=====$/p' \
  "$WORK/console.txt" | sed '1d;$d' >"$WORK/s.log"
want=$(sed -n 's/^== md5 \([0-9a-f]*\).*/\1/p' "$WORK/console.txt")
got=$(md5sum <"$WORK/s.log" | cut -d' ' -f1)
[[ -n $want && $want == "$got" ]] ||
  die "log damaged on the console: md5 $got, the guest said ${want:-nothing}"
grep '^== ' "$WORK/console.txt" >&2 || true

mkdir -p "$(dirname "$OUT")"
gzip -9 -n -c "$WORK/s.log" >"$OUT"

echo "wrote $OUT: $(wc -l <"$WORK/s.log") lines, $(wc -c <"$WORK/s.log") bytes" \
     "uncompressed, $(wc -c <"$OUT") compressed"
echo "packages:"
for deb in "$WORK"/debs/*.deb; do
  echo "  $(dpkg-deb -f "$deb" Package):$(dpkg-deb -f "$deb" Architecture) $(dpkg-deb -f "$deb" Version)"
done
echo "qemu: $(qemu-system-aarch64 --version | head -n1)"
echo "boot + run: ${BOOT_SECONDS}s"
