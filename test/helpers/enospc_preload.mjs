/**
 * Loaded into a CLI child process with --import: a full disk, simulated. After AEVB_TEST_ENOSPC_AFTER
 * checkpoint writes have succeeded, every later one writes half its bytes and fails with ENOSPC,
 * as a write on a full file system does. It patches node:fs/promises' open() (the module the
 * checkpoint writer imports) and re-syncs the ESM bindings; production code has no hook for this.
 */
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';

let left = Number(process.env.AEVB_TEST_ENOSPC_AFTER ?? 0);
const open = fsp.open;
fsp.open = async (...args) => {
  const handle = await open(...args);
  if (/\.checkpoint\.aevb\.[^/]*\.tmp$/.test(String(args[0])) && left-- <= 0) {
    const write = handle.writeFile.bind(handle);
    handle.writeFile = async (data) => {
      await write(data.subarray(0, data.length >> 1));
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    };
  }
  return handle;
};
syncBuiltinESMExports();
