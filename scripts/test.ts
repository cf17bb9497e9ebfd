/**
 * `npm test`: typecheck, lint, unit/integration tests and the conformance suite, then one
 * summary: what ran, what failed, what was skipped and why, and how to enable it. Tests record
 * the tools they miss (src/testing/require-tool.ts) in a temp dir named by env
 * GNOCCHI_TEST_REPORT_DIR; scripts/test-reporter.ts records node:test's skips and failures.
 * Exit status: 1 when a step fails; skips pass locally, but with env CI set every skip fails.
 *
 *   node scripts/test.ts [typecheck|lint|unit|conformance]... [-- test files for `unit`]
 */
import { spawnSync } from 'node:child_process'
import { existsSync, globSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { INSTALL_COMMAND, type MissingRecord, REPORT_DIR_ENV } from '../src/testing/require-tool.ts'
import type { ReportLine } from './test-reporter.ts'

const ROOT = resolve(import.meta.dirname, '..')
/** `npm run <script>` with the npm that runs us (package.json keeps what each step does). */
const npmRun = (script: string): string[] => {
  const cli = process.env.npm_execpath
  return cli ? [process.execPath, cli, 'run', '--silent', script] : ['npm', 'run', '--silent', script]
}
const STEP_NAMES = ['typecheck', 'lint', 'unit', 'serial', 'conformance'] as const
type StepName = (typeof STEP_NAMES)[number]

const dashes = process.argv.indexOf('--')
const args = dashes < 0 ? process.argv.slice(2) : process.argv.slice(2, dashes)
const explicitFiles = dashes < 0 ? undefined : process.argv.slice(dashes + 1)
// The multi-process reliability and scale-out tests measure load and time bounds on the
// machine's 2 cores: they run one at a time after the others (`--test-concurrency=1`), so that
// browser tests and servers of the parallel run do not starve them. Explicit files run as given.
const HEAVY = /^test\/(reliability|scaleout)\//
const allFiles = explicitFiles ?? globSync(['src/**/*.test.ts', 'test/**/*.test.ts'], { cwd: ROOT }).sort()
const unitFiles = explicitFiles ?? allFiles.filter((f) => !HEAVY.test(f))
const serialFiles = explicitFiles ? [] : allFiles.filter((f) => HEAVY.test(f))
for (const a of args) {
  if (!(STEP_NAMES as readonly string[]).includes(a)) {
    process.stderr.write(`unknown step ${a} (${STEP_NAMES.join(', ')})\n`)
    process.exit(2)
  }
}
const steps: readonly StepName[] = (args.length > 0 ? (args as StepName[]) : STEP_NAMES).filter(
  (st) => st !== 'serial' || serialFiles.length > 0,
)

const reportDir = mkdtempSync(join(tmpdir(), 'gnocchi-test-report-'))
const unitReport = join(reportDir, 'unit.jsonl')
const serialReport = join(reportDir, 'serial.jsonl')
/** node:test over `files`, the spec reporter on stdout and ours (scripts/test-reporter.ts) into `report`. */
function testArgv(concurrency: number, report: string, files: readonly string[]): string[] {
  return [
    process.execPath,
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(ROOT, 'scripts', 'test-reporter.ts')}`,
    `--test-reporter-destination=${report}`,
    ...files,
  ]
}
const commands: Record<StepName, { label: string; argv: string[] }> = {
  typecheck: { label: 'typecheck', argv: npmRun('typecheck') },
  lint: { label: 'lint', argv: npmRun('lint') },
  // The globs of `npm run test:unit`.
  unit: { label: 'unit and integration tests', argv: testArgv(2, unitReport, unitFiles) },
  serial: { label: 'reliability and scale-out tests', argv: testArgv(1, serialReport, serialFiles) },
  conformance: {
    label: 'conformance (upstream gabbi suite)',
    argv: [process.execPath, 'test/conformance/run.ts'],
  },
}

// A child started by a node:test file must not believe it is one of its subtests.
const env: NodeJS.ProcessEnv = { ...process.env, [REPORT_DIR_ENV]: reportDir }
delete env.NODE_TEST_CONTEXT

interface StepResult {
  readonly name: StepName
  readonly status: number
  readonly seconds: number
}
const results: StepResult[] = []
for (const name of steps) {
  const { label, argv } = commands[name]
  process.stdout.write(`\n=== npm test: ${label} ===\n`)
  const started = performance.now()
  const r = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, env, stdio: 'inherit' })
  const status = r.status ?? 1
  if (r.error) process.stderr.write(`${label}: ${r.error.message}\n`)
  results.push({ name, status, seconds: (performance.now() - started) / 1000 })
}

function readLines<T>(file: string): T[] {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T)
}
const records = readLines<MissingRecord>(join(reportDir, 'requirements.jsonl'))
const missing = records.filter((r) => !r.failed)
const requiredMissing = records.filter((r) => r.failed)
const unitLines = readLines<ReportLine>(unitReport)
const serialLines = readLines<ReportLine>(serialReport)
const unit = [...unitLines, ...serialLines]
const conformance = readLines<{ backends: string; outcome: string; ok: boolean }>(
  join(reportDir, 'conformance.jsonl'),
)
rmSync(reportDir, { recursive: true, force: true })

const out: string[] = ['', '=== npm test: summary ===']
const skips = unit.filter((l) => l.kind === 'skip')
for (const { name, status, seconds } of results) {
  let detail = ''
  if (name === 'unit' || name === 'serial') {
    const lines = name === 'unit' ? unitLines : serialLines
    const c = lines.find((l) => l.kind === 'counts')?.counts ?? {}
    const skippedSuites = lines.filter((l) => l.kind === 'skip' && l.suite).length
    detail =
      `${c.tests ?? 0} tests: ${c.passed ?? 0} passed, ${c.failed ?? 0} failed, ${c.cancelled ?? 0} cancelled, ` +
      `${c.skipped ?? 0} skipped, ${c.todo ?? 0} todo` +
      (skippedSuites ? `; ${skippedSuites} suites skipped` : '')
  } else if (name === 'conformance') {
    const missed = records.some((m) => m.file === 'test/conformance/run.ts') && conformance.length === 0
    detail = missed
      ? `${status === 0 ? 'skipped' : 'not run'} (see below)`
      : conformance.map((c) => `${c.backends}: ${c.outcome}`).join('; ')
  }
  const mark = status === 0 ? '✔' : '✖'
  out.push(`${mark} ${commands[name].label.padEnd(36)} ${seconds.toFixed(1).padStart(6)} s  ${detail}`)
}

const failures = unit.filter((l) => l.kind === 'fail')
if (failures.length > 0) {
  out.push('', 'Failed:')
  for (const f of failures.slice(0, 30)) out.push(`  ${f.file ?? '?'} › ${f.name}: ${f.reason}`)
  if (failures.length > 30) out.push(`  … and ${failures.length - 30} more (see above)`)
}

if (requiredMissing.length > 0) {
  out.push('', 'Missing, and required because CI is set (their tests failed):')
  const seen = new Set<string>()
  for (const m of requiredMissing) {
    const key = `${m.name}\0${m.file}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(`  ${m.name}: ${m.reason} — ${m.file}`, `    enable: ${m.enable}`)
  }
}

// Skips explained by a missing tool, grouped by tool; then any other skip.
const skipsByFile = new Map<string, number>()
for (const s of skips) skipsByFile.set(s.file ?? '?', (skipsByFile.get(s.file ?? '?') ?? 0) + 1)
const tools = new Map<string, { name: string; reason: string; enable: string; files: Set<string> }>()
for (const m of missing) {
  const key = `${m.name}\0${m.reason}`
  const t = tools.get(key) ?? { name: m.name, reason: m.reason, enable: m.enable, files: new Set<string>() }
  t.files.add(m.file)
  tools.set(key, t)
}
if (tools.size > 0) {
  out.push(
    '',
    `Skipped because something is missing here${process.env.CI ? '' : ' (in CI each is a failure)'}:`,
  )
  for (const t of [...tools.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const where = [...t.files].map((f) => {
      const n = skipsByFile.get(f)
      return n ? `${f} (${n} skipped)` : f
    })
    out.push(`  ${t.name}: ${t.reason}`, `    needed by ${where.join(', ')}`, `    enable: ${t.enable}`)
  }
}
const explained = new Set(missing.map((m) => m.file))
const other = skips.filter((s) => !explained.has(s.file ?? '?'))
if (other.length > 0) {
  out.push('', 'Other skips:')
  for (const s of other) out.push(`  ${s.file ?? '?'} › ${s.name}: ${s.reason || '(no reason given)'}`)
}
const todos = unit.filter((l) => l.kind === 'todo')
if (todos.length > 0) {
  out.push('', 'Todo:')
  for (const s of todos) out.push(`  ${s.file ?? '?'} › ${s.name}: ${s.reason}`)
}

const failed = results.some((r) => r.status !== 0)
const conformanceSkipped = conformance.filter((c) => c.outcome.startsWith('skipped')).length
const wholeConformanceSkipped =
  missing.some((m) => m.file === 'test/conformance/run.ts') && conformance.length === 0
const skipCount = skips.length + conformanceSkipped + (wholeConformanceSkipped ? 1 : 0)
const anySkip = skipCount > 0 || missing.length > 0
if (anySkip || requiredMissing.length > 0)
  out.push('', `To install everything the full suite needs: ${INSTALL_COMMAND}`)
let verdict: string
if (failed) verdict = 'FAILED'
else if (anySkip && process.env.CI) verdict = 'FAILED: skips are failures when CI is set'
else if (anySkip) verdict = `PASSED with ${skipCount} skipped (CI=true makes every skip a failure)`
else verdict = 'PASSED, nothing skipped'
out.push('', `Result: ${verdict}`, '')
process.stdout.write(out.join('\n'))
process.exit(failed || (anySkip && process.env.CI) ? 1 : 0)
