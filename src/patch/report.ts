import { z } from 'zod';
import type { PipelineResult } from '../pipeline/pipeline.js';
import type { PatchResult } from './patch.js';
import type { PendingUpdate } from './pending.js';
import type { Decided } from './policy.js';

// `goldgate patch --json`: one document, its shape written down as a schema (docs/gate.md).

const OriginSchema = z.strictObject({
  repository: z.string(),
  suite: z.string(),
  origin: z.string().nullable(),
  label: z.string().nullable(),
  codename: z.string().nullable(),
});

const UpdateSchema = z.strictObject({
  name: z.string(),
  architecture: z.string(),
  from: z.string(),
  to: z.string(),
  origin: OriginSchema,
  security: z.boolean(),
  firstSeen: z.iso.datetime(),
});

const DecidedSchema = UpdateSchema.extend({ reason: z.string() });

const ProblemSchema = z.strictObject({
  file: z.string(),
  line: z.number().int().optional(),
  reason: z.string(),
});

/** The JSON document `goldgate patch --json` prints. */
export const PatchReportSchema = z.strictObject({
  schemaVersion: z.literal(1),
  outcome: z.enum([
    'dry-run',
    'nothing-to-patch',
    'candidate',
    'promoted',
    'refused',
    'already',
    'proven',
    'unproven',
  ]),
  spec: z.strictObject({ name: z.string(), path: z.string() }),
  image: z.strictObject({
    id: z.string(),
    name: z.string(),
    digest: z.string(),
    createdAt: z.string(),
    chosenBy: z.enum(['channel', 'newest']),
    channel: z.string().nullable(),
    note: z.string().nullable(),
  }),
  at: z.iso.datetime(),
  policy: z.strictObject({
    include: z.enum(['security', 'all']),
    minAge: z.string(),
    hold: z.array(z.string()),
    allow: z.array(z.string()),
  }),
  debianSuite: z.string().nullable(),
  sources: z.array(
    z.strictObject({ origin: OriginSchema, offered: z.number().int(), problems: z.array(ProblemSchema) }),
  ),
  pending: z.array(UpdateSchema),
  approved: z.array(DecidedSchema),
  leftOut: z.array(DecidedSchema),
  planOnly: z.array(DecidedSchema),
  digest: z.string().nullable(),
  candidate: z.strictObject({ path: z.string(), digest: z.string() }).nullable(),
  /** The pipeline run on the candidate, as `pipeline run --json` prints it (docs/gate.md#pipeline), or null. */
  pipeline: z.record(z.string(), z.unknown()).nullable(),
});

export type PatchReport = z.infer<typeof PatchReportSchema>;

const update = (u: PendingUpdate) => ({
  name: u.name,
  architecture: u.architecture,
  from: u.from,
  to: u.to,
  origin: u.origin,
  security: u.security,
  firstSeen: u.firstSeen,
});
const decided = (d: Decided) => ({ ...update(d.update), reason: d.reason });

/**
 * The JSON document of a patch. With the pipeline run on the candidate (its outcome, and its
 * document as `pipeline run --json` prints it), `outcome` is the pipeline's.
 */
export function patchReport(
  result: PatchResult,
  pipeline: { outcome: PipelineResult['outcome']; json: Record<string, unknown> } | null = null,
): PatchReport {
  const { plan } = result;
  return {
    schemaVersion: 1,
    outcome: pipeline?.outcome ?? result.outcome,
    spec: plan.spec,
    image: plan.image,
    at: plan.at,
    policy: plan.policy,
    debianSuite: plan.debianSuite,
    sources: plan.sources.map((s) => ({ origin: s.from, offered: s.offered, problems: s.problems })),
    pending: plan.pending.map(update),
    approved: plan.approved.map(decided),
    leftOut: plan.leftOut.map(decided),
    planOnly: plan.planOnly.map(decided),
    digest: plan.digest,
    candidate: result.candidate,
    pipeline: pipeline?.json ?? null,
  };
}
