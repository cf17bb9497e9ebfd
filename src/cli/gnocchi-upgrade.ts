import { COMMON_HELP, fail, parseCommand } from './_common.ts'
import { buildRuntime } from './app.ts'
import { runUpgrade } from './upgrade.ts'

const HELP = `Usage: gnocchi-upgrade [options]

Creates or migrates the indexer schema, the storage, the incoming sacks and, when there is no
archive policy and no rule yet, the default archive policies bool/low/medium/high and the rule
"default" (* → low).

Options:
  --skip-index                      Do not upgrade the indexer.
  --skip-storage                    Do not upgrade the storage.
  --skip-incoming                   Do not upgrade the incoming storage.
  --skip-archive-policies-creation  Do not create the default archive policies.
  --sacks-number N                  Number of incoming sacks when not set up yet (default 128, 1..65535).

${COMMON_HELP}`

const { values, config, log } = parseCommand(
  process.argv.slice(2),
  {
    'skip-index': { type: 'boolean' },
    'skip-storage': { type: 'boolean' },
    'skip-incoming': { type: 'boolean' },
    'skip-archive-policies-creation': { type: 'boolean' },
    'sacks-number': { type: 'string' },
  },
  HELP,
)

const sacksNumber = Number(values['sacks-number'] ?? 128)
if (!Number.isInteger(sacksNumber) || sacksNumber < 1 || sacksNumber > 65535) {
  process.stderr.write(`--sacks-number must be an integer within 1..65535\n`)
  process.exit(2)
}

const runtime = buildRuntime(config, log)
try {
  await runUpgrade(runtime, {
    skipIndex: values['skip-index'] === true,
    skipStorage: values['skip-storage'] === true,
    skipIncoming: values['skip-incoming'] === true,
    skipArchivePoliciesCreation: values['skip-archive-policies-creation'] === true,
    sacksNumber,
  })
  await runtime.close()
} catch (error) {
  fail(log, 'Upgrade failed', error)
}
