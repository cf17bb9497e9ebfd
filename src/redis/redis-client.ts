/**
 * What every Redis driver shares (incoming, storage, coordination): one client per driver,
 * connected on first use, pipelines whose every reply is checked, and a close that does not
 * wait on a connection never made.
 */
import { Redis } from 'ioredis'

/**
 * A client for `url` (`redis://[:password@]host[:port][/db][?db=N]`), connected on first use.
 * While Redis is down a command waits for at most two reconnection attempts (a few seconds)
 * and then fails, so that a request answers 503 in bounded time instead of hanging for
 * ioredis's default 20 attempts; the client keeps reconnecting in the background.
 */
export function newRedisClient(url: string): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    enableAutoPipelining: false,
    maxRetriesPerRequest: REDIS_RETRIES_PER_REQUEST,
  })
  // Connection errors reach the commands that fail on them; without a listener ioredis would
  // also print each reconnection failure as an "Unhandled error event".
  client.on('error', () => {})
  return client
}

export const REDIS_RETRIES_PER_REQUEST = 2

type PipelineReplies = [error: Error | null, result: unknown][] | null

/** The results of a pipeline's replies; throws the first error among them. */
export function pipelineResults(replies: PipelineReplies): unknown[] {
  if (!replies) throw new Error('Redis pipeline aborted')
  return replies.map(([error, result]) => {
    if (error) throw error
    return result
  })
}

/** QUIT (after the replies in flight), or just drop a connection that was never made. */
export async function closeRedisClient(client: Redis): Promise<void> {
  if (client.status === 'wait' || client.status === 'end') {
    client.disconnect()
    return
  }
  await client.quit().catch(() => client.disconnect())
}

/** Bytes to send as a Buffer view of the same memory (no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** A binary reply as a plain Uint8Array view (no copy), as the file drivers return; null → undefined. */
export function bytesOf(reply: Buffer | null | undefined): Uint8Array | undefined {
  return reply == null ? undefined : new Uint8Array(reply.buffer, reply.byteOffset, reply.byteLength)
}
