// Runs a recipe's child process (Python, usually) at `nice -n 10` with inherited stdio, so a training run
// shares a small machine; rejects when it cannot start or exits with a non-zero code or a signal.
import { spawn } from 'node:child_process';

/** Runs `cmd args` in `cwd`; errors start with `label` (e.g. "train", "train cid"). */
export function runNiced(cmd: string, args: string[], cwd: string, label: string): Promise<void> {
  return new Promise((res, rej) => {
    const p = spawn('nice', ['-n', '10', cmd, ...args], { cwd, stdio: 'inherit' });
    p.on('error', (e) => rej(new Error(`${label}: cannot start ${cmd}: ${e.message}`)));
    p.on('exit', (code, sig) =>
      code === 0 ? res() : rej(new Error(`${label}: ${cmd} ${args[0] ?? ''} exited with ${code ?? sig}`)),
    );
  });
}
