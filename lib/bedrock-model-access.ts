import { Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { AGENTS } from '../shared/contract/agents';
import { isValidRegion } from '../shared/contract/runtime-arn';
import { BEDROCK_INVOKE_ACTIONS } from './perms';

/**
 * A Claude model on Amazon Bedrock that Claude Code may call: a foundation model in the
 * runtime's Region, or a cross-Region (system-defined) inference profile. What it is given
 * as (an id or an ARN) is what Claude Code is told; what is granted follows from it (see
 * {@link BedrockModelAccess}).
 */
export class BedrockModel {
  /**
   * A foundation model invoked in the runtime's Region, by id (`anthropic.claude-…-v1:0`)
   * or ARN (`arn:aws:bedrock:<region>::foundation-model/<id>`, in the runtime's Region).
   * Newer Claude models are served only through inference profiles.
   */
  static foundationModel(modelIdOrArn: string): BedrockModel {
    return new BedrockModel(modelIdOrArn, false, undefined);
  }

  /**
   * A cross-Region inference profile, by id (`us.anthropic.claude-…`, `global.anthropic.claude-…`)
   * or ARN (`arn:aws:bedrock:<region>:<account>:inference-profile/<id>`, in the runtime's Region
   * and account). A geographic profile (`us.`, `eu.`, `apac.`, …) routes each request to one of
   * its destination Regions, and IAM checks the foundation model there, so name them all
   * (`aws bedrock get-inference-profile --inference-profile-identifier <id>` lists its models'
   * ARNs); a global profile (`global.`) needs none.
   * @param destinationRegions the Regions a geographic profile routes to; none for a global profile
   */
  static inferenceProfile(profileIdOrArn: string, destinationRegions?: string[]): BedrockModel {
    return new BedrockModel(profileIdOrArn, true, destinationRegions);
  }

  /** The id or ARN as given: what Claude Code is told (`ANTHROPIC_MODEL`). */
  readonly modelId: string;
  /** True for an inference profile, false for a foundation model. */
  readonly isInferenceProfile: boolean;
  /** The Regions a geographic inference profile routes to. */
  readonly destinationRegions?: string[];

  private constructor(modelId: string, isInferenceProfile: boolean, destinationRegions: string[] | undefined) {
    this.modelId = modelId;
    this.isInferenceProfile = isInferenceProfile;
    this.destinationRegions = destinationRegions;
  }
}

/** Keyless Claude Code on Amazon Bedrock: the models it may call with the runtime's execution role. */
export interface BedrockModelAccess {
  /**
   * The models Claude Code may call, each granted exactly; the first is its main model
   * (`ANTHROPIC_MODEL`). At least one.
   */
  readonly models: BedrockModel[];
  /**
   * The model for Claude Code's background tasks (`ANTHROPIC_SMALL_FAST_MODEL`), one of `models`
   * (compared by `modelId`).
   * @default - the main model, so every call stays within the grant
   */
  readonly smallFastModel?: BedrockModel;
}

/** What a {@link BedrockModel} names, once parsed. */
type ParsedModel =
  | { readonly kind: 'foundation-model'; readonly foundationModelId: string }
  | { readonly kind: 'geographic-profile'; readonly profileId: string; readonly foundationModelId: string; readonly destinationRegions: readonly string[] }
  | { readonly kind: 'global-profile'; readonly profileId: string; readonly foundationModelId: string };

const CLAUDE_MODEL_ID = /^anthropic\.[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const GEOGRAPHY = /^[a-z]{2,10}$/;
const FOUNDATION_MODEL_ARN = /^arn:aws[a-z-]*:bedrock:([a-z0-9-]+)::foundation-model\/(.+)$/;
const PROFILE_ARN = /^arn:aws[a-z-]*:bedrock:([a-z0-9-]+):(\d{12}):inference-profile\/(.+)$/;

/** Where the runtime is: its Region and account, each a literal or a token. */
export interface RuntimePlace {
  readonly region: string;
  readonly account: string;
}

/** Parses `model`, named `prop` in problems; a parse or the problems found. */
export function parseBedrockModel(prop: string, model: BedrockModel, place: RuntimePlace): ParsedModel | string[] {
  const given = model.modelId;
  if (Token.isUnresolved(given)) return [`${prop} must be a literal id or ARN (its grants are computed at synth), got a token`];
  const problems: string[] = [];
  const inPlace = (region: string, account?: string) => {
    if (!Token.isUnresolved(place.region) && region !== place.region) problems.push(`${prop} is in ${region}, but the runtime is in ${place.region} (Claude Code calls Amazon Bedrock in the runtime's Region): "${given}"`);
    if (account !== undefined && !Token.isUnresolved(place.account) && account !== place.account) problems.push(`${prop} belongs to account ${account}, not the runtime's ${place.account}: "${given}"`);
  };
  if (!model.isInferenceProfile) {
    let id = given;
    if (given.startsWith('arn:')) {
      const m = FOUNDATION_MODEL_ARN.exec(given);
      if (!m) return [`${prop} must be a foundation model id or ARN (arn:aws:bedrock:<region>::foundation-model/<id>), got "${given}"`];
      inPlace(m[1]);
      id = m[2];
    }
    if (!CLAUDE_MODEL_ID.test(id)) problems.push(`${prop} must be a Claude model ("anthropic.claude-…"; Claude Code runs Claude models only), got "${given}"`);
    if (model.destinationRegions !== undefined) problems.push(`${prop} is a foundation model: destination Regions apply only to an inference profile`);
    return problems.length ? problems : { kind: 'foundation-model', foundationModelId: id };
  }
  let profileId = given;
  if (given.startsWith('arn:')) {
    const m = PROFILE_ARN.exec(given);
    if (!m) return [`${prop} must be an inference profile id or ARN (arn:aws:bedrock:<region>:<account>:inference-profile/<id>; application inference profiles are not supported), got "${given}"`];
    inPlace(m[1], m[2]);
    profileId = m[3];
  }
  const dot = profileId.indexOf('.');
  const geography = dot > 0 ? profileId.slice(0, dot) : '';
  const foundationModelId = profileId.slice(dot + 1);
  if (!GEOGRAPHY.test(geography) || !CLAUDE_MODEL_ID.test(foundationModelId)) {
    return [...problems, `${prop} must be a cross-Region inference profile of a Claude model ("<us|eu|apac|…|global>.anthropic.claude-…"), got "${given}"`];
  }
  const regions = model.destinationRegions;
  if (geography === 'global') {
    if (regions !== undefined) problems.push(`${prop} is a global inference profile: it routes to any commercial Region, so it takes no destination Regions`);
    return problems.length ? problems : { kind: 'global-profile', profileId, foundationModelId };
  }
  if (regions === undefined || regions.length === 0) {
    problems.push(`${prop} is a geographic inference profile: name the Regions it routes to (the Regions of the models \`aws bedrock get-inference-profile --inference-profile-identifier ${profileId}\` lists), so each one's foundation model is granted`);
  } else {
    for (const r of regions) if (!isValidRegion(r)) problems.push(`${prop} has an invalid destination Region "${r}"`);
  }
  return problems.length ? problems : { kind: 'geographic-profile', profileId, foundationModelId, destinationRegions: regions! };
}

/** Every problem with `access`, each naming its prop under `prefix` (e.g. `bedrock`). */
export function validateBedrockModelAccess(prefix: string, access: BedrockModelAccess, place: RuntimePlace): string[] {
  const problems: string[] = [];
  if (access.models.length === 0) problems.push(`${prefix}.models must name at least one model or inference profile`);
  access.models.forEach((m, i) => {
    const parsed = parseBedrockModel(`${prefix}.models[${i}]`, m, place);
    if (Array.isArray(parsed)) problems.push(...parsed);
  });
  const small = access.smallFastModel;
  if (small && !access.models.some((m) => m.modelId === small.modelId)) {
    problems.push(`${prefix}.smallFastModel must be one of ${prefix}.models (every model Claude Code calls is granted there), got "${small.modelId}"`);
  }
  return problems;
}

/** Why Amazon Bedrock access takes no API key, for every problem that refuses the two together. */
export const BEDROCK_NO_KEY_REASON = 'on Amazon Bedrock, Claude Code signs its calls with the runtime\'s execution role: there is no key';

/** Claude Code's switch to Amazon Bedrock, which also tells the image to fetch no key. */
const KEYLESS_SWITCH = AGENTS['claude-code'].keylessSwitch ?? 'CLAUDE_CODE_USE_BEDROCK';

/** The variables {@link bedrockEnvironment} sets. */
export const BEDROCK_ENVIRONMENT_NAMES = [KEYLESS_SWITCH, 'AWS_REGION', 'ANTHROPIC_MODEL', 'ANTHROPIC_SMALL_FAST_MODEL'] as const;

/** The environment that makes Claude Code call Amazon Bedrock with the runtime's role (no key). */
export function bedrockEnvironment(access: BedrockModelAccess, region: string): Record<string, string> {
  return {
    [KEYLESS_SWITCH]: '1',
    // Claude Code reads the Region from AWS_REGION only, not from an AWS config file.
    AWS_REGION: region,
    ANTHROPIC_MODEL: access.models[0].modelId,
    ANTHROPIC_SMALL_FAST_MODEL: (access.smallFastModel ?? access.models[0]).modelId,
  };
}

/**
 * The statements that let a principal in `scope`'s Region invoke exactly these models,
 * as Amazon Bedrock documents for each kind:
 * - a foundation model: that model in this Region;
 * - a geographic profile: the profile, and its foundation model in this Region and each
 *   destination Region, usable only through that profile (`bedrock:InferenceProfileArn`);
 * - a global profile: the profile called in this Region, and its foundation model in this
 *   Region and as the Region-less ARN a global request is authorized on
 *   (`aws:RequestedRegion` "unspecified"), both only through that profile.
 */
export function bedrockInvokeStatements(scope: Construct, access: BedrockModelAccess): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const place = { region: stack.region, account: stack.account };
  const actions = [...BEDROCK_INVOKE_ACTIONS];
  const modelArn = (id: string, region: string) => stack.formatArn({ service: 'bedrock', region, account: '', resource: 'foundation-model', resourceName: id });
  const profileArn = (id: string) => stack.formatArn({ service: 'bedrock', resource: 'inference-profile', resourceName: id });
  const statements: iam.PolicyStatement[] = [];
  const seen = new Set<string>();
  for (const model of access.models) {
    if (seen.has(model.modelId)) continue;
    seen.add(model.modelId);
    const parsed = parseBedrockModel('model', model, place) as ParsedModel;
    if (parsed.kind === 'foundation-model') {
      statements.push(new iam.PolicyStatement({ actions, resources: [modelArn(parsed.foundationModelId, stack.region)] }));
      continue;
    }
    const profile = profileArn(parsed.profileId);
    const through = { 'bedrock:InferenceProfileArn': profile };
    if (parsed.kind === 'geographic-profile') {
      const regions = [...new Set([stack.region, ...parsed.destinationRegions])];
      statements.push(
        new iam.PolicyStatement({ actions, resources: [profile] }),
        new iam.PolicyStatement({ actions, resources: regions.map((r) => modelArn(parsed.foundationModelId, r)), conditions: { StringEquals: through } }),
      );
    } else {
      statements.push(
        new iam.PolicyStatement({ actions, resources: [profile], conditions: { StringEquals: { 'aws:RequestedRegion': stack.region } } }),
        new iam.PolicyStatement({ actions, resources: [modelArn(parsed.foundationModelId, stack.region)], conditions: { StringEquals: { 'aws:RequestedRegion': stack.region, ...through } } }),
        new iam.PolicyStatement({ actions, resources: [modelArn(parsed.foundationModelId, '')], conditions: { StringEquals: { 'aws:RequestedRegion': 'unspecified', ...through } } }),
      );
    }
  }
  return statements;
}
