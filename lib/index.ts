export * from './agent-runtime-image';
export * from './coding-agent-runtime';
export * from './agent-api-key';
export * from './oab-service';
export * from './oab-agent-core';
export * from './perms';
export {
  PropsValidationError,
  RUNTIME_NAME_PATTERN,
  CANCEL_STRATEGIES,
  LOG_LEVELS,
  type CancelStrategy,
  type BridgeLogLevel,
} from './validation';
export {
  renderOabConfig,
  validateOabConfig,
  type OabConfig,
  type ChatAccessOptions,
  type BotMessagePolicy,
  type MessageProcessingMode,
  type DiscordSection,
  type SlackSection,
  type AgentSection,
  type PoolSection,
} from './render/oab-config';
export {
  bridgeCommand,
  oabContainerCommand,
  BRIDGE_ENV,
  BRIDGE_INHERIT_ENV,
  BRIDGE_LOG_FIFO,
  BRIDGE_PATH,
  OAB_CONFIG_PATH,
  OAB_HEALTH_CHECK,
  type BridgeCommandOptions,
} from './render/oab-command';
export { OabAgentCoreStack, type OabAgentCoreStackProps } from './app/oab-agent-core-stack';
export { parseStages, type StageSettings } from './app/stage-settings';
