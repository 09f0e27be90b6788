/**
 * The one file reader of every command: a regular file, read up to a bound. `/dev/zero`, a FIFO, a
 * directory or a socket is refused before a byte is read (reading /dev/zero "to the end" filled 3 GB
 * in 5 s); a FIFO is opened non-blocking so that even the open cannot hang; a regular file larger
 * than the bound is refused by its size. A file whose stat says 0 bytes (procfs) is read in chunks,
 * never past the bound.
 */
import fs from 'node:fs';
import { fileError } from '../../shared/errors.ts';
import { describeFileError, isErrno, withFileErrors } from './file_errors.ts';

/** What Node can hold in one Buffer read (kIoMaxLength, 2 GiB − 1): every file aevb reads is far below. */
export const MAX_FILE_BYTES = 2 ** 31 - 1;

function kind(s: fs.Stats): string {
  return s.isDirectory()
    ? 'a directory'
    : s.isCharacterDevice()
      ? 'a character device'
      : s.isBlockDevice()
        ? 'a block device'
        : s.isFIFO()
          ? 'a named pipe'
          : s.isSocket()
            ? 'a socket'
            : 'not a regular file';
}

/**
 * The bytes of `file`, which must be a regular file of at most `maxBytes`. `flag` names what to
 * change in the fix (e.g. --data, --resume, --from).
 */
export function readFileBounded(file: string, flag: string, maxBytes = MAX_FILE_BYTES): Uint8Array {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw fileError(`Cannot read ${file}: it does not exist (ENOENT).`, `Pass ${flag} the path of an existing file.`);
    throw isErrno(e) ? describeFileError(e, 'read', file, '', flag) : e;
  }
  try {
    const info = fs.fstatSync(fd);
    if (!info.isFile()) {
      throw fileError(`${file} is ${kind(info)}, not a file aevb can read.`, `Pass ${flag} a regular file.`);
    }
    const tooBig = () =>
      fileError(
        `${file} is larger than ${maxBytes.toLocaleString('en-US')} bytes, more than this file can hold.`,
        `Pass ${flag} the right file.`,
      );
    if (info.size > maxBytes) throw tooBig();
    // Read to the end, but never past the bound: the size can grow, or be 0 for procfs files.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(Math.max(info.size - total, 0) || 65536, maxBytes - total + 1));
      const n = withFileErrors('read', file, () => fs.readSync(fd, buf, 0, buf.length, null), '', flag);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw tooBig();
      chunks.push(buf.subarray(0, n));
    }
    const out = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } finally {
    fs.closeSync(fd);
  }
}

/** The file as UTF-8 text (readFileBounded's checks). */
export function readTextBounded(file: string, flag: string, maxBytes = MAX_FILE_BYTES): string {
  return new TextDecoder().decode(readFileBounded(file, flag, maxBytes));
}
