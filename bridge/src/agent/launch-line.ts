/**
 * The line the bridge types into a fresh shell to start the agent. It must work in
 * any POSIX shell whose PATH may lack the container's, put the PTY in raw mode
 * (no echo, no 4095-byte canonical line limit, no CR/LF or signal translation),
 * announce the exact point where the agent's own output begins, and `exec` the
 * agent so its exit is the shell's exit.
 */

export interface LaunchLine {
  /** What to type, including the terminating carriage return. */
  readonly text: string;
  /** Printed right before `exec`; the agent's output starts after its newline. */
  readonly readyMarker: string;
  /** Printed (with the exit status after a space) if the agent could not be exec'd. */
  readonly failedMarker: string;
}

/**
 * With a `launcher` path, the agent runs under it when the image has it (framed mode)
 * and directly otherwise; the bridge tells which by probing once the agent is up.
 */
export function launchLine(shellCommand: string, nonce: string, shellId: string, launcher?: string): LaunchLine {
  if (/[\r\n]/.test(shellCommand)) throw new Error('shell command must be a single line');
  if (!/^[A-Za-z0-9]+$/.test(nonce)) throw new Error('nonce must be alphanumeric');
  const ready = `OPENAB_AGENT_READY_${nonce}`;
  const failed = `OPENAB_AGENT_FAILED_${nonce}`;
  const [readyA, readyB] = halves(ready);
  const [failedA, failedB] = halves(failed);
  // The marker is printed from two halves so the shell's echo of this line can never match it.
  const log = `"\${TMPDIR:-/tmp}/openab-agent-${shellId}.log"`;
  // `exec NAME=value cmd` fails in every shell; `NAME=value exec cmd` passes the variable on.
  const { assignments, command } = splitAssignments(shellCommand);
  const text =
    `export PATH="\${PATH:+$PATH:}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"; ` +
    `stty raw -echo -iexten 2>/dev/null && printf '%s%s\\n' '${readyA}' '${readyB}' && ` +
    (launcher
      ? `{ if [ -x ${quote(launcher)} ]; then ${assignments}exec ${quote(launcher)} ${command}; else ${assignments}exec ${command} 2>>${log}; fi; }; `
      : `${assignments}exec ${command} 2>>${log}; `) +
    // On failure, say why (exec's complaint went to the log) and linger so the PTY drains before hangup.
    `printf '%s%s %s\\n' '${failedA}' '${failedB}' "$?"; tail -n 3 ${log} 2>/dev/null; sleep 1; exit 127\r`;
  return { text, readyMarker: ready, failedMarker: failed };
}

/** Leading `NAME=value` words (value unquoted, '…' or "…"), kept apart from the command. */
export function splitAssignments(shellCommand: string): { assignments: string; command: string } {
  const m = /^\s*((?:[A-Za-z_][A-Za-z0-9_]*=(?:'[^']*'|"[^"\\`$]*"|[^\s'"\\`$;&|<>()]*)\s+)*)(.*)$/s.exec(shellCommand)!;
  return { assignments: m[1].replace(/\s+$/, '') + (m[1].trim() ? ' ' : ''), command: m[2] };
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function halves(s: string): [string, string] {
  const mid = Math.floor(s.length / 2);
  return [s.slice(0, mid), s.slice(mid)];
}
