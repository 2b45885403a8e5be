/**
 * What the constructs, the bridge and the runtime image agree on about the inside of
 * a runtime: where things are installed and mounted, and the environment variables
 * that the constructs set and the in-VM programs read. Pure constants.
 */

/** Where the runtime image installs the launcher the bridge types into the shell. */
export const DEFAULT_LAUNCHER = '/app/bin/acp-session';

/** Where the image expects session storage: the agent's HOME (the runtime's default mount path). */
export const DEFAULT_AGENT_HOME = '/mnt/agent';

/** Moves the agent's HOME, set by the constructs when session storage is mounted elsewhere. */
export const ENV_AGENT_HOME = 'OPENAB_AGENT_HOME';

/** Names the workload identity to get a Token Vault token for (set by the constructs). */
export const ENV_WORKLOAD_NAME = 'AGENTCORE_WORKLOAD_NAME';

/** Names the Token Vault API key credential provider (set by the constructs). */
export const ENV_CREDENTIAL_PROVIDER = 'AGENTCORE_CREDENTIAL_PROVIDER';

/** The longest one busy stretch reports `HealthyBusy`, in seconds (set by the constructs; default an hour). */
export const ENV_MAX_BUSY_SECONDS = 'OPENAB_MAX_BUSY_SECONDS';

/** The runtime's name, the `Runtime` dimension of its metrics (set by the constructs). */
export const ENV_RUNTIME_NAME = 'OPENAB_RUNTIME_NAME';

/** The variable the agent process receives its API key in (set by the constructs from the agent; the image has a default). */
export const ENV_AGENT_API_KEY_ENV = 'OPENAB_AGENT_API_KEY_ENV';
