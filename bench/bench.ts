/**
 * `npm run bench`: HTTP benchmarks of any Gnocchi v1 endpoint, and `--compare`: Gnocchi.ts
 * against the real Gnocchi 4.4.2 anchor, one after the other, as ratios. See
 * docs/benchmarks.md ("HTTP benchmarks").
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { HttpClient, stderrProgress } from './http/client.ts'
import { ratios, ratioTable, targetTable, workersTable } from './http/report.ts'
import { externalTarget, startAnchor, startOurs, type Target } from './http/servers.ts'
import { Bench, type WorkloadResult } from './http/workloads.ts'

const HELP = `Usage: npm run bench -- [options]
       npm run bench -- promql [--series N] [--hours H] [--runs R]   (bench/promql.ts)

Targets (default: ours on a fresh temp data dir):
  --compare                 ours, then the real Gnocchi 4.4.2 anchor; prints ours/anchor ratios
  --api-workers LIST        ours once per [api] workers count, e.g. 1,2; prints ratios against the
                            first (servers unpinned: the workers share every CPU; issue #22)
  --target ours|anchor      benchmark only this server (started and stopped by the bench)
  --url URL                 benchmark a running server instead (nothing is started or stopped)
  --pid PID                 with --url: a server process to measure (repeatable; its tree is included)

Sizes and load:
  --scale F                 multiply workload sizes (default 1 = the documented sizes; 0.1 = quick)
  --concurrency N           requests in flight (default 16)
  --max-seconds S           time limit per workload (default 60; setup steps are not limited)
  --min-seconds S           send the requests of the repeatable workloads (creations, shows, pushes,
                            reads, aggregates) again until S seconds (default 0: once; with
                            --api-workers: --max-seconds, so that each workload runs that long)
  --only REGEX              only the workload groups matching (metric|push|e2e|drain|read|aggregates|resource|search|groupby)
  --only steady             instead: metricd in the steady state in-process (bench/metricd-steady.ts; with
                            --compare against upstream's metricd code), options in --steady-args "…"
  --seed N                  PRNG seed for values (default 42)

Placement:
  --server-cpus LIST        taskset CPU list for the servers (default: upper half of the CPUs, "1" on 2 cores; "" = no pinning)
  --client-cpus LIST        taskset CPU list for this load generator (default: the other CPUs)

Ours:
  --ours-set S.O=VALUE      extra --set for bin/gnocchi-api and bin/gnocchi-metricd (repeatable)
  --keep-data               keep our temp data directory
  --ours-node-options=STR   NODE_OPTIONS for our processes (e.g. --ours-node-options="--cpu-prof --cpu-prof-dir=/tmp/prof")

Anchor (${'/work/shared/anchors/gnocchi'}):
  --anchor-port N           API port (default 8041; another free one if taken)
  --anchor-reuse            benchmark an anchor stack that is already running, leave it running
  --no-anchor-fresh         do not run stop.sh --purge before start.sh (keeps old DB and data)
  --numpy-shim              start it with GNOCCHI_ANCHOR_NUMPY_SHIM=1 (needed for percentile methods)

Other suites:
  --objstore                the s3/swift drivers in-process, ours vs upstream's (bench/objstore.ts --help)
  --s3-clients              small-object PUT/GET/LIST/DELETE: our S3 client, @aws-sdk/client-s3, aws4fetch

Output:
  --out FILE                results JSON (default bench/results/<timestamp>.json)
`

// `npm run bench -- promql [options]`: the PromQL benchmark against a real Prometheus (bench/promql.ts).
if (process.argv[2] === 'promql') {
  await import('./promql.ts')
  process.exit(0)
}
if (process.argv.includes('--objstore') || process.argv.includes('--s3-clients')) {
  // The object-store suites, in-process: bench/objstore.ts (ours and upstream's drivers),
  // bench/s3-clients.ts (our S3 client, the AWS SDK, aws4fetch).
  await import(process.argv.includes('--objstore') ? './objstore.ts' : './s3-clients.ts')
  process.exit(0)
}

const { values: v } = parseArgs({
  options: {
    compare: { type: 'boolean' },
    'api-workers': { type: 'string' },
    target: { type: 'string' },
    url: { type: 'string' },
    pid: { type: 'string', multiple: true },
    scale: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '16' },
    'max-seconds': { type: 'string', default: '60' },
    'min-seconds': { type: 'string' },
    only: { type: 'string' },
    'steady-args': { type: 'string', default: '' },
    seed: { type: 'string', default: '42' },
    'server-cpus': { type: 'string' },
    'client-cpus': { type: 'string' },
    'ours-set': { type: 'string', multiple: true },
    'keep-data': { type: 'boolean' },
    'ours-node-options': { type: 'string' },
    'anchor-port': { type: 'string', default: '8041' },
    'anchor-reuse': { type: 'boolean' },
    'no-anchor-fresh': { type: 'boolean' },
    'numpy-shim': { type: 'boolean' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (v.help) {
  process.stdout.write(HELP)
  process.exit(0)
}

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..')

if (v.only === 'steady') {
  // Not an HTTP workload: the processing path in-process, its own report (docs/benchmarks.md).
  const args = [join(REPO, 'bench', 'metricd-steady.ts'), ...(v.compare ? ['--compare'] : [])]
  args.push(...String(v['steady-args']).split(' ').filter(Boolean))
  try {
    execFileSync(process.execPath, args, { stdio: 'inherit' })
    process.exit(0)
  } catch {
    process.exit(1)
  }
}
const ncpu = availableParallelism()
const half = Math.floor(ncpu / 2)
const range = (a: number, b: number) => (a === b ? `${a}` : `${a}-${b}`)
const workerCounts = v['api-workers']?.split(',').map(Number)
if (workerCounts?.some((n) => !(n >= 1))) throw new Error('--api-workers: a list of counts ≥ 1')
// Workers scale over every CPU: neither side is pinned then (the client's CPU is reported).
const pin = workerCounts === undefined
const serverCpus = v['server-cpus'] ?? (pin && ncpu >= 2 ? range(half, ncpu - 1) : '')
const clientCpus =
  v['client-cpus'] ?? (pin && ncpu >= 2 && v['server-cpus'] === undefined ? range(0, half - 1) : '')
const scale = Number(v.scale)
if (!(scale > 0)) throw new Error('--scale must be > 0')

if (clientCpus) {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', clientCpus, String(process.pid)], { stdio: 'ignore' })
  } catch {
    process.stderr.write(`[bench] could not pin the load generator to CPUs ${clientCpus}\n`)
  }
}

type TargetName = 'ours' | 'anchor' | 'external' | `ours-w${number}`
const names: TargetName[] = v.url
  ? ['external']
  : workerCounts
    ? workerCounts.map((n) => `ours-w${n}` as const)
    : v.compare
      ? ['ours', 'anchor']
      : [(v.target as 'ours' | 'anchor' | undefined) ?? 'ours']

const progress = stderrProgress()
const runTag = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')
const active = new Set<Target>()

async function stopAll(): Promise<void> {
  for (const t of [...active]) {
    active.delete(t)
    try {
      await t.stop()
    } catch (e) {
      process.stderr.write(`[bench] stopping ${t.name}: ${e}\n`)
    }
  }
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    process.stderr.write(`\n[bench] ${sig}: stopping the servers started by the bench\n`)
    stopAll().finally(() => process.exit(130))
  })
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
  } catch {
    return undefined
  }
}

const outFile = v.out ?? join(REPO, 'bench/results', `${runTag}.json`)
const doc: {
  tool: string
  startedAt: string
  finishedAt?: string
  options: Record<string, unknown>
  machine: Record<string, unknown>
  targets: Record<string, { info: Record<string, unknown>; results: WorkloadResult[]; error?: string }>
  ratios?: Record<string, unknown>[]
} = {
  tool: 'gnocchi-ts bench/bench.ts (HTTP)',
  startedAt: new Date().toISOString(),
  options: { ...v, scale, serverCpus, clientCpus, runTag },
  machine: {
    cpus: ncpu,
    cpuModel: cpus()[0]?.model,
    node: process.version,
    loadavgAtStart: loadavg(),
    gitCommit: gitCommit(),
  },
  targets: {},
}

function save(): void {
  mkdirSync(dirname(outFile), { recursive: true })
  writeFileSync(outFile, `${JSON.stringify(doc, null, 2)}\n`)
}

let failed = false
for (const name of names) {
  let target: Target | undefined
  const entry: { info: Record<string, unknown>; results: WorkloadResult[]; error?: string } = {
    info: {},
    results: [],
  }
  doc.targets[name] = entry
  try {
    const workers = /^ours-w(\d+)$/.exec(name)?.[1]
    target =
      name === 'ours' || workers !== undefined
        ? await startOurs({
            cpus: serverCpus,
            sets: [...(v['ours-set'] ?? []), ...(workers ? [`api.workers=${workers}`] : [])],
            keepData: v['keep-data'] === true,
            nodeOptions: v['ours-node-options'],
          })
        : name === 'anchor'
          ? await startAnchor({
              cpus: serverCpus,
              port: Number(v['anchor-port']),
              fresh: !v['no-anchor-fresh'],
              reuse: v['anchor-reuse'] === true,
              numpyShim: v['numpy-shim'] === true,
            })
          : externalTarget(v.url as string, (v.pid ?? []).map(Number))
    active.add(target)
    entry.info = target.info
    const concurrency = Number(v.concurrency)
    const client = new HttpClient(target.baseUrl, concurrency)
    const bench = new Bench(
      target,
      client,
      {
        scale,
        concurrency,
        maxSeconds: Number(v['max-seconds']),
        // A ~1 s workload measures each new worker's start-up (connections, JIT), not its rate.
        minSeconds: Number(v['min-seconds'] ?? (workerCounts ? v['max-seconds'] : 0)),
        seed: Number(v.seed),
        only: v.only ? new RegExp(v.only, 'i') : undefined,
        settleTimeoutS: 900,
      },
      progress,
      // Per target with --api-workers: both runs may share an external indexer (--ours-set indexer.url).
      workerCounts ? `${runTag}-${name}` : runTag,
    )
    entry.results = bench.results
    entry.info = { ...target.info, archivePolicy: bench.policy }
    try {
      await bench.run()
    } finally {
      client.close()
      save()
    }
  } catch (e) {
    failed = true
    entry.error = String((e as Error)?.stack ?? e)
    process.stderr.write(`[bench] ${name}: ${entry.error}\n`)
  } finally {
    if (target) {
      active.delete(target)
      await target.stop()
    }
  }
  save()
}

doc.finishedAt = new Date().toISOString()
doc.machine.loadavgAtEnd = loadavg()
const out: string[] = [
  `# Gnocchi HTTP benchmarks, scale ${scale}, concurrency ${v.concurrency}, server CPUs ${serverCpus || 'any'}, client CPUs ${clientCpus || 'any'}`,
]
for (const [name, t] of Object.entries(doc.targets)) out.push('', targetTable(name, t.results))
if (doc.targets.ours && doc.targets.anchor) {
  const rs = ratios(doc.targets.ours.results, doc.targets.anchor.results)
  doc.ratios = rs.map(({ ours, anchor, ...r }) => ({ ...r, ours: ours?.status, anchor: anchor?.status }))
  out.push('', ratioTable(rs))
}
if (workerCounts && workerCounts.length > 1) {
  const [first, ...rest] = workerCounts
  for (const n of rest) {
    const base = doc.targets[`ours-w${first}`]?.results ?? []
    const rs = ratios(doc.targets[`ours-w${n}`]?.results ?? [], base)
    doc.ratios = [
      ...(doc.ratios ?? []),
      ...rs.map((r) => ({ workload: r.workload, workers: n, vs: first, wall: r.wall })),
    ]
    out.push('', workersTable(n, first as number, rs))
  }
}
save()
process.stdout.write(`${out.join('\n')}\n\nresults: ${outFile}\n`)
process.exit(failed ? 1 : 0)
