/**
 * What every Redis driver shares (incoming, storage, coordination): one client per driver,
 * connected on first use, pipelines whose every reply is checked, and a close that does not
 * wait on a connection never made.
 */
import { Redis } from 'ioredis'

/** A client for `url` (`redis://[:password@]host[:port][/db][?db=N]`), connected on first use. */
export function newRedisClient(url: string): Redis {
  return new Redis(url, { lazyConnect: true, enableAutoPipelining: false })
}

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
