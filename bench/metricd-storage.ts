/**
 * The storage side of a metricd drain, in-process, against the floor the file layout sets.
 *
 * What `npm run bench -- --only drain` measures end to end is, for new metrics, dominated by
 * the kernel creating upstream's object layout (architecture.md §4.5: 16 levels of 2-hex
 * directories, the metric directory, one `agg_<method>` directory per method, one file per
 * split and the raw object: ~34 new inodes per metric). This bench separates the two costs:
 *
 *   1. ours: `MetricStorageEngine.processMeasures` on the file driver, new metrics × measures
 *      of one a minute, in batches of `--batch` metrics (metricd's batch is a sack's metrics);
 *   2. floor: the same tree (same paths, same bytes) written with the fewest syscalls
 *      possible — `mkdir` per missing directory and `open`/`write`/`close` in place, no tmp
 *      file, no rename, no fsync, no compute. No implementation of the layout can go below it.
 *
 * Both are timed with process.cpuUsage (user + system) in the same run, on fresh directories
 * under `--dir` (default: a temp dir on the file system of /tmp). The report gives CPU per
 * metric and ours ÷ floor. `--sync` lists ours' runs: `fsync` / `syncfs` durable as in production
 * (`[storage] file_fsync` + `file_sync_method`), `off` as upstream, which never syncs.
 *
 * Run: node bench/metricd-storage.ts [--metrics 500] [--measures 1000] [--batch 4] [--sync off,syncfs,fsync]
 *        [--dir DIR] [--json]
 */
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { TimeSeries } from '../src/carbonara/time-series.ts'
import type { ArchivePolicy } from '../src/domain/archive-policy.ts'
import type { Metric } from '../src/domain/metric.ts'
import { createLogger } from '../src/log/logger.ts'
import type { FileSyncMethod } from '../src/storage/file/file-batch-writer.ts'
import { FileStorageDriver } from '../src/storage/file/file-storage-driver.ts'
import { MetricStorageEngine, type ProcessItem } from '../src/storage/metric-storage.ts'

const NS = 1_000_000_000n
const T0_NS = 1_704_067_200n * NS // 2024-01-01T00:00:00Z

/** The HTTP suite's policy: 1 min × 30 days + 1 h × 365 days, six methods, back window 0. */
export const BENCH_POLICY: ArchivePolicy = {
  name: 'bench',
  backWindow: 0,
  definition: [
    { granularityNs: 60n * NS, points: 43_200, timespanNs: 43_200n * 60n * NS },
    { granularityNs: 3600n * NS, points: 8_760, timespanNs: 8_760n * 3600n * NS },
  ],
  aggregationMethods: ['mean', 'min', 'max', 'sum', 'std', 'count'],
}

export interface StorageDrainRow {
  readonly label: string
  readonly metrics: number
  readonly userMs: number
  readonly systemMs: number
  readonly wallMs: number
  readonly files: number
  readonly dirs: number
}

function uuid(i: number): string {
  // Spread like random UUIDs (the layout's directory fan-out depends on it), but reproducible.
  let h = (i + 1) * 2654435761
  let hex = ''
  for (let k = 0; k < 32; k++) {
    h = Math.imul(h ^ (h >>> 15), 2246822507) >>> 0
    hex += (h & 15).toString(16)
  }
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

function measures(n: number, seed: number): TimeSeries {
  const timestamps = new BigInt64Array(n)
  const values = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    timestamps[i] = T0_NS + BigInt(i) * 60n * NS
    values[i] = ((i * 2654435761 + seed * 40503) % 100_000) / 10
  }
  return { timestamps, values }
}

function metric(id: string): Metric {
  return {
    id,
    archivePolicyName: BENCH_POLICY.name,
    creator: null,
    resourceId: null,
    name: null,
    unit: null,
    status: 'active',
    needsRawDataTruncation: false,
  }
}

function timed<T>(fn: () => T): { result: T; userMs: number; systemMs: number; wallMs: number } {
  const c0 = process.cpuUsage()
  const w0 = performance.now()
  const result = fn()
  const c = process.cpuUsage(c0)
  return { result, userMs: c.user / 1e3, systemMs: c.system / 1e3, wallMs: performance.now() - w0 }
}

async function timedAsync<T>(fn: () => Promise<T>) {
  const c0 = process.cpuUsage()
  const w0 = performance.now()
  const result = await fn()
  const c = process.cpuUsage(c0)
  return { result, userMs: c.user / 1e3, systemMs: c.system / 1e3, wallMs: performance.now() - w0 }
}

/** Every file under `root` (relative path → bytes) and every directory, parents first. */
function snapshot(root: string): { files: Array<[string, Uint8Array]>; dirs: string[] } {
  const files: Array<[string, Uint8Array]> = []
  const dirs: string[] = []
  const walk = (rel: string) => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`
      if (e.isDirectory()) {
        dirs.push(r)
        walk(r)
      } else files.push([r, readFileSync(join(root, r))])
    }
  }
  walk('')
  return { files, dirs }
}

export type SyncMode = 'off' | FileSyncMethod

/**
 * Runs ours once per `syncs` entry (each on a fresh root), then the floor, all in one work
 * directory deleted only at the end: on ext4 without a journal, inodes freed in the last
 * 1–6 minutes make every new inode of their block group slower to allocate
 * (`recently_deleted`), so deleting between the runs would slow down the later ones.
 */
export async function runStorageDrain(options: {
  metrics: number
  measures: number
  batch: number
  syncs: readonly SyncMode[]
  dir?: string
}): Promise<StorageDrainRow[]> {
  const parent = options.dir ?? tmpdir()
  const work = mkdtempSync(join(parent, 'gnocchi-ts-storage-drain-'))
  const log = createLogger({ level: 'error' })
  const rows: StorageDrainRow[] = []
  try {
    const items: ProcessItem[] = []
    for (let i = 0; i < options.metrics; i++) {
      items.push({ metric: metric(uuid(i)), policy: BENCH_POLICY, measures: measures(options.measures, i) })
    }
    let layoutRoot: string | undefined
    for (const sync of options.syncs) {
      const root = join(work, `ours-${sync}`)
      layoutRoot ??= root
      const driver = new FileStorageDriver({
        basePath: root,
        fsync: sync !== 'off',
        syncMethod: sync === 'off' ? undefined : sync,
      })
      await driver.upgrade()
      const engine = new MetricStorageEngine(driver, log)
      const t = await timedAsync(async () => {
        for (let i = 0; i < items.length; i += options.batch) {
          await engine.processMeasures(items.slice(i, i + options.batch))
        }
      })
      rows.push({
        label: `ours, batches of ${options.batch}, sync ${sync}`,
        metrics: options.metrics,
        ...t,
        files: 0,
        dirs: 0,
      })
    }
    if (layoutRoot === undefined) throw new Error('no run')
    // The floor writes what ours wrote, minus ours' own tmp directory.
    const tree = snapshot(layoutRoot)
    const files = tree.files.filter(([p]) => !p.startsWith('tmp/'))
    const dirs = tree.dirs.filter((d) => d !== 'tmp' && !d.startsWith('tmp/'))
    const floorRoot = join(work, 'floor')
    mkdirSync(floorRoot)
    const floor = timed(() => {
      for (const d of dirs) mkdirSync(join(floorRoot, d))
      for (const [p, bytes] of files) {
        const fd = openSync(join(floorRoot, p), 'wx')
        writeSync(fd, bytes)
        closeSync(fd)
      }
    })
    rows.push({ label: 'floor (layout only)', metrics: options.metrics, ...floor, files: 0, dirs: 0 })
    return rows.map((r) => ({ ...r, files: files.length, dirs: dirs.length }))
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

function parseSyncs(v: string): SyncMode[] {
  return v.split(',').map((m) => {
    if (m === 'off' || m === 'fsync' || m === 'syncfs') return m
    throw new Error(`--sync takes off, fsync, syncfs (comma-separated), got ${m}`)
  })
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      metrics: { type: 'string', default: '500' },
      measures: { type: 'string', default: '1000' },
      batch: { type: 'string', default: '4' },
      sync: { type: 'string', default: 'off,syncfs,fsync' },
      dir: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  })
  const rows = await runStorageDrain({
    metrics: Number(values.metrics),
    measures: Number(values.measures),
    batch: Number(values.batch),
    syncs: parseSyncs(values.sync),
    dir: values.dir,
  })
  if (values.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
  else {
    const floor = rows[rows.length - 1]
    const per = (r: StorageDrainRow, ms: number) => (ms / r.metrics).toFixed(3)
    process.stdout.write(
      `# Storage side of a drain: ${floor.metrics} new metrics × ${values.measures} measures, ` +
        `${floor.dirs} directories + ${floor.files} files (${((floor.dirs + floor.files) / floor.metrics).toFixed(1)} inodes per metric)\n` +
        '| run | user ms/metric | sys ms/metric | CPU ms/metric | wall ms/metric | CPU ÷ floor |\n|---|---:|---:|---:|---:|---:|\n',
    )
    for (const r of rows) {
      const cpu = r.userMs + r.systemMs
      process.stdout.write(
        `| ${r.label} | ${per(r, r.userMs)} | ${per(r, r.systemMs)} | ${per(r, cpu)} | ${per(r, r.wallMs)} | ${(cpu / (floor.userMs + floor.systemMs)).toFixed(2)}× |\n`,
      )
    }
  }
}
