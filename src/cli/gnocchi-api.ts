import cluster from 'node:cluster'
import { COMMON_HELP, exitOnSignals, fail, parseCommand, retryWhileUnavailable } from './_common.ts'
import { startApi } from './api-runtime.ts'
import { buildRuntime, openRuntime } from './app.ts'
import { notifyReady, Supervisor, workerIndex } from './supervisor.ts'

const HELP = `Usage: gnocchi-api [options]

Serves the Gnocchi REST API v1 (default 127.0.0.1:8041 for the embedded deployment, [api] host
and port otherwise). Unless disabled, metricd runs in the same process ([api] embedded_metricd,
default true) and a new data directory is initialised on first start ([api] auto_upgrade,
default true; the same steps as gnocchi-upgrade, default archive policies included).
With [api] workers = N > 1 (default: the number of CPUs), N worker processes serve the port;
the embedded metricd runs in worker 0 only. SIGHUP re-reads the configuration and replaces
the workers one at a time; SIGTERM stops accepting, finishes the requests in flight and exits.

Options:
  --host HOST                        Override [api] host.
  --port PORT                        Override [api] port.
  --embedded-metricd                 Run metricd in this process (default).
  --no-embedded-metricd              Do not; run gnocchi-metricd separately.
  --no-upgrade                       Do not initialise a new data directory.
  --skip-archive-policies-creation   Initialise without the default archive policies.
  --sacks-number N                   Sacks for a new data directory (default 128).

${COMMON_HELP}`

const { values, config, log, reloadConfig } = parseCommand(
  process.argv.slice(2),
  {
    host: { type: 'string' },
    port: { type: 'string' },
    'embedded-metricd': { type: 'boolean' },
    'no-embedded-metricd': { type: 'boolean' },
    'no-upgrade': { type: 'boolean' },
    'skip-archive-policies-creation': { type: 'boolean' },
    'sacks-number': { type: 'string' },
  },
  HELP,
  (v) => {
    const o: string[] = []
    if (v.host) o.push(`api.host=${v.host}`)
    if (v.port) o.push(`api.port=${v.port}`)
    if (v['embedded-metricd']) o.push('api.embedded_metricd=true')
    if (v['no-embedded-metricd']) o.push('api.embedded_metricd=false')
    if (v['no-upgrade']) o.push('api.auto_upgrade=false')
    return o
  },
)

const upgrade = config.api.autoUpgrade
  ? {
      skipArchivePoliciesCreation: values['skip-archive-policies-creation'] === true,
      sacksNumber: values['sacks-number'] ? Number(values['sacks-number']) : 128,
    }
  : false

if (cluster.isPrimary && config.api.workers > 1) {
  // The primary initialises the data directory once, then only supervises: the workers
  // re-read the same command line and configuration files themselves.
  try {
    await retryWhileUnavailable(log, 'gnocchi-api start', async () => {
      const runtime = buildRuntime(config, log)
      try {
        await openRuntime(runtime, upgrade)
      } finally {
        await runtime.close()
      }
    })
    let metricdSlotNotified = false
    const supervisor: Supervisor = new Supervisor({
      name: 'gnocchi-api',
      log,
      plan: () => ({ workers: reloadConfig().api.workers }),
      // Measures accepted by any worker wake the embedded metricd of worker 0 (the file
      // incoming driver has no cross-process notification of its own).
      onMessage: (_index, message) => {
        if ((message as { gnocchi?: string }).gnocchi !== 'added' || metricdSlotNotified) return
        metricdSlotNotified = true
        setImmediate(() => {
          metricdSlotNotified = false
          supervisor.send(0, { gnocchi: 'added' })
        })
      },
    })
    supervisor.handleSignals()
    await supervisor.start()
    log.info('gnocchi-api listening', {
      host: config.api.host,
      port: config.api.port,
      workers: config.api.workers,
      pids: supervisor.pids(),
    })
  } catch (error) {
    fail(log, 'gnocchi-api failed to start', error)
  }
} else {
  const worker = workerIndex()
  try {
    const running = await retryWhileUnavailable(log, 'gnocchi-api start', () =>
      startApi(config, log, {
        upgrade: worker === undefined ? upgrade : false,
        embeddedMetricd: config.api.embeddedMetricd && (worker ?? 0) === 0,
      }),
    )
    exitOnSignals(() => running.stop(), log)
    if (worker !== undefined) {
      if (running.metricd) {
        const metricd = running.metricd
        process.on('message', (m: unknown) => {
          if ((m as { gnocchi?: string }).gnocchi === 'added') metricd.notify()
        })
      } else if (config.api.embeddedMetricd) {
        let pending = false
        running.runtime.incoming.onAdded(() => {
          if (pending) return
          pending = true
          setImmediate(() => {
            pending = false
            process.send?.({ gnocchi: 'added' })
          })
        })
      }
      notifyReady()
    }
  } catch (error) {
    fail(log, 'gnocchi-api failed to start', error)
  }
}
