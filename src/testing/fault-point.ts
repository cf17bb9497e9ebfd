/**
 * Crash-test hook: `GNOCCHI_TS_FAULT=<point>` makes the process SIGKILL itself the first time
 * it reaches `faultPoint(<point>)`, so a test can stop a multi-step operation exactly between
 * two steps (a `kill -9` from outside only lands there by chance). Off unless the variable is
 * set; read once at start. Points: docs/reliability.md.
 */
const FAULT = process.env.GNOCCHI_TS_FAULT

export function faultPoint(point: string): void {
  if (FAULT === point) process.kill(process.pid, 'SIGKILL')
}
