import { type ParseArgsConfig, parseArgs } from 'node:util'
import { type GnocchiConfig, loadConfig } from '../config/config.ts'
import { isBackendUnavailableError } from '../domain/backend-unavailable.ts'
import { createLogger, ignoreStdioErrors, type Logger } from '../log/logger.ts'
import { stopWithPrimary, workerIndex } from './supervisor.ts'

type Options = NonNullable<ParseArgsConfig['options']>

export const COMMON_OPTIONS = {
  'config-file': { type: 'string', multiple: true },
  'config-dir': { type: 'string', multiple: true },
  set: { type: 'string', multiple: true },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options

export const COMMON_HELP = `Common options:
  --config-file PATH   Config file (repeatable; later files override earlier ones). Default: the
                       first of ~/.gnocchi/gnocchi.conf, ~/gnocchi.conf, /etc/gnocchi/gnocchi.conf,
                       /etc/gnocchi.conf; without any, the embedded deployment under ./data.
  --config-dir DIR     Directory of *.conf files (repeatable).
  --set S.O=VALUE      Override one option, e.g. --set metricd.metric_processing_delay=1
                       (repeatable; also env GNOCCHI__<SECTION>__<OPTION>, GNOCCHI_INDEXER_URL).
  --debug              Debug logging ([DEFAULT] debug).
  -h, --help           Show this help.`

export type CommandValues = Record<string, string | boolean | string[] | boolean[] | undefined>

export interface ParsedCommand {
  readonly values: CommandValues
  readonly config: GnocchiConfig
  readonly log: Logger
  /** Loads the configuration again from the same files and options (SIGHUP); throws on errors. */
  reloadConfig(): GnocchiConfig
}

export function parseCommand(
  argv: readonly string[],
  options: Options,
  help: string,
  extraOverrides: (values: CommandValues) => string[] = () => [],
): ParsedCommand {
  let values: CommandValues
  try {
    values = parseArgs({
      args: [...argv],
      options: { ...COMMON_OPTIONS, ...options },
      allowPositionals: false,
    }).values as CommandValues
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${help}\n`)
    process.exit(2)
  }
  if (values.help) {
    process.stdout.write(`${help}\n`)
    process.exit(0)
  }
  const overrides = [...((values.set as string[] | undefined) ?? []), ...extraOverrides(values)]
  if (values.debug) overrides.push('DEFAULT.debug=true')
  const load = () =>
    loadConfig({
      configFiles: values['config-file'] as string[] | undefined,
      configDirs: values['config-dir'] as string[] | undefined,
      overrides,
    })
  let config: GnocchiConfig
  try {
    config = load()
  } catch (e) {
    process.stderr.write(`Configuration error: ${(e as Error).message}\n`)
    process.exit(2)
  }
  ignoreStdioErrors()
  const worker = workerIndex()
  const log = createLogger({
    level: config.debug ? 'debug' : 'info',
    ...(worker === undefined ? {} : { base: { worker, pid: process.pid } }),
  })
  return { values, config, log, reloadConfig: load }
}

/**
 * SIGTERM/SIGINT → `stop()` then exit 0; a second signal exits at once. A supervised worker
 * (supervisor.ts) also stops on its primary's stop message or when the primary is gone.
 */
export function exitOnSignals(stop: () => Promise<void>, log: Logger): void {
  let stopping = false
  const handler = (reason: string, signal: boolean) => {
    if (stopping) {
      if (signal) process.exit(1)
      return
    }
    stopping = true
    log.info('Stopping', signal ? { signal: reason } : { reason })
    stop().then(
      () => process.exit(0),
      (error) => {
        log.error('Error while stopping', { error })
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => handler('SIGTERM', true))
  process.on('SIGINT', () => handler('SIGINT', true))
  stopWithPrimary((reason) => handler(reason, false))
}

export function fail(log: Logger, msg: string, error: unknown): never {
  log.error(msg, { error })
  process.exit(1)
}

/**
 * `attempt()` again while it fails because the indexer or Redis cannot be reached (a daemon
 * started before its dependencies, or during their restart), every 1 s growing to 10 s, as
 * upstream's daemons retry their coordinator and indexer start; other errors are thrown. A
 * failed attempt must clean up after itself.
 */
export async function retryWhileUnavailable<T>(
  log: Logger,
  what: string,
  attempt: () => Promise<T>,
): Promise<T> {
  for (let delayMs = 1000; ; delayMs = Math.min(delayMs * 2, 10_000)) {
    try {
      return await attempt()
    } catch (error) {
      if (!isBackendUnavailableError(error)) throw error
      log.warn(`${what}: a backend is unavailable, retrying`, { error, retryInMs: delayMs })
      await new Promise((r) => setTimeout(r, delayMs))
    }
  }
}
