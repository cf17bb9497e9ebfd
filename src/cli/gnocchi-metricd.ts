import cluster from 'node:cluster'
import { COMMON_HELP, exitOnSignals, fail, parseCommand, retryWhileUnavailable } from './_common.ts'
import { buildRuntime, createMetricd, openRuntime } from './app.ts'
import { notifyReady, Supervisor, workerIndex } from './supervisor.ts'

const HELP = `Usage: gnocchi-metricd [options]

Processes the measures waiting in the incoming sacks every [metricd] metric_processing_delay
seconds (default 60), expunges deleted metrics every metric_cleanup_delay (default 300) and
reports the backlog every metric_reporting_delay (default 120, -1 disables). Several metricd
and gnocchi-api processes can share one data directory: sacks are locked while processed.
[metricd] workers (default: the number of CPUs) processing workers run as child processes; each
joins the coordinator's processing group, and the sacks are spread over every member of every
host (processing_replicas members per sack). SIGHUP re-reads the configuration and replaces the
workers one at a time; SIGTERM lets each finish its current sacks.

Options:
  --metric-processing-delay S   Override [metricd] metric_processing_delay (seconds).
  --no-upgrade                  Fail instead of initialising a new data directory.
  --skip-archive-policies-creation
                                Initialise without the default archive policies.

A new deployment is initialised as by gnocchi-upgrade (and gnocchi-api), default archive
policies and rule included, by whichever process starts first; they may start at once.

${COMMON_HELP}`

const { values, config, log, reloadConfig } = parseCommand(
  process.argv.slice(2),
  {
    'metric-processing-delay': { type: 'string' },
    'no-upgrade': { type: 'boolean' },
    'skip-archive-policies-creation': { type: 'boolean' },
  },
  HELP,
  (v) =>
    v['metric-processing-delay'] ? [`metricd.metric_processing_delay=${v['metric-processing-delay']}`] : [],
)

const upgrade = values['no-upgrade']
  ? false
  : { skipArchivePoliciesCreation: values['skip-archive-policies-creation'] === true }
const worker = workerIndex()

if (cluster.isPrimary && config.metricd.workers > 1) {
  try {
    await retryWhileUnavailable(log, 'gnocchi-metricd start', async () => {
      const runtime = buildRuntime(config, log)
      try {
        await openRuntime(runtime, upgrade)
      } finally {
        await runtime.close()
      }
    })
    const supervisor = new Supervisor({
      name: 'gnocchi-metricd',
      log,
      plan: () => ({ workers: reloadConfig().metricd.workers }),
    })
    supervisor.handleSignals()
    await supervisor.start()
  } catch (error) {
    fail(log, 'gnocchi-metricd failed to start', error)
  }
} else {
  try {
    const { runtime, metricd } = await retryWhileUnavailable(log, 'gnocchi-metricd start', async () => {
      const runtime = buildRuntime(config, log)
      try {
        await openRuntime(runtime, worker === undefined ? upgrade : false)
        const metricd = createMetricd(runtime, { workerIndex: worker })
        await metricd.start()
        return { runtime, metricd }
      } catch (error) {
        await runtime.close().catch(() => {})
        throw error
      }
    })
    exitOnSignals(async () => {
      await metricd.stop()
      await runtime.close()
    }, log)
    notifyReady()
  } catch (error) {
    fail(log, 'gnocchi-metricd failed to start', error)
  }
}
