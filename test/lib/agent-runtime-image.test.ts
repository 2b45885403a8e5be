import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, DefaultStackSynthesizer, type DockerImageAssetLocation, type DockerImageAssetSource, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AgentRuntimeImage, CodingAgentRuntime } from '../../lib';
import { actionsOf, dockerAssets, flattenCfn, logicalIdOf, newStack, resourcesOf, ROOT, statementsOfRole, synth } from './support';

describe('AgentRuntimeImage', () => {
  test('builds runtimes/ for linux/arm64 by default, and the runtime runs that asset', () => {
    const stack = newStack();
    const runtime = new CodingAgentRuntime(stack, 'Runtime');
    const assembly = synth(stack);

    const assets = dockerAssets(assembly, 'Test');
    expect(assets).toHaveLength(1);
    expect(assets[0].source.platform).toBe('linux/arm64');
    expect(readFileSync(join(assets[0].directory, 'Dockerfile'), 'utf8'))
      .toBe(readFileSync(join(ROOT, 'runtimes', 'Dockerfile'), 'utf8'));

    const template = Template.fromJSON(assembly.getStackByName('Test').template);
    template.hasResourceProperties('AWS::BedrockAgentCore::Runtime', {
      AgentRuntimeArtifact: { ContainerConfiguration: { ContainerUri: { 'Fn::Sub': Match.stringLikeRegexp(`container-assets-.*:${assets[0].hash}$`) } } },
    });
    expect(runtime.image).toBeInstanceOf(AgentRuntimeImage);
  });

  test('passes build args such as the Kiro CLI version to the asset', () => {
    const stack = newStack();
    new CodingAgentRuntime(stack, 'Runtime', {
      image: new AgentRuntimeImage(stack, 'Image', { buildArgs: { KIRO_CLI_VERSION: '1.23.1' } }),
    });
    const assembly = synth(stack);
    const [asset] = dockerAssets(assembly, 'Test');
    expect(asset.source).toEqual(expect.objectContaining({ platform: 'linux/arm64', dockerBuildArgs: { KIRO_CLI_VERSION: '1.23.1' } }));
  });

  test('an existing ECR image is used by tag, builds nothing and is pulled from that repository only', () => {
    const stack = newStack();
    const repository = ecr.Repository.fromRepositoryName(stack, 'Repo', 'agents/kiro');
    new CodingAgentRuntime(stack, 'Runtime', { image: AgentRuntimeImage.fromEcrImage(stack, 'Image', repository, 'v1.2.3') });
    const template = Template.fromStack(stack);

    template.hasResourceProperties('AWS::BedrockAgentCore::Runtime', {
      AgentRuntimeArtifact: { ContainerConfiguration: { ContainerUri: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/agents/kiro:v1\\.2\\.3$')])] } } },
    });
    const assembly = synth(stack);
    expect(dockerAssets(assembly, 'Test')).toHaveLength(0);

    const statements = statementsOfRole(template, logicalIdOf(template, 'AWS::IAM::Role'));
    const pull = statements.find((s) => actionsOf([s]).includes('ecr:BatchGetImage'))!;
    expect(actionsOf([pull])).toEqual(['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']);
    expect(JSON.stringify(resourcesOf(pull))).toContain(':repository/agents/kiro');
  });

  test('grantPull gives any role pull on the one repository, and the ECR login on "*" with its reason for cdk-nag', () => {
    const stack = newStack();
    const repository = ecr.Repository.fromRepositoryName(stack, 'Repo', 'agents/kiro');
    const image = AgentRuntimeImage.fromEcrImage(stack, 'Image', repository, 'v1.2.3');
    const role = new iam.Role(stack, 'Puller', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    image.grantPull(role);
    const template = Template.fromStack(stack);
    const statements = statementsOfRole(template, logicalIdOf(template, 'AWS::IAM::Role'));
    expect(statements.map((s) => [actionsOf([s]), JSON.stringify(resourcesOf(s)).includes(':repository/agents/kiro') ? 'repository' : resourcesOf(s)])).toEqual(expect.arrayContaining([
      [['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], 'repository'],
      [['ecr:GetAuthorizationToken'], ['*']],
    ]));
    expect(statements).toHaveLength(2);
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });

  test('the runtime role pulls from exactly one repository: with the default synthesizer, the bootstrap assets repository', () => {
    const stack = newStack();
    const runtime = new CodingAgentRuntime(stack, 'Runtime');
    const template = Template.fromStack(stack);
    const pulls = statementsOfRole(template, stack.getLogicalId(runtime.role.node.defaultChild as iam.CfnRole))
      .filter((s) => actionsOf([s]).includes('ecr:BatchGetImage'));
    expect(pulls).toHaveLength(1);
    expect(resourcesOf(pulls[0]).map(flattenCfn)).toEqual([
      'arn:<Ref:AWS::Partition>:ecr:<Ref:AWS::Region>:<Ref:AWS::AccountId>:repository/<Sub:cdk-hnb659fds-container-assets-${AWS::AccountId}-${AWS::Region}>',
    ]);
  });

  test('with a synthesizer that gives each image asset its own repository, each runtime pulls from its own only', () => {
    // As the app staging synthesizer does: one repository per asset name.
    class RepositoryPerAsset extends DefaultStackSynthesizer {
      addDockerImageAsset(asset: DockerImageAssetSource): DockerImageAssetLocation {
        const location = super.addDockerImageAsset(asset);
        if (!asset.assetName) throw new Error(`image asset ${asset.directoryName} has no assetName`);
        return { ...location, repositoryName: `staging/${asset.assetName}` };
      }
    }
    const stack = new Stack(new App(), 'Test', { synthesizer: new RepositoryPerAsset() });
    const first = new CodingAgentRuntime(stack, 'First');
    const second = new CodingAgentRuntime(stack, 'Second');
    const template = Template.fromStack(stack);
    const pulledBy = (runtime: CodingAgentRuntime): string[] => statementsOfRole(template, stack.getLogicalId(runtime.role.node.defaultChild as iam.CfnRole))
      .filter((s) => actionsOf([s]).includes('ecr:BatchGetImage')).flatMap(resourcesOf).map(flattenCfn);

    const [firstRepo] = pulledBy(first);
    const [secondRepo] = pulledBy(second);
    expect(pulledBy(first)).toEqual([expect.stringMatching(/:repository\/staging\/test-first-image-[a-z0-9]+$/)]);
    expect(pulledBy(second)).toEqual([expect.stringMatching(/:repository\/staging\/test-second-image-[a-z0-9]+$/)]);
    expect(firstRepo).not.toEqual(secondRepo);
  });

  test('the ECR login sits in a policy of its own, so a wildcard added to the role later is still reported by cdk-nag', () => {
    const stack = newStack();
    const runtime = new CodingAgentRuntime(stack, 'Runtime');
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);

    runtime.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
    const violations = new AwsSolutionsChecks().validateScope(stack).violations;
    expect(violations.map((v) => [v.ruleName, v.violatingResources.map((r) => r.constructPath)])).toEqual([
      [expect.stringContaining('AwsSolutions-IAM5'), [expect.stringContaining('Runtime/ExecutionRole/DefaultPolicy')]],
    ]);
  });

  test('a digest pins the image by digest', () => {
    const stack = newStack();
    const repository = ecr.Repository.fromRepositoryName(stack, 'Repo', 'agents/kiro');
    const digest = `sha256:${'a'.repeat(64)}`;
    const image = AgentRuntimeImage.fromEcrImage(stack, 'Image', repository, digest);
    expect(Stack.of(stack).resolve(image.imageUri)).toEqual({ 'Fn::Join': ['', expect.arrayContaining([expect.stringMatching(/@sha256:a{64}$/)])] });
  });

  test.each<[string, Record<string, unknown>, string]>([
    ['a build directory', { directory: '/tmp' }, 'directory cannot be combined with existingRepository'],
    ['build arguments', { buildArgs: { A: 'b' } }, 'buildArgs cannot be combined with existingRepository'],
    ['no tag or digest', { existingTagOrDigest: undefined }, 'existingTagOrDigest is required with existingRepository'],
    ['a tag with a space', { existingTagOrDigest: 'has space' }, 'existingTagOrDigest must be an image tag or a sha256 digest, got "has space"'],
  ])('rejects an existing repository with %s', (_title, extra, message) => {
    const stack = newStack();
    const repository = ecr.Repository.fromRepositoryName(stack, 'Repo', 'agents/kiro');
    expect(() => new AgentRuntimeImage(stack, 'Image', { existingRepository: repository, existingTagOrDigest: 'v1', ...extra })).toThrow(message);
  });

  test('rejects a tag without a repository and a multi-line build argument, together', () => {
    const stack = newStack();
    expect(() => new AgentRuntimeImage(stack, 'Image', { existingTagOrDigest: 'v1', buildArgs: { KIRO_CLI_VERSION: '1\n2' } }))
      .toThrow(/existingTagOrDigest requires existingRepository[\s\S]*buildArgs\.KIRO_CLI_VERSION must be a single line/);
  });
});
