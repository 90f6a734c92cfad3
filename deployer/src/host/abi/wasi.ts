/**
 * The WASI functions cpp-host registers for modules (include/proxy-wasm/exports.h
 * FOR_ALL_WASI_FUNCTIONS, under both wasi_unstable and wasi_snapshot_preview1), with its answers
 * (src/exports.cc): fd_write/fd_pwrite to fd 1/2 become info/error logs (trailing newline
 * dropped), clocks read the host clock, random_get uses a CSPRNG (≤ 64 KiB), environ_* expose
 * the VM's environment, args are empty, proc_exit fails the VM, most file calls answer
 * ENOTSUP/ENOSYS/BADF.
 */
import { randomFillSync } from 'node:crypto';
import type { PluginVm } from '../plugin-vm.js';
import { ProcExit, type ImportModule } from '../vm.js';
import { logMessage } from './logging.js';

const ESUCCESS = 0, EBADF = 8, EFAULT = 21, ENOTDIR = 20, EINVAL = 28, ENOENT = 44, ENOSYS = 52, ENOTSUP = 58;
const RANDOM_GET_MAX = 64 * 1024; // cpp-host PROXY_WASM_HOST_WASI_RANDOM_GET_MAX_SIZE_BYTES
const decoder = new TextDecoder();
const encoder = new TextEncoder();

export function wasiImports(h: PluginVm): ImportModule {
  const stdio = (fd: number): boolean => fd === 1 || fd === 2;
  const writev = (fd: number, iovs: number, iovsLen: number, nwrittenPtr: number): number => {
    if (!stdio(fd)) return EBADF;
    let text = '';
    let written = 0;
    for (let i = 0; i < iovsLen; i++) {
      if (!h.vm.inBounds(iovs + i * 8, 8)) return EFAULT;
      const buf = h.vm.getU32(iovs + i * 8);
      const len = h.vm.getU32(iovs + i * 8 + 4);
      if (len === 0) continue;
      const bytes = h.vm.bytes(buf, len);
      if (bytes === undefined) return EFAULT;
      text += decoder.decode(bytes);
      written += len;
    }
    if (written > 0) logMessage(h, fd === 1 ? 2 : 4, text.endsWith('\n') ? text.slice(0, -1) : text);
    return h.vm.setU32(nwrittenPtr, written) ? ESUCCESS : EFAULT;
  };
  const env = (): Uint8Array[] => h.services.environment.map(([k, v]) => encoder.encode(`${k}=${v}\0`));
  const onlyStdio = (fd: number): number => (stdio(fd) ? ESUCCESS : EBADF);
  return {
    fd_write: writev,
    fd_pwrite: (fd: number, iovs: number, iovsLen: number, _offset: bigint, nwrittenPtr: number) => writev(fd, iovs, iovsLen, nwrittenPtr),
    fd_read: () => ENOSYS,
    fd_pread: () => ENOSYS,
    fd_seek: () => ESUCCESS,
    fd_close: () => ESUCCESS,
    fd_fdstat_get(fd: number, statPtr: number): number {
      if (!stdio(fd)) return EBADF;
      const stat = new Uint8Array(24);
      new DataView(stat.buffer).setBigUint64(8, 64n, true); // fs_rights_base = FD_WRITE
      return h.vm.setBytes(statPtr, stat) ? ESUCCESS : EFAULT;
    },
    fd_fdstat_set_flags: () => ENOSYS,
    fd_fdstat_set_rights: onlyStdio,
    fd_advise: () => ESUCCESS,
    fd_allocate: onlyStdio,
    fd_datasync: onlyStdio,
    fd_sync: onlyStdio,
    fd_filestat_get: () => EBADF,
    fd_filestat_set_size: onlyStdio,
    fd_filestat_set_times: onlyStdio,
    fd_prestat_get: () => EBADF,
    fd_prestat_dir_name: () => ENOSYS,
    fd_readdir: (_fd: number, _buf: number, _len: number, _cookie: bigint, nreadPtr: number) => (h.vm.setU32(nreadPtr, 0) ? ENOTDIR : EFAULT),
    fd_renumber: () => ENOTSUP,
    fd_tell: (fd: number, offsetPtr: number) => (!stdio(fd) ? EBADF : h.vm.setU64(offsetPtr, 0n) ? ESUCCESS : EFAULT),
    path_open: () => ENOENT,
    path_create_directory: () => ENOTSUP,
    path_filestat_get: () => ENOTSUP,
    path_filestat_set_times: () => ENOTSUP,
    path_link: () => ENOTSUP,
    path_readlink: (_fd: number, _p: number, _l: number, _b: number, _bl: number, usedPtr: number) => (h.vm.setU32(usedPtr, 0) ? ENOTSUP : EFAULT),
    path_remove_directory: () => ENOTSUP,
    path_rename: () => ENOTSUP,
    path_symlink: () => ENOTSUP,
    path_unlink_file: () => ENOTSUP,
    sock_accept: () => ENOTSUP,
    sock_recv: () => ENOTSUP,
    sock_send: () => ENOTSUP,
    sock_shutdown: () => ENOTSUP,
    environ_sizes_get(countPtr: number, sizePtr: number): number {
      const entries = env();
      return h.vm.setU32(countPtr, entries.length) && h.vm.setU32(sizePtr, entries.reduce((n, e) => n + e.length, 0)) ? ESUCCESS : EFAULT;
    },
    environ_get(arrayPtr: number, bufPtr: number): number {
      for (const entry of env()) {
        if (!h.vm.setU32(arrayPtr, bufPtr) || !h.vm.setBytes(bufPtr, entry)) return EFAULT;
        arrayPtr += 4;
        bufPtr += entry.length;
      }
      return ESUCCESS;
    },
    args_sizes_get: (argcPtr: number, sizePtr: number) => (h.vm.setU32(argcPtr, 0) && h.vm.setU32(sizePtr, 0) ? ESUCCESS : EFAULT),
    args_get: () => ESUCCESS,
    clock_time_get(clockId: number, _precision: bigint, resultPtr: number): number {
      const now = clockId === 0 ? h.services.clock.nowNanos() : clockId === 1 ? h.services.clock.monotonicNanos() : undefined;
      if (now === undefined) return ENOTSUP;
      return h.vm.setU64(resultPtr, now) ? ESUCCESS : EFAULT;
    },
    clock_res_get: (clockId: number, resultPtr: number) => (clockId > 1 ? ENOTSUP : h.vm.setU64(resultPtr, 1n) ? ESUCCESS : EFAULT),
    random_get(bufPtr: number, len: number): number {
      len >>>= 0;
      if (len > RANDOM_GET_MAX) return EINVAL;
      if (len === 0) return ESUCCESS;
      return h.vm.setBytes(bufPtr, randomFillSync(new Uint8Array(len))) ? ESUCCESS : EFAULT;
    },
    sched_yield: () => ESUCCESS,
    poll_oneoff: (_in: number, _out: number, _n: number, neventsPtr: number) => (h.vm.setU32(neventsPtr, 0) ? ESUCCESS : EFAULT),
    proc_exit(code: number): void {
      // cpp-host: proc_exit reports an error and fails the VM; unwind the module here.
      throw new ProcExit(code);
    },
  };
}
