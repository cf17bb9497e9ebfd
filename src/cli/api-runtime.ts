/**
 * The API server over a built runtime: its config, options and dependencies taken from
 * gnocchi.conf and the runtime, and startApi (listen, optional embedded metricd, graceful stop).
 */

import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { ApiConfig, ApiDeps } from '../api/deps.ts'
import { KeystoneAuth } from '../api/keystone/keystone-auth.ts'
import { PolicySource } from '../api/policy-file.ts'
import { type ApiServerOptions, createApiServer } from '../api/server.ts'
import type { GnocchiConfig } from '../config/config.ts'
import { createConsoleMount } from '../console/console-mount.ts'
import type { Logger } from '../log/logger.ts'
import type { Metricd } from '../metricd/metricd.ts'
import { buildRuntime, createMetricd, GNOCCHI_TS_VERSION, openRuntime, type Runtime } from './app.ts'
import type { UpgradeOptions } from './upgrade.ts'

export function apiConfigFrom(config: GnocchiConfig): ApiConfig {
  return {
    maxLimit: config.api.maxLimit,
    authMode: config.api.authMode,
    corsAllowedOrigins: config.cors.allowedOrigin,
    enableProxyHeadersParsing: config.api.enableProxyHeadersParsing,
    operationTimeoutMs: config.api.operationTimeoutMs,
    defaultAggregationMethods: config.archivePolicy.defaultAggregationMethods,
    version: GNOCCHI_TS_VERSION,
    aggregatesMaxPoints: config.api.aggregatesMaxPoints,
    filterListings: config.api.filterListings,
    maxBodyBytesInFlight: config.api.maxBodyBytesInFlight,
  }
}

/** `[oslo_policy]` files and, in keystone mode, the token validation of `[keystone_authtoken]`. */
export function apiServerOptionsFrom(runtime: Runtime): ApiServerOptions {
  const { config } = runtime
  const log = runtime.log.child({ component: 'api' })
  return {
    policySource: new PolicySource(config.osloPolicy.policyFile, config.osloPolicy.policyDirs, log),
    keystone: config.keystone
      ? new KeystoneAuth(config.keystone, log.child({ component: 'keystone' }))
      : undefined,
    console: config.api.enableConsole
      ? createConsoleMount({
          authMode: config.api.authMode,
          keystone: config.keystone
            ? {
                url: config.keystone.wwwAuthenticateUri ?? config.keystone.authUrl,
                timeoutMs: config.keystone.httpTimeoutS * 1000,
              }
            : undefined,
          log: log.child({ component: 'console' }),
        })
      : undefined,
  }
}

export function apiDepsFrom(runtime: Runtime): ApiDeps {
  return {
    indexer: runtime.indexer,
    incoming: runtime.incoming,
    storage: runtime.engine,
    processor: runtime.processor,
    coordinator: runtime.coordinator,
    config: apiConfigFrom(runtime.config),
    log: runtime.log.child({ component: 'api' }),
  }
}

export interface RunningApi {
  readonly server: Server
  readonly runtime: Runtime
  readonly metricd: Metricd | undefined
  /** Graceful stop: stop accepting, finish metricd's current sack, close drivers. */
  stop(): Promise<void>
}

export interface StartApiOptions {
  readonly upgrade: UpgradeOptions | false
  readonly embeddedMetricd: boolean
  readonly firstCleanupDelayMs?: number
}

export async function startApi(
  config: GnocchiConfig,
  log: Logger,
  options: StartApiOptions,
): Promise<RunningApi> {
  const runtime = buildRuntime(config, log)
  try {
    await openRuntime(runtime, options.upgrade)
  } catch (error) {
    // Closed so that a retry (a backend unavailable at start) leaks no connection.
    await runtime.close().catch(() => {})
    throw error
  }
  const server = createApiServer(apiDepsFrom(runtime), apiServerOptionsFrom(runtime))
  const sockets = new Set<Socket>()
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  const metricd = options.embeddedMetricd
    ? createMetricd(runtime, { firstCleanupDelayMs: options.firstCleanupDelayMs })
    : undefined
  await metricd?.start()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.api.port, config.api.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  log.info('gnocchi-api listening', {
    host: config.api.host,
    port: config.api.port,
    embeddedMetricd: !!metricd,
  })
  if (config.api.authMode === 'remoteuser' && !isLoopbackHost(config.api.host)) {
    // Anyone who reaches the port can claim any user (even `admin`) with that header.
    log.warn(
      'auth_mode = remoteuser trusts the X-Remote-User header of every request: this API listens beyond loopback, so the fronting proxy must be the only way in and must strip that header from client requests',
      { host: config.api.host, port: config.api.port },
    )
  }
  let stopping: Promise<void> | undefined
  return {
    server,
    runtime,
    metricd,
    stop: () => {
      stopping ??= (async () => {
        await drainKeepAlive(server, sockets)
        const closed = new Promise<void>((resolve) => server.close(() => resolve()))
        // Requests in flight finish (bounded by the operation timeout).
        const idle = setInterval(() => server.closeIdleConnections(), 50)
        const timer = setTimeout(() => server.closeAllConnections(), config.api.operationTimeoutMs + 5000)
        timer.unref()
        await metricd?.stop()
        await closed
        clearInterval(idle)
        clearTimeout(timer)
        await runtime.close()
      })()
      return stopping
    },
  }
}

/**
 * Before closing: answers every request with `Connection: close` for up to a second, so busy
 * keep-alive clients hear that the connection ends instead of having it closed under a request
 * they are sending (which `server.close()` does to the connections idle at that instant).
 */
async function drainKeepAlive(server: Server, sockets: Set<Socket>): Promise<void> {
  if (sockets.size === 0) return
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('connection', 'close')
  })
  const deadline = Date.now() + 1000
  while (sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
}

/** Whether `host` only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}
