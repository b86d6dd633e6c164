/** Structured logs: one JSON object per line on stderr, a stable `msg` plus fields. No secrets. */
export type Fields = Readonly<Record<string, string | number | boolean | null | undefined>>;

export interface Logger {
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

export function jsonLogger(component: string, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const emit = (level: string, msg: string, fields: Fields = {}): void => {
    write(`${JSON.stringify({ ts: new Date().toISOString(), level, component, msg, ...fields })}\n`);
  };
  return {
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}

/** A logger that drops everything (benchmarks). */
export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * At most one line per `msg` every `intervalMs`; the next line that gets through carries
 * `suppressed`, the count dropped since. For messages a client can trigger at request rate.
 */
export function throttledLogger(log: Logger, intervalMs: number, now: () => number = Date.now): Logger {
  const last = new Map<string, { at: number; suppressed: number }>();
  const gate = (emit: (msg: string, fields?: Fields) => void) => (msg: string, fields?: Fields): void => {
    const t = now();
    const seen = last.get(msg);
    if (seen !== undefined && t - seen.at < intervalMs) { seen.suppressed++; return; }
    last.set(msg, { at: t, suppressed: 0 });
    emit(msg, seen !== undefined && seen.suppressed > 0 ? { ...fields, suppressed: seen.suppressed } : fields);
  };
  return { info: gate(log.info), warn: gate(log.warn), error: gate(log.error) };
}
