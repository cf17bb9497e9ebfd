/** `GET /` (versions), `GET /v1/` (index) and `/healthcheck` (api.md §1.1–1.3). */
import { bestOffer } from '../content-negotiation.ts'
import { jsonReply, type Reply, type RequestContext } from '../context.ts'
import { pyQuote } from '../proxy-headers.ts'
import { route } from '../router.ts'

const V1_LINKS = [
  'aggregates',
  'aggregation',
  'archive_policy',
  'archive_policy_rule',
  'batch',
  'capabilities',
  'influxdb',
  'metric',
  'resource',
  'resource_type',
  'search',
  'status',
]

function applicationUrl(ctx: RequestContext): string {
  return `${ctx.hostUrl}${pyQuote(ctx.scriptPrefix)}`
}

export const rootRoutes = [
  route('/', {
    GET: async (ctx) =>
      jsonReply(200, {
        build: ctx.deps.config.version,
        versions: [
          {
            status: 'CURRENT',
            links: [{ rel: 'self', href: `${applicationUrl(ctx)}/v1/` }],
            id: 'v1.0',
            updated: '2015-03-19',
          },
        ],
      }),
  }),
  route('/v1', {
    GET: async (ctx) => {
      const base = `${applicationUrl(ctx)}/v1`
      return jsonReply(200, {
        version: '1.0',
        links: [{ rel: 'self', href: base }, ...V1_LINKS.map((rel) => ({ rel, href: `${base}/${rel}` }))],
      })
    },
  }),
]

/** oslo.middleware healthcheck with no backends: always healthy. */
export function healthcheck(method: string, accept: string | undefined): Reply {
  if (method === 'HEAD') return { status: 204, body: '' }
  const type = bestOffer(accept ?? '*/*', ['text/plain', 'text/html', 'application/json']) ?? 'text/plain'
  if (type === 'application/json') {
    return {
      status: 200,
      body: '{\n    "detailed": false,\n    "reasons": []\n}',
      contentType: 'application/json',
    }
  }
  if (type === 'text/html') {
    return {
      status: 200,
      contentType: 'text/html; charset=UTF-8',
      body:
        '<HTML>\n<HEAD><TITLE>Healthcheck Status</TITLE></HEAD>\n<BODY>\n\n<H2>Result of 0 checks:</H2>\n' +
        '<TABLE bgcolor="#ffffff" border="1">\n<TBODY>\n<TR>\n\n<TH>\nReason\n</TH>\n</TR>\n\n</TBODY>\n</TABLE>\n' +
        '<HR></HR>\n\n</BODY>\n</HTML>',
    }
  }
  return { status: 200, body: '', contentType: 'text/plain; charset=UTF-8' }
}
