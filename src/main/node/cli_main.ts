/**
 * The one error tail of every command (train, sweep, export, variance, figures): whatever ends a
 * command early is one `error: …` line on stderr and an exit code, never a stack trace.
 *   - our own errors (AevbError): the problem and the fix in the CLI's words (cli_words.ts: flags); exit 2;
 *   - a file-system error nobody foresaw: one line with its path (file_errors.ts); exit 2;
 *   - anything else (a bug, or an error of a library such as the tfjs WASM module, whose message
 *     can hold a whole minified source line): its first line, cut short, and the fact that it is
 *     unexpected; exit 70 (EX_SOFTWARE). Caught here, it never reaches the uncaught-exception
 *     handler that the WASM module installs, which would print its source and exit 7.
 */
import { isAevbError } from '../../shared/errors.ts';
import { cliMessage } from './cli_words.ts';
import { describeFileError, isErrno } from './file_errors.ts';

/** How much of an unexpected error's message is shown: enough to recognise it, never a whole minified source line. */
const MAX_LINE = 400;

/** The first non-empty line; cut short where it is not ours (our messages are sentences with the user's paths). */
function oneLine(s: string, cut = false): string {
  const line =
    s
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? '';
  return cut && line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line;
}

/** The line and exit code for an error that ended a command. */
export function errorReport(e: unknown): { line: string; code: number } {
  if (isAevbError(e)) return { line: `error: ${oneLine(cliMessage(e).replace(/\s*\n\s*/g, ' '))}`, code: 2 };
  if (isErrno(e)) {
    const where = (e as NodeJS.ErrnoException).path ?? 'a file';
    return { line: `error: ${oneLine(describeFileError(e, 'use', where, '', 'the path').message)}`, code: 2 };
  }
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return { line: `error: unexpected ${oneLine(what, true)} (a bug in aevb or a library; please report it with the command).`, code: 70 };
}

/** Run a command's main and set the exit code; every error ends as errorReport's one line. */
export async function runMain(main: (argv: string[]) => Promise<number>, argv = process.argv.slice(2)): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (e) {
    const r = errorReport(e);
    process.stderr.write(`${r.line}\n`);
    process.exitCode = r.code;
  }
}
