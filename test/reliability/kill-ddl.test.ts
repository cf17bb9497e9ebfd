/**
 * Resource type DDL under kill -9: the API process (a real child process) is killed during
 * `POST/PATCH/DELETE /v1/resource_type`, on SQLite, PostgreSQL and MariaDB, then restarted;
 * its start-up recovery (with `[indexer] resource_type_ddl_timeout = 0`: nothing else runs)
 * must leave no type in a transient state, every acknowledged type usable (a resource of it can
 * be created) with its acknowledged attributes, and no type half there (its two tables exist iff
 * its row is active, with the row's attribute columns).
 *
 * Two kinds of kills: at each DDL step (GNOCCHI_TS_FAULT, the process SIGKILLs itself there),
 * and kill -9 from outside at random (seeded) moments of a create/patch/delete workload.
 * Fast by default; `RELIABILITY_LONG=1` runs many more random kills.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, it } from 'node:test'
import { sql } from 'kysely'
import { SqlIndexer } from '../../src/indexer/sql/sql-indexer.ts'
import {
  createMysqlDatabase,
  createPgDatabase,
  serverAvailable,
  type TestDatabase,
} from '../../src/indexer/sql/test-databases.ts'
import { mulberry32 } from '../../src/testing/prng.ts'
import { freePort } from '../_support/processes.ts'

const ROOT = resolve(import.meta.dirname, '..', '..')
const NODE = join(ROOT, 'node_modules', '.bin', 'node')
const AUTH = { authorization: 'basic YWRtaW46' }
const LONG = process.env.RELIABILITY_LONG === '1'
const RANDOM_KILLS = LONG ? 25 : 1
const SEED = 20241217

/** Every crash point of the DDL paths (src/indexer/sql/sql-indexer.ts). */
const FAULTS = [
  'create:after-row',
  'create:after-table',
  'create:after-tables',
  'update:after-state',
  'update:after-column',
  'update:after-table',
  'update:after-ddl',
  'delete:after-state',
  'delete:after-table',
  'delete:after-drop',
] as const

/**
 * Fast variant: PostgreSQL commits each step's DDL atomically as SQLite does, so it runs only
 * the points between transactions; MySQL (DDL auto-commits per statement) and SQLite run all.
 */
const PG_FAST = new Set([
  'create:after-tables',
  'update:after-table',
  'update:after-ddl',
  'delete:after-state',
  'delete:after-drop',
])
const faultsFor = (engine: string) =>
  LONG || engine !== 'postgresql' ? FAULTS : FAULTS.filter((f) => PG_FAST.has(f))

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Attribute names of a type, sorted; null: the type does not exist. */
type Shape = string[] | null
const key = (s: Shape) => (s === null ? 'absent' : s.join(','))

class Server {
  child: ChildProcess | undefined
  readonly log: string[] = []
  kills = 0
  readonly conf: string
  readonly port: number
  constructor(conf: string, port: number) {
    this.conf = conf
    this.port = port
  }
  async start(fault?: string): Promise<void> {
    const env = { ...process.env, GNOCCHI_TS_FAULT: fault ? `resource-type-ddl:${fault}` : '' }
    const args = ['src/cli/gnocchi-api.ts', '--config-file', this.conf, '--skip-archive-policies-creation']
    const child = spawn(NODE, [...args, '--sacks-number', '2'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const keep = (d: Buffer) => {
      this.log.push(String(d))
      if (this.log.length > 100) this.log.shift()
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    this.child = child
    for (let i = 0; i < 400; i++) {
      try {
        const r = await fetch(`http://127.0.0.1:${this.port}/`, { signal: AbortSignal.timeout(1000) })
        await r.text()
        if (r.status < 500) return
      } catch {}
      if (child.exitCode !== null) break
      await sleep(25)
    }
    throw new Error(`server did not start:\n${this.log.join('')}`)
  }
  /** Waits for the process to be gone (a fault point kills it on its own). */
  async kill(): Promise<void> {
    const child = this.child
    if (!child) return
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGKILL')
      await exited
    }
    this.kills++
  }
  async http(method: string, path: string, body?: unknown, type = 'application/json') {
    const res = await fetch(`http://127.0.0.1:${this.port}${path}`, {
      method,
      headers: { ...AUTH, ...(body === undefined ? {} : { 'content-type': type }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    })
    const text = await res.text()
    return { status: res.status, json: text ? JSON.parse(text) : undefined }
  }
}

/** What may be found for each type after recovery: the acknowledged shape, or either side of an unknown outcome. */
class Model {
  readonly possible = new Map<string, Set<string>>()
  readonly shapes = new Map<string, Shape>()
  acked = 0
  unknown = 0
  expect(name: string, ...shapes: Shape[]): void {
    this.possible.set(name, new Set(shapes.map(key)))
  }
  current(name: string): Shape {
    return this.shapes.get(name) ?? null
  }
}

const STR = { type: 'string', required: false, max_length: 16 }

/** One DDL request; records its possible outcomes in the model. false: the server is gone. */
async function ddl(srv: Server, m: Model, name: string, op: 'create' | 'update' | 'delete', n: number) {
  const before = m.current(name)
  let after: Shape
  let req: Promise<{ status: number }>
  const partial: Shape[] = []
  if (op === 'create') {
    after = ['a', 'b']
    req = srv.http('POST', '/v1/resource_type', {
      name,
      attributes: { a: STR, b: { ...STR, required: true } },
    })
  } else if (op === 'update') {
    const drop = (before ?? []).find((a) => a !== 'b')
    const add = `c${n}`
    after = [...(before ?? []).filter((a) => a !== drop), add].sort()
    partial.push((before ?? []).filter((a) => a !== drop))
    const patch: unknown[] = [
      {
        op: 'add',
        path: `/attributes/${add}`,
        value: { ...STR, required: n % 2 === 0, options: { fill: 'f' } },
      },
    ]
    if (drop) patch.unshift({ op: 'remove', path: `/attributes/${drop}` })
    req = srv.http('PATCH', `/v1/resource_type/${name}`, patch, 'application/json-patch+json')
  } else {
    after = null
    req = srv.http('DELETE', `/v1/resource_type/${name}`)
  }
  // A cut PATCH is recovered to before, or with the removal it had begun finished (its
  // additions undone, resource-type-recovery.ts); after if the row was updated.
  m.expect(name, before, after, ...partial)
  try {
    const { status } = await req
    assert.ok(status < 300, `${op} ${name}: ${status}`)
    m.expect(name, after)
    m.shapes.set(name, after)
    m.acked++
    return true
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e
    m.unknown++
    return false
  }
}

interface Found {
  name: string
  state: string
  tablename: string
  attributes: string[]
}

/** Invariants after recovery, checked over HTTP and in the database; collapses the model to what is. */
async function verify(srv: Server, m: Model, url: string): Promise<number> {
  const types = (await srv.http('GET', '/v1/resource_type')).json as Array<{
    name: string
    state: string
    attributes: Record<string, { required: boolean }>
  }>
  const transient = types.filter((t) => t.state !== 'active')
  const ix = new SqlIndexer({ url })
  try {
    const rows: Found[] = (await ix.listResourceTypes()).map((t) => ({
      name: t.name,
      state: t.state,
      tablename: t.tablename,
      attributes: Object.keys(t.attributes).sort(),
    }))
    const tables = await tableColumns(ix)
    for (const rt of rows.filter((r) => r.name !== 'generic')) {
      for (const t of [rt.tablename, `${rt.tablename}_history`]) {
        assert.ok(tables.has(t), `${rt.name} (${rt.state}) lacks ${t}`)
        assert.deepEqual(tables.get(t), rt.attributes, `${t} columns vs ${rt.name}'s attributes`)
      }
    }
    const owned = new Set(rows.flatMap((r) => [r.tablename, `${r.tablename}_history`]))
    for (const t of tables.keys()) assert.ok(owned.has(t), `table ${t} has no resource type row`)
  } finally {
    await ix.close()
  }
  assert.deepEqual(
    transient.map((t) => [t.name, t.state]),
    [],
    'types left in a transient or error state',
  )
  const seen = new Map(types.map((t) => [t.name, t]))
  for (const [name, possible] of m.possible) {
    const t = seen.get(name)
    const shape: Shape = t ? Object.keys(t.attributes).sort() : null
    assert.ok(possible.has(key(shape)), `${name}: found ${key(shape)}, expected one of ${[...possible]}`)
    m.expect(name, shape)
    m.shapes.set(name, shape)
    if (!t) continue
    const attrs = Object.fromEntries(
      Object.entries(t.attributes)
        .filter(([, a]) => a.required)
        .map(([a]) => [a, 'v']),
    )
    const id = randomUUID()
    const r = await srv.http('POST', `/v1/resource/${name}`, { id, ...attrs })
    assert.equal(r.status, 201, `resource of ${name}: ${JSON.stringify(r.json)}`)
    // Deleted again (with its history) so that the type stays deletable by the workload.
    assert.equal((await srv.http('DELETE', `/v1/resource/${name}/${id}`)).status, 204)
  }
  return transient.length
}

/** rt_* tables → their attribute columns (sorted). */
async function tableColumns(ix: SqlIndexer): Promise<Map<string, string[]>> {
  const q =
    ix.engine.dialect.name === 'sqlite'
      ? sql<{ t: string; c: string }>`SELECT m.name AS t, p.name AS c FROM sqlite_master m
          JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name LIKE 'rt\\_%' ESCAPE '\\'`
      : sql<{ t: string; c: string }>`SELECT table_name AS t, column_name AS c FROM information_schema.columns
          WHERE table_schema = ${sql.raw(ix.engine.dialect.name === 'mysql' ? 'DATABASE()' : 'current_schema()')}
          AND table_name LIKE 'rt\\_%'`
  const out = new Map<string, string[]>()
  for (const { t, c } of (await q.execute(ix.engine.db)).rows) {
    const cols = out.get(t) ?? []
    if (c !== 'id' && c !== 'revision') cols.push(c)
    out.set(t, cols)
  }
  for (const cols of out.values()) cols.sort()
  return out
}

interface Figures {
  kills: number
  acked: number
  unknown: number
  types: number
  transientLeft: number
}

async function run(engine: string, url: string): Promise<Figures> {
  const dir = await mkdtemp(join(tmpdir(), 'gnocchi-kill-ddl-'))
  const port = await freePort()
  const conf = join(dir, 'gnocchi.conf')
  await writeFile(
    conf,
    `[api]\nhost = 127.0.0.1\nport = ${port}\nworkers = 1\n[storage]\nfile_basepath = ${dir}\n[indexer]\nurl = ${url}\n` +
      'resource_type_ddl_timeout = 0\n[metricd]\nmetric_processing_delay = 60\nmetric_cleanup_delay = 3600\n' +
      'metric_reporting_delay = -1\n',
  )
  const srv = new Server(conf, port)
  const m = new Model()
  let transientLeft = 0
  let n = 0
  try {
    // Kills at each DDL step: the server dies inside the request, the next start recovers.
    const faults = faultsFor(engine)
    await srv.start(faults[0])
    for (const [i, fault] of faults.entries()) {
      if (i > 0) await srv.start(fault)
      transientLeft += await verify(srv, m, url)
      const name = `f${i}`
      const [op] = fault.split(':') as ['create' | 'update' | 'delete']
      if (op !== 'create') assert.ok(await ddl(srv, m, name, 'create', n++), `set-up create of ${name}`)
      assert.equal(await ddl(srv, m, name, op, n++), false, `${fault} did not kill the server`)
      await srv.kill()
    }
    // kill -9 from outside at random moments of a workload, two clients on types of their own.
    const rand = mulberry32(SEED + engine.length)
    for (let k = 0; k < RANDOM_KILLS; k++) {
      await srv.start()
      transientLeft += await verify(srv, m, url)
      let alive = true
      const worker = async (w: number) => {
        while (alive) {
          const mine = [...m.shapes].filter(([t, s]) => t.startsWith(`w${w}_`) && s !== null).map(([t]) => t)
          const r = rand()
          const name =
            mine.length === 0 || r < 0.4 ? `w${w}_${n}` : (mine[Math.floor(rand() * mine.length)] as string)
          const op = !m.shapes.get(name) ? 'create' : r < 0.75 ? 'update' : 'delete'
          if (!(await ddl(srv, m, name, op, n++))) return
        }
      }
      const load = [worker(0), worker(1)]
      await sleep(150 + rand() * 600)
      alive = false
      await srv.kill()
      await Promise.all(load)
    }
    await srv.start()
    transientLeft += await verify(srv, m, url)
    const types = [...m.shapes.values()].filter((s) => s !== null).length
    return { kills: srv.kills, acked: m.acked, unknown: m.unknown, types, transientLeft }
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- server log ---\n${srv.log.join('').slice(-4000)}`, {
      cause: e,
    })
  } finally {
    await srv.kill()
    await rm(dir, { recursive: true, force: true })
  }
}

function report(engine: string, f: Figures): void {
  process.stdout.write(
    `# kill-ddl ${engine}: ${f.kills} kills, ${f.acked} DDL requests acknowledged, ${f.unknown} cut, ` +
      `${f.types} types at the end, ${f.transientLeft} left transient after recovery\n`,
  )
}

describe('resource type DDL under kill -9', {
  timeout: LONG ? 1_800_000 : 120_000,
  concurrency: true,
}, () => {
  it('sqlite', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gnocchi-kill-ddl-db-'))
    try {
      report('sqlite', await run('sqlite', `sqlite:///${dir}/gnocchi.sqlite`))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
  for (const engine of ['postgresql', 'mysql'] as const) {
    it(engine, async (t) => {
      if (!(await serverAvailable(engine))) return t.skip(`${engine} server unreachable`)
      const db: TestDatabase =
        engine === 'postgresql' ? await createPgDatabase() : await createMysqlDatabase()
      try {
        report(engine, await run(engine, db.url))
      } finally {
        await db.drop()
      }
    })
  }
})
