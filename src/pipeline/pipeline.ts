import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { auditSource } from '../audit/report.js';
import { bake } from '../bake/bake.js';
import type { BakeOptions } from '../bake/bake.js';
import { sha256 } from '../core/digest.js';
import { EnvironmentError, UsageError, isGoldgateError } from '../core/errors.js';
import type { EventSink, GoldgateEvent } from '../core/events.js';
import { silent } from '../core/events.js';
import { goldgateHome } from '../core/home.js';
import { DEFAULT_GATE, getChannel } from '../registry/channels.js';
import { openRegistry } from '../registry/db.js';
import type { Registry } from '../registry/db.js';
import { checkGate, promote } from '../registry/gate.js';
import type { PromoteResult } from '../registry/gate.js';
import { getImage, indexStore, recordImage } from '../registry/images.js';
import type { RegisteredImage } from '../registry/images.js';
import { finishRun, getRun, recordStep, startRun } from '../registry/pipeline.js';
import type { PipelineRun, PipelineStep } from '../registry/pipeline.js';
import { auditOf, recordAudit, verificationOf } from '../registry/proofs.js';
import type { StoredAudit, StoredVerification } from '../registry/proofs.js';
import { loadSpec } from '../spec/load.js';
import type { ImageSpec } from '../spec/schema.js';
import { resolveTarget } from '../verify/target.js';
import { verifyImage } from '../verify/verify.js';
import type { VerifyOptions } from '../verify/verify.js';
import {
  auditDecision,
  auditSummary,
  bakeDecision,
  promoteOutcome,
  targetChannel,
  verifyDecision,
  verifySummary,
} from './plan.js';
import type { PipelineOutcome, StepDecision } from './plan.js';

/** How the verify step proves the image (as `goldgate verify`'s options). */
export interface PipelineVerifyOptions {
  instances?: number;
  userData?: { path: string; data: Buffer };
  imageAgeMs?: number;
  soakSeconds?: number;
  fastForwardTimeoutMs?: number;
  /** Names instances may look up besides the spec's dnsAllow. */
  allowDomains?: string[];
}

export interface PipelineOptions {
  /** goldgate's data directory; default goldgateHome(). */
  home?: string;
  sink?: EventSink;
  /** The channel to promote to; default the spec's first `channels` entry, else none. */
  channel?: string;
  /** `patch` runs the pipeline on the candidate spec it wrote; default `pipeline`. */
  kind?: PipelineRun['kind'];
  /** What the run bakes, to resume only a run that bakes the same; default sha256 of the spec's text. */
  specDigest?: string;
  verify?: PipelineVerifyOptions;
  basePolicy?: BakeOptions['basePolicy'];
  cacheDir?: string;
  /** Stops the run before its next step, and the verify step's instances. */
  signal?: AbortSignal;
  now?: () => Date;
}

/** One step of a run: done, or skipped because what it would do was already recorded. */
export interface StepResult {
  step: PipelineStep;
  status: 'done' | 'skipped';
  message: string;
  elapsedMs: number;
}

export interface PipelineResult {
  /** The run as recorded when it ended. */
  run: PipelineRun;
  /** The run took over one that was interrupted. */
  resumed: boolean;
  image: RegisteredImage;
  steps: StepResult[];
  /** The stored audit and verification the gate judged. */
  audit: StoredAudit;
  verification: StoredVerification | null;
  channel: string | null;
  /** The promotion's result; null without a channel. */
  promotion: PromoteResult | null;
  outcome: PipelineOutcome;
  /** What the gate found missing or failing (refused, unproven). */
  missing: string[];
}

interface Context {
  registry: Registry;
  home: string;
  specPath: string;
  spec: ImageSpec;
  run: PipelineRun;
  resumed: boolean;
  sink: EventSink;
  options: PipelineOptions;
  steps: StepResult[];
}

/**
 * bake → audit → verify → promote, recorded step by step in the registry so that a run that
 * was killed is resumed by the next one: each step is skipped when what it would do is
 * already recorded (the run's image, an audit or a verification of its digest). A refusal of
 * the gate is an outcome (`refused`), not an error. Two runs of one spec at once: the second is
 * refused (PIPELINE_BUSY); runs of different specs go side by side.
 */
export async function runPipeline(specPath: string, options: PipelineOptions = {}): Promise<PipelineResult> {
  const home = options.home ?? goldgateHome();
  const path = resolve(specPath);
  const { spec, text } = await loadSpec(path, { home });
  const channel = targetChannel(options.channel, spec);
  if (spec.health.length === 0)
    throw new UsageError('PIPELINE_NO_HEALTH_CHECKS', `${specPath}: the spec has no health checks`, {
      hint: "the verify step boots the image and runs the spec's health checks: add some (docs/spec.md#health)",
    });
  const registry = openRegistry(home);
  try {
    // Images a killed bake registered in the store but not yet in the registry.
    indexStore(registry);
    const started = startRun(
      registry,
      path,
      options.specDigest ?? sha256(text),
      options.kind ?? 'pipeline',
      channel,
    );
    if (started.busy) throw busyError(started.run);
    const context: Context = {
      registry,
      home,
      specPath: path,
      spec,
      run: started.run,
      resumed: started.resumed,
      sink: options.sink ?? silent,
      options,
      steps: [],
    };
    try {
      const result = await runSteps(context, channel);
      finishRun(
        registry,
        started.run.id,
        'done',
        result.outcome,
        result.missing.length > 0 ? result.missing.join('; ') : null,
      );
      return { ...result, run: getRun(registry, started.run.id) as PipelineRun };
    } catch (error) {
      failRun(registry, started.run.id, error);
      throw error;
    }
  } finally {
    registry.close();
  }
}

async function runSteps(context: Context, channel: string | null): Promise<PipelineResult> {
  const image = await bakeStage(context);
  const audit = await auditStage(context, image);
  const verification = await verifyStage(context, image);
  const promoted = promoteStage(context, image, channel);
  return {
    run: context.run,
    resumed: context.resumed,
    image,
    steps: context.steps,
    audit,
    verification: verification ?? null,
    channel,
    ...promoted,
  };
}

function busyError(run: PipelineRun): EnvironmentError {
  return new EnvironmentError(
    'PIPELINE_BUSY',
    `another goldgate (pid ${run.pid}) is running the pipeline of ${run.spec}: run #${run.id}, at its ${run.step} step since ${run.startedAt}`,
    {
      hint: `wait for it to end (goldgate pipeline status ${run.spec}); a run that was killed is resumed by the next one`,
    },
  );
}

/** Records a run that ended on an error, with its code; a registry that fails here must not hide the error. */
function failRun(registry: Registry, runId: number, error: unknown): void {
  const code = isGoldgateError(error) ? error.code : 'INTERNAL_ERROR';
  try {
    finishRun(registry, runId, 'failed', code, error instanceof Error ? error.message : String(error));
  } catch {
    // The run stays `running` with a dead pid: the next run resumes it.
  }
}

function checkAborted(context: Context, step: PipelineStep): void {
  const signal = context.options.signal;
  if (signal?.aborted === true)
    throw new UsageError('PIPELINE_INTERRUPTED', `the pipeline was interrupted before its ${step} step`, {
      cause: signal.reason,
      hint: `goldgate pipeline run ${context.specPath} again carries on: what was recorded is skipped`,
    });
}

/** A step skipped because what it would do is recorded: the registry and the sink say so. */
function skip(context: Context, step: PipelineStep, decision: StepDecision): void {
  checkAborted(context, step);
  recordStep(context.registry, context.run.id, step);
  context.sink.emit({
    type: 'progress',
    step,
    message: decision.why,
    done: true,
    elapsedMs: 0,
    skipped: true,
  });
  context.steps.push({ step, status: 'skipped', message: decision.why, elapsedMs: 0 });
}

/** Does a step: recorded as reached, then a start and a done event with its time. */
async function perform<T>(
  context: Context,
  step: PipelineStep,
  decision: StepDecision,
  work: () => Promise<{ value: T; message: string }>,
): Promise<T> {
  checkAborted(context, step);
  recordStep(context.registry, context.run.id, step);
  const started = Date.now();
  context.sink.emit({ type: 'progress', step, message: decision.why });
  const { value, message } = await work();
  const elapsedMs = Date.now() - started;
  context.sink.emit({ type: 'progress', step, message, done: true, elapsedMs });
  context.steps.push({ step, status: 'done', message, elapsedMs });
  return value;
}

/** The sink of a step's own work: its progress steps named `<step>.<its step>` (bake.copy, verify.launch). */
function within(sink: EventSink, step: PipelineStep): EventSink {
  return {
    emit(event: GoldgateEvent) {
      if (event.type === 'progress' && !event.step.startsWith(`${step}.`))
        sink.emit({ ...event, step: `${step}.${event.step}` });
      else sink.emit(event);
    },
  };
}

async function bakeStage(context: Context): Promise<RegisteredImage> {
  const { registry, run } = context;
  const recorded = run.imageId === null ? undefined : getImage(registry, run.imageId);
  const decision = bakeDecision(
    run,
    context.resumed,
    recorded === undefined
      ? undefined
      : { id: recorded.id, stored: existsSync(join(recorded.path, 'image.json')) },
  );
  if (!decision.run && recorded !== undefined) {
    skip(context, 'bake', decision);
    return recorded;
  }
  return perform(context, 'bake', decision, async () => {
    const { options } = context;
    const { image, existing } = await bake(context.specPath, {
      home: context.home,
      sink: within(context.sink, 'bake'),
      ...(options.basePolicy === undefined ? {} : { basePolicy: options.basePolicy }),
      ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    // bake records the image itself; when it could only warn, the record is made here (once).
    const registered = recordImage(registry, image, 'bake');
    recordStep(registry, run.id, 'bake', registered.id);
    return {
      value: registered,
      message: `${existing ? 'already present' : 'baked'}: ${image.id} ${image.name} ${image.digest}`,
    };
  });
}

async function auditStage(context: Context, image: RegisteredImage): Promise<StoredAudit> {
  const { registry } = context;
  const stored = auditOf(registry, image);
  const decision = auditDecision(stored);
  if (!decision.run && stored !== undefined) {
    skip(context, 'audit', decision);
    return stored;
  }
  return perform(context, 'audit', decision, async () => {
    const now = context.options.now?.();
    const report = await auditSource(join(image.path, 'rootfs'), {
      sink: within(context.sink, 'audit'),
      ...(now === undefined ? {} : { now }),
    });
    recordAudit(registry, image, report.summary, 'audit');
    const audit = auditOf(registry, image) as StoredAudit;
    return { value: audit, message: auditSummary(audit) };
  });
}

async function verifyStage(
  context: Context,
  image: RegisteredImage,
): Promise<StoredVerification | undefined> {
  const { registry, spec, options } = context;
  const stored = verificationOf(registry, image);
  const decision = verifyDecision(stored, image);
  if (!decision.run && stored !== undefined) {
    skip(context, 'verify', decision);
    return stored;
  }
  return perform(context, 'verify', decision, async () => {
    const target = await resolveTarget(image.id, context.home);
    const proof = options.verify ?? {};
    const verifyOptions: VerifyOptions = {
      rootfs: target.rootfs,
      image: target.image,
      home: context.home,
      checks: spec.health,
      dnsAllow: [...(spec.dnsAllow ?? []), ...(proof.allowDomains ?? [])],
      store: true,
      events: within(context.sink, 'verify'),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(proof.instances === undefined ? {} : { instances: proof.instances }),
      ...(proof.userData === undefined ? {} : { userData: proof.userData }),
      ...(proof.imageAgeMs === undefined ? {} : { imageAgeMs: proof.imageAgeMs }),
      ...(proof.soakSeconds === undefined ? {} : { soakSeconds: proof.soakSeconds }),
      ...(proof.fastForwardTimeoutMs === undefined
        ? {}
        : { fastForwardTimeoutMs: proof.fastForwardTimeoutMs }),
    };
    const report = await verifyImage(verifyOptions);
    // verify records its verdict in the registry; the gate reads that record.
    const verification = verificationOf(registry, image);
    if (verification === undefined)
      context.sink.emit({
        type: 'warning',
        message: `the registry has no record of the verify of ${image.id} (${report.verdict}): the gate will find no stored verify`,
      });
    return {
      value: verification,
      message: verification === undefined ? report.verdict : verifySummary(verification),
    };
  });
}

function promoteStage(
  context: Context,
  image: RegisteredImage,
  channel: string | null,
): Pick<PipelineResult, 'promotion' | 'outcome' | 'missing'> {
  const { registry, run } = context;
  checkAborted(context, 'promote');
  recordStep(registry, run.id, 'promote');
  const started = Date.now();
  let promotion: PromoteResult | null = null;
  let outcome;
  if (channel === null)
    outcome = promoteOutcome(image, { channel, decision: checkGate(registry, image, DEFAULT_GATE) });
  else {
    if (getChannel(registry, channel)?.current?.imageId !== image.id)
      context.sink.emit({
        type: 'progress',
        step: 'promote',
        message: `promoting ${image.id} to ${channel}`,
      });
    promotion = promote(registry, image.id, channel, {
      reason: `goldgate pipeline run #${run.id} of ${context.specPath}`,
    });
    outcome = promoteOutcome(image, { channel, promotion });
  }
  const elapsedMs = Date.now() - started;
  context.sink.emit({
    type: 'progress',
    step: 'promote',
    message: outcome.message,
    done: true,
    elapsedMs,
    ...(outcome.skipped ? { skipped: true } : {}),
  });
  context.steps.push({
    step: 'promote',
    status: outcome.skipped ? 'skipped' : 'done',
    message: outcome.message,
    elapsedMs,
  });
  return { promotion, outcome: outcome.outcome, missing: outcome.missing };
}
