/**
 * Every IAM action these constructs grant, by who gets it. Nothing is granted that is
 * not listed here.
 */
/**
 * What a client of the runtime needs to open the interactive shell the bridge speaks. It is
 * all either cancel strategy needs too: `stop` ends the agent with the shell's CLOSE frame.
 */
export const SHELL_ACCESS_ACTIONS = ['bedrock-agentcore:InvokeAgentRuntimeCommandShell'] as const;

/** Pulling an image from one ECR repository (the runtime's execution role). */
export const ECR_PULL_ACTIONS = [
  'ecr:BatchCheckLayerAvailability',
  'ecr:BatchGetImage',
  'ecr:GetDownloadUrlForLayer',
] as const;

/** ECR login; AWS only accepts `Resource: "*"` for it. */
export const ECR_TOKEN_ACTIONS = ['ecr:GetAuthorizationToken'] as const;

/** Creating and finding the runtime's own log group. */
export const RUNTIME_LOG_GROUP_ACTIONS = ['logs:CreateLogGroup', 'logs:DescribeLogStreams'] as const;
/** AgentCore lists log groups before it creates the runtime's; a list call, scoped to the account's log groups. */
export const RUNTIME_LOG_DESCRIBE_ACTIONS = ['logs:DescribeLogGroups'] as const;
/** Writing the runtime's log streams. */
export const RUNTIME_LOG_STREAM_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const;

/** Getting a workload access token for the runtime's own workload identity (no user, no JWT). */
export const WORKLOAD_TOKEN_ACTIONS = ['bedrock-agentcore:GetWorkloadAccessToken'] as const;
/** Reading the API key from the Token Vault. */
export const API_KEY_READ_ACTIONS = ['bedrock-agentcore:GetResourceApiKey'] as const;
/** Reading the secret that backs the Token Vault's API key credential provider. */
export const API_KEY_SECRET_ACTIONS = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'] as const;

/** Mounting and writing OAB's state directory through the EFS access point (IAM-authorized NFS). */
export const EFS_CLIENT_ACTIONS = ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'] as const;

/** Decrypting a secret encrypted with a customer managed key, only through Secrets Manager. */
export const SECRET_KEY_DECRYPT_ACTIONS = ['kms:Decrypt'] as const;

/** ECS Exec's session channels (the task role); AWS only accepts `Resource: "*"` for them. */
export const ECS_EXEC_ACTIONS = [
  'ssmmessages:CreateControlChannel',
  'ssmmessages:CreateDataChannel',
  'ssmmessages:OpenControlChannel',
  'ssmmessages:OpenDataChannel',
] as const;

/**
 * Calling a Claude model on Amazon Bedrock, streamed or not (the runtime's execution role,
 * keyless Claude Code); granted on the chosen model and inference profile ARNs only.
 */
export const BEDROCK_INVOKE_ACTIONS = ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'] as const;
/** Listing the account's inference profiles, which Claude Code does on Amazon Bedrock; AWS accepts only `Resource: "*"` for it. */
export const BEDROCK_LIST_ACTIONS = ['bedrock:ListInferenceProfiles'] as const;
