// The package's public API: what this file exports is what jsii publishes to every CDK
// language (classes, interfaces and enums; constants and functions reach TypeScript and
// JavaScript only). Everything else under lib/ is internal.
export * from './coding-agent';
export { BedrockModel, type BedrockModelAccess } from './bedrock-model-access';
export * from './agent-runtime-image';
export * from './coding-agent-runtime';
export * from './agent-api-key';
export * from './bridge-options';
export * from './oab-service';
export * from './oab-agent-core';
export { type MonitoringOptions, OabMonitoring, type OabMonitoringProps } from './oab-monitoring';
export * from './perms';
export { BotMessagePolicy, MessageProcessingMode, type ChatAccessOptions } from './render/oab-config';
export { OabAgentCoreStack, type OabAgentCoreStackProps } from './app/oab-agent-core-stack';
export { type BedrockModelSetting, type BedrockSettings, type BotSettings, parseStages, type StageSettings } from './app/stage-settings';
