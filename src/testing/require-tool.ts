/**
 * The one gate for tests that need something outside the repository: a Debian package, a
 * command, a server, the shared conformance data. Where it is missing, the test is skipped with
 * the reason and the skip is recorded for the summary `npm test` prints (scripts/test.ts); with
 * env `CI` set a missing tool is a failure instead, so CI cannot pass by skipping.
 */
import { appendFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

/** `true` when the tool is there, else why not (one line). */
export type Probe = true | string

/** For node:test's `skip` option: `false` (run) or the reason. */
export type Skip = false | string

/** What `npm test` prints to enable every skipped test at once. */
export const INSTALL_COMMAND = 'sudo scripts/install-test-deps.sh'

/** Env var naming the directory scripts/test.ts collects its records in. */
export const REPORT_DIR_ENV = 'GNOCCHI_TEST_REPORT_DIR'

/** One missing tool, as recorded for the summary (a line of `requirements.jsonl`). */
export interface MissingRecord {
  readonly name: string
  readonly reason: string
  /** The step that provides it, e.g. `apt-get install python3-gnocchi`. */
  readonly enable: string
  /** The test file (or script) that needed it, relative to the repository root. */
  readonly file: string
  /** True when CI is set: the test failed instead of skipping. */
  readonly failed: boolean
}

const ROOT = resolve(import.meta.dirname, '..', '..')
const decided = new Map<string, Skip>()

/**
 * Skip value for the tests that need `name`; `probe` runs once per process and `key`.
 * Throws when CI is set and the tool is missing.
 */
export function requireTool(name: string, probe: () => Probe, enable: string, key = name): Skip {
  const known = decided.get(key)
  if (known !== undefined) return known
  return decide(key, name, probe(), enable)
}

/** requireTool for an asynchronous probe (a server that must answer). */
export async function requireService(
  name: string,
  probe: () => Promise<Probe>,
  enable: string,
): Promise<Skip> {
  const known = decided.get(name)
  if (known !== undefined) return known
  return decide(name, name, await probe(), enable)
}

function decide(key: string, name: string, probe: Probe, enable: string): Skip {
  if (probe === true) {
    decided.set(key, false)
    return false
  }
  const failed = Boolean(process.env.CI)
  record({ name, reason: probe, enable, file: relative(ROOT, resolve(process.argv[1] ?? ROOT)), failed })
  if (failed) throw new Error(`${name} is required when CI is set: ${probe} (${enable})`)
  const reason = `${name} missing: ${probe}`
  decided.set(key, reason)
  process.stderr.write(`# skipping what needs ${name}: ${probe} (enable: ${enable})\n`)
  return reason
}

function record(r: MissingRecord): void {
  const dir = process.env[REPORT_DIR_ENV]
  if (!dir) return
  // One short O_APPEND write per line: test files running in parallel do not interleave.
  appendFileSync(join(dir, 'requirements.jsonl'), `${JSON.stringify(r)}\n`)
}
