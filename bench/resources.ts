/**
 * Resources speed (issue "Resources … Speed"): a custom resource type with 10 attributes,
 * N resources created through the HTTP API with concurrency, random shows, and the latency
 * of typical searches at two sizes (default 10 000 and 100 000) so their ratio shows whether
 * they are sublinear; then, with the indexer's SQL debug hook (`GNOCCHI_TS_SQL_LOG`), the
 * queries per request (N+1 check) and the EXPLAIN of each search's SQL on each engine.
 *
 *   node bench/resources.ts [--engines sqlite,postgresql,mysql] [--scale F] [--sizes 10000,100000]
 *        [--concurrency 16] [--searches 100] [--shows 5000] [--max-seconds 20] [--seed 42]
 *        [--no-explain] [--no-index-compare] [--no-analyze] [--out FILE]
 *
 * Engines: `sqlite` (embedded, temp dir), `postgresql` / `mysql` (a fresh throw-away database
 * `gnocchi_bench_<hex>` on the local servers, dropped at the end). Searches are built to match
 * a constant number of resources at any size (≈10: a host value is shared by 10 resources, a
 * name prefix covers 10, the started_at window 100 resources), so a search that is not a
 * scan costs the same at both sizes (ratio ≈ 1) and a scan costs ×(size ratio). Unless
 * `--no-index-compare`, every search is also measured and EXPLAINed with the per-attribute
 * indexes (`ix_gts_rt_*`) dropped, on the same data ("[no attr index]" rows).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { DatabaseSync, type SQLInputValue } from 'node:sqlite'
import { parseArgs } from 'node:util'
import { createConnection } from 'mysql2/promise'
import pg from 'pg'
import { HttpClient, type Req, runLoad, stderrProgress } from './http/client.ts'
import { rng, uuid } from './http/gen.ts'
import { freePort, waitHttp } from './http/servers.ts'

const REPO = join(dirname(new URL(import.meta.url).pathname), '..')
const PG_ADMIN = 'postgresql://postgres@127.0.0.1:5432/postgres'
const MYSQL = { host: '127.0.0.1', port: 3306, user: 'root' }
const TYPE = 'bench_vm'
const BASE_MS = Date.UTC(2024, 0, 1)
const MINUTE = 60_000

export type Engine = 'sqlite' | 'postgresql' | 'mysql'

export interface ResourceBenchOptions {
  readonly engines: readonly Engine[]
  readonly sizes: readonly number[]
  readonly concurrency: number
  /** Iterations per search (sequential, one in flight). */
  readonly searches: number
  readonly shows: number
  readonly maxSeconds: number
  readonly seed: number
  readonly explain: boolean
  /** Also measure (and EXPLAIN) the searches with the per-attribute indexes dropped. */
  readonly compareIndexes: boolean
  /** PostgreSQL: `ANALYZE` after loading each size (as autovacuum would). */
  readonly analyze: boolean
}

const NO_INDEX = '[no attr index]'

export interface SearchStat {
  readonly name: string
  readonly size: number
  readonly n: number
  readonly p50: number
  readonly p95: number
  /** Mean rows returned. */
  readonly rows: number
}

export interface QueryTrace {
  readonly request: string
  readonly statements: number
  readonly sql: readonly string[]
}

export interface PlanRow {
  readonly search: string
  readonly sql: string
  readonly params: readonly unknown[]
  readonly plan: string
  /** The plan reads a whole `resource`/`rt_*` table. */
  readonly fullScan: boolean
}

export interface EngineResult {
  readonly engine: Engine
  readonly creates: Array<{ from: number; to: number; perSecond: number; seconds: number; errors: number }>
  readonly patches: Array<{ size: number; count: number; perSecond: number; errors: number }>
  readonly shows: Array<{ size: number; perSecond: number; p50: number; p95: number; errors: number }>
  readonly searches: SearchStat[]
  readonly queries: QueryTrace[]
  readonly plans: PlanRow[]
}

// ------------------------------------------------------------------ data

const ATTRIBUTES = {
  host: { type: 'string', required: true, max_length: 255 },
  name: { type: 'string', required: true, max_length: 255 },
  flavor: { type: 'string', required: false, max_length: 64 },
  zone: { type: 'string', required: false, max_length: 64 },
  image_ref: { type: 'uuid', required: false },
  server_group: { type: 'uuid', required: false },
  vcpus: { type: 'number', required: false, min: 1, max: 1024 },
  memory_mb: { type: 'number', required: false },
  enabled: { type: 'bool', required: false },
  launched_at: { type: 'datetime', required: false },
}

const FLAVORS = ['m1.tiny', 'm1.small', 'm1.medium', 'm1.large', 'm1.xlarge']
const ZONES = ['az1', 'az2', 'az3']

function iso(ms: number): string {
  return new Date(ms).toISOString()
}

/** Resource `i`: deterministic in `i` (and the seed for the random parts). */
function resourceBody(i: number, r: () => number): Record<string, unknown> {
  const started = BASE_MS + i * MINUTE
  return {
    id: uuid(r),
    user_id: `user-${i % 97}`,
    project_id: `project-${i % 10}`,
    started_at: iso(started),
    host: `host-${Math.floor(i / 10)}`,
    name: `vm-${String(i).padStart(7, '0')}`,
    flavor: FLAVORS[i % FLAVORS.length],
    zone: ZONES[i % ZONES.length],
    image_ref: uuid(r),
    server_group: uuid(r),
    vcpus: 1 + (i % 64),
    memory_mb: 512 * (1 + (i % 32)),
    enabled: i % 2 === 0,
    launched_at: iso(started + 30_000),
  }
}

interface SearchDef {
  readonly name: string
  /** A request for a random target among the `size` resources. */
  make(r: () => number, size: number, ids: readonly string[], images: readonly string[]): Req
}

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v))
const pick = (r: () => number, n: number): number => Math.floor(r() * n)

const SEARCHES: readonly SearchDef[] = [
  {
    name: 'attr = (JSON)',
    make: (r, size) => ({
      method: 'POST',
      path: `/v1/search/resource/${TYPE}`,
      body: json({ '=': { host: `host-${pick(r, size / 10)}` } }),
    }),
  },
  {
    name: 'attr = (filter=)',
    make: (r, size) => ({
      method: 'POST',
      path: `/v1/search/resource/${TYPE}?filter=${encodeURIComponent(`host='host-${pick(r, size / 10)}'`)}`,
    }),
  },
  {
    name: 'uuid attr =',
    make: (r, size, _ids, images) => ({
      method: 'POST',
      path: `/v1/search/resource/${TYPE}`,
      body: json({ '=': { image_ref: images[pick(r, size)] } }),
    }),
  },
  {
    name: 'started_at range',
    make: (r, size) => {
      const from = BASE_MS + pick(r, size - 100) * MINUTE
      return {
        method: 'POST',
        path: `/v1/search/resource/${TYPE}`,
        body: json({
          and: [{ '>=': { started_at: iso(from) } }, { '<': { started_at: iso(from + 100 * MINUTE) } }],
        }),
      }
    },
  },
  {
    name: 'like prefix',
    make: (r, size) => ({
      method: 'POST',
      path: `/v1/search/resource/${TYPE}`,
      body: json({ like: { name: `vm-${String(pick(r, size / 10)).padStart(6, '0')}%` } }),
    }),
  },
  {
    name: 'history attr =',
    make: (r, size) => ({
      method: 'POST',
      path: `/v1/search/resource/${TYPE}?history=true`,
      body: json({ '=': { host: `host-${pick(r, size / 10)}` } }),
    }),
  },
]

// ------------------------------------------------------------------ databases and servers

interface Database {
  readonly url: string
  readonly dir: string
  drop(): Promise<void>
}

async function createDatabase(engine: Engine): Promise<Database> {
  const dir = mkdtempSync(join(tmpdir(), `gnocchi-ts-resbench-${engine}-`))
  const name = `gnocchi_bench_${randomBytes(5).toString('hex')}`
  const cleanDir = () => rmSync(dir, { recursive: true, force: true })
  switch (engine) {
    case 'sqlite':
      return { url: `sqlite:///${dir}/index.sqlite`, dir, drop: async () => cleanDir() }
    case 'postgresql': {
      await pgAdmin(`CREATE DATABASE ${name}`)
      return {
        url: `postgresql://postgres@127.0.0.1:5432/${name}`,
        dir,
        drop: async () => {
          await pgAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
          cleanDir()
        },
      }
    }
    case 'mysql': {
      const c = await createConnection(MYSQL)
      await c.query(`CREATE DATABASE ${name} CHARACTER SET utf8`)
      await c.end()
      return {
        url: `mysql://root@127.0.0.1:3306/${name}`,
        dir,
        drop: async () => {
          const d = await createConnection(MYSQL)
          await d.query(`DROP DATABASE IF EXISTS ${name}`)
          await d.end()
          cleanDir()
        },
      }
    }
  }
}

async function pgAdmin(text: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_ADMIN })
  await c.connect()
  try {
    await c.query(text)
  } finally {
    await c.end()
  }
}

interface Server {
  readonly baseUrl: string
  stop(): Promise<void>
}

async function startServer(db: Database, sqlLog?: string): Promise<Server> {
  const port = await freePort(18060)
  const logFd = openSync(join(db.dir, 'server.log'), 'a')
  const env: NodeJS.ProcessEnv = { ...process.env }
  if (sqlLog) env.GNOCCHI_TS_SQL_LOG = sqlLog
  else delete env.GNOCCHI_TS_SQL_LOG
  const child: ChildProcess = spawn(
    join(REPO, 'bin/gnocchi-api'),
    [
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--skip-archive-policies-creation',
      '--set',
      `indexer.url=${db.url}`,
    ],
    { cwd: db.dir, env, stdio: ['ignore', logFd, logFd] },
  )
  const baseUrl = `http://127.0.0.1:${port}`
  await waitHttp(`${baseUrl}/`, 60, child)
  return {
    baseUrl,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

// ------------------------------------------------------------------ measuring

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

const progress = stderrProgress()

async function createResources(
  client: HttpClient,
  from: number,
  to: number,
  o: ResourceBenchOptions,
  ids: string[],
  images: string[],
): Promise<EngineResult['creates'][number]> {
  const reqs: Req[] = []
  for (let i = from; i < to; i++) {
    const body = resourceBody(i, rng(o.seed * 1_000_003 + i))
    ids[i] = body.id as string
    images[i] = body.image_ref as string
    reqs.push({ method: 'POST', path: `/v1/resource/${TYPE}`, body: json(body) })
  }
  // Creation is never time-limited: the sizes must be reached.
  const res = await runLoad(client, reqs, {
    concurrency: o.concurrency,
    maxSeconds: 1e9,
    label: `create ${from}..${to}`,
    progress,
    ok: (s) => s === 201,
  })
  if (res.errors > 0) progress.note(`create errors: ${JSON.stringify(res.errorSamples.slice(0, 2))}`)
  progress.done(`create ${from}..${to}: ${(res.requests / res.wallSeconds).toFixed(0)}/s`)
  return {
    from,
    to,
    perSecond: res.requests / res.wallSeconds,
    seconds: res.wallSeconds,
    errors: res.errors,
  }
}

/** PATCHes 10% of resources [from, to) (every 10th): one more history revision each. */
async function patchResources(
  client: HttpClient,
  from: number,
  to: number,
  o: ResourceBenchOptions,
  ids: readonly string[],
): Promise<EngineResult['patches'][number]> {
  const reqs: Req[] = []
  for (let i = from; i < to; i += 10) {
    reqs.push({
      method: 'PATCH',
      path: `/v1/resource/${TYPE}/${ids[i]}`,
      body: json({ flavor: 'm2.patched', vcpus: 128 }),
    })
  }
  const res = await runLoad(client, reqs, {
    concurrency: o.concurrency,
    maxSeconds: 1e9,
    label: `patch ${reqs.length}`,
    progress,
    ok: (s) => s === 200,
  })
  progress.done(`patch ${reqs.length}: ${(res.requests / res.wallSeconds).toFixed(0)}/s`)
  return { size: to, count: res.requests, perSecond: res.requests / res.wallSeconds, errors: res.errors }
}

async function showResources(
  client: HttpClient,
  size: number,
  o: ResourceBenchOptions,
  ids: readonly string[],
): Promise<EngineResult['shows'][number]> {
  const r = rng(o.seed + size)
  const reqs: Req[] = []
  for (let k = 0; k < o.shows; k++)
    reqs.push({ method: 'GET', path: `/v1/resource/${TYPE}/${ids[pick(r, size)]}` })
  const res = await runLoad(client, reqs, {
    concurrency: o.concurrency,
    maxSeconds: o.maxSeconds,
    label: `show @${size}`,
    progress,
    ok: (s) => s === 200,
  })
  progress.done(`show @${size}: ${(res.requests / res.wallSeconds).toFixed(0)}/s`)
  return {
    size,
    perSecond: res.requests / res.wallSeconds,
    p50: res.latencyMs.p50,
    p95: res.latencyMs.p90, // runLoad reports p50/p90/p99; see searchLatencies for exact p95
    errors: res.errors,
  }
}

/** Each search `o.searches` times, one in flight (latency, not throughput), time-bounded. */
async function searchLatencies(
  client: HttpClient,
  size: number,
  o: ResourceBenchOptions,
  ids: readonly string[],
  images: readonly string[],
): Promise<SearchStat[]> {
  const out: SearchStat[] = []
  for (const s of SEARCHES) {
    const r = rng(o.seed + size + s.name.length)
    const lat: number[] = []
    let rows = 0
    const deadline = performance.now() + o.maxSeconds * 1000
    // Two warm-up requests (prepared plans, caches), not counted.
    for (let k = 0; k < o.searches + 2 && performance.now() < deadline; k++) {
      const res = await client.request(s.make(r, size, ids, images))
      if (res.status !== 200)
        throw new Error(`${s.name}: HTTP ${res.status} ${res.body.toString().slice(0, 300)}`)
      if (k < 2) continue
      lat.push(res.ms)
      rows += (JSON.parse(res.body.toString()) as unknown[]).length
    }
    lat.sort((a, b) => a - b)
    const stat = {
      name: s.name,
      size,
      n: lat.length,
      p50: percentile(lat, 50),
      p95: percentile(lat, 95),
      rows: lat.length ? rows / lat.length : 0,
    }
    progress.done(
      `search ${s.name} @${size}: p50 ${stat.p50.toFixed(2)} ms, p95 ${stat.p95.toFixed(2)} ms, ${stat.rows.toFixed(1)} rows`,
    )
    out.push(stat)
  }
  return out
}

// ------------------------------------------------------------------ attribute indexes on/off

/**
 * Drops the per-attribute indexes (`ix_gts_rt_*`, schema.ts `createAttributeIndex`) and returns
 * a function recreating them: the searches are measured on the same data with and without them.
 */
async function dropAttributeIndexes(engine: Engine, db: Database): Promise<() => Promise<void>> {
  const run = await adminRunner(engine, db)
  let defs: Array<{ name: string; table: string; create: string }> = []
  switch (engine) {
    case 'sqlite':
      defs = (await run(`SELECT name, tbl_name AS "table", sql AS "create" FROM sqlite_master
        WHERE type = 'index' AND name LIKE 'ix_gts_rt_%'`)) as typeof defs
      break
    case 'postgresql':
      defs = (await run(`SELECT indexname AS name, tablename AS table, indexdef AS create FROM pg_indexes
        WHERE schemaname = current_schema() AND indexname LIKE 'ix_gts_rt_%'`)) as typeof defs
      break
    case 'mysql': {
      const rows =
        (await run(`SELECT index_name AS name, table_name AS tbl, column_name AS col, sub_part AS sub
        FROM information_schema.statistics WHERE table_schema = DATABASE() AND index_name LIKE 'ix_gts_rt_%'`)) as Array<{
          name: string
          tbl: string
          col: string
          sub: number | null
        }>
      defs = rows.map((r) => ({
        name: r.name,
        table: r.tbl,
        create: `CREATE INDEX ${r.name} ON ${r.tbl} (\`${r.col}\`${r.sub ? `(${r.sub})` : ''})`,
      }))
      break
    }
  }
  for (const d of defs)
    await run(engine === 'mysql' ? `DROP INDEX ${d.name} ON ${d.table}` : `DROP INDEX ${d.name}`)
  await run.close()
  progress.note(`dropped ${defs.length} attribute indexes`)
  return async () => {
    const again = await adminRunner(engine, db)
    for (const d of defs) await again(d.create)
    await again.close()
    progress.note(`recreated ${defs.length} attribute indexes`)
  }
}

type Runner = ((text: string, params?: unknown[]) => Promise<unknown[]>) & { close(): Promise<void> }

async function adminRunner(engine: Engine, db: Database): Promise<Runner> {
  switch (engine) {
    case 'sqlite': {
      const raw = new DatabaseSync(db.url.slice('sqlite:///'.length))
      raw.exec('PRAGMA busy_timeout = 30000')
      const f = async (text: string, params: unknown[] = []) =>
        raw.prepare(text).all(...(params as SQLInputValue[])) as unknown[]
      return Object.assign(f, { close: async () => raw.close() })
    }
    case 'postgresql': {
      const c = new pg.Client({ connectionString: db.url })
      await c.connect()
      const f = async (text: string, params: unknown[] = []) =>
        (await c.query(text, params)).rows as unknown[]
      return Object.assign(f, { close: () => c.end() })
    }
    case 'mysql': {
      const c = await createConnection({ ...MYSQL, database: new URL(db.url).pathname.slice(1) })
      const f = async (text: string, params: unknown[] = []) => {
        const [rows] = await c.query(text, params)
        return Array.isArray(rows) ? (rows as unknown[]) : []
      }
      return Object.assign(f, { close: () => c.end() })
    }
  }
}

// ------------------------------------------------------------------ SQL traces and plans

interface LoggedQuery {
  readonly sql: string
  readonly params: unknown[]
}

function readLog(file: string, from: number): { lines: LoggedQuery[]; size: number } {
  let text = ''
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return { lines: [], size: 0 }
  }
  const lines = text
    .slice(from)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LoggedQuery)
  return { lines, size: text.length }
}

const isTxControl = (s: string): boolean => /^(BEGIN|COMMIT|ROLLBACK|START TRANSACTION)/i.test(s.trim())

async function explain(engine: Engine, db: Database, q: LoggedQuery): Promise<string> {
  const params = q.params.map((p) =>
    p && typeof p === 'object' && 'hex' in p ? Buffer.from(String((p as { hex: string }).hex), 'hex') : p,
  )
  const run = await adminRunner(engine, db)
  try {
    switch (engine) {
      case 'sqlite': {
        const rows = (await run(`EXPLAIN QUERY PLAN ${q.sql}`, params)) as Array<{
          id: number
          parent: number
          detail: string
        }>
        const depth = new Map<number, number>([[0, -1]])
        return rows
          .map((row) => {
            const d = (depth.get(row.parent) ?? -1) + 1
            depth.set(row.id, d)
            return `${'  '.repeat(d)}${row.detail}`
          })
          .join('\n')
      }
      case 'postgresql': {
        const rows = await run(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) ${q.sql}`, params)
        return (rows as Array<Record<string, string>>).map((row) => row['QUERY PLAN']).join('\n')
      }
      case 'mysql': {
        const rows = await run(`EXPLAIN ${q.sql}`, params)
        return (rows as Array<Record<string, unknown>>)
          .map(
            (row) =>
              `${row.id} ${row.select_type} table=${row.table} type=${row.type} key=${row.key ?? '-'} rows=${row.rows}${
                row.Extra ? ` (${row.Extra})` : ''
              }`,
          )
          .join('\n')
      }
    }
  } finally {
    await run.close()
  }
}

function fullScan(engine: Engine, plan: string): boolean {
  switch (engine) {
    case 'sqlite':
      // "SCAN t", and "SCAN r USING INDEX …" (a walk of a whole index): both read every row.
      return plan.split('\n').some((l) => /\bSCAN (r|t|h|th|resource|resource_history|rt_\w+)\b/.test(l))
    case 'postgresql':
      return /Seq Scan on (resource|resource_history|rt_\w+)\b/.test(plan)
    case 'mysql':
      return plan
        .split('\n')
        .some((l) => /table=(r|t|h|th|resource|resource_history|rt_\w+) type=(ALL|index)\b/.test(l))
  }
}

/** Restarts the server with the SQL log, runs each request once and EXPLAINs the search SQL. */
async function traceAndExplain(
  engine: Engine,
  db: Database,
  size: number,
  o: ResourceBenchOptions,
  ids: readonly string[],
  images: readonly string[],
): Promise<{ queries: QueryTrace[]; plans: PlanRow[] }> {
  const logFile = join(db.dir, 'sql.log')
  writeFileSync(logFile, '')
  const server = await startServer(db, logFile)
  const client = new HttpClient(server.baseUrl, 1)
  const queries: QueryTrace[] = []
  const plans: PlanRow[] = []
  try {
    const r = rng(o.seed + 7)
    const requests: Array<{ label: string; req: Req; search?: string }> = [
      { label: 'GET resource', req: { method: 'GET', path: `/v1/resource/${TYPE}/${ids[pick(r, size)]}` } },
      { label: 'GET list ?limit=100', req: { method: 'GET', path: `/v1/resource/${TYPE}?limit=100` } },
      {
        label: 'GET generic list ?details=true&limit=100',
        req: { method: 'GET', path: '/v1/resource/generic?details=true&limit=100' },
      },
      ...SEARCHES.map((s) => ({
        label: `search ${s.name}`,
        req: s.make(r, size, ids, images),
        search: s.name,
      })),
    ]
    let offset = 0
    // Warm-up (type cache, connections): its statements are not counted.
    await client.request(requests[0].req)
    offset = readLog(logFile, 0).size
    for (const { label, req, search } of requests) {
      const res = await client.request(req)
      if (res.status !== 200) throw new Error(`${label}: HTTP ${res.status}`)
      const { lines, size: end } = readLog(logFile, offset)
      offset = end
      queries.push({ request: label, statements: lines.length, sql: lines.map((l) => l.sql) })
      if (search && o.explain) {
        const main = lines.find((l) => !isTxControl(l.sql) && /FROM \(/.test(l.sql))
        if (!main) continue
        const plan = await explain(engine, db, main)
        plans.push({ search, sql: main.sql, params: main.params, plan, fullScan: fullScan(engine, plan) })
      }
    }
  } finally {
    client.close()
    await server.stop()
  }
  if (o.explain && o.compareIndexes) {
    const recreate = await dropAttributeIndexes(engine, db)
    for (const p of [...plans]) {
      const plan = await explain(engine, db, { sql: p.sql, params: [...p.params] })
      plans.push({ ...p, search: `${p.search} ${NO_INDEX}`, plan, fullScan: fullScan(engine, plan) })
    }
    await recreate()
  }
  return { queries, plans }
}

// ------------------------------------------------------------------ driver

export async function benchEngine(engine: Engine, o: ResourceBenchOptions): Promise<EngineResult> {
  const db = await createDatabase(engine)
  const result: EngineResult = {
    engine,
    creates: [],
    patches: [],
    shows: [],
    searches: [],
    queries: [],
    plans: [],
  }
  try {
    const server = await startServer(db)
    const client = new HttpClient(server.baseUrl, o.concurrency)
    const ids: string[] = []
    const images: string[] = []
    try {
      const rt = await client.json('POST', '/v1/resource_type', { name: TYPE, attributes: ATTRIBUTES })
      if (rt.status !== 201) throw new Error(`resource type: HTTP ${rt.status} ${JSON.stringify(rt.json)}`)
      let have = 0
      for (const size of o.sizes) {
        result.creates.push(await createResources(client, have, size, o, ids, images))
        result.patches.push(await patchResources(client, have, size, o, ids))
        have = size
        if (engine === 'postgresql' && o.analyze) {
          // What autovacuum does on a normal server (off on some test servers): without
          // statistics the planner guesses 0.5% matches and hash-joins a scan of `resource`.
          const run = await adminRunner(engine, db)
          await run('ANALYZE')
          await run.close()
        }
        result.shows.push(await showResources(client, size, o, ids))
        result.searches.push(...(await searchLatencies(client, size, o, ids, images)))
        if (o.compareIndexes) {
          const recreate = await dropAttributeIndexes(engine, db)
          const without = await searchLatencies(client, size, o, ids, images)
          result.searches.push(...without.map((x) => ({ ...x, name: `${x.name} ${NO_INDEX}` })))
          await recreate()
        }
      }
    } finally {
      client.close()
      await server.stop()
    }
    const trace = await traceAndExplain(engine, db, o.sizes[o.sizes.length - 1], o, ids, images)
    result.queries.push(...trace.queries)
    result.plans.push(...trace.plans)
  } finally {
    await db.drop()
  }
  return result
}

export async function benchResources(o: ResourceBenchOptions): Promise<EngineResult[]> {
  const out: EngineResult[] = []
  for (const engine of o.engines) out.push(await benchEngine(engine, o))
  return out
}

/** One row per engine × search: latency at each size and the ratio last/first. */
export function searchRows(results: readonly EngineResult[]): Array<Record<string, string | number>> {
  const rows: Array<Record<string, string | number>> = []
  for (const r of results) {
    const sizes = [...new Set(r.searches.map((s) => s.size))]
    for (const name of new Set(r.searches.map((s) => s.name))) {
      const row: Record<string, string | number> = { engine: r.engine, search: name }
      for (const size of sizes) {
        const s = r.searches.find((x) => x.name === name && x.size === size)
        row[`p50@${size}`] = s ? +s.p50.toFixed(2) : ''
        row[`p95@${size}`] = s ? +s.p95.toFixed(2) : ''
        row[`rows@${size}`] = s ? +s.rows.toFixed(1) : ''
      }
      const first = r.searches.find((x) => x.name === name && x.size === sizes[0])
      const last = r.searches.find((x) => x.name === name && x.size === sizes[sizes.length - 1])
      if (first && last && sizes.length > 1) row.ratio = +(last.p50 / first.p50).toFixed(2)
      const plan = r.plans.find((p) => p.search === name)
      if (plan) row.fullScan = plan.fullScan ? 'YES' : 'no'
      rows.push(row)
    }
  }
  return rows
}

function table(rows: ReadonlyArray<Record<string, string | number>>): string {
  if (rows.length === 0) return ''
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))]
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)))
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(width[i] as number)).join('  ')
  return [
    line(cols),
    line(width.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(cols.map((c) => String(r[c] ?? '')))),
  ].join('\n')
}

export function report(results: readonly EngineResult[]): string {
  const out: string[] = []
  const throughput = results.flatMap((r) => [
    ...r.creates.map((c) => ({
      engine: r.engine,
      what: `create ${c.from}..${c.to}`,
      'per s': +c.perSecond.toFixed(0),
      errors: c.errors,
    })),
    ...r.patches.map((p) => ({
      engine: r.engine,
      what: `patch ${p.count} (@${p.size})`,
      'per s': +p.perSecond.toFixed(0),
      errors: p.errors,
    })),
    ...r.shows.map((s) => ({
      engine: r.engine,
      what: `show @${s.size} (p50 ${s.p50.toFixed(2)} ms)`,
      'per s': +s.perSecond.toFixed(0),
      errors: s.errors,
    })),
  ])
  out.push(table(throughput), '', table(searchRows(results)), '')
  out.push(
    table(
      results.flatMap((r) =>
        r.queries.map((q) => ({ engine: r.engine, request: q.request, statements: q.statements })),
      ),
    ),
  )
  for (const r of results) {
    for (const p of r.plans)
      out.push('', `--- ${r.engine}: ${p.search}${p.fullScan ? '  [FULL SCAN]' : ''}`, p.plan)
  }
  return out.join('\n')
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      engines: { type: 'string', default: 'sqlite,postgresql' },
      scale: { type: 'string', default: '1' },
      sizes: { type: 'string', default: '10000,100000' },
      concurrency: { type: 'string', default: '16' },
      searches: { type: 'string', default: '100' },
      shows: { type: 'string', default: '5000' },
      'max-seconds': { type: 'string', default: '20' },
      seed: { type: 'string', default: '42' },
      'no-explain': { type: 'boolean', default: false },
      'no-index-compare': { type: 'boolean', default: false },
      'no-analyze': { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    process.stdout.write(
      'node bench/resources.ts [--engines sqlite,postgresql,mysql] [--scale F] [--sizes 10000,100000]\n' +
        '  [--concurrency 16] [--searches 100] [--shows 5000] [--max-seconds 20] [--seed 42] [--no-explain]\n' +
        '  [--no-index-compare] [--no-analyze] [--out FILE]\n',
    )
    return
  }
  const scale = Number(values.scale)
  const o: ResourceBenchOptions = {
    engines: values.engines.split(',').map((e) => e.trim()) as Engine[],
    sizes: values.sizes.split(',').map((s) => Math.max(200, Math.round((Number(s) * scale) / 10) * 10)),
    concurrency: Number(values.concurrency),
    searches: Math.max(5, Math.round(Number(values.searches) * Math.min(1, scale * 2))),
    shows: Math.max(100, Math.round(Number(values.shows) * scale)),
    maxSeconds: Number(values['max-seconds']),
    seed: Number(values.seed),
    explain: !values['no-explain'],
    compareIndexes: !values['no-index-compare'],
    analyze: !values['no-analyze'],
  }
  const results = await benchResources(o)
  process.stdout.write(`${report(results)}\n`)
  const file =
    values.out ??
    join(REPO, 'bench/results', `resources-${new Date().toISOString().replaceAll(':', '-')}.json`)
  try {
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, JSON.stringify({ options: o, results }, null, 2))
    process.stderr.write(`results: ${file}\n`)
  } catch {
    process.stdout.write(`${JSON.stringify({ options: o, results })}\n`)
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
