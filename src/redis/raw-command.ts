/**
 * Commands encoded by us, in one buffer each, for the hot writes of metricd (one HSET of a
 * metric's splits and raw object: ~20 fields, ~100 KB). ioredis would encode such a command
 * into parts, concatenate them, and then concatenate every command of a pipeline into one
 * more buffer (three copies of everything written, a third of metricd's CPU in the profile).
 * Here each argument is copied once, into the command's buffer, which goes to the socket as
 * is; the replies still go through ioredis (ordering, errors, reconnection).
 */
import { Command, type Redis } from 'ioredis'
import type { ByteArena } from '../carbonara/codec/byte-arena.ts'

/** A command whose RESP bytes are ready (toWritable returns them unchanged). */
class EncodedCommand extends Command {
  readonly #bytes: Buffer
  constructor(name: string, key: string, bytes: Buffer) {
    super(name, [key])
    this.#bytes = bytes
  }
  override toWritable(): Buffer {
    return this.#bytes
  }
}

const CRLF = 0x0d0a

/**
 * RESP2 array of bulk strings: strings are written as UTF-8, bytes as they are. With `arena`
 * the command is a view of it (to be sent before the arena's reset).
 */
export function encodeCommand(args: ReadonlyArray<string | Uint8Array>, arena?: ByteArena): Buffer {
  let size = 1 + decimalLength(args.length) + 2
  for (const a of args) {
    const len = typeof a === 'string' ? Buffer.byteLength(a) : a.byteLength
    size += 1 + decimalLength(len) + 2 + len + 2
  }
  let out: Buffer
  if (arena) {
    const room = arena.reserve(size)
    out = Buffer.from(room.buffer, room.byteOffset, size)
  } else out = Buffer.allocUnsafe(size)
  let at = writeHeader(out, 0, 0x2a, args.length)
  for (const a of args) {
    if (typeof a === 'string') {
      const len = Buffer.byteLength(a)
      at = writeHeader(out, at, 0x24, len)
      at += out.write(a, at, len, 'utf8')
    } else {
      at = writeHeader(out, at, 0x24, a.byteLength)
      out.set(a, at)
      at += a.byteLength
    }
    out.writeUInt16BE(CRLF, at)
    at += 2
  }
  if (at !== size) throw new Error(`BUG: RESP size ${at} != ${size}`)
  arena?.commit(size)
  return out
}

/** `<type><n>\r\n` at `at`; returns the next offset. */
function writeHeader(out: Buffer, at: number, type: number, n: number): number {
  out[at++] = type
  at += out.write(String(n), at, 'latin1')
  out.writeUInt16BE(CRLF, at)
  return at + 2
}

function decimalLength(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : String(n).length
}

/**
 * Sends commands from encodeCommand (`key` is the command's first key, for ioredis' own
 * bookkeeping) as one write to the socket, in order, and resolves to their replies; rejects
 * with the first error reply (the other commands still ran, as in a pipeline).
 */
export async function sendEncoded(
  client: Redis,
  commands: ReadonlyArray<{ readonly name: string; readonly key: string; readonly bytes: Buffer }>,
): Promise<unknown[]> {
  const stream = client.status === 'ready' ? client.stream : undefined
  stream?.cork()
  const replies: Array<Promise<unknown>> = []
  try {
    for (const c of commands) {
      replies.push(client.sendCommand(new EncodedCommand(c.name, c.key, c.bytes)) as Promise<unknown>)
    }
  } finally {
    stream?.uncork()
  }
  const settled = await Promise.allSettled(replies)
  return settled.map((s) => {
    if (s.status === 'rejected') throw s.reason
    return s.value
  })
}
