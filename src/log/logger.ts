/** Structured logging: one JSON object per line. Fields are merged into the record. */
import { writeSync } from 'node:fs'

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  child(fields: Record<string, unknown>): Logger
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack }
  return value
}

/**
 * Writes log lines to a file descriptor with `writeSync`, never throwing: a line that cannot
 * be written (ENOSPC/EDQUOT on a full log disk, EPIPE from a gone reader, EAGAIN from a full
 * non-blocking pipe, EBADF, EIO) is dropped and counted, and once writes succeed again one
 * line says how many were lost. Why not `process.stderr`: a failed write there is an 'error'
 * event that kills the process when unhandled, and destroys the stream for good.
 */
export class FdLogSink {
  readonly #fd: number
  readonly #writeSync: (fd: number, data: Uint8Array, offset: number, length: number) => number
  #dropped = 0
  /** The last line was cut short: the next one starts on a fresh line. */
  #torn = false

  constructor(
    fd = 2,
    write: (fd: number, data: Uint8Array, offset: number, length: number) => number = writeSync,
  ) {
    this.#fd = fd
    this.#writeSync = write
  }

  /** Lines dropped since the last successful write (tests, status). */
  get dropped(): number {
    return this.#dropped
  }

  write(line: string): void {
    let text = this.#torn ? `\n${line}` : line
    if (this.#dropped > 0) {
      const note = {
        time: new Date().toISOString(),
        level: 'warn',
        msg: 'log lines dropped',
        dropped: this.#dropped,
      }
      text = `${this.#torn ? '\n' : ''}${JSON.stringify(note)}\n${line}`
    }
    const bytes = Buffer.from(text, 'utf8')
    let off = 0
    try {
      while (off < bytes.length) off += this.#writeSync(this.#fd, bytes, off, bytes.length - off)
    } catch {
      // Nothing written: the line (and the note) is lost; part written: the line is torn.
      if (off > 0) this.#torn = true
      this.#dropped++
      return
    }
    this.#torn = false
    this.#dropped = 0
  }
}

let defaultSink: FdLogSink | undefined

/** The process-wide stderr sink (one drop counter for every logger of the process). */
export function stderrSink(): FdLogSink {
  defaultSink ??= new FdLogSink(2)
  return defaultSink
}

export function createLogger(
  options: { level?: LogLevel; write?: (line: string) => void; base?: Record<string, unknown> } = {},
): Logger {
  const min = LEVELS[options.level ?? 'info']
  const write =
    options.write ??
    ((line: string) => {
      stderrSink().write(line)
    })
  const base = options.base ?? {}
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < min) return
    let line: string
    try {
      line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...base, ...fields }, jsonSafe)
    } catch {
      // A field that cannot be serialised (a cycle) must not fail the caller.
      line = JSON.stringify({ time: new Date().toISOString(), level, msg, unserialisable: true })
    }
    write(`${line}\n`)
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...options, base: { ...base, ...fields } }),
  }
}

/**
 * Server processes: an 'error' on stdout/stderr (Node's own warnings, a stray console call
 * hitting a full disk or a closed pipe) is ignored instead of ending the process.
 */
export function ignoreStdioErrors(): void {
  process.stdout.on('error', () => {})
  process.stderr.on('error', () => {})
}
