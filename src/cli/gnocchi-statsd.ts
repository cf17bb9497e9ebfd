import { parseUuid } from '../compat/uuid.ts'
import { StatsdDaemon } from '../statsd/statsd-daemon.ts'
import { COMMON_HELP, exitOnSignals, fail, parseCommand } from './_common.ts'
import { buildRuntime, openRuntime } from './app.ts'

const HELP = `Usage: gnocchi-statsd [options]

Receives statsd metrics over UDP ([statsd] host, port; default 0.0.0.0:8125) and stores them
every [statsd] flush_delay seconds (default 10) as metrics "<name>|<type>" of the generic
resource [statsd] resource_id (required, a UUID; created at start with creator
[statsd] creator). New metrics use [statsd] archive_policy_name, or the archive policy rules.
Counters (c), gauges (g) and timers (ms) are supported. The data directory must have been
initialised (gnocchi-upgrade, or a first start of gnocchi-api).

Options:
  --host HOST   Override [statsd] host.
  --port PORT   Override [statsd] port.

${COMMON_HELP}`

const { config, log } = parseCommand(
  process.argv.slice(2),
  { host: { type: 'string' }, port: { type: 'string' } },
  HELP,
  (v) => {
    const o: string[] = []
    if (v.host) o.push(`statsd.host=${v.host}`)
    if (v.port) o.push(`statsd.port=${v.port}`)
    return o
  },
)

const resourceId = config.statsd.resourceId === null ? undefined : parseUuid(config.statsd.resourceId)
if (resourceId === undefined) {
  process.stderr.write(
    config.statsd.resourceId === null
      ? 'Configuration error: [statsd] resource_id is required\n'
      : `Configuration error: [statsd] resource_id ${JSON.stringify(config.statsd.resourceId)} is not a UUID\n`,
  )
  process.exit(2)
}

try {
  const runtime = buildRuntime(config, log)
  await openRuntime(runtime, false)
  const daemon = new StatsdDaemon(
    { indexer: runtime.indexer, incoming: runtime.incoming, log: log.child({ component: 'statsd' }) },
    {
      host: config.statsd.host,
      port: config.statsd.port,
      resourceId,
      creator: config.statsd.creator,
      archivePolicyName: config.statsd.archivePolicyName,
      flushDelayMs: config.statsd.flushDelayMs,
      timeoutMs: config.api.operationTimeoutMs,
    },
  )
  await daemon.start()
  exitOnSignals(async () => {
    await daemon.stop()
    await runtime.close()
  }, log)
} catch (error) {
  fail(log, 'gnocchi-statsd failed to start', error)
}
