/** `/v1/archive_policy_rule[/<name>]` (api.md §4). */
import type { ArchivePolicyRule } from '../../domain/archive-policy.ts'
import {
  ArchivePolicyRuleAlreadyExistsError,
  NoSuchArchivePolicyError,
  NoSuchArchivePolicyRuleError,
} from '../../domain/errors.ts'
import { RuleArchivePolicyMissingError, RuleRenameConflictError } from '../../domain/request-errors.ts'
import { jsonReply, NO_CONTENT, type RequestContext } from '../context.ts'
import { route } from '../router.ts'
import { archivePolicyRuleJson } from '../serializers.ts'
import { object, str, validate } from '../validation.ts'
import { enforce, locationHeader, readJson } from './_common.ts'

const createSchema = object({
  name: { validator: str, required: true },
  metric_pattern: { validator: str, required: true },
  archive_policy_name: { validator: str, required: true },
})

const renameSchema = object({ name: { validator: str, required: true } })

/** Upstream looks the rule up while routing: unknown names are 404 before anything else. */
async function getRuleOr404(ctx: RequestContext): Promise<ArchivePolicyRule> {
  const rule = await ctx.deps.indexer.getArchivePolicyRule(ctx.params.name)
  if (!rule) throw new NoSuchArchivePolicyRuleError(ctx.params.name)
  return rule
}

export const archivePolicyRuleRoutes = [
  route('/v1/archive_policy_rule', {
    GET: async (ctx) => {
      enforce(ctx, 'list archive policy rule', {})
      const rules = await ctx.deps.indexer.listArchivePolicyRules()
      return jsonReply(200, rules.map(archivePolicyRuleJson))
    },
    POST: async (ctx) => {
      enforce(ctx, 'create archive policy rule', {})
      const body = validate(createSchema, readJson(ctx))
      enforce(ctx, 'create archive policy rule', body)
      const rule: ArchivePolicyRule = {
        name: body.name as string,
        metricPattern: body.metric_pattern as string,
        archivePolicyName: body.archive_policy_name as string,
      }
      try {
        await ctx.deps.indexer.createArchivePolicyRule(rule)
      } catch (e) {
        if (e instanceof NoSuchArchivePolicyError) {
          throw new RuleArchivePolicyMissingError(e.archivePolicy)
        }
        throw e
      }
      return jsonReply(
        201,
        archivePolicyRuleJson(rule),
        locationHeader(ctx, `/archive_policy_rule/${rule.name}`),
      )
    },
  }),
  route('/v1/archive_policy_rule/:name', {
    GET: async (ctx) => {
      const rule = await getRuleOr404(ctx)
      enforce(ctx, 'get archive policy rule', archivePolicyRuleJson(rule))
      return jsonReply(200, archivePolicyRuleJson(rule))
    },
    PATCH: async (ctx) => {
      const rule = await getRuleOr404(ctx)
      const body = validate(renameSchema, readJson(ctx))
      enforce(ctx, 'update archive policy rule', {})
      const newName = body.name as string
      try {
        const renamed = await ctx.deps.indexer.renameArchivePolicyRule(rule.name, newName)
        return jsonReply(200, archivePolicyRuleJson(renamed))
      } catch (e) {
        if (e instanceof ArchivePolicyRuleAlreadyExistsError) {
          throw new RuleRenameConflictError(rule.name, newName)
        }
        throw e
      }
    },
    DELETE: async (ctx) => {
      const rule = await getRuleOr404(ctx)
      enforce(ctx, 'delete archive policy rule', {})
      await ctx.deps.indexer.deleteArchivePolicyRule(rule.name)
      return NO_CONTENT
    },
  }),
]
