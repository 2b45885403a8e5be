/** The AgentCore shell emulator and its test helpers, for tests in this process. */
export * from './emulator';
export { verifySigV4, constantTimeEqual, SESSION_ID_HEADER, SIGNING_SERVICE, EMPTY_BODY_SHA256 } from './sigv4-verify';
export type { SigV4Credentials, VerifyRequest, VerifyResult, SigV4ErrorType } from './sigv4-verify';
export { ReplayBuffer, DEFAULT_REPLAY_BYTES } from './replay-buffer';
export type { ReplayMode, ReplayResult } from './replay-buffer';
export { PtyShell } from './shell';
export type { ShellOptions, ShellExit } from './shell';
export * from './sign-for-test';
export * from './test-client';
