// Runs a command to completion and collects its output (the chart tests drive helm with it).
import { spawn } from 'node:child_process';

export interface CommandResult { code: number | null; stdout: string; stderr: string }

/** `cmd args` with `env` added to this process's environment; rejects only when it cannot start. */
export function runCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
