import { COMMON_HELP, exitOnSignals, fail, parseCommand } from './_common.ts'
import { startApi } from './app.ts'

const HELP = `Usage: gnocchi-api [options]

Serves the Gnocchi REST API v1 (default 127.0.0.1:8041 for the embedded deployment, [api] host
and port otherwise). Unless disabled, metricd runs in the same process ([api] embedded_metricd,
default true) and a new data directory is initialised on first start ([api] auto_upgrade,
default true; the same steps as gnocchi-upgrade, default archive policies included).

Options:
  --host HOST                        Override [api] host.
  --port PORT                        Override [api] port.
  --embedded-metricd                 Run metricd in this process (default).
  --no-embedded-metricd              Do not; run gnocchi-metricd separately.
  --no-upgrade                       Do not initialise a new data directory.
  --skip-archive-policies-creation   Initialise without the default archive policies.
  --sacks-number N                   Sacks for a new data directory (default 128).

${COMMON_HELP}`

const { values, config, log } = parseCommand(
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

try {
  const running = await startApi(config, log, {
    upgrade: config.api.autoUpgrade
      ? {
          skipArchivePoliciesCreation: values['skip-archive-policies-creation'] === true,
          sacksNumber: values['sacks-number'] ? Number(values['sacks-number']) : 128,
        }
      : false,
    embeddedMetricd: config.api.embeddedMetricd,
  })
  exitOnSignals(() => running.stop(), log)
} catch (error) {
  fail(log, 'gnocchi-api failed to start', error)
}
