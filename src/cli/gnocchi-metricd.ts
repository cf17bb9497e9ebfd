import { COMMON_HELP, exitOnSignals, fail, parseCommand } from './_common.ts'
import { buildRuntime, createMetricd, openRuntime } from './app.ts'

const HELP = `Usage: gnocchi-metricd [options]

Processes the measures waiting in the incoming sacks every [metricd] metric_processing_delay
seconds (default 60), expunges deleted metrics every metric_cleanup_delay (default 300) and
reports the backlog every metric_reporting_delay (default 120, -1 disables). Several metricd
and gnocchi-api processes can share one data directory: sacks are locked while processed.

Options:
  --metric-processing-delay S   Override [metricd] metric_processing_delay (seconds).
  --no-upgrade                  Fail instead of initialising a new data directory.

${COMMON_HELP}`

const { values, config, log } = parseCommand(
  process.argv.slice(2),
  { 'metric-processing-delay': { type: 'string' }, 'no-upgrade': { type: 'boolean' } },
  HELP,
  (v) =>
    v['metric-processing-delay'] ? [`metricd.metric_processing_delay=${v['metric-processing-delay']}`] : [],
)

const runtime = buildRuntime(config, log)
try {
  await openRuntime(runtime, values['no-upgrade'] ? false : { skipArchivePoliciesCreation: true })
  const metricd = createMetricd(runtime)
  await metricd.start()
  exitOnSignals(async () => {
    await metricd.stop()
    await runtime.close()
  }, log)
} catch (error) {
  fail(log, 'gnocchi-metricd failed to start', error)
}
